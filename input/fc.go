package input

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"

	"github.com/mapcluster/mapcluster"
)

// readGeoJSON streams a FeatureCollection. It walks the top-level object
// itself and cuts out one feature at a time, which encoding/json then checks
// (json.Valid) and this package takes apart; so memory holds one feature,
// not the file, and every error has an exact line and column. (A
// json.Decoder would also stream, but the offsets in its syntax errors are
// not reliable once Token and Decode are mixed.)
func (d *decoder) readGeoJSON(r io.Reader) error {
	s := &jsonStream{r: r, buf: make([]byte, 256<<10), line: 1}
	if err := s.skipBOM(); err != nil {
		return d.streamError(s, err)
	}
	c, err := s.peek()
	if err != nil {
		return d.streamError(s, err)
	}
	if c != '{' {
		return d.invalidAt(s, s.offset(), "", "the top level is %s, want a FeatureCollection object", kindOfByte(c))
	}
	s.pos++
	sawFeatures := false
	if c, err = s.peek(); err != nil {
		return d.streamError(s, err)
	}
	for c != '}' {
		key, keyOff, err := s.value()
		if err != nil {
			return d.streamError(s, err)
		}
		if key[0] != '"' || !json.Valid(key) {
			return d.invalidAt(s, keyOff, "", "invalid JSON: want a member name in quotes")
		}
		if c, err = s.peek(); err != nil {
			return d.streamError(s, err)
		}
		if c != ':' {
			return d.invalidAt(s, s.offset(), "", "invalid JSON: want ':' after a member name")
		}
		s.pos++
		if string(decodeString(key)) == "features" {
			if err := d.readFeatures(s); err != nil {
				return err
			}
			sawFeatures = true
		} else {
			v, off, err := s.value()
			if err != nil {
				return d.streamError(s, err)
			}
			if err := d.checkJSON(s, v, off); err != nil {
				return err
			}
			if string(decodeString(key)) == "type" && string(v) != `"FeatureCollection"` {
				return d.invalidAt(s, off, "type", "type is %s, want \"FeatureCollection\"", describe(v))
			}
		}
		if c, err = s.peek(); err != nil {
			return d.streamError(s, err)
		}
		switch c {
		case ',':
			s.pos++
			if c, err = s.peek(); err != nil {
				return d.streamError(s, err)
			}
			if c == '}' {
				return d.invalidAt(s, s.offset(), "", "invalid JSON: want a member name after ','")
			}
		case '}':
		default:
			return d.invalidAt(s, s.offset(), "", "invalid JSON: want ',' or '}' after a member")
		}
	}
	s.pos++
	if _, err := s.peek(); err != io.EOF {
		if err != nil {
			return d.streamError(s, err)
		}
		return d.invalidAt(s, s.offset(), "", "data after the FeatureCollection")
	}
	if !sawFeatures {
		return d.invalid(1, 0, "features", "the FeatureCollection has no features array")
	}
	return nil
}

// readFeatures reads the value of the features member.
func (d *decoder) readFeatures(s *jsonStream) error {
	c, err := s.peek()
	if err != nil {
		return d.streamError(s, err)
	}
	if c != '[' {
		return d.invalidAt(s, s.offset(), "features", "features is %s, want an array", kindOfByte(c))
	}
	s.pos++
	if c, err = s.peek(); err != nil {
		return d.streamError(s, err)
	}
	if c == ']' {
		s.pos++
		return nil
	}
	for i := 0; ; i++ {
		raw, start, err := s.value()
		if err != nil {
			return d.streamError(s, err)
		}
		if err := d.tick(start); err != nil {
			return err
		}
		if err := d.checkJSON(s, raw, start); err != nil {
			// The brackets matched, so the next feature can be found.
			if err := d.skip(err); err != nil {
				return err
			}
		} else if f := d.feature(raw); f != nil {
			err := d.invalidAt(s, start+int64(f.off), f.field, "features[%d]: %s", i, f.msg)
			if err := d.skip(err); err != nil {
				return err
			}
		}
		if c, err = s.peek(); err != nil {
			return d.streamError(s, err)
		}
		switch c {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return d.invalidAt(s, s.offset(), "", "invalid JSON: want ',' or ']' after a feature")
		}
	}
}

// checkJSON checks that v, cut out of the stream at offset off, is valid
// JSON, returning an error at the first fault.
func (d *decoder) checkJSON(s *jsonStream, v []byte, off int64) *mapcluster.Error {
	if json.Valid(v) {
		return nil
	}
	var raw json.RawMessage
	err := json.Unmarshal(v, &raw)
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return d.invalidAt(s, off+max(se.Offset-1, 0), "", "invalid JSON: %s", se.Error())
	}
	return d.invalidAt(s, off, "", "invalid JSON")
}

// invalidAt is invalid at an offset of the stream.
func (d *decoder) invalidAt(s *jsonStream, off int64, field, format string, args ...any) *mapcluster.Error {
	line, col := s.lineCol(off)
	return d.invalid(line, col, field, format, args...)
}

// streamError reports an error of the stream: the end of the input where a
// value should be, or a read error.
func (d *decoder) streamError(s *jsonStream, err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return d.invalidAt(s, s.off+int64(s.end), "", "unexpected end of input")
	}
	if err == errValueTooLong {
		return d.invalidAt(s, s.offset(), "", "a JSON value longer than %d MiB", maxValue>>20)
	}
	return wrapReadError(err, d.name)
}

