package input_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mapcluster/mapcluster"
	"github.com/mapcluster/mapcluster/input"
)

func TestGeoJSON(t *testing.T) {
	const text = `{
  "type": "FeatureCollection",
  "bbox": [0, 0, 10, 10],
  "features": [
    {"type": "Feature", "id": 10, "geometry": {"type": "Point", "coordinates": [1.5, 2.5, 100]},
     "properties": {"name": "a", "pop": 5, "tags": ["x"], "flag": true, "mixed": 1, "nul": null, "esc": "\u00e9\n"}},
    {"type": "Feature", "id": 11, "geometry": {"type": "MultiPoint", "coordinates": [[3, 4], [5, 6]]},
     "properties": {"name": "b", "pop": 6.25, "tags": {"k": [1, 2]}, "flag": false, "mixed": "one"}},
    {"type": "Feature", "geometry": {"coordinates": [7, 8], "type": "Point"}, "properties": null},
    {"properties": {"pop": 1e2, "pop": 7, "name": "last"}, "geometry": {"type": "Point", "coordinates": [-180, -90]}, "type": "Feature", "id": 12}
  ]
}`
	p, rep := decode(t, input.GeoJSON, "g.geojson", text, input.Options{})
	if p.Len() != 5 || rep.Read != 5 {
		t.Fatalf("%d points, report %+v", p.Len(), rep)
	}
	if fmt.Sprint(p.Lng, p.Lat) != "[1.5 3 5 7 -180] [2.5 4 6 8 -90]" {
		t.Errorf("coordinates %v %v", p.Lng, p.Lat)
	}
	if !p.IDNumeric || strings.Join(p.ID, ",") != "10,11,11,,12" {
		t.Errorf("ids %q numeric %v", p.ID, p.IDNumeric)
	}
	want := map[string]struct {
		kind mapcluster.ColumnKind
		vals string
	}{
		"name":  {mapcluster.KindString, `[a b b  last]`},
		"pop":   {mapcluster.KindNumber, `[5 6.25 6.25 NaN 7]`},
		"tags":  {mapcluster.KindJSON, `[["x"] {"k":[1,2]} {"k":[1,2]}  ]`},
		"flag":  {mapcluster.KindJSON, `[true false false  ]`},
		"mixed": {mapcluster.KindJSON, `[1 "one" "one"  ]`},
		"nul":   {mapcluster.KindString, `[    ]`},
		"esc":   {mapcluster.KindString, "[é\n    ]"},
	}
	if len(p.Props) != len(want) {
		t.Errorf("%d columns, want %d", len(p.Props), len(want))
	}
	order := []string{}
	for _, c := range p.Props {
		order = append(order, c.Name)
		w, ok := want[c.Name]
		if !ok {
			t.Errorf("unexpected column %q", c.Name)
			continue
		}
		vals := fmt.Sprint(c.Str)
		if c.Kind == mapcluster.KindNumber {
			vals = fmt.Sprint(c.Num)
		}
		if c.Kind != w.kind || vals != w.vals {
			t.Errorf("column %q: %v %s, want %v %s", c.Name, c.Kind, vals, w.kind, w.vals)
		}
	}
	if got := strings.Join(order, ","); got != "name,pop,tags,flag,mixed,nul,esc" {
		t.Errorf("column order %s", got)
	}
	if c := p.Column("pop"); !c.IsMissing(3) || c.IsMissing(4) {
		t.Errorf("pop missing %v", c.Missing)
	}
}

