package simplify_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/mapcluster/mapcluster/simplify"
	"github.com/mapcluster/mapcluster/simplify/validate"
)

// randomRing returns a ring of n points around (cx, cy): star-shaped when
// star is set (valid), else in random order (mostly self-intersecting).
// Coordinates snap to a grid so that touching and collinear cases occur.
func randomRing(r *rand.Rand, cx, cy, size float64, n int, star bool) orb.Ring {
	snap := func(v float64) float64 { return math.Round(v*64) / 64 }
	var ring orb.Ring
	for k := 0; k < n; k++ {
		a := r.Float64() * 2 * math.Pi
		if star {
			a = 2 * math.Pi * float64(k) / float64(n)
		}
		d := size * (0.3 + 0.7*r.Float64())
		ring = append(ring, orb.Point{snap(cx + d*math.Cos(a)), snap(cy + d*math.Sin(a))})
	}
	return append(ring, ring[0])
}

// TestRandomInput feeds random, mostly invalid, polygons to Build: it must
// not fail, no level may have a problem that its repaired input does not
// have, and the repaired input must be valid in nearly every case (repair
// of rings that cross themselves many times is not complete).
func TestRandomInput(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	iters := 300
	if testing.Short() || raceEnabled {
		iters = 60
	}
	unrepaired := 0
	for it := 0; it < iters; it++ {
		var fs []*geojson.Feature
		nf := 1 + r.IntN(4)
		for f := 0; f < nf; f++ {
			var mp orb.MultiPolygon
			for p := 0; p < 1+r.IntN(3); p++ {
				cx, cy := r.Float64()*8-4, r.Float64()*8-4
				poly := orb.Polygon{randomRing(r, cx, cy, 1+r.Float64()*2, 3+r.IntN(12), r.IntN(2) == 0)}
				if r.IntN(3) == 0 {
					poly = append(poly, randomRing(r, cx, cy, 0.3, 3+r.IntN(5), true))
				}
				mp = append(mp, poly)
			}
			fs = append(fs, geojson.NewFeature(mp))
		}
		res, err := simplify.Build(context.Background(), fs, simplify.Options{MinZoom: 0, MaxZoom: 6})
		if err != nil {
			t.Fatalf("iteration %d: %v", it, err)
		}
		bad := map[int]bool{}
		for _, p := range validate.Features(res.Repaired) {
			bad[p.Feature] = true
			t.Logf("iteration %d: repaired input still invalid: %v", it, p)
		}
		if len(bad) > 0 {
			unrepaired++
		}
		for _, lv := range res.Levels {
			for _, p := range validate.Features(lv.Features()) {
				if !bad[lv.Index[p.Feature]] {
					t.Errorf("iteration %d z%d: simplification made feature %d invalid: %v", it, lv.Zoom, lv.Index[p.Feature], p)
				}
			}
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	t.Logf("%d of %d random inputs left with an invalid feature after repair", unrepaired, iters)
	if unrepaired*20 > iters {
		t.Errorf("repair left %d of %d random inputs invalid; want under 5%%", unrepaired, iters)
	}
}
