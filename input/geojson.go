package input

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// jsonFloat parses a JSON number, taking parseSimple's fast path when it
// can. It fails only for numbers beyond float64's range.
func jsonFloat(b []byte) (float64, error) {
	if v, ok := parseSimple(b); ok {
		return v, nil
	}
	return strconv.ParseFloat(string(b), 64)
}

// stringValue returns the text of raw if it is a JSON string, else "".
func stringValue(raw []byte) string {
	if len(raw) < 2 || raw[0] != '"' {
		return ""
	}
	return string(decodeString(raw))
}

// describe shows a JSON value in a message: short strings as themselves,
// anything else by its kind.
func describe(raw []byte) string {
	if len(raw) > 0 && raw[0] == '"' && len(raw) <= 42 {
		return string(raw)
	}
	return jsonKind(raw)
}

// readNDJSON reads one GeoJSON Feature per line. Blank lines are skipped; a
// line may start with RS (0x1E), as in GeoJSON text sequences.
func (d *decoder) readNDJSON(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var long []byte
	var consumed int64
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for err == bufio.ErrBufferFull {
				if len(long) > maxRecord {
					return d.invalid(lineNo, 0, "", "line longer than %d MiB", maxRecord>>20)
				}
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil && err != io.EOF {
			return wrapReadError(err, d.name)
		}
		consumed += int64(len(line))
		if lineNo == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		i := 0
		for i < len(line) && (isSpace(line[i]) || line[i] == 0x1e) {
			i++
		}
		text := bytes.TrimRight(line[i:], " \t\r\n")
		if len(text) > 0 {
			if err := d.tick(consumed); err != nil {
				return err
			}
			if f := d.ndjsonLine(text); f != nil {
				if err := d.skip(d.invalid(lineNo, i+f.off+1, f.field, "%s", f.msg)); err != nil {
					return err
				}
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

// ndjsonLine reads the Feature on one line.
func (d *decoder) ndjsonLine(text []byte) *fault {
	if !json.Valid(text) {
		var raw json.RawMessage
		err := json.Unmarshal(text, &raw)
		off := 0
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off = int(max(se.Offset-1, 0))
		}
		if err == nil {
			err = errBadJSON
		}
		return &fault{off: off, msg: "invalid JSON: " + err.Error()}
	}
	return d.feature(text)
}

// maxColumns bounds the distinct property names of a GeoJSON input. Every
// column holds a value (perhaps missing) for every point, so input that
// brings new names with every feature would otherwise need memory that
// grows with the square of its size.
const maxColumns = 4096

// fault describes what is wrong with a feature: a message, the field, and
// the offset in the feature's JSON where it is.
type fault struct {
	off   int
	field string
	msg   string
}

func faultf(off int, field, format string, args ...any) *fault {
	return &fault{off: off, field: field, msg: fmt.Sprintf(format, args...)}
}

// feature holds the members of a Feature object that matter, as raw JSON.
type feature struct {
	typ, id, geom, props          []byte
	typOff, idOff, geomOff, prOff int
}

// parseFeatureMembers finds the members of a Feature. A repeated member
// replaces the earlier one.
func parseFeatureMembers(obj []byte, f *feature) error {
	return eachMember(obj, func(m member) {
		switch string(memberKey(m)) {
		case "type":
			f.typ, f.typOff = m.val, m.valOff
		case "id":
			f.id, f.idOff = m.val, m.valOff
		case "geometry":
			f.geom, f.geomOff = m.val, m.valOff
		case "properties":
			f.props, f.prOff = m.val, m.valOff
		}
	})
}

// feature checks one Feature, given as valid JSON, and appends its points.
// It appends nothing when the feature is invalid.
func (d *decoder) feature(raw []byte) *fault {
	start := skipWS(raw, 0)
	if start >= len(raw) || raw[start] != '{' {
		return faultf(start, "", "the feature is %s, want an object", jsonKind(raw[start:]))
	}
	var f feature
	if err := parseFeatureMembers(raw, &f); err != nil {
		return faultf(start, "", "%v", err)
	}
	switch {
	case f.typ == nil:
		return faultf(start, "type", "the feature has no type, want \"Feature\"")
	case stringValue(f.typ) != "Feature":
		return faultf(f.typOff, "type", "type is %s, want \"Feature\"", describe(f.typ))
	case f.geom == nil:
		return faultf(start, "geometry", "the feature has no geometry")
	}
	var idNum bool
	switch jsonKind(f.id) {
	case "empty", "null":
		f.id = nil
	case "a string":
		f.id = decodeString(f.id)
	case "a number":
		idNum = true
	default:
		return faultf(f.idOff, "id", "id is %s, want a string or a number", jsonKind(f.id))
	}
	switch jsonKind(f.props) {
	case "empty", "null":
		f.props = nil
	case "an object":
	default:
		return faultf(f.prOff, "properties", "properties is %s, want an object or null", jsonKind(f.props))
	}
	d.coords = d.coords[:0]
	if flt := d.geometry(f.geom, f.geomOff); flt != nil {
		return flt
	}
	// A member takes at least 4 bytes ("":0), which bounds the new names.
	if f.props != nil && len(d.b.cols)+len(f.props)/4 > d.maxColumns {
		names := len(d.b.cols)
		_ = eachMember(f.props, func(m member) {
			if _, ok := d.b.byName[string(memberKey(m))]; !ok {
				names++
			}
		})
		if names > d.maxColumns {
			return faultf(f.prOff, "properties", "more than %d distinct property names in the input", d.maxColumns)
		}
	}
	for k := 0; k < len(d.coords); k += 2 {
		row := len(d.b.lng)
		d.b.lng = push(d.b.lng, d.coords[k])
		d.b.lat = push(d.b.lat, d.coords[k+1])
		if f.id != nil {
			d.b.ids.padTo(row)
			d.b.ids.append(f.id, idNum)
		}
		if f.props != nil {
			d.properties(f.props, row)
		}
	}
	return nil
}

// geometry checks a Point or MultiPoint and leaves its positions in
// d.coords. off is the geometry's offset in the feature.
func (d *decoder) geometry(g []byte, off int) *fault {
	if kind := jsonKind(g); kind != "an object" {
		if kind == "null" {
			return faultf(off, "geometry", "geometry is null")
		}
		return faultf(off, "geometry", "geometry is %s, want an object", kind)
	}
	var typ, coords []byte
	typOff, coordOff := 0, 0
	err := eachMember(g, func(m member) {
		switch string(memberKey(m)) {
		case "type":
			typ, typOff = m.val, m.valOff
		case "coordinates":
			coords, coordOff = m.val, m.valOff
		}
	})
	if err != nil {
		return faultf(off, "geometry", "%v", err)
	}
	multi := false
	switch stringValue(typ) {
	case "Point":
	case "MultiPoint":
		multi = true
	default:
		if typ == nil {
			return faultf(off, "geometry", "geometry has no type")
		}
		what := describe(typ)
		if t := stringValue(typ); t != "" && len(t) <= 40 {
			what = t
		}
		return faultf(off+typOff, "geometry.type", "geometry is %s, want Point or MultiPoint", what)
	}
	if coords == nil || jsonKind(coords) == "null" {
		return faultf(off, "geometry.coordinates", "geometry has no coordinates")
	}
	base := off + coordOff
	if jsonKind(coords) != "an array" {
		return faultf(base, "geometry.coordinates", "coordinates is %s, want an array", jsonKind(coords))
	}
	if !multi {
		return d.position(coords, 0, base, "geometry.coordinates")
	}
	i := skipWS(coords, 1)
	if i < len(coords) && coords[i] == ']' {
		return faultf(base, "geometry.coordinates", "MultiPoint has no positions")
	}
	for n := 0; ; n++ {
		end, err := skipValue(coords, i)
		if err != nil {
			return faultf(base+i, "geometry.coordinates", "%v", err)
		}
		if flt := d.position(coords[i:end], n, base+i, "geometry.coordinates"); flt != nil {
			return flt
		}
		i = skipWS(coords, end)
		if i >= len(coords) || coords[i] != ',' {
			return nil
		}
		i = skipWS(coords, i+1)
	}
}

// position parses a position [lng, lat, ...] into d.coords. n is its index
// in a MultiPoint (or 0), off its offset in the feature.
func (d *decoder) position(p []byte, n, off int, field string) *fault {
	if jsonKind(p) != "an array" {
		return faultf(off, field, "position %d is %s, want an array of numbers", n, jsonKind(p))
	}
	var v [2]float64
	count := 0
	i := skipWS(p, 1)
	for i < len(p) && p[i] != ']' {
		end, err := skipValue(p, i)
		if err != nil {
			return faultf(off+i, field, "%v", err)
		}
		val := p[i:end]
		if count < 2 {
			axis := "longitude"
			check := checkLng
			if count == 1 {
				axis, check = "latitude", checkLat
			}
			if jsonKind(val) != "a number" {
				return faultf(off+i, field, "%s is %s, want a number", axis, jsonKind(val))
			}
			x, err := jsonFloat(val)
			if err != nil {
				return faultf(off+i, field, "%s %s is not a finite number", axis, val)
			}
			if fault := check(x); fault != "" {
				return faultf(off+i, field, "%s %s %s", axis, val, fault)
			}
			v[count] = x
		}
		count++
		i = skipWS(p, end)
		if i < len(p) && p[i] == ',' {
			i = skipWS(p, i+1)
		}
	}
	if count < 2 {
		return faultf(off, field, "position has %d numbers, want 2 (longitude, latitude)", count)
	}
	d.coords = push(push(d.coords, v[0]), v[1])
	return nil
}

// properties appends the members of a properties object to their columns
// as the values of point row.
func (d *decoder) properties(props []byte, row int) {
	_ = eachMember(props, func(m member) {
		c := d.b.column(memberKey(m))
		if c.n > row {
			c.dropLast()
		}
		c.padTo(row)
		switch jsonKind(m.val) {
		case "null":
			c.appendMissing()
		case "a string":
			c.appendString(decodeString(m.val))
		case "a number":
			v, err := jsonFloat(m.val)
			if err != nil { // out of float64's range: keep the text
				c.appendJSON(m.val)
				return
			}
			c.appendNumber(m.val, v)
		case "an object", "an array":
			d.compact.Reset()
			if json.Compact(&d.compact, m.val) == nil {
				c.appendJSON(d.compact.Bytes())
			} else {
				c.appendJSON(m.val)
			}
		default:
			c.appendJSON(m.val)
		}
	})
}
