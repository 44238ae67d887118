package input

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxRecord bounds the bytes of one CSV row or NDJSON line, so that an
// unterminated quote cannot make a reader buffer a whole file.
const maxRecord = 64 << 20

// readCSV reads CSV with a header row.
func (d *decoder) readCSV(r io.Reader) error {
	cr := &csvReader{r: r, buf: make([]byte, 256<<10), delim: ',', line: 1}
	if err := cr.start(); err != nil {
		return wrapReadError(err, d.name)
	}
	header, line, msg, err := cr.next()
	for err == nil && msg == "" && isBlank(header) {
		header, line, msg, err = cr.next()
	}
	if err == io.EOF {
		return d.invalid(1, 0, "header", "empty input, want a header row naming the lng and lat columns")
	}
	if err != nil {
		return d.csvError(err, line)
	}
	if msg != "" {
		return d.invalid(line, 0, "header", "malformed header: %s", msg)
	}
	lngCol, latCol, idCol := -1, -1, -1
	names := make([]string, len(header))
	type prop struct {
		idx int
		col *colBuilder
	}
	var props []prop
	for i, h := range header {
		names[i] = strings.ToValidUTF8(strings.TrimSpace(string(h)), "\uFFFD")
		key := strings.ToLower(names[i])
		var role *int
		// Header names are compared case-insensitively after trimming.
		// Every column but the coordinates and the id is a property.
		switch key {
		case "lng", "lon", "long", "longitude":
			role = &lngCol
		case "lat", "latitude":
			role = &latCol
		case "id":
			role = &idCol
		}
		if role != nil {
			if *role >= 0 {
				return d.invalid(line, 0, names[i], "columns %q and %q name the same thing", names[*role], names[i])
			}
			*role = i
			continue
		}
		if names[i] == "" {
			continue // an unnamed column, such as a pandas index: ignored
		}
		if _, dup := d.b.byName[names[i]]; dup {
			return d.invalid(line, 0, names[i], "column %q appears twice", names[i])
		}
		props = append(props, prop{i, d.b.column([]byte(names[i]))})
	}
	if lngCol < 0 || latCol < 0 {
		what, want := "longitude", "lng, lon, long or longitude"
		field := "lng"
		if lngCol >= 0 {
			what, want, field = "latitude", "lat or latitude", "lat"
		}
		return d.invalid(line, 0, field, "no %s column: want one named %s; the header has %s", what, want, listNames(names))
	}
	lngName, latName := names[lngCol], names[latCol]

	for {
		fields, line, msg, err := cr.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return d.csvError(err, line)
		}
		if err := d.tick(cr.consumed); err != nil {
			return err
		}
		if msg != "" {
			if err := d.skip(d.invalid(line, 0, "", "malformed row: %s", msg)); err != nil {
				return err
			}
			continue
		}
		if len(fields) != len(names) {
			if isBlank(fields) {
				continue
			}
			if err := d.skip(d.invalid(line, 0, "", "row has %d fields, want %d as in the header", len(fields), len(names))); err != nil {
				return err
			}
			continue
		}
		lng, fault := csvCoord(fields[lngCol], checkLng)
		field := lngName
		var lat float64
		if fault == "" {
			lat, fault = csvCoord(fields[latCol], checkLat)
			field = latName
		}
		if fault != "" {
			if err := d.skip(d.invalid(line, 0, field, "column %q: %s", field, fault)); err != nil {
				return err
			}
			continue
		}
		n := len(d.b.lng)
		d.b.lng = push(d.b.lng, lng)
		d.b.lat = push(d.b.lat, lat)
		if idCol >= 0 {
			id := trimSpace(fields[idCol])
			d.b.ids.append(id, isJSONNumber(id))
		}
		for _, p := range props {
			csvProp(p.col, fields[p.idx], n)
		}
	}
}

// csvError reports an error of the csvReader met on the given line.
func (d *decoder) csvError(err error, line int) error {
	if errors.Is(err, errRecordTooLong) {
		return d.invalid(line, 0, "", "row longer than %d MiB (an unterminated quote?)", maxRecord>>20)
	}
	return wrapReadError(err, d.name)
}

// csvProp appends a property cell: empty is missing, a number (ignoring
// surrounding spaces) is a number, anything else a string.
func csvProp(c *colBuilder, cell []byte, row int) {
	c.padTo(row)
	t := trimSpace(cell)
	if len(t) == 0 {
		c.appendMissing()
		return
	}
	if c.state != colStr {
		if v, ok := parseNumber(t); ok {
			c.appendNumber(cell, v)
			return
		}
	}
	c.appendString(cell)
}

// parseNumber parses a finite decimal number. It refuses what
// strconv.ParseFloat accepts beyond that: hexadecimal, NaN and infinities.
func parseNumber(b []byte) (float64, bool) {
	if v, ok := parseSimple(b); ok {
		return v, true
	}
	if len(b) == 0 {
		return 0, false
	}
	if c := b[0]; (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) || bytes.IndexByte(b, 'x') >= 0 || bytes.IndexByte(b, 'X') >= 0 {
		return 0, false
	}
	return v, true
}

