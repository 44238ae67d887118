package input

import (
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/mapcluster/mapcluster"
)

// arena makes strings without an allocation each: it copies their bytes
// into large chunks and returns strings that point into them. This is safe
// because a byte of a chunk is written once, before the string over it is
// made, and never again; the chunk stays alive as long as any of its
// strings. It also replaces invalid UTF-8 (possible in CSV) by U+FFFD.
type arena struct {
	chunk   []byte
	scratch []byte
}

const (
	minChunk = 4 << 10
	maxChunk = 1 << 20
)

// str returns b as a string.
func (a *arena) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if !utf8.Valid(b) {
		a.scratch = appendValidUTF8(a.scratch[:0], b)
		b = a.scratch
	}
	if cap(a.chunk)-len(a.chunk) < len(b) {
		size := min(max(2*cap(a.chunk), minChunk), maxChunk)
		a.chunk = make([]byte, 0, max(size, len(b)))
	}
	start := len(a.chunk)
	a.chunk = append(a.chunk, b...)
	return unsafe.String(&a.chunk[start], len(b))
}

// appendValidUTF8 appends b with each invalid byte sequence replaced by
// U+FFFD.
func appendValidUTF8(dst, b []byte) []byte {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r == utf8.RuneError && size == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, b[:size]...)
		}
		b = b[size:]
	}
	return dst
}

// colState is what a column builder holds so far.
type colState uint8

const (
	colEmpty colState = iota // only missing values so far
	colNum                   // numbers (and missing values)
	colStr                   // strings (and missing values)
	colJSON                  // JSON texts (GeoJSON only)
)

// colBuilder accumulates one property column without an allocation per
// value. A column that is numeric so far keeps only the float64 values, plus
// the text of the few values that strconv would not format back identically
// ("1.50", "007", "1e3"), so that it can turn into a string column without
// losing what the input said.
type colBuilder struct {
	name  string
	state colState
	// jsonMode selects GeoJSON semantics: numbers and strings mixed make a
	// JSON column. Otherwise (CSV) they make a string column.
	jsonMode bool
	n        int    // values appended
	missing  []bool // nil until a value is missing

	num    []float64 // colNum
	excRow []int     // colNum: rows whose text is not canonical...
	excStr []string  // ...and their texts

	str []string // colStr, colJSON

	arena   arena
	scratch []byte
	hint    int // expected number of values, for capacity; 0 if unknown
}

// capFor returns the capacity to give a slice that must hold n values now.
func (c *colBuilder) capFor(n int) int { return max(n+n/4+16, c.hint) }

// reserve grows the column for rows values.
func (c *colBuilder) reserve(rows int) {
	c.hint = rows
	if rows <= c.n {
		return
	}
	if c.missing != nil {
		c.missing = slices.Grow(c.missing, rows-c.n)
	}
	switch c.state {
	case colNum:
		c.num = slices.Grow(c.num, rows-c.n)
	case colStr, colJSON:
		c.str = slices.Grow(c.str, rows-c.n)
	}
}

func (c *colBuilder) markPresent() {
	if c.missing != nil {
		c.missing = push(c.missing, false)
	}
	c.n++
}

// appendMissing adds a missing value.
func (c *colBuilder) appendMissing() {
	if c.missing == nil {
		c.missing = make([]bool, c.n, c.capFor(c.n))
	}
	c.missing = push(c.missing, true)
	switch c.state {
	case colNum:
		c.num = push(c.num, math.NaN())
	case colStr, colJSON:
		c.str = push(c.str, "")
	}
	c.n++
}

// padTo appends missing values until the column has n values.
func (c *colBuilder) padTo(n int) {
	for c.n < n {
		c.appendMissing()
	}
}

// dropLast removes the last value, so that a repeated key in one JSON object
// replaces the earlier value (the last one wins, as in encoding/json and
// JavaScript). The column keeps the kind it widened to.
func (c *colBuilder) dropLast() {
	c.n--
	if c.missing != nil {
		c.missing = c.missing[:c.n]
	}
	switch c.state {
	case colNum:
		c.num = c.num[:c.n]
		if k := len(c.excRow); k > 0 && c.excRow[k-1] == c.n {
			c.excRow, c.excStr = c.excRow[:k-1], c.excStr[:k-1]
		}
	case colStr, colJSON:
		c.str = c.str[:c.n]
	}
}

// appendNumber adds a number; text is how the input wrote it.
func (c *colBuilder) appendNumber(text []byte, v float64) {
	switch c.state {
	case colEmpty:
		c.state = colNum
		c.num = make([]float64, c.n, c.capFor(c.n))
		for i := range c.num {
			c.num[i] = math.NaN()
		}
		fallthrough
	case colNum:
		if !c.canonical(text, v) {
			c.excRow = append(c.excRow, c.n)
			c.excStr = append(c.excStr, c.arena.str(text))
		}
		c.num = push(c.num, v)
	case colStr:
		if c.jsonMode {
			c.strToJSON()
		}
		c.str = push(c.str, c.arena.str(text))
	case colJSON:
		c.str = push(c.str, c.arena.str(text))
	}
	c.markPresent()
}

