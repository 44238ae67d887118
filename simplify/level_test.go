package simplify

import (
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// TestLevelReuse builds every zoom of countries-50m in a row on one
// levelWork, from the top, each level reusing the one above where it can
// (thresholdFrom, staticCheckChanged), and checks each against the same
// level built alone on fresh scratch space. Four half-size copies of
// countries-50m, whose top levels restore vertices, check the reuse of a
// level that restored some (countries-50m alone restores none above z5).
func TestLevelReuse(t *testing.T) {
	t.Parallel()
	fc := loadGz(t, "testdata/countries-50m.geojson.gz")
	type reuseCase struct {
		fc   *geojson.FeatureCollection
		opts Options
	}
	cases := []reuseCase{
		{fc, Options{MinZoom: 0, MaxZoom: 14}},
		{fc, Options{MinZoom: 0, MaxZoom: 14, Method: DouglasPeucker, ToleranceScale: 0.5, KeepShapes: true}},
	}
	if !testing.Short() {
		cases = append(cases, reuseCase{tiled4(fc), Options{MinZoom: 0, MaxZoom: 14}})
	}
	totalAfter := 0
	for _, c := range cases {
		b := prepareLevels(t, c.fc, c.opts)
		opts := *b.opts // normalized
		w := new(levelWork)
		above, reused, afterRestored, restoredAbove := 0.0, 0, 0, 0
		for z := opts.MaxZoom; z >= opts.MinZoom; z-- {
			got := b.buildLevelOn(w, z, above)
			if w.from > 0 { // made from the level above
				reused++
				if restoredAbove > 0 {
					afterRestored++
				}
			}
			restoredAbove = got.Restored
			alone := new(levelWork)
			want := b.buildLevelOn(alone, z, 0)
			if got.Restored != want.Restored || got.Vertices != want.Vertices || !slices.Equal(got.out.kept, want.out.kept) {
				t.Fatalf("%v z%d: reusing the level above gives %d restored, %d vertices; alone %d, %d (or other vertices)",
					opts.Method, z, got.Restored, got.Vertices, want.Restored, want.Vertices)
			}
			// The links the next level starts from.
			if w.prevTol != alone.prevTol || (w.prevTol > 0 && !slices.Equal(w.prevShorts, alone.prevShorts)) || !slices.Equal(w.loRun, alone.loRun) || w.nseg != alone.nseg {
				t.Fatalf("%v z%d: reusing the level above leaves other shortcuts, runs or counts", opts.Method, z)
			}
			for a, act := range w.active {
				if !act {
					continue
				}
				if w.arcKept[a] != alone.arcKept[a] {
					t.Fatalf("%v z%d: arc %d: %d kept segments, alone %d", opts.Method, z, a, w.arcKept[a], alone.arcKept[a])
				}
				for v := b.t.start[a]; v < b.t.start[a+1]-1; v++ {
					if w.kept[v] && w.next[v] != alone.next[v] {
						t.Fatalf("%v z%d: vertex %d links to %d, alone to %d", opts.Method, z, v, w.next[v], alone.next[v])
					}
				}
			}
			above = got.Tolerance
		}
		if reused == 0 {
			t.Errorf("%v: no level reused the one above", opts.Method)
		}
		totalAfter += afterRestored
	}
	if !testing.Short() && totalAfter == 0 {
		t.Errorf("no level reused one that restored vertices")
	}
}

// tiled4 returns four half-size copies of the polygons of fc, one per
// quadrant of the world, as simplify/bench/compare.sh makes of
// countries-10m.
func tiled4(fc *geojson.FeatureCollection) *geojson.FeatureCollection {
	out := geojson.NewFeatureCollection()
	for _, q := range [][2]float64{{-90, -45}, {90, -45}, {-90, 45}, {90, 45}} {
		for _, f := range fc.Features {
			g := orb.Clone(f.Geometry)
			switch g := g.(type) {
			case orb.Polygon:
				movePolygon(g, q)
			case orb.MultiPolygon:
				for _, p := range g {
					movePolygon(p, q)
				}
			}
			out.Append(geojson.NewFeature(g))
		}
	}
	return out
}

// movePolygon halves p's coordinates and moves them by q.
func movePolygon(p orb.Polygon, q [2]float64) {
	for _, r := range p {
		for k := range r {
			r[k] = orb.Point{r[k][0]/2 + q[0], r[k][1]/2 + q[1]}
		}
	}
}
