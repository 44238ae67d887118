package input

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/mapcluster/mapcluster"
)

// ReadPolygons reads polygon or line features for simplification from a
// GeoJSON FeatureCollection, a single Feature, or newline-delimited
// Features, optionally gzip-compressed (detected from the content). See
// DecodePolygons.
func ReadPolygons(ctx context.Context, path string) ([]*geojson.Feature, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &mapcluster.Error{Code: mapcluster.EInvalid, Field: "input", Message: "cannot open the input", Err: err}
	}
	defer f.Close()
	return DecodePolygons(ctx, f, path)
}

// DecodePolygons reads features from r; name labels errors. Geometries must
// be Polygon, MultiPolygon, LineString or MultiLineString; coordinates must
// be finite, with longitude within -180..180 and latitude within -90..90;
// positions beyond the second value (altitude) are ignored. Rings are
// passed on as they are, valid or not: repairing them is the simplifier's
// job. Ids (string or number) and properties are kept, numbers as float64.
// Every fault is a *mapcluster.Error with code EInvalid naming the input,
// line, column and feature, such as
//
//	countries.geojson:3:41: features[2].geometry: Point cannot be simplified: want Polygon, MultiPolygon, LineString or MultiLineString
func DecodePolygons(ctx context.Context, r io.Reader, name string) ([]*geojson.Feature, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if head, _ := br.Peek(2); len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &mapcluster.Error{Code: mapcluster.EInvalid, Field: "input", Message: name + ": corrupt gzip data", Err: err}
		}
		defer zr.Close()
		r = zr
	} else {
		r = br
	}
	data, err := io.ReadAll(r)
	if err != nil {
		if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, &mapcluster.Error{Code: mapcluster.EInvalid, Field: "input", Message: name + ": corrupt gzip data", Err: err}
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &polyReader{name: name, data: data, ctx: ctx}
	return p.read()
}

type polyReader struct {
	ctx  context.Context
	name string
	data []byte
}

// errAt returns an EInvalid error at byte offset off.
func (p *polyReader) errAt(off int64, field, format string, args ...any) error {
	line, col := 1, 1
	if off > int64(len(p.data)) {
		off = int64(len(p.data))
	}
	for _, c := range p.data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	msg := fmt.Sprintf("%s:%d:%d: ", p.name, line, col)
	if field != "" {
		msg += field + ": "
	}
	return &mapcluster.Error{Code: mapcluster.EInvalid, Field: field, Message: msg + fmt.Sprintf(format, args...)}
}

// jsonErr turns a decoding error into a positioned EInvalid error.
func (p *polyReader) jsonErr(err error, base int64, field string) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return p.errAt(base+se.Offset, field, "invalid JSON: %v", err)
	case errors.As(err, &te):
		return p.errAt(base+te.Offset, field, "invalid JSON: %v", err)
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return p.errAt(int64(len(p.data)), field, "unexpected end of input")
	}
	return p.errAt(base, field, "invalid JSON: %v", err)
}

type rawFeature struct {
	Type       string          `json:"type"`
	ID         json.RawMessage `json:"id"`
	Properties json.RawMessage `json:"properties"`
	Geometry   json.RawMessage `json:"geometry"`
}

func (p *polyReader) read() ([]*geojson.Feature, error) {
	dec := json.NewDecoder(bytes.NewReader(p.data))
	dec.UseNumber()
	start := polySkipSpace(p.data, 0)
	if start >= len(p.data) {
		return nil, p.errAt(0, "", "empty input: want a GeoJSON FeatureCollection or Features")
	}
	if p.data[start] != '{' {
		return nil, p.errAt(int64(start), "", "want a JSON object (FeatureCollection or Feature)")
	}
	return p.readCollection(dec)
}

