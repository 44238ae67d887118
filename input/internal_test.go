package input

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestParseSimple(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	texts := []string{"0", "-0", "+1", ".5", "5.", "00012.500", "123456789012345", "1234567890123456",
		"0.000000000000000000001", "0.0000000000000000000001", "-179.99999999", "1e5", "1.2.3", "", "-", ".", "+-1", "1_0", "0x10", " 1"}
	for range 100000 {
		v := (r.Float64() - 0.5) * math.Pow(10, float64(r.IntN(12)-4))
		texts = append(texts, strconv.FormatFloat(v, 'f', r.IntN(12), 64))
	}
	for _, s := range texts {
		got, ok := parseSimple([]byte(s))
		want, err := strconv.ParseFloat(s, 64)
		if ok && (err != nil || math.Float64bits(got) != math.Float64bits(want)) {
			t.Fatalf("parseSimple(%q) = %v, ParseFloat = %v, %v", s, got, want, err)
		}
		if n, nok := parseNumber([]byte(s)); nok != (err == nil && s != "0x10") || (nok && n != want) {
			t.Fatalf("parseNumber(%q) = %v, %v; ParseFloat = %v, %v", s, n, nok, want, err)
		}
	}
}

func TestIsJSONNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "-0": true, "12": true, "1.5": true, "1e5": true, "-1.5E-3": true, "1E+2": true,
		"": false, "-": false, "01": false, "1.": false, ".5": false, "+1": false, "1e": false, "1e+": false, "0x1": false, "NaN": false, " 1": false,
	} {
		if got := isJSONNumber([]byte(s)); got != want {
			t.Errorf("isJSONNumber(%q) = %v", s, got)
		}
	}
}

// TestColumnWidening checks that numbers keep the text they were written
// with when their column turns out to hold strings.
func TestColumnWidening(t *testing.T) {
	c := &colBuilder{name: "c"}
	for _, s := range []string{"1", "1.50", "", "007", "-0", "2.5", "1e3", "1e-07"} {
		if s == "" {
			c.appendMissing()
			continue
		}
		v, ok := parseNumber([]byte(s))
		if !ok {
			t.Fatal(s)
		}
		c.appendNumber([]byte(s), v)
	}
	c.dropLast()
	c.appendString([]byte("x"))
	col := c.column(9)
	want := []string{"1", "1.50", "", "007", "-0", "2.5", "1e3", "x", ""}
	if col.Len() != 9 || !col.IsMissing(2) || !col.IsMissing(8) || col.IsMissing(7) {
		t.Fatalf("column %+v", col)
	}
	for i, w := range want {
		if col.Str[i] != w {
			t.Errorf("value %d = %q, want %q", i, col.Str[i], w)
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	got := string(appendJSONString(nil, "a\"\\\n\t\x01é"))
	if want := `"a\"\\\n\t\u0001é"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestGeoJSONTooManyNames(t *testing.T) {
	var sb strings.Builder
	for i := range 50 {
		fmt.Fprintf(&sb, `{"type":"Feature","geometry":{"type":"Point","coordinates":[0,0]},"properties":{"common":1,"k%d":1}}`+"\n", i)
	}
	_, _, err := Decode(context.Background(), strings.NewReader(sb.String()), NDJSON, "m.ndjson", Options{maxColumns: 20})
	if want := "m.ndjson:20:80: more than 20 distinct property names in the input"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
	p, rep, err := Decode(context.Background(), strings.NewReader(sb.String()), NDJSON, "m.ndjson", Options{SkipInvalid: true, maxColumns: 20})
	if err != nil || len(p.Props) != 20 || p.Len() != 19 || rep.Skipped != 50-19 {
		t.Errorf("%v: %d columns, %d points, %d skipped", err, len(p.Props), p.Len(), rep.Skipped)
	}
}