// parseSimple parses the common short decimals ("-12.3456") several times
// faster than strconv.ParseFloat, with the same result: up to 15 significant
// digits make an exact integer mantissa and the divisor is an exact power of
// ten, so the one division rounds correctly (Clinger's fast path, which
// strconv also takes). Anything else it leaves to strconv.
func parseSimple(b []byte) (float64, bool) {
	i, neg := 0, false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		i++
	}
	var mant uint64
	digits, frac := 0, 0
	sawDigit, sawDot := false, false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			sawDigit = true
			if sawDot {
				frac++
			}
			if digits == 0 && c == '0' {
				continue
			}
			if digits == 15 {
				return 0, false
			}
			mant = mant*10 + uint64(c-'0')
			digits++
		case c == '.' && !sawDot:
			sawDot = true
		default:
			return 0, false
		}
	}
	if !sawDigit || frac > 22 {
		return 0, false
	}
	v := float64(mant) / math.Pow10(frac) // exact for 0 <= frac <= 22
	if neg {
		v = -v
	}
	return v, true
}

// trimSpace is bytes.TrimSpace with a fast path for the usual cell that
// needs no trimming.
func trimSpace(b []byte) []byte {
	if len(b) == 0 || (b[0] > ' ' && b[len(b)-1] > ' ' && b[0] < utf8.RuneSelf && b[len(b)-1] < utf8.RuneSelf) {
		return b
	}
	return bytes.TrimSpace(b)
}

// csvCoord parses a coordinate cell, returning a description of the fault
// or "".
func csvCoord(cell []byte, check func(float64) string) (float64, string) {
	t := trimSpace(cell)
	if len(t) == 0 {
		return 0, "missing value"
	}
	v, ok := parseNumber(t)
	if !ok {
		if _, err := strconv.ParseFloat(string(t), 64); err == nil || errors.Is(err, strconv.ErrRange) {
			return 0, short(t) + " is not a finite number"
		}
		return 0, short(t) + " is not a number"
	}
	if fault := check(v); fault != "" {
		return 0, string(t) + " " + fault
	}
	return v, ""
}

// short quotes b for a message, cutting it when long.
func short(b []byte) string {
	const max = 40
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "..."
	}
	return strconv.Quote(string(b))
}

// listNames quotes the header's names for a message, cutting a long list.
func listNames(names []string) string {
	const max = 12
	var sb strings.Builder
	for i, n := range names {
		if i == max {
			fmt.Fprintf(&sb, " and %d more", len(names)-max)
			break
		}
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.Quote(n))
	}
	if len(names) == 0 {
		return "no columns"
	}
	return sb.String()
}

// isBlank reports whether a record is an empty or all-space line.
func isBlank(fields [][]byte) bool {
	return len(fields) == 1 && len(bytes.TrimSpace(fields[0])) == 0
}

var errRecordTooLong = errors.New("record too long")

// csvReader splits CSV (RFC 4180, plus a tolerance for stray quotes inside
// unquoted fields) into records. It is a scanner over one large buffer
// rather than encoding/csv: encoding/csv copies every record into a new
// string and each field into a reused slice, whereas this returns fields as
// slices of the buffer (unescaping "" in place) and finds delimiters with
// bytes.IndexByte, so a row costs no allocation; together with parsing
// numbers straight from the bytes that makes reading about three times
// faster (see BenchmarkReadWorldCities).
type csvReader struct {
	r     io.Reader
	buf   []byte
	pos   int // start of unread data in buf
	end   int // end of data in buf
	eof   bool
	delim byte
	line  int // physical line of the next record, 1-based

	consumed int64 // bytes of input consumed so far

	fields [][]byte
	esc    []bool
}

// start reads the first block, drops a UTF-8 BOM and picks the delimiter:
// a comma unless the first line has none but has tabs or semicolons.
func (c *csvReader) start() error {
	for c.end < 3 && !c.eof {
		if err := c.fill(); err != nil {
			return err
		}
	}
	if bytes.HasPrefix(c.buf[c.pos:c.end], []byte("\xef\xbb\xbf")) {
		c.pos += 3
	}
	first := c.buf[c.pos:c.end]
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	if bytes.IndexByte(first, ',') < 0 {
		if bytes.IndexByte(first, '\t') >= 0 {
			c.delim = '\t'
		} else if bytes.IndexByte(first, ';') >= 0 {
			c.delim = ';'
		}
	}
	return nil
}