// readCollection streams the features of a FeatureCollection.
func (p *polyReader) readCollection(dec *json.Decoder) ([]*geojson.Feature, error) {
	if _, err := dec.Token(); err != nil { // {
		return nil, p.jsonErr(err, 0, "")
	}
	var out []*geojson.Feature
	seen := false
	for dec.More() {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil, p.jsonErr(err, off, "")
		}
		key, _ := tok.(string)
		if key == "type" {
			vo := dec.InputOffset()
			var typ string
			if err := dec.Decode(&typ); err != nil {
				return nil, p.errAt(vo, "type", "want a string")
			}
			switch typ {
			case "FeatureCollection":
			case "Feature":
				return p.readSequence()
			default:
				return nil, p.errAt(vo, "type", "%q: want FeatureCollection or Feature", typ)
			}
			continue
		}
		if key == "geometry" && !seen {
			// A Feature whose type comes later.
			return p.readSequence()
		}
		if key != "features" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, p.jsonErr(err, dec.InputOffset(), key)
			}
			continue
		}
		seen = true
		off = dec.InputOffset()
		tok, err = dec.Token()
		if err != nil {
			return nil, p.jsonErr(err, off, "features")
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			return nil, p.errAt(off, "features", "want an array")
		}
		for i := 0; dec.More(); i++ {
			if err := p.ctx.Err(); err != nil {
				return nil, err
			}
			fo := dec.InputOffset()
			var rf rawFeature
			if err := dec.Decode(&rf); err != nil {
				return nil, p.jsonErr(err, fo, fmt.Sprintf("features[%d]", i))
			}
			fo = int64(polySkipSpace(p.data, int(fo)))
			if len(p.data) > int(fo) && p.data[fo] == ',' {
				fo = int64(polySkipSpace(p.data, int(fo)+1))
			}
			f, err := p.feature(rf, fo, fmt.Sprintf("features[%d]", i))
			if err != nil {
				return nil, err
			}
			out = append(out, f)
		}
		if _, err := dec.Token(); err != nil { // ]
			return nil, p.jsonErr(err, dec.InputOffset(), "features")
		}
	}
	if !seen {
		return nil, p.errAt(0, "features", "missing: want a FeatureCollection with a features array, or Features")
	}
	return out, nil
}

// readSequence reads one Feature or newline-delimited Features.
func (p *polyReader) readSequence() ([]*geojson.Feature, error) {
	return p.sequenceFrom(0, 0)
}

// sequenceFrom reads newline-delimited features starting at byte off, the
// first numbered i.
func (p *polyReader) sequenceFrom(off int64, i int) ([]*geojson.Feature, error) {
	var out []*geojson.Feature
	for ; ; i++ {
		if err := p.ctx.Err(); err != nil {
			return nil, err
		}
		off = int64(polySkipSpace(p.data, int(off)))
		for off < int64(len(p.data)) && p.data[off] == 0x1e {
			off = int64(polySkipSpace(p.data, int(off)+1))
		}
		if off >= int64(len(p.data)) {
			return out, nil
		}
		if p.data[off] != '{' {
			return nil, p.errAt(off, fmt.Sprintf("features[%d]", i), "want a Feature object")
		}
		dec := json.NewDecoder(bytes.NewReader(p.data[off:]))
		var rf rawFeature
		if err := dec.Decode(&rf); err != nil {
			return nil, p.jsonErr(err, off, fmt.Sprintf("features[%d]", i))
		}
		f, err := p.feature(rf, off, fmt.Sprintf("features[%d]", i))
		if err != nil {
			return nil, err
		}
		out = append(out, f)
		off += dec.InputOffset()
	}
}

func polySkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// feature converts one decoded feature.
func (p *polyReader) feature(rf rawFeature, off int64, field string) (*geojson.Feature, error) {
	if rf.Type != "Feature" {
		return nil, p.errAt(off, field+".type", "%q: want Feature", rf.Type)
	}
	f := &geojson.Feature{Type: "Feature", Properties: geojson.Properties{}}
	if len(rf.ID) > 0 && string(rf.ID) != "null" {
		switch rf.ID[0] {
		case '"':
			var s string
			if err := json.Unmarshal(rf.ID, &s); err != nil {
				return nil, p.errAt(off, field+".id", "invalid string")
			}
			f.ID = s
		default:
			v, err := strconv.ParseFloat(string(rf.ID), 64)
			if err != nil {
				return nil, p.errAt(off, field+".id", "want a string or a number, got %s", truncate(rf.ID))
			}
			f.ID = v
		}
	}
	if len(rf.Properties) > 0 && string(rf.Properties) != "null" {
		if rf.Properties[0] != '{' {
			return nil, p.errAt(off, field+".properties", "want an object or null")
		}
		if err := json.Unmarshal(rf.Properties, &f.Properties); err != nil {
			return nil, p.errAt(off, field+".properties", "invalid JSON: %v", err)
		}
	}
	if len(rf.Geometry) == 0 || string(rf.Geometry) == "null" {
		return nil, p.errAt(off, field+".geometry", "missing: every feature needs a geometry to simplify")
	}
	var g struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(rf.Geometry, &g); err != nil {
		return nil, p.errAt(off, field+".geometry", "invalid JSON: %v", err)
	}
	gf := field + ".geometry"
	depth := 0
	switch g.Type {
	case "LineString":
		depth = 2
	case "Polygon", "MultiLineString":
		depth = 3
	case "MultiPolygon":
		depth = 4
	case "":
		return nil, p.errAt(off, gf+".type", "missing")
	default:
		return nil, p.errAt(off, gf, "%s cannot be simplified: want Polygon, MultiPolygon, LineString or MultiLineString", g.Type)
	}
	cp := coordParser{b: g.Coordinates}
	nested, err := cp.parse(depth)
	if err != nil {
		return nil, p.errAt(off, gf+".coordinates", "%v", err)
	}
	switch g.Type {
	case "LineString":
		f.Geometry = nested.line()
	case "MultiLineString":
		ml := make(orb.MultiLineString, len(nested.kids))
		for i, k := range nested.kids {
			ml[i] = k.line()
		}
		f.Geometry = ml
	case "Polygon":
		f.Geometry = nested.polygon()
	case "MultiPolygon":
		mp := make(orb.MultiPolygon, len(nested.kids))
		for i, k := range nested.kids {
			mp[i] = k.polygon()
		}
		f.Geometry = mp
	}
	return f, nil
}

