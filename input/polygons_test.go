package input

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/mapcluster/mapcluster"
)

func TestDecodePolygons(t *testing.T) {
	src := `{"type":"FeatureCollection","features":[
{"type":"Feature","id":"a","properties":{"name":"A","n":1},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}},
{"type":"Feature","id":7,"properties":null,"geometry":{"type":"MultiPolygon","coordinates":[[[[2,2,10],[3,2,10],[3,3,10],[2,2,10]]]]}}
]}`
	fs, err := DecodePolygons(context.Background(), strings.NewReader(src), "x.geojson")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 {
		t.Fatalf("got %d features", len(fs))
	}
	if fs[0].ID != "a" || fs[0].Properties["name"] != "A" || fs[0].Properties["n"] != 1.0 {
		t.Errorf("feature 0: id %v props %v", fs[0].ID, fs[0].Properties)
	}
	if fs[1].ID != 7.0 {
		t.Errorf("feature 1 id %v", fs[1].ID)
	}
	mp, ok := fs[1].Geometry.(orb.MultiPolygon)
	if !ok || len(mp) != 1 || mp[0][0][1] != (orb.Point{3, 2}) {
		t.Errorf("feature 1 geometry %#v", fs[1].Geometry)
	}
}

func TestDecodePolygonsSequenceAndGzip(t *testing.T) {
	src := "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[0,0],[1,1]]}}\n" +
		"\x1e{\"type\":\"Feature\",\"geometry\":{\"type\":\"MultiLineString\",\"coordinates\":[[[0,0],[1,1]],[[2,2],[3,3]]]}}\n"
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(src))
	zw.Close()
	fs, err := DecodePolygons(context.Background(), &buf, "x.ndjson.gz")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 2 {
		t.Fatalf("got %d features", len(fs))
	}
	if _, ok := fs[1].Geometry.(orb.MultiLineString); !ok {
		t.Errorf("feature 1 is %T", fs[1].Geometry)
	}
}

func TestDecodePolygonsErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{`{"type":"FeatureCollection","features":[` + "\n" + `{"type":"Feature","geometry":{"type":"Point","coordinates":[0,0]}}]}`, "x:2:1: features[0].geometry: Point cannot be simplified"},
		{`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,95],[1,1],[0,0]]]}}]}`, "latitude 95 is outside -90..90"},
		{`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[200,5],[1,1],[0,0]]]}}]}`, "longitude 200 is outside"},
		{`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":null}]}`, "features[0].geometry: missing"},
		{`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1]]]}}]}`, "needs a longitude and a latitude"},
		{`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,1e999]]]}}]}`, "not a finite number"},
		{`{"type":"FeatureCollection","features":[{"type":"Feature"`, "unexpected end of input"},
		{`{"type":"Topology"}`, `"Topology": want FeatureCollection or Feature`},
		{`[1,2]`, "want a JSON object"},
		{``, "empty input"},
		{`{"type":"FeatureCollection"}`, "features: missing"},
	}
	for _, c := range cases {
		_, err := DecodePolygons(context.Background(), strings.NewReader(c.src), "x")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.src, err, c.want)
			continue
		}
		if mapcluster.ErrorCodeOf(err) != mapcluster.EInvalid {
			t.Errorf("%s: code %v", c.src, mapcluster.ErrorCodeOf(err))
		}
	}
}

func TestReadPolygonsCountries(t *testing.T) {
	path := "../simplify/testdata/countries-50m.geojson.gz"
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s not available", path)
	}
	fs, err := ReadPolygons(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range fs {
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			for _, r := range g {
				n += len(r)
			}
		case orb.MultiPolygon:
			for _, p := range g {
				for _, r := range p {
					n += len(r)
				}
			}
		}
	}
	if len(fs) != 241 || n != 99539 {
		t.Errorf("got %d features, %d vertices; want 241, 99539", len(fs), n)
	}
}

// FuzzPolygons checks that no input panics and that every error is an
// EInvalid *mapcluster.Error.
func FuzzPolygons(f *testing.F) {
	f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","id":1,"properties":{"a":1},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]}`))
	f.Add([]byte(`{"type":"Feature","geometry":{"type":"MultiLineString","coordinates":[[[0,0],[1,1]]]}}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, err := DecodePolygons(context.Background(), bytes.NewReader(data), "fuzz")
		if err != nil {
			if mapcluster.ErrorCodeOf(err) != mapcluster.EInvalid {
				t.Fatalf("error %v has code %v", err, mapcluster.ErrorCodeOf(err))
			}
			return
		}
		for _, f := range fs {
			if f.Geometry == nil {
				t.Fatal("feature without geometry")
			}
		}
	})
}
