package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The conformance tests run the supercluster 9.1.0 reference harness
// (../shared/bench/supercluster, beside the repository) on the same input and
// options, and compare every zoom: the same number of features, and the same
// set of features matched by point count and by coordinates within 1e-6°.
// Set MAPCLUSTER_SUPERCLUSTER to the harness directory to use another copy.

func harnessDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("MAPCLUSTER_SUPERCLUSTER")
	if dir == "" {
		dir = filepath.Join(repoRoot, "..", "shared", "bench", "supercluster")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed: the supercluster conformance test needs it")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "supercluster")); err != nil {
		t.Skipf("supercluster harness not installed at %s: run npm ci --prefix %s", dir, dir)
	}
	return dir
}

type refFeature struct {
	Geometry struct {
		Coordinates [2]float64 `json:"coordinates"`
	} `json:"geometry"`
	Properties struct {
		PointCount int `json:"point_count"`
	} `json:"properties"`
}

type refRun struct {
	Points   int            `json:"points"`
	PerZoom  map[string]int `json:"features_per_zoom"`
	LoadMS   float64        `json:"load_ms_median"`
	dumpDir  string
	features map[int][]refFeature
}

func runHarness(t *testing.T, dir, input string, o Options) *refRun {
	t.Helper()
	dump := t.TempDir()
	args := []string{filepath.Join(dir, "bench.mjs"), "--input", input,
		"--radius", fmt.Sprint(o.Radius), "--extent", fmt.Sprint(o.Extent),
		"--min-zoom", fmt.Sprint(o.MinZoom), "--max-zoom", fmt.Sprint(o.MaxZoom),
		"--min-points", fmt.Sprint(o.MinPoints), "--runs", "1", "--dump", dump}
	cmd := exec.Command("node", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("supercluster harness: %v\n%s", err, stderr.String())
	}
	var run refRun
	if err := json.Unmarshal(out, &run); err != nil {
		t.Fatalf("harness output %q: %v", out, err)
	}
	run.dumpDir = dump
	run.features = map[int][]refFeature{}
	for z := o.MinZoom; z <= o.MaxZoom+1; z++ {
		f, err := os.Open(filepath.Join(dump, fmt.Sprintf("z%d.ndjson", z)))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if len(sc.Bytes()) == 0 {
				continue
			}
			var rf refFeature
			if err := json.Unmarshal(sc.Bytes(), &rf); err != nil {
				t.Fatal(err)
			}
			if rf.Properties.PointCount == 0 {
				rf.Properties.PointCount = 1
			}
			run.features[z] = append(run.features[z], rf)
		}
		f.Close()
	}
	return &run
}

// matchFeatures pairs ours with the reference by count and position within
// tol degrees; it returns how many of ours found no partner.
func matchFeatures(ours []Feature, ref []refFeature, tol float64) (unmatched int, example string) {
	type key struct {
		count  int
		gx, gy int64
	}
	cell := 1e-4
	buckets := map[key][]int{}
	for i, r := range ref {
		c := r.Geometry.Coordinates
		k := key{r.Properties.PointCount, int64(math.Floor(c[0] / cell)), int64(math.Floor(c[1] / cell))}
		buckets[k] = append(buckets[k], i)
	}
	used := make([]bool, len(ref))
	for _, f := range ours {
		gx, gy := int64(math.Floor(f.Lng/cell)), int64(math.Floor(f.Lat/cell))
		found := false
		for dx := int64(-1); dx <= 1 && !found; dx++ {
			for dy := int64(-1); dy <= 1 && !found; dy++ {
				for _, i := range buckets[key{f.Count, gx + dx, gy + dy}] {
					c := ref[i].Geometry.Coordinates
					if !used[i] && math.Abs(c[0]-f.Lng) <= tol && math.Abs(c[1]-f.Lat) <= tol {
						used[i], found = true, true
						break
					}
				}
			}
		}
		if !found {
			unmatched++
			if example == "" {
				example = fmt.Sprintf("count %d at (%.7f, %.7f)", f.Count, f.Lng, f.Lat)
			}
		}
	}
	return unmatched, example
}

func TestConformanceSupercluster(t *testing.T) {
	dir := harnessDir(t)
	if testing.Short() {
		t.Skip("conformance runs the node harness; skipped in -short mode")
	}
	synth := filepath.Join(t.TempDir(), "synthetic.csv")
	writeCSV(t, synth, syntheticPoints(60000, 7))
	piles := filepath.Join(t.TempDir(), "piles.csv")
	writeCSV(t, piles, pilePoints(30000))
	cases := []struct {
		name, input string
		opts        Options
	}{
		{"world-cities/defaults", worldCitiesPath, DefaultOptions()},
		{"world-cities/r60-minpoints5", worldCitiesPath, Options{MinZoom: 0, MaxZoom: 16, MinPoints: 5, Radius: 60, Extent: 512}},
		{"world-cities/r20-maxzoom20", worldCitiesPath, Options{MinZoom: 0, MaxZoom: 20, MinPoints: 2, Radius: 20, Extent: 512}},
		{"world-cities/minzoom3-extent256-minpoints3", worldCitiesPath, Options{MinZoom: 3, MaxZoom: 14, MinPoints: 3, Radius: 50, Extent: 256}},
		{"synthetic/defaults", synth, DefaultOptions()},
		{"synthetic/r80-minpoints4", synth, Options{MinZoom: 0, MaxZoom: 18, MinPoints: 4, Radius: 80, Extent: 512}},
		// at maxZoom 30 the radius is under one fixed-point unit: cells stay one unit wide
		{"synthetic/maxzoom30", synth, Options{MinZoom: 0, MaxZoom: 30, MinPoints: 2, Radius: 40, Extent: 512}},
		// piles of identical points a few metres to kilometres apart: cells of
		// about a hundred identical items next to each other
		{"piles/defaults", piles, DefaultOptions()},
		{"piles/r60-minpoints5", piles, Options{MinZoom: 0, MaxZoom: 16, MinPoints: 5, Radius: 60, Extent: 512}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ref := runHarness(t, dir, tc.input, tc.opts)
			pts := loadLngLatCSV(t, tc.input)
			if pts.Len() != ref.Points {
				t.Fatalf("read %d points, the harness read %d", pts.Len(), ref.Points)
			}
			ix, err := Build(context.Background(), pts, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			world := [4]float64{-180, -90, 180, 90}
			for z := tc.opts.MinZoom; z <= tc.opts.MaxZoom+1; z++ {
				ours := ix.Clusters(world, z)
				want := ref.features[z]
				if len(ours) != len(want) {
					t.Errorf("z%d: %d features, supercluster has %d", z, len(ours), len(want))
					continue
				}
				total := 0
				for _, f := range ours {
					total += f.Count
				}
				if total != pts.Len() {
					t.Errorf("z%d: features count %d points, want %d", z, total, pts.Len())
				}
				if u, ex := matchFeatures(ours, want, 1e-6); u > 0 {
					t.Errorf("z%d: %d of %d features have no match in supercluster's output, e.g. %s", z, u, len(ours), ex)
				}
			}
		})
	}
}
