package input_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/mapcluster/mapcluster"
	"github.com/mapcluster/mapcluster/input"
)

// decode reads text in the given format as "name", failing the test on an
// error.
func decode(t *testing.T, format input.Format, name, text string, opts input.Options) (*mapcluster.Points, *input.Report) {
	t.Helper()
	p, rep, err := input.Decode(context.Background(), strings.NewReader(text), format, name, opts)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	checkPoints(t, p)
	return p, rep
}

// checkPoints checks the invariants of a result: equal lengths, finite
// coordinates in range.
func checkPoints(t testing.TB, p *mapcluster.Points) {
	t.Helper()
	n := p.Len()
	if len(p.Lat) != n || (p.ID != nil && len(p.ID) != n) {
		t.Fatalf("lengths differ: lng %d, lat %d, id %d", n, len(p.Lat), len(p.ID))
	}
	for i := range n {
		lng, lat := p.Lng[i], p.Lat[i]
		if math.IsNaN(lng) || math.IsNaN(lat) || lng < -180 || lng > 180 || lat < -90 || lat > 90 {
			t.Fatalf("point %d: bad coordinates %v, %v", i, lng, lat)
		}
	}
	for _, c := range p.Props {
		if c.Len() != n || (c.Missing != nil && len(c.Missing) != n) {
			t.Fatalf("column %q: %d values, %d missing flags, want %d", c.Name, c.Len(), len(c.Missing), n)
		}
		switch c.Kind {
		case mapcluster.KindNumber:
			if c.Str != nil {
				t.Fatalf("column %q: number column has strings", c.Name)
			}
			for i, v := range c.Num {
				if c.IsMissing(i) != math.IsNaN(v) || math.IsInf(v, 0) {
					t.Fatalf("column %q: value %d is %v, missing %v", c.Name, i, v, c.IsMissing(i))
				}
			}
		case mapcluster.KindString, mapcluster.KindJSON:
			if c.Num != nil {
				t.Fatalf("column %q: %s column has numbers", c.Name, c.Kind)
			}
		default:
			t.Fatalf("column %q: kind %v", c.Name, c.Kind)
		}
	}
}

// decodeErr reads text expecting an error, which it checks to be EInvalid.
func decodeErr(t *testing.T, format input.Format, name, text string) *mapcluster.Error {
	t.Helper()
	p, _, err := input.Decode(context.Background(), strings.NewReader(text), format, name, input.Options{})
	if err == nil {
		t.Fatalf("Decode succeeded with %d points, want an error", p.Len())
	}
	var me *mapcluster.Error
	if !errors.As(err, &me) || me.Code != mapcluster.EInvalid {
		t.Fatalf("error %v (%T) is not an EInvalid *mapcluster.Error", err, err)
	}
	return me
}

func TestCSV(t *testing.T) {
	const text = "\xef\xbb\xbfID, Name ,LON,Latitude,pop,note,mixed\r\n" +
		"1,\"Zürich, \"\"ZH\"\"\",8.5417,47.3769,415367,,1\r\n" +
		"\r\n" +
		"2,\"multi\nline\",-0.1276,51.5072, 8961989 ,x,two\r\n" +
		"3,Bare\"quote,0,0,0,,1.50\r\n" +
		"4,End,180,-90,1e3,y,-0\n"
	p, rep := decode(t, input.CSV, "c.csv", text, input.Options{})
	if p.Len() != 4 || rep.Read != 4 || rep.Skipped != 0 {
		t.Fatalf("got %d points, report %+v", p.Len(), rep)
	}
	if !p.IDNumeric || strings.Join(p.ID, " ") != "1 2 3 4" {
		t.Errorf("ids %q numeric %v", p.ID, p.IDNumeric)
	}
	if p.Lng[1] != -0.1276 || p.Lat[1] != 51.5072 || p.Lng[3] != 180 || p.Lat[3] != -90 {
		t.Errorf("coordinates %v %v", p.Lng, p.Lat)
	}
	name := p.Column("Name")
	if name == nil || name.Kind != mapcluster.KindString {
		t.Fatalf("Name column %+v", name)
	}
	want := []string{`Zürich, "ZH"`, "multi\nline", `Bare"quote`, "End"}
	for i, w := range want {
		if name.Str[i] != w {
			t.Errorf("name %d = %q, want %q", i, name.Str[i], w)
		}
	}
	pop := p.Column("pop")
	if pop == nil || pop.Kind != mapcluster.KindNumber || pop.Num[1] != 8961989 || pop.Num[3] != 1000 || pop.Missing != nil {
		t.Errorf("pop column %+v", pop)
	}
	note := p.Column("note")
	if note == nil || note.Kind != mapcluster.KindString || !note.IsMissing(0) || note.Str[1] != "x" || !note.IsMissing(2) {
		t.Errorf("note column %+v", note)
	}
	// Numbers that turn out to share a column with text keep their text.
	mixed := p.Column("mixed")
	if mixed == nil || mixed.Kind != mapcluster.KindString || strings.Join(mixed.Str, " ") != "1 two 1.50 -0" {
		t.Errorf("mixed column %+v", mixed)
	}
	if len(p.Props) != 4 {
		t.Errorf("%d property columns, want 4", len(p.Props))
	}
}