// appendString adds a string value (decoded, not quoted).
func (c *colBuilder) appendString(s []byte) {
	switch c.state {
	case colEmpty:
		c.state = colStr
		c.str = make([]string, c.n, c.capFor(c.n))
	case colNum:
		c.numToText()
		if c.jsonMode {
			c.state = colJSON
		} else {
			c.state = colStr
		}
	}
	if c.state == colJSON {
		c.scratch = appendJSONString(c.scratch[:0], s)
		s = c.scratch
	}
	c.str = push(c.str, c.arena.str(s))
	c.markPresent()
}

// appendJSON adds a raw JSON value that is neither a number nor a string.
func (c *colBuilder) appendJSON(raw []byte) {
	switch c.state {
	case colEmpty:
		c.state = colJSON
		c.str = make([]string, c.n, c.capFor(c.n))
	case colNum:
		c.numToText()
		c.state = colJSON
	case colStr:
		c.strToJSON()
	}
	c.str = push(c.str, c.arena.str(raw))
	c.markPresent()
}

// canonical reports whether text is exactly what numToText would produce
// for v, so that the text need not be kept. Plain integers take a fast path.
func (c *colBuilder) canonical(text []byte, v float64) bool {
	t := text
	if len(t) > 0 && t[0] == '-' {
		t = t[1:]
	}
	if len(t) > 0 && len(t) <= 15 && (t[0] != '0' || len(t) == 1) {
		plain := true
		for _, b := range t {
			if b < '0' || b > '9' {
				plain = false
				break
			}
		}
		if plain {
			return true
		}
	}
	c.scratch = strconv.AppendFloat(c.scratch[:0], v, 'f', -1, 64)
	return string(c.scratch) == string(text)
}

// numToText turns the numbers so far into texts, as the input wrote them.
func (c *colBuilder) numToText() {
	c.str = make([]string, c.n, c.capFor(c.n))
	exc := 0
	for i, v := range c.num {
		switch {
		case c.missing != nil && c.missing[i]:
		case exc < len(c.excRow) && c.excRow[exc] == i:
			c.str[i] = c.excStr[exc]
			exc++
		default:
			c.scratch = strconv.AppendFloat(c.scratch[:0], v, 'f', -1, 64)
			c.str[i] = c.arena.str(c.scratch)
		}
	}
	c.num, c.excRow, c.excStr = nil, nil, nil
}

// strToJSON quotes the strings so far, making a JSON column.
func (c *colBuilder) strToJSON() {
	for i, s := range c.str {
		if c.missing == nil || !c.missing[i] {
			c.scratch = appendJSONString(c.scratch[:0], s)
			c.str[i] = c.arena.str(c.scratch)
		}
	}
	c.state = colJSON
}

// column finishes the column with n values.
func (c *colBuilder) column(n int) mapcluster.Column {
	c.padTo(n)
	col := mapcluster.Column{Name: c.name, Missing: c.missing}
	switch c.state {
	case colNum:
		col.Kind = mapcluster.KindNumber
		col.Num = c.num
	case colEmpty:
		col.Kind = mapcluster.KindString
		col.Str = make([]string, n)
	case colStr:
		col.Kind = mapcluster.KindString
		col.Str = c.str
	case colJSON:
		col.Kind = mapcluster.KindJSON
		col.Str = c.str
	}
	return col
}

// idBuilder accumulates ids; an empty id means none.
type idBuilder struct {
	ids     []string
	present int  // non-empty ids
	numeric bool // every non-empty id so far is a JSON number
	arena   arena
}

// reserve grows the ids for rows values.
func (b *idBuilder) reserve(rows int) {
	if n := len(b.ids); n > 0 && rows > n {
		b.ids = slices.Grow(b.ids, rows-n)
	}
}

func (b *idBuilder) padTo(n int) {
	for len(b.ids) < n {
		b.ids = push(b.ids, "")
	}
}

// append adds the id of the next point. isNum says it is a JSON number.
func (b *idBuilder) append(id []byte, isNum bool) {
	if len(id) > 0 {
		if b.present == 0 {
			b.numeric = true
		}
		b.present++
		b.numeric = b.numeric && isNum
	}
	b.ids = push(b.ids, b.arena.str(id))
}

// result finishes the ids of n points; it returns nil when no point had one.
func (b *idBuilder) result(n int) ([]string, bool) {
	if b.present == 0 {
		return nil, false
	}
	b.padTo(n)
	return b.ids, b.numeric
}

// isJSONNumber reports whether b is a number in JSON's syntax, so that a
// writer can emit it as is.
func isJSONNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i == len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i == len(b) || b[i] < '0' || b[i] > '9' {
			return false
		}
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	}
	return i == len(b)
}

// push appends v, doubling the capacity when full: append alone grows large
// slices by a factor of 1.25, which copies each value about five times on
// the way to millions of points.
func push[T any](s []T, v T) []T {
	if len(s) == cap(s) {
		s = slices.Grow(s, max(len(s), 64))
	}
	return append(s, v)
}
