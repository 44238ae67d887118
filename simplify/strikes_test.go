package simplify

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// TestStrikesFollowTheChain checks the maxStrikes rule where each round
// restores the vertex next to a shortcut's start: all the importances
// of a ring are equal (as beyond the latitude that Web Mercator clamps),
// so the most important removed vertex is always the first. Marking the
// shortcut that ends at the arc's end in every round, its chain has to
// come back whole after maxStrikes+1 rounds, not one vertex a round.
func TestStrikesFollowTheChain(t *testing.T) {
	const n = 200
	r := make(orb.Ring, 0, n+1)
	for k := range n {
		a := 2 * math.Pi * float64(k) / n
		r = append(r, orb.Point{10 + math.Cos(a), 10 + math.Sin(a)})
	}
	r = append(r, r[0])
	fc := geojson.NewFeatureCollection()
	fc.Append(geojson.NewFeature(orb.Polygon{r}))
	b := prepareLevels(t, fc, Options{MinZoom: 0, MaxZoom: 0, Workers: 1})
	tp := b.t
	if tp.arcs() != 1 {
		t.Fatalf("%d arcs, want 1", tp.arcs())
	}
	s, e := tp.start[0], tp.start[1]-1
	imp := make([]float64, len(b.imp))
	imp[s], imp[e] = math.Inf(1), math.Inf(1)
	w := new(levelWork)
	w.reset(tp, imp)
	w.active[0] = true
	w.threshold(1) // keeps the arc's ends only: one shortcut
	rounds := 0
	for ; rounds < n; rounds++ {
		i := e - 1
		for !w.kept[i] {
			i--
		}
		if i == e-1 {
			break
		}
		w.mark(i)
		w.restoreBad(func(segment) {})
	}
	if rounds > maxStrikes+1 {
		t.Errorf("the chain came back whole after %d rounds, want at most %d", rounds, maxStrikes+1)
	}
}