func TestCSVDialects(t *testing.T) {
	for _, tc := range []struct{ name, text string }{
		{"semicolon", "lat;lng;name\n1;2;a\n"},
		{"tab", "lat\tlng\tname\n1\t2\ta\n"},
		{"no final newline", "lat,lng,name\n1,2,a"},
		{"CR only at end", "lat,lng,name\r\n1,2,a\r"},
		{"quoted header", "\"lat\",\"lng\",\"name\"\n\"1\",\"2\",\"a\"\n"},
		{"unnamed index column", ",lat,lng,name\n0,1,2,a\n"},
		{"blank lines", "\n\nlat,lng,name\n\n1,2,a\n  \n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := decode(t, input.CSV, "d.csv", tc.text, input.Options{})
			if p.Len() != 1 || p.Lat[0] != 1 || p.Lng[0] != 2 || len(p.Props) != 1 || p.Props[0].Str[0] != "a" {
				t.Fatalf("got %+v", p)
			}
			if p.ID != nil {
				t.Errorf("ids %q, want none", p.ID)
			}
		})
	}
}

func TestCSVIDs(t *testing.T) {
	p, _ := decode(t, input.CSV, "i.csv", "id,lng,lat\na1,0,0\n,1,1\n7,2,2\n", input.Options{})
	if p.IDNumeric || strings.Join(p.ID, ",") != "a1,,7" {
		t.Errorf("ids %q numeric %v", p.ID, p.IDNumeric)
	}
	// "007" is a number to ParseFloat but not to JSON, so ids are text.
	p, _ = decode(t, input.CSV, "i.csv", "id,lng,lat\n007,0,0\n", input.Options{})
	if p.IDNumeric {
		t.Errorf("id 007 taken as a JSON number")
	}
	p, _ = decode(t, input.CSV, "i.csv", "id,lng,lat\n-1.5e3,0,0\n,1,1\n", input.Options{})
	if !p.IDNumeric {
		t.Errorf("ids %q not numeric", p.ID)
	}
	p, _ = decode(t, input.CSV, "i.csv", "id,lng,lat\n,0,0\n", input.Options{})
	if p.ID != nil {
		t.Errorf("ids %q, want nil", p.ID)
	}
}

