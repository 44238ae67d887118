package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapcluster/mapcluster/internal/pmtilesjs"
)

const countries50m = "../../simplify/testdata/countries-50m.geojson.gz"

func TestSimplifyGeoJSONAndStats(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	stdout, stderr, code := runCLI(t, "simplify", "--input", countries50m, "--min-zoom", "0", "--max-zoom", "3", "--out", out, "--stats")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(stdout), &st); err != nil {
		t.Fatalf("stats are not JSON: %v\n%s", err, stdout)
	}
	for _, k := range []string{"vertices_in", "vertices_per_zoom", "topology_ms", "simplify_ms", "write_ms", "repairs"} {
		if _, ok := st[k]; !ok {
			t.Errorf("stats lack %q", k)
		}
	}
	if st["vertices_in"].(float64) != 99539 {
		t.Errorf("vertices_in = %v", st["vertices_in"])
	}
	rep := st["repairs"].(map[string]any)
	if rep["count"].(float64) == 0 || len(rep["list"].([]any)) == 0 {
		t.Errorf("repairs not reported: %v", rep)
	}
	for z := 0; z <= 3; z++ {
		b, err := os.ReadFile(filepath.Join(out, "z"+string(rune('0'+z))+".geojson"))
		if err != nil {
			t.Fatal(err)
		}
		var fc struct {
			Type     string `json:"type"`
			Features []struct {
				ID         any            `json:"id"`
				Properties map[string]any `json:"properties"`
				Geometry   struct {
					Type string `json:"type"`
				} `json:"geometry"`
			} `json:"features"`
		}
		if err := json.Unmarshal(b, &fc); err != nil {
			t.Fatalf("z%d: %v", z, err)
		}
		if fc.Type != "FeatureCollection" || len(fc.Features) < 190 {
			t.Errorf("z%d: %s with %d features", z, fc.Type, len(fc.Features))
		}
		if f := fc.Features[0]; f.ID == nil || f.Properties["name"] == nil || !strings.Contains(f.Geometry.Type, "Polygon") {
			t.Errorf("z%d: first feature %+v lost its id, properties or geometry", z, f)
		}
	}
}

func TestSimplifyPMTiles(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "countries.pmtiles")
	_, stderr, code := runCLI(t, "simplify", "-i", countries50m, "--max-zoom", "3", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 127 || string(b[:7]) != "PMTiles" || b[7] != 3 {
		t.Fatalf("%s is not a PMTiles v3 archive", out)
	}
	if !strings.Contains(stderr, "repaired") {
		t.Errorf("repairs not mentioned on stderr: %s", stderr)
	}

	// The real pmtiles npm reader opens it and the polygons decode.
	js := pmtilesjs.Read(t, out, [3]int{0, 0, 0}, [3]int{2, 2, 1}, [3]int{3, 4, 2})
	var got struct {
		Header struct {
			SpecVersion int `json:"specVersion"`
			MaxZoom     int `json:"maxZoom"`
		} `json:"header"`
		Metadata struct {
			VectorLayers []struct {
				ID string `json:"id"`
			} `json:"vector_layers"`
		} `json:"metadata"`
		Tiles []struct {
			Z, X, Y int
			Found   bool `json:"found"`
			Layers  []struct {
				Features int            `json:"features"`
				Types    map[string]int `json:"types"`
			} `json:"layers"`
		} `json:"tiles"`
	}
	if err := json.Unmarshal(js, &got); err != nil {
		t.Fatalf("reader output: %v\n%.500s", err, js)
	}
	if got.Header.SpecVersion != 3 || got.Header.MaxZoom != 3 || len(got.Metadata.VectorLayers) != 1 {
		t.Errorf("header or metadata: %+v %+v", got.Header, got.Metadata)
	}
	for _, tl := range got.Tiles {
		if !tl.Found || len(tl.Layers) != 1 || tl.Layers[0].Features == 0 || tl.Layers[0].Types["Polygon"] != tl.Layers[0].Features {
			t.Errorf("tile %d/%d/%d: found %v, layers %+v; want polygons", tl.Z, tl.X, tl.Y, tl.Found, tl.Layers)
		}
	}
}

func TestSimplifyStrictAndBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, stderr, code := runCLI(t, "simplify", "-i", countries50m, "--max-zoom", "2", "--out", dir, "--strict")
	if code != 2 || !strings.Contains(stderr, "ring") || !strings.Contains(stderr, "feature") {
		t.Errorf("strict: exit %d, %s", code, stderr)
	}
	pts := filepath.Join(dir, "points.geojson")
	os.WriteFile(pts, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]}}]}`), 0o644)
	_, stderr, code = runCLI(t, "simplify", "-i", pts, "--out", dir)
	if code != 2 || !strings.Contains(stderr, "Point cannot be simplified") {
		t.Errorf("points: exit %d, %s", code, stderr)
	}
	bad := filepath.Join(dir, "bad.geojson")
	os.WriteFile(bad, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,100],[0,0]]]}}]}`), 0o644)
	_, stderr, code = runCLI(t, "simplify", "-i", bad, "--out", dir)
	if code != 2 || !strings.Contains(stderr, "latitude 100") {
		t.Errorf("range: exit %d, %s", code, stderr)
	}
}
