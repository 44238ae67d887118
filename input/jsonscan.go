package input

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// This file walks JSON that encoding/json has already checked to be valid,
// finding the members of objects and the extent of values without decoding
// them. The walk is defensive all the same: on anything unexpected it stops
// with errBadJSON rather than index out of range.

var errBadJSON = errors.New("malformed JSON")

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipWS returns the index of the first non-space byte at or after i.
func skipWS(data []byte, i int) int {
	for i < len(data) && isSpace(data[i]) {
		i++
	}
	return i
}

// skipValue returns the index just after the value that starts at data[i].
func skipValue(data []byte, i int) (int, error) {
	if i >= len(data) {
		return 0, errBadJSON
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				end, err := skipString(data, i)
				if err != nil {
					return 0, err
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			}
			i++
		}
		return 0, errBadJSON
	}
	start := i
	for i < len(data) {
		switch c := data[i]; c {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			if i == start {
				return 0, errBadJSON
			}
			return i, nil
		}
		i++
	}
	if i == start {
		return 0, errBadJSON
	}
	return i, nil
}

// skipString returns the index just after the string that starts at data[i].
func skipString(data []byte, i int) (int, error) {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1, nil
		}
	}
	return 0, errBadJSON
}

// member is one member of a JSON object: its key as it appears between the
// quotes, whether that contains escapes, and its value with its offset.
type member struct {
	key    []byte
	keyEsc bool
	val    []byte
	valOff int
}

// eachMember calls fn for each member of the object obj, in order.
func eachMember(obj []byte, fn func(m member)) error {
	i := skipWS(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return errBadJSON
	}
	i = skipWS(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return nil
	}
	for {
		if i >= len(obj) || obj[i] != '"' {
			return errBadJSON
		}
		end, err := skipString(obj, i)
		if err != nil {
			return err
		}
		var m member
		m.key = obj[i+1 : end-1]
		for _, c := range m.key {
			if c == '\\' || c >= utf8.RuneSelf {
				m.keyEsc = true
				break
			}
		}
		i = skipWS(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return errBadJSON
		}
		i = skipWS(obj, i+1)
		end, err = skipValue(obj, i)
		if err != nil {
			return err
		}
		m.val, m.valOff = obj[i:end], i
		fn(m)
		i = skipWS(obj, end)
		if i >= len(obj) {
			return errBadJSON
		}
		if obj[i] == '}' {
			return nil
		}
		if obj[i] != ',' {
			return errBadJSON
		}
		i = skipWS(obj, i+1)
	}
}

// memberKey returns a member's key decoded. Keys with escapes or non-ASCII
// bytes go through encoding/json, which also replaces invalid UTF-8.
func memberKey(m member) []byte {
	if !m.keyEsc {
		return m.key
	}
	if bytes.IndexByte(m.key, '\\') < 0 && utf8.Valid(m.key) {
		return m.key
	}
	var s string
	quoted := make([]byte, 0, len(m.key)+2)
	quoted = append(append(append(quoted, '"'), m.key...), '"')
	if json.Unmarshal(quoted, &s) != nil {
		return m.key
	}
	return []byte(s)
}

// decodeString returns the text of a JSON string value.
func decodeString(raw []byte) []byte {
	if len(raw) < 2 {
		return nil
	}
	inner := raw[1 : len(raw)-1]
	plain := true
	for _, c := range inner {
		if c == '\\' || c >= utf8.RuneSelf {
			plain = false
			break
		}
	}
	if plain || (bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner)) {
		return inner
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return inner
	}
	return []byte(s)
}

// appendJSONString appends s as a JSON string.
func appendJSONString[S string | []byte](dst []byte, s S) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}

// jsonKind names the kind of the JSON value raw for a message.
func jsonKind(raw []byte) string {
	if len(raw) == 0 {
		return "empty"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
