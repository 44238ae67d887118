package tile

import (
	"fmt"
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
)

// decode gunzips and decodes a tile; it fails the test on error.
func decode(t testing.TB, data []byte) mvt.Layers {
	t.Helper()
	ls, err := mvt.UnmarshalGzipped(data)
	if err != nil {
		t.Fatalf("decode tile: %v", err)
	}
	return ls
}

// lngLat returns the WGS84 point at tile-pixel (px, py) of tile z/x/y.
func lngLat(z, x, y int, px, py float64) orb.Point {
	return Unproject(orb.Point{float64(x)*4096 + px, float64(y)*4096 + py}, z, 4096)
}

// square returns a polygon feature with corners at tile pixels of z/x/y.
func square(z, x, y int, x0, y0, x1, y1 float64) *geojson.Feature {
	ring := orb.Ring{lngLat(z, x, y, x0, y1), lngLat(z, x, y, x1, y1), lngLat(z, x, y, x1, y0), lngLat(z, x, y, x0, y0), lngLat(z, x, y, x0, y1)}
	return geojson.NewFeature(orb.Polygon{ring})
}

func bounds(g orb.Geometry) orb.Bound { return g.Bound() }

func TestEncodeTileEdgeCases(t *testing.T) {
	const z, x, y = 5, 10, 12
	tests := []struct {
		name  string
		feats []*geojson.Feature
		check func(t *testing.T, ls mvt.Layers) // nil: tile must be empty
	}{
		{
			name:  "polygon covering the tile",
			feats: []*geojson.Feature{square(z, x, y, -5000, -5000, 9000, 9000)},
			check: func(t *testing.T, ls mvt.Layers) {
				g := ls[0].Features[0].Geometry.(orb.Polygon)
				if len(g) != 1 || bounds(g) != (orb.Bound{Min: orb.Point{-64, -64}, Max: orb.Point{4160, 4160}}) {
					t.Errorf("covering polygon = %v, want the buffered tile square", g)
				}
			},
		},
		{
			name:  "polygon on the tile edge reaches into the buffer only",
			feats: []*geojson.Feature{square(z, x, y, -1000, 1000, 0, 2000)},
			check: func(t *testing.T, ls mvt.Layers) {
				b := bounds(ls[0].Features[0].Geometry)
				if b.Min[0] != -64 || b.Max[0] != 0 || b.Min[1] != 1000 || b.Max[1] != 2000 {
					t.Errorf("edge polygon bound = %v", b)
				}
			},
		},
		{
			name:  "line along the tile edge",
			feats: []*geojson.Feature{geojson.NewFeature(orb.LineString{lngLat(z, x, y, 4096, -2000), lngLat(z, x, y, 4096, 6000)})},
			check: func(t *testing.T, ls mvt.Layers) {
				ln := ls[0].Features[0].Geometry.(orb.LineString)
				if len(ln) != 2 || ln[0] != (orb.Point{4096, -64}) || ln[1] != (orb.Point{4096, 4160}) {
					t.Errorf("edge line = %v", ln)
				}
			},
		},
		{
			name:  "point in the buffer",
			feats: []*geojson.Feature{geojson.NewFeature(lngLat(z, x, y, -30, 100))},
			check: func(t *testing.T, ls mvt.Layers) {
				if p := ls[0].Features[0].Geometry.(orb.Point); p != (orb.Point{-30, 100}) {
					t.Errorf("point = %v", p)
				}
			},
		},
		{name: "point beyond the buffer", feats: []*geojson.Feature{geojson.NewFeature(lngLat(z, x, y, -100, 100))}},
		{name: "polygon beside the tile", feats: []*geojson.Feature{square(z, x, y, 5000, 0, 6000, 1000)}},
		{name: "sub-pixel polygon collapses", feats: []*geojson.Feature{square(z, x, y, 100.1, 100.1, 100.3, 100.3)}},
		{
			name: "tile inside a hole",
			feats: []*geojson.Feature{geojson.NewFeature(orb.Polygon{
				square(z, x, y, -9000, -9000, 13000, 13000).Geometry.(orb.Polygon)[0],
				square(z, x, y, -4000, -4000, 8000, 8000).Geometry.(orb.Polygon)[0],
			})},
		},
		{
			name:  "clockwise input is rewound",
			feats: []*geojson.Feature{geojson.NewFeature(orb.Polygon{reverse(square(z, x, y, 100, 100, 200, 300).Geometry.(orb.Polygon)[0])})},
			check: func(t *testing.T, ls mvt.Layers) {
				r := ls[0].Features[0].Geometry.(orb.Polygon)[0]
				if a := ringArea2(r); a != 2*100*200 {
					t.Errorf("exterior area*2 = %v, want +40000 (clockwise on screen)", a)
				}
			},
		},
		{
			name: "polygon with a hole",
			feats: []*geojson.Feature{geojson.NewFeature(orb.Polygon{
				square(z, x, y, 100, 100, 1000, 1000).Geometry.(orb.Polygon)[0],
				square(z, x, y, 200, 200, 300, 300).Geometry.(orb.Polygon)[0],
			})},
			check: func(t *testing.T, ls mvt.Layers) {
				p := ls[0].Features[0].Geometry.(orb.Polygon)
				if len(p) != 2 || ringArea2(p[0]) <= 0 || ringArea2(p[1]) >= 0 {
					t.Errorf("polygon with hole = %v", p)
				}
			},
		},
		{
			name: "ids and properties",
			feats: func() []*geojson.Feature {
				f := geojson.NewFeature(lngLat(z, x, y, 10, 10))
				f.ID = 42
				f.Properties = geojson.Properties{"name": "a", "n": 1.5, "ok": true, "none": nil, "obj": map[string]any{"k": 1}}
				return []*geojson.Feature{f}
			}(),
			check: func(t *testing.T, ls mvt.Layers) {
				f := ls[0].Features[0]
				if fmt.Sprint(f.ID) != "42" {
					t.Errorf("id = %#v", f.ID)
				}
				want := geojson.Properties{"name": "a", "n": 1.5, "ok": true, "obj": `{"k":1}`}
				if fmt.Sprint(f.Properties) != fmt.Sprint(want) {
					t.Errorf("properties = %v, want %v", f.Properties, want)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := EncodeTile(z, x, y, Layer{Name: "l", Features: tt.feats})
			if err != nil {
				t.Fatal(err)
			}
			if tt.check == nil {
				if data != nil {
					t.Fatalf("tile not empty: %v", decode(t, data)[0].Features[0].Geometry)
				}
				return
			}
			if data == nil {
				t.Fatal("tile empty")
			}
			ls := decode(t, data)
			if len(ls) != 1 || ls[0].Name != "l" || ls[0].Extent != 4096 || len(ls[0].Features) != 1 {
				t.Fatalf("layers %+v", ls)
			}
			tt.check(t, ls)
		})
	}
}

func reverse(r orb.Ring) orb.Ring {
	out := make(orb.Ring, len(r))
	for i, p := range r {
		out[len(r)-1-i] = p
	}
	return out
}

func TestEncodeTileAntimeridian(t *testing.T) {
	// A line just east of the antimeridian shows in the buffer of the
	// easternmost tile, and one just west of it in the westernmost tile.
	east := geojson.NewFeature(orb.LineString{{-179.99, 10}, {-179.99, 20}})
	west := geojson.NewFeature(orb.LineString{{179.99, 10}, {179.99, 20}})
	const z = 3
	for _, tt := range []struct {
		name string
		f    *geojson.Feature
		x    int
		px   float64
	}{
		{"east side in the last column", east, 7, 4096 + 0.01/45*4096},
		{"west side in the first column", west, 0, -0.01 / 45 * 4096},
	} {
		data, err := EncodeTile(z, tt.x, 3, Layer{Name: "l", Features: []*geojson.Feature{tt.f}})
		if err != nil || data == nil {
			t.Fatalf("%s: %v, %v", tt.name, data, err)
		}
		ln := decode(t, data)[0].Features[0].Geometry.(orb.LineString)
		if ln[0][0] != math.Round(tt.px) {
			t.Errorf("%s: x = %v, want %v", tt.name, ln[0][0], math.Round(tt.px))
		}
	}
	// With no buffer the other side stays out.
	if data, _ := EncodeTile(z, 7, 3, Layer{Name: "l", Buffer: -1, Features: []*geojson.Feature{east}}); data != nil {
		t.Error("unbuffered tile shows the other side of the antimeridian")
	}
}

func TestEncodeTileInvalid(t *testing.T) {
	for _, c := range [][3]int{{-1, 0, 0}, {31, 0, 0}, {2, 4, 0}, {2, 0, -1}} {
		if _, err := EncodeTile(c[0], c[1], c[2], Layer{Name: "l"}); err == nil {
			t.Errorf("EncodeTile(%v) gave no error", c)
		}
	}
	if _, err := EncodeTile(0, 0, 0, Layer{}); err == nil {
		t.Error("empty layer name gave no error")
	}
}

func TestEncodeTileLayers(t *testing.T) {
	pts := []*geojson.Feature{geojson.NewFeature(orb.Point{1, 1}), geojson.NewFeature(orb.Point{2, 2})}
	data, err := EncodeTile(0, 0, 0,
		Layer{Name: "a", Features: pts},
		Layer{Name: "empty", Features: []*geojson.Feature{geojson.NewFeature(orb.Point{1, 1})}[:0]},
		Layer{Name: "b", Features: pts[:1], Extent: 512})
	if err != nil {
		t.Fatal(err)
	}
	ls := decode(t, data)
	if len(ls) != 2 || ls[0].Name != "a" || len(ls[0].Features) != 2 || ls[1].Name != "b" || ls[1].Extent != 512 {
		t.Errorf("layers = %+v", ls)
	}
}

func ExampleEncodeTile() {
	city := geojson.NewFeature(orb.Point{2.35, 48.85})
	city.ID = 7
	city.Properties = geojson.Properties{"name": "Paris"}
	data, err := EncodeTile(4, 8, 5, Layer{Name: "cities", Features: []*geojson.Feature{city}})
	if err != nil {
		panic(err)
	}
	layers, _ := mvt.UnmarshalGzipped(data)
	f := layers[0].Features[0]
	fmt.Println(layers[0].Name, f.ID, f.Properties["name"], f.Geometry)
	// Output: cities 7 Paris [428 2068]
}

func BenchmarkEncodeTile(b *testing.B) {
	feats := loadCountries(b)
	enc := NewEncoder()
	b.ReportAllocs()
	for b.Loop() {
		// Western Europe at z4: a handful of detailed countries.
		if _, err := enc.EncodeTile(4, 8, 5, Layer{Name: "countries", Features: feats}); err != nil {
			b.Fatal(err)
		}
	}
}