// fill moves the unread data to the front of the buffer, growing it when
// full, and reads more.
func (c *csvReader) fill() error {
	if c.pos > 0 {
		c.end = copy(c.buf, c.buf[c.pos:c.end])
		c.pos = 0
	}
	if c.end == len(c.buf) {
		if len(c.buf) >= maxRecord {
			return errRecordTooLong
		}
		nb := make([]byte, 2*len(c.buf))
		copy(nb, c.buf[:c.end])
		c.buf = nb
	}
	// Read at least as much as is pending (or the buffer's room), since
	// parse starts the pending record over after each fill: so a long
	// record that arrives in small reads costs linear time, not quadratic.
	want := min(c.end+max(c.end, 4<<10), len(c.buf))
	for empty := 0; c.end < want; {
		n, err := c.r.Read(c.buf[c.end:])
		c.end += n
		if err == io.EOF {
			c.eof = true
			return nil
		}
		if err != nil {
			return err
		}
		if n == 0 {
			if empty++; empty == 100 {
				return io.ErrNoProgress
			}
		}
	}
	return nil
}

// parse outcomes.
const (
	parsed = iota
	needMore
	malformed
)

// next returns the fields of the next record, valid until the following
// call, and the line the record starts on. A malformed record is returned
// as a description in msg, having been skipped to the end of its line.
// At the end it returns io.EOF.
func (c *csvReader) next() (fields [][]byte, line int, msg string, err error) {
	for {
		if c.pos == c.end {
			if c.eof {
				return nil, c.line, "", io.EOF
			}
			if err := c.fill(); err != nil {
				return nil, c.line, "", err
			}
			continue
		}
		consumed, newlines, status, msg := c.parse(c.buf[c.pos:c.end], c.eof)
		if status == needMore {
			if err := c.fill(); err != nil {
				return nil, c.line, "", err
			}
			continue
		}
		line := c.line
		c.line += newlines
		c.pos += consumed
		c.consumed += int64(consumed)
		if status == malformed {
			return nil, line, msg, nil
		}
		for i, f := range c.fields {
			if c.esc[i] {
				c.fields[i] = unescapeQuotes(f)
			}
		}
		return c.fields, line, "", nil
	}
}

// parse splits the record at the start of data into c.fields. It reports
// the bytes consumed, the line breaks among them, and the outcome. It does
// not modify data, so that it can start over after a refill.
func (c *csvReader) parse(data []byte, atEOF bool) (consumed, newlines, status int, msg string) {
	c.fields = c.fields[:0]
	c.esc = c.esc[:0]
	i := 0
	nl := -1 // index of the next '\n' at or after i, once looked up
	for {
		if i < len(data) && data[i] == '"' {
			j := i + 1
			esc := false
			for {
				k := bytes.IndexByte(data[j:], '"')
				if k < 0 {
					if atEOF {
						return len(data), newlines + bytes.Count(data[i:], []byte{'\n'}), malformed,
							fmt.Sprintf("field %d: quote not closed before the end of the input", len(c.fields)+1)
					}
					return 0, 0, needMore, ""
				}
				j += k
				if j+1 < len(data) && data[j+1] == '"' {
					esc = true
					j += 2
					continue
				}
				if j+1 == len(data) && !atEOF {
					return 0, 0, needMore, ""
				}
				break
			}
			field := data[i+1 : j]
			newlines += bytes.Count(field, []byte{'\n'})
			c.fields = append(c.fields, field)
			c.esc = append(c.esc, esc)
			i = j + 1
			if i == len(data) {
				return i, newlines, parsed, ""
			}
			switch data[i] {
			case c.delim:
				i++
				continue
			case '\n':
				return i + 1, newlines + 1, parsed, ""
			case '\r':
				if i+1 == len(data) {
					if atEOF {
						return i + 1, newlines, parsed, ""
					}
					return 0, 0, needMore, ""
				}
				if data[i+1] == '\n' {
					return i + 2, newlines + 1, parsed, ""
				}
			}
			msg = fmt.Sprintf("field %d: text after the closing quote", len(c.fields))
			k := bytes.IndexByte(data[i:], '\n')
			if k < 0 {
				if !atEOF {
					return 0, 0, needMore, ""
				}
				return len(data), newlines, malformed, msg
			}
			return i + k + 1, newlines + 1, malformed, msg
		}
		if nl < i {
			k := bytes.IndexByte(data[i:], '\n')
			switch {
			case k >= 0:
				nl = i + k
			case atEOF:
				nl = len(data)
			default:
				return 0, 0, needMore, ""
			}
		}
		if k := bytes.IndexByte(data[i:nl], c.delim); k >= 0 {
			c.fields = append(c.fields, data[i:i+k])
			c.esc = append(c.esc, false)
			i += k + 1
			continue
		}
		field := data[i:nl]
		if len(field) > 0 && field[len(field)-1] == '\r' {
			field = field[:len(field)-1]
		}
		c.fields = append(c.fields, field)
		c.esc = append(c.esc, false)
		if nl == len(data) {
			return nl, newlines, parsed, ""
		}
		return nl + 1, newlines + 1, parsed, ""
	}
}

// unescapeQuotes turns each "" of a quoted field into ", in place.
func unescapeQuotes(f []byte) []byte {
	w := 0
	for r := 0; r < len(f); r++ {
		f[w] = f[r]
		w++
		if f[r] == '"' && r+1 < len(f) && f[r+1] == '"' {
			r++
		}
	}
	return f[:w]
}
