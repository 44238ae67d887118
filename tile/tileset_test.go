package tile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"

	"github.com/mapcluster/mapcluster"
	"github.com/mapcluster/mapcluster/internal/pmtilesjs"
	"github.com/mapcluster/mapcluster/pmtiles"
)

// synthetic returns a mix of features: a large polygon with a hole, a
// polygon crossing the antimeridian split in two, a coastline-like line and
// random points with properties.
func synthetic() []*geojson.Feature {
	rng := rand.New(rand.NewPCG(1, 1))
	var out []*geojson.Feature
	var wiggly orb.Ring
	for i := range 200 {
		a := float64(i) / 200 * 2 * 3.14159265
		r := 30 + 5*rng.Float64()
		wiggly = append(wiggly, orb.Point{20 + r*cos(a), 10 + r*0.8*sin(a)})
	}
	wiggly = append(wiggly, wiggly[0])
	hole := orb.Ring{{15, 5}, {15, 15}, {25, 15}, {25, 5}, {15, 5}}
	big := geojson.NewFeature(orb.Polygon{wiggly, hole})
	big.ID = 1
	big.Properties = geojson.Properties{"name": "big", "rank": 1}
	out = append(out, big)
	am := geojson.NewFeature(orb.MultiPolygon{
		{{{170, -20}, {180, -20}, {180, -10}, {170, -10}, {170, -20}}},
		{{{-180, -20}, {-170, -20}, {-170, -10}, {-180, -10}, {-180, -20}}},
	})
	am.ID = 2
	am.Properties = geojson.Properties{"name": "across", "rank": "two"}
	out = append(out, am)
	var coast orb.LineString
	for i := range 500 {
		coast = append(coast, orb.Point{-100 + float64(i)*0.2, -40 + 3*sin(float64(i)/10)})
	}
	out = append(out, geojson.NewFeature(coast))
	for i := range 300 {
		p := geojson.NewFeature(orb.Point{rng.Float64()*360 - 180, rng.Float64()*160 - 80})
		p.ID = 100 + i
		p.Properties = geojson.Properties{"n": i, "city": i%3 == 0}
		out = append(out, p)
	}
	return out
}