func TestGeoJSONIDs(t *testing.T) {
	fc := func(ids ...string) string {
		var sb strings.Builder
		sb.WriteString(`{"type":"FeatureCollection","features":[`)
		for i, id := range ids {
			if i > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"type":"Feature","id":%s,"geometry":{"type":"Point","coordinates":[0,0]},"properties":{}}`, id)
		}
		sb.WriteString("]}")
		return sb.String()
	}
	for _, tc := range []struct {
		ids     []string
		want    string
		numeric bool
	}{
		{[]string{"1", "2.5", "-3e2"}, "1,2.5,-3e2", true},
		{[]string{"1", `"b"`}, "1,b", false},
		{[]string{`"a"`, `"b"`}, "a,b", false},
		{[]string{`"é\u0041"`, "null"}, "éA,", false},
		{[]string{"null", "null"}, "", false},
	} {
		p, _ := decode(t, input.GeoJSON, "ids.geojson", fc(tc.ids...), input.Options{})
		if strings.Join(p.ID, ",") != tc.want || p.IDNumeric != tc.numeric {
			t.Errorf("ids %v: got %q numeric %v", tc.ids, p.ID, p.IDNumeric)
		}
		if tc.want == "" && p.ID != nil {
			t.Errorf("ids %v: got %q, want nil", tc.ids, p.ID)
		}
	}
}

func TestGeoJSONTopLevel(t *testing.T) {
	p, _ := decode(t, input.GeoJSON, "e.geojson", `{"features": [], "type": "FeatureCollection"}`, input.Options{})
	if p.Len() != 0 || p.Lng == nil || p.Props != nil {
		t.Errorf("empty collection: %+v", p)
	}
	// A BOM and foreign members are fine.
	decode(t, input.GeoJSON, "e.geojson", "\xef\xbb\xbf{\"crs\": {\"x\": [1]}, \"features\": []}", input.Options{})
}

func TestGeoJSONErrors(t *testing.T) {
	feature := func(geom string) string {
		return `{"type": "Feature", "geometry": ` + geom + `, "properties": {}}`
	}
	fc := func(features ...string) string {
		return "{\"type\": \"FeatureCollection\",\n\"features\": [\n" + strings.Join(features, ",\n") + "\n]}\n"
	}
	ok := feature(`{"type": "Point", "coordinates": [1, 2]}`)
	for _, tc := range []struct {
		name, text, field string
		want              []string
	}{
		{"line string", fc(ok, ok, feature(`{"type": "LineString", "coordinates": [[1, 2], [3, 4]]}`)), "geometry.type",
			[]string{`x.geojson:5:42: features[2]: geometry is LineString, want Point or MultiPoint`}},
		{"null geometry", fc(feature("null")), "geometry", []string{`x.geojson:3:33: features[0]: geometry is null`}},
		{"no geometry", fc(`{"type": "Feature", "properties": {}}`), "geometry", []string{`x.geojson:3:1: features[0]: the feature has no geometry`}},
		{"lat range", fc(feature(`{"type": "Point", "coordinates": [1, 91.5]}`)), "geometry.coordinates",
			[]string{`x.geojson:3:70: features[0]: latitude 91.5 is outside -90..90`}},
		{"lng range", fc(feature(`{"type": "Point", "coordinates": [-200, 0]}`)), "geometry.coordinates",
			[]string{`features[0]: longitude -200 is outside -180..180`}},
		{"overflow", fc(feature(`{"type": "Point", "coordinates": [1e999, 0]}`)), "geometry.coordinates",
			[]string{`features[0]: longitude 1e999 is not a finite number`}},
		{"string coordinate", fc(feature(`{"type": "MultiPoint", "coordinates": [[1, 2], [3, "4"]]}`)), "geometry.coordinates",
			[]string{`x.geojson:3:`, `features[0]: latitude is a string, want a number`}},
		{"short position", fc(feature(`{"type": "Point", "coordinates": [1]}`)), "geometry.coordinates",
			[]string{`features[0]: position has 1 numbers, want 2`}},
		{"empty multipoint", fc(feature(`{"type": "MultiPoint", "coordinates": []}`)), "geometry.coordinates",
			[]string{`features[0]: MultiPoint has no positions`}},
		{"no coordinates", fc(feature(`{"type": "Point"}`)), "geometry.coordinates", []string{`features[0]: geometry has no coordinates`}},
		{"geometry not object", fc(feature(`[1, 2]`)), "geometry", []string{`features[0]: geometry is an array, want an object`}},
		{"bad id", fc(`{"type": "Feature", "id": true, "geometry": {"type": "Point", "coordinates": [1, 2]}}`), "id",
			[]string{`x.geojson:3:27: features[0]: id is a boolean, want a string or a number`}},
		{"bad properties", fc(`{"type": "Feature", "properties": 3, "geometry": {"type": "Point", "coordinates": [1, 2]}}`), "properties",
			[]string{`features[0]: properties is a number, want an object or null`}},
		{"not a feature", fc(`{"type": "Point", "coordinates": [1, 2]}`), "type", []string{`x.geojson:3:10: features[0]: type is "Point", want "Feature"`}},
		{"feature not object", fc(`[1]`), "", []string{`x.geojson:3:1: features[0]: the feature is an array, want an object`}},
		{"syntax", fc(ok, `{"type": "Feature",}`), "", []string{`x.geojson:4:20: invalid JSON`}},
		{"truncated", fc(ok)[:60], "", []string{`x.geojson:3:`, `unexpected end of input`}},
		{"top-level array", `[]`, "", []string{`x.geojson:1:1: the top level is an array, want a FeatureCollection object`}},
		{"top-level type", `{"type": "Feature", "features": []}`, "type", []string{`x.geojson:1:10: type is "Feature", want "FeatureCollection"`}},
		{"features not array", `{"features": {}}`, "features", []string{`x.geojson:1:14: features is an object, want an array`}},
		{"no features", `{"type": "FeatureCollection"}`, "features", []string{`x.geojson:1: the FeatureCollection has no features array`}},
		{"trailing data", `{"features": []} x`, "", []string{`x.geojson:1:18: data after the FeatureCollection`}},
		{"second value", `{"features": []} {}`, "", []string{`x.geojson:1:`, `data after the FeatureCollection`}},
		{"empty", ``, "", []string{`x.geojson:1:1: unexpected end of input`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := decodeErr(t, input.GeoJSON, "x.geojson", tc.text)
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

func TestGeoJSONSkipInvalid(t *testing.T) {
	const text = `{"type": "FeatureCollection", "features": [
{"type": "Feature", "geometry": null, "properties": {"a": "x"}},
{"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}, "properties": {"a": 1}},
{"type": "Feature", "geometry": {"type": "MultiPoint", "coordinates": [[1, 2], [1, 100]]}, "properties": {"a": "y"}}
]}`
	p, rep := decode(t, input.GeoJSON, "s.geojson", text, input.Options{SkipInvalid: true})
	if p.Len() != 1 || rep.Skipped != 2 || len(rep.FirstSkipped) != 2 {
		t.Fatalf("%d points, report %+v", p.Len(), rep)
	}
	// Nothing of a skipped feature remains, not even its properties.
	if c := p.Column("a"); c == nil || c.Kind != mapcluster.KindNumber || c.Num[0] != 1 {
		t.Errorf("column a: %+v", c)
	}
	if !strings.Contains(rep.FirstSkipped[1].Error(), "s.geojson:4:") {
		t.Errorf("second skipped: %v", rep.FirstSkipped[1])
	}
}

func TestNDJSON(t *testing.T) {
	const text = "\xef\xbb\xbf{\"type\":\"Feature\",\"id\":\"a\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]},\"properties\":{\"v\":1}}\r\n" +
		"\n" +
		"\x1e{\"type\":\"Feature\",\"geometry\":{\"type\":\"MultiPoint\",\"coordinates\":[[3,4],[5,6]]},\"properties\":{\"v\":\"x\"}}\n" +
		"   \n" +
		"\x1e{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[7,8]}}"
	p, rep := decode(t, input.NDJSON, "n.ndjson", text, input.Options{})
	if p.Len() != 4 || rep.Read != 4 {
		t.Fatalf("%d points", p.Len())
	}
	if fmt.Sprint(p.Lng, p.Lat, p.ID) != "[1 3 5 7] [2 4 6 8] [a   ]" || p.IDNumeric {
		t.Errorf("got %v %v %q", p.Lng, p.Lat, p.ID)
	}
	if c := p.Column("v"); c.Kind != mapcluster.KindJSON || fmt.Sprint(c.Str) != `[1 "x" "x" ]` {
		t.Errorf("column v: %v %q", c.Kind, c.Str)
	}
}

func TestNDJSONErrors(t *testing.T) {
	const ok = `{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]}}`
	for _, tc := range []struct{ name, text, want string }{
		{"syntax", ok + "\n" + `{"type":"Feature",,}`, `n.ndjson:2:19: invalid JSON: invalid character ','`},
		{"range", ok + "\n\n\x1e" + `{"type":"Feature","geometry":{"type":"Point","coordinates":[1,-95]}}`, `n.ndjson:3:64: latitude -95 is outside -90..90`},
		{"geometry", `  {"type":"Feature","geometry":{"type":"Polygon","coordinates":[]}}`, `n.ndjson:1:40: geometry is Polygon, want Point or MultiPoint`},
		{"collection", `{"type":"FeatureCollection","features":[]}`, `n.ndjson:1:9: type is "FeatureCollection", want "Feature"`},
		{"two values", ok + ok, `n.ndjson:1:`},
		{"not object", `[1,2]`, `n.ndjson:1:1: the feature is an array, want an object`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := decodeErr(t, input.NDJSON, "n.ndjson", tc.text)
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
	p, rep := decode(t, input.NDJSON, "n.ndjson", ok+"\nnot json\n"+ok+"\n", input.Options{SkipInvalid: true})
	if p.Len() != 2 || rep.Skipped != 1 || !strings.Contains(rep.FirstSkipped[0].Error(), "n.ndjson:2:2: invalid JSON") {
		t.Errorf("%d points, report %+v", p.Len(), rep)
	}
}

// TestGeoJSONPropertyKinds checks how a column's kind widens in every order.
func TestGeoJSONPropertyKinds(t *testing.T) {
	for _, tc := range []struct {
		vals []string
		kind mapcluster.ColumnKind
		want string
	}{
		{[]string{`1`, `2.50`}, mapcluster.KindNumber, "[1 2.5]"},
		{[]string{`"a"`, `"b"`}, mapcluster.KindString, "[a b]"},
		{[]string{`1.50`, `"b"`}, mapcluster.KindJSON, `[1.50 "b"]`},
		{[]string{`"a\"q"`, `2`}, mapcluster.KindJSON, `["a\"q" 2]`},
		{[]string{`"a"`, `null`, `{ "x" : 1 }`}, mapcluster.KindJSON, `["a"  {"x":1}]`},
		{[]string{`null`, `1e400`}, mapcluster.KindJSON, `[ 1e400]`},
		{[]string{`null`, `null`}, mapcluster.KindString, `[ ]`},
		{[]string{`7`, `null`, `8`}, mapcluster.KindNumber, `[7 NaN 8]`},
	} {
		var lines []string
		for _, v := range tc.vals {
			lines = append(lines, `{"type":"Feature","geometry":{"type":"Point","coordinates":[0,0]},"properties":{"p":`+v+`}}`)
		}
		p, _ := decode(t, input.NDJSON, "k.ndjson", strings.Join(lines, "\n"), input.Options{})
		c := p.Props[0]
		got := fmt.Sprint(c.Str)
		if c.Kind == mapcluster.KindNumber {
			got = fmt.Sprint(c.Num)
		}
		if c.Kind != tc.kind || got != tc.want {
			t.Errorf("%v: %v %s, want %v %s", tc.vals, c.Kind, got, tc.kind, tc.want)
		}
	}
}