func TestCSVErrors(t *testing.T) {
	const head = "id,name,lng,lat\n"
	for _, tc := range []struct {
		name, text string
		field      string
		want       []string // substrings of the message
	}{
		{"not a number", head + "1,a,2,3\n2,b,4,abc\n", "lat", []string{`bad.csv:3: column "lat": "abc" is not a number`}},
		{"lat range", head + "1,a,2,91.5\n", "lat", []string{`bad.csv:2: column "lat": 91.5 is outside -90..90`}},
		{"lng range", head + "1,a,180.5,0\n", "lng", []string{`bad.csv:2: column "lng": 180.5 is outside -180..180`}},
		{"NaN", head + "1,a,NaN,0\n", "lng", []string{`bad.csv:2: column "lng": "NaN" is not a finite number`}},
		{"Inf", head + "1,a,0,-Inf\n", "lat", []string{`bad.csv:2: column "lat": "-Inf" is not a finite number`}},
		{"overflow", head + "1,a,0,1e999\n", "lat", []string{`bad.csv:2:`, `"1e999" is not a finite number`}},
		{"hex", head + "1,a,0x10,0\n", "lng", []string{`bad.csv:2:`, `"0x10" is not a number`}},
		{"missing", head + "1,a,,0\n", "lng", []string{`bad.csv:2: column "lng": missing value`}},
		{"too few fields", head + "1,a,2,3\n2,b,4\n", "", []string{`bad.csv:3: row has 3 fields, want 4`}},
		{"too many fields", head + "1,a,2,3,4\n", "", []string{`bad.csv:2: row has 5 fields, want 4`}},
		{"line after multiline field", head + "1,\"a\nb\",2,3\n2,b,4,x\n", "lat", []string{`bad.csv:4: column "lat"`}},
		{"unclosed quote", head + "1,\"a,2,3\n", "", []string{`bad.csv:2: malformed row: field 2: quote not closed`}},
		{"text after quote", head + "1,\"a\"b,2,3\n", "", []string{`bad.csv:2: malformed row: field 2: text after the closing quote`}},
		{"no lat column", "id,lng,y\n1,2,3\n", "lat", []string{`bad.csv:1: no latitude column: want one named lat or latitude; the header has "id", "lng", "y"`}},
		{"no lng column", "id,x,y\n1,2,3\n", "lng", []string{`bad.csv:1: no longitude column`, `"x"`}},
		{"two lng columns", "lon,lng,lat\n1,2,3\n", "lng", []string{`bad.csv:1: columns "lon" and "lng" name the same thing`}},
		{"duplicate column", "lng,lat,a,a\n1,2,3,4\n", "a", []string{`bad.csv:1: column "a" appears twice`}},
		{"empty", "", "header", []string{`bad.csv:1: empty input`}},
		{"blank", "\n \n", "header", []string{`bad.csv:1: empty input`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := decodeErr(t, input.CSV, "bad.csv", tc.text)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if err.Field != tc.field {
				t.Errorf("field %q, want %q", err.Field, tc.field)
			}
		})
	}
}

func TestCSVSkipInvalid(t *testing.T) {
	var text strings.Builder
	text.WriteString("lng,lat,v\n")
	for i := range 30 {
		if i%2 == 0 {
			text.WriteString("1,2,3\n")
		} else {
			text.WriteString("1,x,y\n")
		}
	}
	text.WriteString("1,2\n\"open,1,2\n")
	p, rep := decode(t, input.CSV, "s.csv", text.String(), input.Options{SkipInvalid: true})
	if p.Len() != 15 || rep.Read != 15 || rep.Skipped != 17 || len(rep.FirstSkipped) != 10 {
		t.Fatalf("%d points, report %d read, %d skipped, %d samples", p.Len(), rep.Read, rep.Skipped, len(rep.FirstSkipped))
	}
	if msg := rep.FirstSkipped[0].Error(); msg != `s.csv:3: column "lat": "x" is not a number` {
		t.Errorf("first skipped: %s", msg)
	}
	if c := p.Column("v"); c.Kind != mapcluster.KindNumber {
		t.Errorf("skipped rows changed the kind of v to %v", c.Kind)
	}
}

// TestCSVLongRows checks rows that straddle the reader's buffer.
func TestCSVLongRows(t *testing.T) {
	long := strings.Repeat("x", 300<<10)
	text := "lng,lat,s\n1,2,\"" + long + "\"\"\"\n3,4," + long + "\n5,6,z\n"
	p, _ := decode(t, input.CSV, "l.csv", text, input.Options{})
	s := p.Column("s")
	if p.Len() != 3 || s.Str[0] != long+`"` || s.Str[1] != long || s.Str[2] != "z" {
		t.Fatalf("got %d points", p.Len())
	}
}

func TestCSVInvalidUTF8(t *testing.T) {
	p, _ := decode(t, input.CSV, "u.csv", "lng,lat,s\n1,2,a\xffb\n", input.Options{})
	if got := p.Props[0].Str[0]; got != "a\uFFFDb" {
		t.Errorf("got %q", got)
	}
}
