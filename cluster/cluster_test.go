package cluster

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mapcluster/mapcluster"
)

// snapshot lists every zoom's features, with ids, every cluster's children
// and the features of a few tiles: everything a query can observe.
func snapshot(t *testing.T, ix *Index) string { return snapshotOf(t, ix, false) }

// snapshotOf is snapshot, with each zoom's features sorted when sorted is
// set (isolation changes the order in which a query lists features, never
// the features).
func snapshotOf(t *testing.T, ix *Index, sorted bool) string {
	t.Helper()
	var out []string
	o := ix.Options()
	for z := o.MinZoom; z <= o.MaxZoom+1; z++ {
		s := zoomLines(t, ix, z)
		for _, tc := range [][2]int{{0, 0}, {1, 0}, {1, 1}} {
			n := 1 << min(z, 3)
			for _, f := range ix.Tile(min(z, 3), tc[0]%n, tc[1]%n) {
				s = append(s, fmt.Sprintf("t%d %d %d %d", z, f.ID, f.X, f.Y))
			}
		}
		if sorted {
			slices.Sort(s)
		}
		out = append(out, s...)
	}
	return strings.Join(out, "\n")
}

// zoomLines describes each feature of zoom z, a cluster with its children.
func zoomLines(t *testing.T, ix *Index, z int) []string {
	t.Helper()
	var s []string
	for _, f := range ix.Clusters([4]float64{-180, -90, 180, 90}, z) {
		line := fmt.Sprintf("z%d %d %d %.9f %.9f", z, f.ID, f.Count, f.Lng, f.Lat)
		if f.IsCluster() {
			kids, err := ix.Children(f.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range kids {
				line += fmt.Sprintf(" %d", k.ID)
			}
		}
		s = append(s, line)
	}
	return s
}

func TestDeterministicAcrossWorkers(t *testing.T) {
	t.Parallel()
	n := 50000
	if testing.Short() {
		n = 15000 // -short is the race-detector run: smaller, same paths
	}
	pts := syntheticPoints(n, 11)
	for _, o := range []Options{DefaultOptions(), {MaxZoom: 18, MinPoints: 4, Radius: 60}} {
		var want string
		for _, w := range []int{1, 2, 3, 8} {
			o.Workers = w
			o.releaseMin = 0
			if w == 3 {
				o.releaseMin = 1 // every level lets go of its tables before coarsening
			}
			ix, err := Build(context.Background(), pts, o)
			if err != nil {
				t.Fatal(err)
			}
			got := snapshot(t, ix)
			if want == "" {
				want = got
			} else if got != want {
				t.Fatalf("options %+v: output with %d workers differs from 1 worker", o, w)
			}
		}
	}
}

func TestEveryPointCountedOnceAtEveryZoom(t *testing.T) {
	t.Parallel()
	pts := syntheticPoints(20000, 3)
	ix, err := Build(context.Background(), pts, Options{MaxZoom: 20, MinPoints: 3})
	if err != nil {
		t.Fatal(err)
	}
	for z := 0; z <= 21; z++ {
		seen := make([]bool, pts.Len())
		for _, f := range ix.Clusters([4]float64{-180, -90, 180, 90}, z) {
			var leaves []Feature
			if f.IsCluster() {
				leaves, err = ix.Leaves(f.ID, math.MaxInt32, 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(leaves) != f.Count {
					t.Fatalf("z%d: cluster %d has %d leaves, point_count %d", z, f.ID, len(leaves), f.Count)
				}
			} else {
				leaves = []Feature{f}
			}
			for _, l := range leaves {
				if seen[l.Point()] {
					t.Fatalf("z%d: point %d counted twice", z, l.Point())
				}
				seen[l.Point()] = true
			}
		}
		for i, s := range seen {
			if !s {
				t.Fatalf("z%d: point %d missing", z, i)
			}
		}
	}
}

func TestOptionErrorsNameTheField(t *testing.T) {
	t.Parallel()
	pts := syntheticPoints(10, 1)
	cases := []struct {
		opts  Options
		field string
	}{
		{Options{MinZoom: -1, MaxZoom: 16}, "min-zoom"},
		{Options{MinZoom: 5, MaxZoom: 4}, "max-zoom"},
		{Options{MaxZoom: 99}, "max-zoom"},
		{Options{MaxZoom: 16, MinPoints: 1}, "min-points"},
		{Options{MaxZoom: 16, Radius: -3}, "radius"},
		{Options{MaxZoom: 16, Workers: -2}, "workers"},
		{Options{MaxZoom: 16, Extent: math.NaN()}, "extent"},
		{Options{MaxZoom: 16, Aggregates: []Aggregate{{Op: OpSum, Field: "nope", Name: "x"}}}, "aggregate"},
	}
	for _, tc := range cases {
		_, err := Build(context.Background(), pts, tc.opts)
		var me *mapcluster.Error
		if !errors.As(err, &me) || me.Code != mapcluster.EInvalid || me.Field != tc.field {
			t.Errorf("%+v: got %v, want an invalid-argument error naming %q", tc.opts, err, tc.field)
		}
	}
}

func TestQueries(t *testing.T) {
	t.Parallel()
	pts := &mapcluster.Points{}
	// two tight groups on either side of the antimeridian, and a loner
	for i := range 5 {
		pts.Append(179.9+float64(i)*0.001, 10)
		pts.Append(-179.9-float64(i)*0.001, 10)
	}
	pts.Append(0, 0)
	ix, err := Build(context.Background(), pts, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	// a bbox across the antimeridian finds both groups, not the loner
	fs := ix.Clusters([4]float64{170, 0, -170, 20}, 3)
	total := 0
	for _, f := range fs {
		total += f.Count
	}
	if total != 10 {
		t.Errorf("antimeridian bbox: %d points in %d features, want 10", total, len(fs))
	}
	// past maxZoom: the input points
	if got := len(ix.Clusters([4]float64{-180, -90, 180, 90}, 25)); got != 11 {
		t.Errorf("zoom 25: %d features, want 11", got)
	}
	// a cluster's children, leaves, expansion zoom and bounds
	c := fs[0]
	if !c.IsCluster() {
		t.Fatalf("want a cluster at z3, got %+v", c)
	}
	leaves, err := ix.Leaves(c.ID, 3, 1)
	if err != nil || len(leaves) != 3 {
		t.Fatalf("Leaves: %v, %d leaves", err, len(leaves))
	}
	ez, err := ix.ExpansionZoom(c.ID)
	if err != nil || ez <= 3 {
		t.Errorf("ExpansionZoom = %d, %v", ez, err)
	}
	b, err := ix.Bounds(c.ID)
	if err != nil || b[2]-b[0] < 0.003 || b[2]-b[0] > 0.005 {
		t.Errorf("Bounds = %v, %v", b, err)
	}
	if _, err := ix.Children(12345); mapcluster.ErrorCodeOf(err) != mapcluster.ENotFound {
		t.Errorf("Children of a bad id: %v, want not-found", err)
	}
	// tiles: world tile at z0 holds everything; the wrap buffer repeats
	// features near the antimeridian in the edge tiles
	tf := ix.Tile(0, 0, 0)
	sum := 0
	for _, f := range tf {
		sum += f.Count
	}
	if sum < 11 {
		t.Errorf("tile 0/0/0 counts %d points, want at least 11", sum)
	}
	if got := ix.Tile(2, 0, 3); len(got) != 0 {
		t.Errorf("tile 2/0/3 (far south-west, empty) has %d features", len(got))
	}
	if got := ix.Tile(1, 0, 0); len(got) != 3 {
		t.Errorf("tile 1/0/0 has %d features, want 3: the group west of the antimeridian, the one east of it (through the wrap buffer) and the point at 0,0 on the tile's edge", len(got))
	}
	if !reflect.DeepEqual(Abbreviate(999), 999) || Abbreviate(1234) != "1.2k" || Abbreviate(15432) != "15k" {
		t.Errorf("Abbreviate: %v %v %v", Abbreviate(999), Abbreviate(1234), Abbreviate(15432))
	}
}

// With maxZoom 31 and above supercluster's 32-bit ids overflow (the zoom no
// longer fits in 5 bits); ours take a sixth bit and stay unique and usable.
func TestHighMaxZoomIDs(t *testing.T) {
	t.Parallel()
	pts := syntheticPoints(5000, 5)
	// exact duplicates cluster even at the highest zooms
	for i := range 50 {
		pts.Append(pts.Lng[i], pts.Lat[i])
	}
	for _, maxZoom := range []int{30, 31, 40, 62} {
		ix, err := Build(context.Background(), pts, Options{MaxZoom: maxZoom})
		if err != nil {
			t.Fatalf("maxZoom %d: %v", maxZoom, err)
		}
		seen := map[int64]bool{}
		for z := 0; z <= maxZoom+1; z += max(1, maxZoom/10) {
			for _, f := range ix.Clusters([4]float64{-180, -90, 180, 90}, z) {
				if !f.IsCluster() {
					continue
				}
				kids, err := ix.Children(f.ID)
				if err != nil {
					t.Fatalf("maxZoom %d: Children(%d) at z%d: %v", maxZoom, f.ID, z, err)
				}
				total := 0
				for _, k := range kids {
					total += k.Count
				}
				if total != f.Count || f.ID <= int64(pts.Len()) {
					t.Fatalf("maxZoom %d: cluster %d counts %d, its children %d", maxZoom, f.ID, f.Count, total)
				}
				seen[f.ID] = true
			}
		}
		if ez, err := ix.ExpansionZoom(firstID(seen)); err != nil || ez > maxZoom+1 {
			t.Errorf("maxZoom %d: expansion zoom %d, %v", maxZoom, ez, err)
		}
	}
}

func firstID(m map[int64]bool) int64 {
	for id := range m {
		return id
	}
	return -1
}

func TestBuildHonoursCancellation(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Build(ctx, syntheticPoints(1000, 2), DefaultOptions())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Build with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestBuildRejectsInvalidPoints(t *testing.T) {
	t.Parallel()
	for _, bad := range [][2]float64{{math.NaN(), 0}, {0, 91}, {math.Inf(1), 0}} {
		pts := syntheticPoints(10, 2)
		pts.Append(bad[0], bad[1])
		_, err := Build(context.Background(), pts, DefaultOptions())
		if mapcluster.ErrorCodeOf(err) != mapcluster.EInvalid || !strings.Contains(err.Error(), "point 10") {
			t.Errorf("point %v: got %v, want an invalid-argument error naming point 10", bad, err)
		}
	}
}

// A bbox edge that falls between two fixed-point units selects points as
// supercluster does: its int32 coordinates are compared with the unrounded
// bound, so a point a fraction of a unit outside the bbox is left out, on
// either side of the world's centre (truncating the bound toward zero took
// it in).
func TestClustersFractionalBounds(t *testing.T) {
	t.Parallel()
	deg := func(units float64) float64 { return units / scale * 360 } // fixed-point x units to longitude
	cases := []struct {
		name       string
		unit       float64 // the point's fixed-point x, plus a quarter unit
		west, east float64 // bbox edges, in fixed-point units
		want       int
	}{
		{"west edge 0.5 unit east of a point (positive x)", 1000.25, 1000.75, 5000, 0},
		{"west edge 0.5 unit west of it", 1000.25, 999.75, 5000, 1},
		{"east edge 0.5 unit west of a point (negative x)", -1000.25, -5000, -1000.75, 0},
		{"east edge 0.5 unit east of it", -1000.25, -5000, -999.75, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pts := &mapcluster.Points{}
			pts.Append(deg(tc.unit), 0)
			ix, err := Build(context.Background(), pts, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			got := len(ix.Clusters([4]float64{deg(tc.west), -1, deg(tc.east), 1}, 20))
			if got != tc.want {
				t.Errorf("%d features, want %d", got, tc.want)
			}
		})
	}
}

// Tiles on the world's edges keep the features within them: their buffer
// reaches past the edge, which must not empty the query (it did for x = 0
// when the level was large enough to walk its grid rows).
func TestTileAtWorldEdges(t *testing.T) {
	t.Parallel()
	pts := syntheticPoints(20000, 3)
	ix, err := Build(context.Background(), pts, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	for z := 1; z <= 8; z++ {
		n := 1 << z
		// the points whose position rounds into each tile of the edge columns
		want := map[[2]int]int{}
		for _, f := range ix.Clusters([4]float64{-180, -90, 180, 90}, z) {
			px, py := lngX(f.Lng)*float64(n), latY(f.Lat)*float64(n)
			for x := int(px) - 1; x <= int(px)+1; x++ {
				for y := int(py) - 1; y <= int(py)+1; y++ {
					tx, ty := jsRound(512*(px-float64(x))), jsRound(512*(py-float64(y)))
					if (x == 0 || x == n-1) && y >= 0 && y < n && tx >= 0 && tx < 512 && ty >= 0 && ty < 512 {
						want[[2]int{x, y}] += f.Count
					}
				}
			}
		}
		for _, x := range []int{0, n - 1} {
			for y := range n {
				inside := 0
				for _, f := range ix.Tile(z, x, y) {
					if f.X >= 0 && f.X < 512 && f.Y >= 0 && f.Y < 512 {
						inside += f.Count
					}
				}
				if inside != want[[2]int{x, y}] {
					t.Fatalf("tile %d/%d/%d: %d points inside, want %d", z, x, y, inside, want[[2]int{x, y}])
				}
			}
		}
	}
}
