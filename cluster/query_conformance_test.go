package cluster

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestQueryConformance compares Tile and Clusters with supercluster's
// getTile and getClusters over the query workload of the benchmark
// (queryWorkload: 12,752 tiles and 2,312 map views on world-cities, zooms
// 0-17). Each tile must hold the same features at the same pixel positions,
// with the same point counts and ids (cluster ids, or a point's input
// index), buffers across the world's edges included; each view the same
// features by count and id. Then, for every 13th cluster (by id) of each
// zoom 0-16, ExpansionZoom, Children and Leaves (all of them) must give
// getClusterExpansionZoom's zoom and the same sets as getChildren and
// getLeaves (their order is ours: see the package documentation).
// bench/queries.mjs writes supercluster's answers.
func TestQueryConformance(t *testing.T) {
	dir := harnessDir(t)
	if testing.Short() {
		t.Skip("conformance runs the node harness; skipped in -short mode")
	}
	dump := filepath.Join(t.TempDir(), "answers.txt")
	cmd := exec.Command("node", filepath.Join(repoRoot, "bench", "queries.mjs"),
		"--harness", dir, "--input", worldCitiesPath, "--runs", "0", "--dump", dump)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("bench/queries.mjs: %v\n%s", err, out)
	}
	want := readLines(t, dump)

	pts := loadLngLatCSV(t, worldCitiesPath)
	ix, err := Build(context.Background(), pts, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	tiles, views := queryWorkload(pts)
	var got []string
	for _, q := range tiles {
		var fs []string
		for _, f := range ix.Tile(q.z, q.x, q.y) {
			fs = append(fs, fmt.Sprintf("%d %d %d %d", f.X, f.Y, f.Count, f.ID))
		}
		slices.Sort(fs)
		got = append(got, fmt.Sprintf("T %d/%d/%d %s", q.z, q.x, q.y, strings.Join(fs, ";")))
	}
	for k, v := range views {
		var fs []string
		for _, f := range ix.Clusters(v.bbox, v.z) {
			fs = append(fs, fmt.Sprintf("%d %d", f.Count, f.ID))
		}
		slices.Sort(fs)
		got = append(got, fmt.Sprintf("V %d %d %s", k, v.z, strings.Join(fs, ";")))
	}
	for z := 0; z <= 16; z++ {
		var cs []Feature
		for _, f := range ix.Clusters([4]float64{-180, -90, 180, 90}, z) {
			if f.IsCluster() {
				cs = append(cs, f)
			}
		}
		slices.SortFunc(cs, func(a, b Feature) int { return cmp.Compare(a.ID, b.ID) })
		for i := 0; i < len(cs); i += 13 {
			id := cs[i].ID
			ez, err := ix.ExpansionZoom(id)
			if err != nil {
				t.Fatal(err)
			}
			children, err := ix.Children(id)
			if err != nil {
				t.Fatal(err)
			}
			var kids []string
			for _, f := range children {
				kids = append(kids, fmt.Sprintf("%d %d", f.Count, f.ID))
			}
			leaves, err := ix.Leaves(id, math.MaxInt, 0)
			if err != nil {
				t.Fatal(err)
			}
			var ls []string
			for _, f := range leaves {
				ls = append(ls, fmt.Sprint(f.ID))
			}
			slices.Sort(kids)
			slices.Sort(ls)
			got = append(got, fmt.Sprintf("C %d %d children: %s leaves: %s", id, ez, strings.Join(kids, ";"), strings.Join(ls, ";")))
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d answers, supercluster gave %d", len(got), len(want))
	}
	bad := 0
	for i := range got {
		if got[i] != want[i] {
			if bad < 5 {
				t.Errorf("answer %d differs:\n ours:         %.300s\n supercluster: %.300s", i, got[i], want[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d answers differ", bad, len(got))
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}