func truncate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

// coordNode is a nested coordinate array: positions at depth 2.
type coordNode struct {
	pts  []orb.Point
	kids []coordNode
}

func (n coordNode) line() orb.LineString { return orb.LineString(n.pts) }

func (n coordNode) polygon() orb.Polygon {
	poly := make(orb.Polygon, len(n.kids))
	for i, k := range n.kids {
		poly[i] = orb.Ring(k.pts)
	}
	return poly
}

// coordParser parses GeoJSON coordinate arrays without reflection.
type coordParser struct {
	b []byte
	i int
}

func (c *coordParser) ws() {
	c.i = polySkipSpace(c.b, c.i)
}

func (c *coordParser) expect(ch byte) error {
	c.ws()
	if c.i >= len(c.b) || c.b[c.i] != ch {
		return fmt.Errorf("want %q at byte %d", ch, c.i)
	}
	c.i++
	return nil
}

// parse reads an array nested depth levels deep (1 is a position).
func (c *coordParser) parse(depth int) (coordNode, error) {
	var n coordNode
	if err := c.expect('['); err != nil {
		return n, err
	}
	c.ws()
	if c.i < len(c.b) && c.b[c.i] == ']' {
		c.i++
		return n, nil
	}
	for {
		if depth == 2 {
			p, err := c.position()
			if err != nil {
				return n, err
			}
			n.pts = append(n.pts, p)
		} else {
			k, err := c.parse(depth - 1)
			if err != nil {
				return n, err
			}
			n.kids = append(n.kids, k)
		}
		c.ws()
		if c.i >= len(c.b) {
			return n, errors.New("unexpected end of coordinates")
		}
		if c.b[c.i] == ',' {
			c.i++
			continue
		}
		if c.b[c.i] == ']' {
			c.i++
			return n, nil
		}
		return n, fmt.Errorf("want ',' or ']' at byte %d", c.i)
	}
}

// position reads [lng, lat, ...] and checks the range.
func (c *coordParser) position() (orb.Point, error) {
	var p orb.Point
	if err := c.expect('['); err != nil {
		return p, errors.New("want a position [longitude, latitude]")
	}
	k := 0
	for {
		c.ws()
		s := c.i
		for c.i < len(c.b) && (c.b[c.i] == '-' || c.b[c.i] == '+' || c.b[c.i] == '.' || c.b[c.i] == 'e' || c.b[c.i] == 'E' || (c.b[c.i] >= '0' && c.b[c.i] <= '9')) {
			c.i++
		}
		if s == c.i {
			return p, fmt.Errorf("want a number at byte %d", c.i)
		}
		v, err := strconv.ParseFloat(string(c.b[s:c.i]), 64)
		if err != nil || math.IsInf(v, 0) {
			return p, fmt.Errorf("%q is not a finite number", c.b[s:c.i])
		}
		if k < 2 {
			p[k] = v
		}
		k++
		c.ws()
		if c.i < len(c.b) && c.b[c.i] == ',' {
			c.i++
			continue
		}
		if err := c.expect(']'); err != nil {
			return p, err
		}
		break
	}
	if k < 2 {
		return p, errors.New("a position needs a longitude and a latitude")
	}
	if p[0] < -180 || p[0] > 180 {
		return p, fmt.Errorf("longitude %v is outside -180..180", p[0])
	}
	if p[1] < -90 || p[1] > 90 {
		return p, fmt.Errorf("latitude %v is outside -90..90", p[1])
	}
	return p, nil
}