func buildBytes(t testing.TB, p TilesetParams) ([]byte, *Stats) {
	t.Helper()
	w, err := pmtiles.NewWriter(pmtiles.WriterConfig{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	st, err := BuildTileset(context.Background(), w, p)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if st.Header, err = w.Finish(context.Background(), &buf, st.Metadata); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), st
}

func constLevels(feats []*geojson.Feature) func(context.Context, int) ([]*geojson.Feature, error) {
	return func(context.Context, int) ([]*geojson.Feature, error) { return feats, nil }
}

func TestBuildTilesetDeterministic(t *testing.T) {
	sets := map[string]struct {
		feats   []*geojson.Feature
		maxZoom int
	}{"synthetic": {synthetic(), 8}}
	if _, err := os.Stat(countriesPath); err == nil && !testing.Short() && !raceEnabled {
		sets["countries-10m"] = struct {
			feats   []*geojson.Feature
			maxZoom int
		}{loadCountries(t), 4}
	}
	for name, s := range sets {
		t.Run(name, func(t *testing.T) {
			var archives [][]byte
			for _, workers := range []int{1, 4} {
				b, st := buildBytes(t, TilesetParams{Layer: "l", MaxZoom: s.maxZoom, Levels: constLevels(s.feats), Workers: workers})
				if st.Tiles == 0 {
					t.Fatal("no tiles")
				}
				archives = append(archives, b)
			}
			if !bytes.Equal(archives[0], archives[1]) {
				t.Error("Workers 1 and 4 wrote different archives")
			}
		})
	}
}

func TestBuildTilesetContent(t *testing.T) {
	ctx := context.Background()
	feats := synthetic()
	var mu sync.Mutex
	last := map[string][2]int64{}
	archive, st := buildBytes(t, TilesetParams{
		Layer: "shapes", MinZoom: 1, MaxZoom: 7, Levels: constLevels(feats),
		Name: "Shapes", Attribution: "test data",
		Progress: func(stage string, done, total int64) {
			mu.Lock()
			defer mu.Unlock()
			if prev := last[stage]; done < prev[0] || done > total {
				t.Errorf("progress %s went %d -> %d of %d", stage, prev[0], done, total)
			}
			last[stage] = [2]int64{done, total}
		},
	})
	for z := 1; z <= 7; z++ {
		if p := last[fmt.Sprintf("tile z%d", z)]; p[0] != p[1] || p[1] == 0 {
			t.Errorf("progress of z%d ended at %v", z, p)
		}
	}
	r, err := pmtiles.NewReader(ctx, bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header()
	if h.MinZoom != 1 || h.MaxZoom != 7 || h.TileType != pmtiles.TileTypeMVT || h.TileCompression != pmtiles.CompressionGzip {
		t.Errorf("header %+v", h)
	}
	if h.AddressedTiles != uint64(st.Tiles) {
		t.Errorf("header addresses %d tiles, stats say %d", h.AddressedTiles, st.Tiles)
	}
	m := r.Metadata()
	if m.Name != "Shapes" || m.Attribution != "test data" || len(m.VectorLayers) != 1 {
		t.Fatalf("metadata %+v", m)
	}
	vl := m.VectorLayers[0]
	wantFields := map[string]string{"name": "String", "rank": "Mixed", "n": "Number", "city": "Boolean"}
	if vl.ID != "shapes" || vl.MinZoom != 1 || vl.MaxZoom != 7 || fmt.Sprint(vl.Fields) != fmt.Sprint(wantFields) {
		t.Errorf("vector layer %+v", vl)
	}
	if m.Bounds.Min[0] != -180 || m.Bounds.Max[0] != 180 {
		t.Errorf("bounds %v", m.Bounds)
	}

	// Every tile in the archive decodes, and each equals EncodeTile's.
	enc := NewEncoder()
	checked := 0
	for z := 1; z <= 7; z++ {
		for x := 0; x < 1<<z; x += max(1, (1<<z)/8) {
			for y := 0; y < 1<<z; y++ {
				got, err := r.Tile(ctx, z, x, y)
				want, werr := enc.EncodeTile(z, x, y, Layer{Name: "shapes", Features: feats})
				if werr != nil {
					t.Fatal(werr)
				}
				if errors.Is(err, pmtiles.ErrTileNotFound) {
					if want != nil {
						t.Errorf("tile %d/%d/%d missing from the archive", z, x, y)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				// Clipping level by level starts rings at other vertices
				// than clipping once; the shapes must be the same.
				if g, w := canonical(decode(t, got)), canonical(decode(t, want)); g != w {
					t.Errorf("tile %d/%d/%d differs from EncodeTile's:\n%s\n%s", z, x, y, g, w)
				}
				checked++
			}
		}
	}
	if checked < 50 {
		t.Errorf("only %d tiles checked", checked)
	}
}

func TestBuildTilesetCoveredWorld(t *testing.T) {
	// One polygon covering the world: every tile of every zoom exists, is
	// the buffered square, and the whole z0..12 tileset is a handful of
	// runs of one content per zoom.
	world := geojson.NewFeature(orb.Polygon{{{-180, -85.1}, {180, -85.1}, {180, 85.1}, {-180, 85.1}, {-180, -85.1}}})
	world.Properties = geojson.Properties{"kind": "ocean"}
	archive, st := buildBytes(t, TilesetParams{Layer: "ocean", MaxZoom: 12, Levels: constLevels([]*geojson.Feature{world})})
	var want int64
	for z := 0; z <= 12; z++ {
		want += 1 << (2 * z)
	}
	if st.Tiles != want || st.Header.AddressedTiles != uint64(want) {
		t.Errorf("tiles %d (header %d), want %d", st.Tiles, st.Header.AddressedTiles, want)
	}
	if st.Encoded > 13 || st.Header.TileContents != 1 {
		t.Errorf("encoded %d tiles, %d contents; want at most 13 and 1", st.Encoded, st.Header.TileContents)
	}
	r, _ := pmtiles.NewReader(context.Background(), bytes.NewReader(archive), int64(len(archive)))
	data, err := r.Tile(context.Background(), 12, 1234, 2345)
	if err != nil {
		t.Fatal(err)
	}
	g := decode(t, data)[0].Features[0].Geometry
	if g.Bound() != (orb.Bound{Min: orb.Point{-64, -64}, Max: orb.Point{4160, 4160}}) {
		t.Errorf("covered tile geometry %v", g)
	}
}

func TestBuildTilesetErrors(t *testing.T) {
	ctx := context.Background()
	w, err := pmtiles.NewWriter(pmtiles.WriterConfig{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	levels := constLevels(synthetic())
	for _, p := range []TilesetParams{
		{Levels: levels},
		{Layer: "l"},
		{Layer: "l", Levels: levels, MinZoom: 3, MaxZoom: 2},
		{Layer: "l", Levels: levels, MaxZoom: MaxTilesetZoom + 1},
	} {
		if _, err := BuildTileset(ctx, w, p); mapcluster.ErrorCodeOf(err) != mapcluster.EInvalid {
			t.Errorf("BuildTileset(%+v) = %v, want EInvalid", p, err)
		}
	}
	boom := errors.New("boom")
	_, err = BuildTileset(ctx, w, TilesetParams{Layer: "l", MaxZoom: 3, Levels: func(_ context.Context, z int) ([]*geojson.Feature, error) {
		if z == 2 {
			return nil, boom
		}
		return nil, nil
	}})
	if !errors.Is(err, boom) {
		t.Errorf("levels error = %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := BuildTileset(cctx, w, TilesetParams{Layer: "l", MaxZoom: 6, Levels: levels}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled build = %v", err)
	}
	// An empty tileset writes nothing and says so.
	path := filepath.Join(t.TempDir(), "empty.pmtiles")
	_, err = WriteFile(ctx, path, TilesetParams{Layer: "l", MaxZoom: 2, Levels: constLevels(nil)})
	if mapcluster.ErrorCodeOf(err) != mapcluster.EInvalid {
		t.Errorf("empty tileset = %v, want EInvalid", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("empty tileset left a file: %v", err)
	}
	if names, _ := os.ReadDir(filepath.Dir(path)); len(names) != 0 {
		t.Errorf("empty tileset left %v", names)
	}
}

func BenchmarkBuildTileset(b *testing.B) {
	feats := loadCountries(b)
	b.ReportAllocs()
	for b.Loop() {
		w, err := pmtiles.NewWriter(pmtiles.WriterConfig{TempDir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := BuildTileset(context.Background(), w, TilesetParams{Layer: "countries", MaxZoom: 6, Levels: constLevels(feats)}); err != nil {
			b.Fatal(err)
		}
		w.Close()
	}
}

// TestPMTilesJS writes a tileset and reads it back with the pmtiles npm
// package and @mapbox/vector-tile (internal/pmtilesjs).
func TestPMTilesJS(t *testing.T) {
	ctx := context.Background()
	feats := synthetic()
	path := filepath.Join(t.TempDir(), "shapes.pmtiles")
	st, err := WriteFile(ctx, path, TilesetParams{Layer: "shapes", MaxZoom: 12, Levels: constLevels(feats), Name: "Shapes", Attribution: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Header.LeafLength == 0 {
		t.Log("archive has no leaf directories")
	}
	r, err := pmtiles.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Probe tiles: the world, the interior of the big polygon (a run), a
	// tile inside its hole (empty), the antimeridian tiles, and points only.
	probe := [][3]int{{0, 0, 0}, {12, 2048, 2048}, {3, 4, 3}, {5, 0, 17}, {5, 31, 17}, {2, 0, 0}, {12, 2275, 1934}}
	wantFound := []bool{true, true, true, true, true, true, false}
	out := pmtilesjs.Read(t, path, probe...)
	var res struct {
		Header struct {
			SpecVersion, MinZoom, MaxZoom, TileType, TileCompression int
			NumAddressedTiles                                        int64
			MinLon, MaxLon, CenterLon                                float64
		}
		Metadata struct {
			Name, Attribution string
			VectorLayers      []struct {
				ID               string
				Fields           map[string]string
				MinZoom, MaxZoom int
			} `json:"vector_layers"`
		}
		Tiles []struct {
			Z, X, Y int
			Found   bool
			Layers  []struct {
				Name               string
				Version, Extent    int
				Features           int
				Types              map[string]int
				IDs                []float64
				FirstRings         int
				MinCoord, MaxCoord float64
			}
		}
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("node output: %v\n%s", err, out)
	}
	hd := res.Header
	if hd.SpecVersion != 3 || hd.MinZoom != 0 || hd.MaxZoom != 12 || hd.TileType != 1 || hd.TileCompression != 2 ||
		hd.NumAddressedTiles != st.Tiles || hd.MinLon != -180 || hd.MaxLon != 180 {
		t.Errorf("pmtiles.js header %+v", hd)
	}
	md := res.Metadata
	if md.Name != "Shapes" || md.Attribution != "test" || len(md.VectorLayers) != 1 || md.VectorLayers[0].ID != "shapes" ||
		md.VectorLayers[0].MaxZoom != 12 || md.VectorLayers[0].Fields["name"] != "String" {
		t.Errorf("pmtiles.js metadata %+v", md)
	}
	for i, tile := range res.Tiles {
		k := probe[i]
		goData, goErr := r.Tile(ctx, k[0], k[1], k[2])
		if tile.Found != wantFound[i] {
			t.Errorf("tile %v: pmtiles.js found=%v, want %v", k, tile.Found, wantFound[i])
		}
		if tile.Found != (goErr == nil) {
			t.Errorf("tile %v: pmtiles.js found=%v, Go err=%v", k, tile.Found, goErr)
			continue
		}
		if !tile.Found {
			continue
		}
		goLayers := decode(t, goData)
		if len(tile.Layers) != 1 || tile.Layers[0].Name != "shapes" || tile.Layers[0].Extent != 4096 || tile.Layers[0].Version != 2 {
			t.Errorf("tile %v: pmtiles.js layers %+v", k, tile.Layers)
			continue
		}
		l := tile.Layers[0]
		t.Logf("pmtiles.js tile %d/%d/%d: layer %q v%d extent %d, %d features %v, coords %v..%v",
			k[0], k[1], k[2], l.Name, l.Version, l.Extent, l.Features, l.Types, l.MinCoord, l.MaxCoord)
		if l.Features != len(goLayers[0].Features) {
			t.Errorf("tile %v: pmtiles.js %d features, Go %d", k, l.Features, len(goLayers[0].Features))
		}
		if l.MinCoord < -64 || l.MaxCoord > 4096+64 {
			t.Errorf("tile %v: coordinates %v..%v outside the buffer", k, l.MinCoord, l.MaxCoord)
		}
		switch k {
		case [3]int{0, 0, 0}: // everything: 2 polygons, a line, points
			if l.Types["Polygon"] != 2 || l.Types["LineString"] != 1 || l.Types["Point"] < 250 {
				t.Errorf("world tile types %v", l.Types)
			}
		case [3]int{12, 2048, 2048}: // inside the big polygon: its square
			if l.Features != 1 || l.Types["Polygon"] != 1 || len(l.IDs) != 1 || l.IDs[0] != 1 || l.MinCoord != -64 || l.MaxCoord != 4160 {
				t.Errorf("interior tile %+v", l)
			}
		case [3]int{3, 4, 3}: // the big polygon with its hole: two rings
			if l.Types["Polygon"] != 1 || l.FirstRings != 2 {
				t.Errorf("holed tile %+v", l)
			}
		case [3]int{5, 0, 17}, [3]int{5, 31, 17}: // both sides of the antimeridian polygon
			if l.Types["Polygon"] != 1 || len(l.IDs) == 0 || l.IDs[0] != 2 {
				t.Errorf("antimeridian tile %v: %+v", k, l)
			}
		case [3]int{2, 0, 0}:
			if l.Types["Point"] != l.Features {
				t.Errorf("points tile %v: %+v", k, l)
			}
		}
	}
	if t.Failed() {
		t.Logf("node output:\n%s", out)
	}
}

// canonical prints decoded layers with each ring as its sorted directed
// edges, which do not depend on the vertex the ring starts at.
func canonical(ls mvt.Layers) string {
	var b strings.Builder
	for _, l := range ls {
		fmt.Fprintf(&b, "layer %s %d\n", l.Name, l.Extent)
		for _, f := range l.Features {
			fmt.Fprintf(&b, "%v %v ", f.ID, f.Properties)
			var polys []orb.Polygon
			switch g := f.Geometry.(type) {
			case orb.Polygon:
				polys = []orb.Polygon{g}
			case orb.MultiPolygon:
				polys = g
			default:
				fmt.Fprintf(&b, "%v\n", g)
				continue
			}
			for _, p := range polys {
				for _, r := range p {
					var edges []string
					for i := 0; i+1 < len(r); i++ {
						edges = append(edges, fmt.Sprint(r[i], r[i+1]))
					}
					slices.Sort(edges)
					fmt.Fprintf(&b, "ring%v ", edges)
				}
				b.WriteString("; ")
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func sin(a float64) float64 { return mathSin(a) }
func cos(a float64) float64 { return mathCos(a) }

var (
	mathSin = math.Sin
	mathCos = math.Cos
)