// kindOfByte names the kind of JSON value that starts with c.
func kindOfByte(c byte) string {
	switch c {
	case '"', '{', '[', 't', 'f', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return jsonKind([]byte{c})
	}
	return "not JSON"
}

// maxValue bounds one feature, or any other top-level member, of a
// FeatureCollection.
const maxValue = 256 << 20

var errValueTooLong = errors.New("JSON value too long")

// jsonStream cuts JSON values out of a stream without checking them. It
// counts lines lazily: lineCol counts the newlines up to the offset asked
// for, and fill counts those in the bytes it is about to drop.
type jsonStream struct {
	r        io.Reader
	buf      []byte
	pos, end int   // unread data is buf[pos:end]
	off      int64 // stream offset of buf[0]
	eof      bool

	counted   int64 // stream offset up to which lines are counted
	line      int   // line at offset counted
	lineStart int64 // offset of that line's first byte
}

// offset returns the stream offset of the next unread byte.
func (s *jsonStream) offset() int64 { return s.off + int64(s.pos) }

// lineCol returns the line and byte column of offset off, which must not
// be before the start of the buffer nor before an offset asked for earlier.
func (s *jsonStream) lineCol(off int64) (line, col int) {
	s.countTo(off)
	return s.line, int(max(off-s.lineStart, 0)) + 1
}

func (s *jsonStream) countTo(off int64) {
	from, to := int(s.counted-s.off), int(min(off-s.off, int64(s.end)))
	if from < 0 || to <= from {
		return
	}
	seg := s.buf[from:to]
	if n := bytes.Count(seg, []byte{'\n'}); n > 0 {
		s.line += n
		s.lineStart = s.off + int64(from+bytes.LastIndexByte(seg, '\n')) + 1
	}
	s.counted = s.off + int64(to)
}

// fill drops the bytes before pos, growing the buffer if that frees too
// little, and reads more. It returns io.EOF at the end of the input.
func (s *jsonStream) fill() error {
	if s.eof {
		return io.EOF
	}
	if s.pos > 0 {
		s.countTo(s.offset())
		s.end = copy(s.buf, s.buf[s.pos:s.end])
		s.off += int64(s.pos)
		s.pos = 0
	}
	if s.end > len(s.buf)/2 {
		if len(s.buf) >= maxValue {
			return errValueTooLong
		}
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	n, err := s.r.Read(s.buf[s.end:])
	s.end += n
	if err == io.EOF {
		s.eof = true
		if n == 0 {
			return io.EOF
		}
		return nil
	}
	return err
}

func (s *jsonStream) skipBOM() error {
	for s.end-s.pos < 3 {
		if err := s.fill(); err == io.EOF {
			break
		} else if err != nil {
			return err
		}
	}
	if bytes.HasPrefix(s.buf[s.pos:s.end], []byte("\xef\xbb\xbf")) {
		s.pos += 3
	}
	return nil
}

// peek skips white space and returns the next byte, without consuming it.
func (s *jsonStream) peek() (byte, error) {
	for {
		for s.pos < s.end {
			if c := s.buf[s.pos]; !isSpace(c) {
				return c, nil
			}
			s.pos++
		}
		if err := s.fill(); err != nil {
			return 0, err
		}
	}
}

// value skips white space and consumes the next value, returning its bytes,
// valid until the next call, and its offset. It finds the value's end by matching brackets
// outside strings, and checks nothing else.
func (s *jsonStream) value() ([]byte, int64, error) {
	if _, err := s.peek(); err != nil {
		return nil, 0, err
	}
	off := s.offset()
	// The scan's state survives refills, which may move the data.
	i, depth := 0, 0
	inStr, esc := false, false
	first := s.buf[s.pos]
	for {
		data := s.buf[s.pos:s.end]
		for ; i < len(data); i++ {
			c := data[i]
			switch {
			case inStr:
				switch {
				case esc:
					esc = false
				case c == '\\':
					esc = true
				case c == '"':
					inStr = false
					if depth == 0 {
						return s.take(i + 1), off, nil
					}
				default:
					// Skip ahead to the next quote or backslash.
					k := bytes.IndexByte(data[i:], '"')
					if k < 0 {
						k = len(data) - i
					}
					if b := bytes.IndexByte(data[i:i+k], '\\'); b >= 0 {
						k = b
					}
					i += k - 1
				}
			case c == '"':
				inStr = true
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				if depth == 0 { // ends a scalar that is not followed by space
					return s.take(i), off, nil
				}
				depth--
				if depth == 0 {
					return s.take(i + 1), off, nil
				}
			case depth == 0 && first != '"' && (c == ',' || c == ':' || isSpace(c)):
				return s.take(i), off, nil
			}
		}
		err := s.fill()
		if err == io.EOF {
			if depth == 0 && !inStr && i > 0 {
				return s.take(i), off, nil // a scalar at the end of the input
			}
			return nil, 0, io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, 0, err
		}
	}
}

// take consumes and returns the next n bytes.
func (s *jsonStream) take(n int) []byte {
	v := s.buf[s.pos : s.pos+n]
	s.pos += n
	if n == 0 { // a stray '}' or ']' where a value should be: take it alone
		v = s.buf[s.pos : s.pos+1]
		s.pos++
	}
	return v
}
