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

// TestResetClearsMarksLeftAtTheRoundLimit checks that a level which left
// shortcuts marked (resolve stops at its round limit with badList
// non-empty) does not hand those marks to the next level built on the same
// levelWork: mark would skip a vertex still flagged, and its shortcut's
// conflict would go unrepaired.
func TestResetClearsMarksLeftAtTheRoundLimit(t *testing.T) {
	r := orb.Ring{{0, 0}, {4, 0}, {4, 1}, {3, 2}, {4, 3}, {4, 4}, {0, 4}, {0, 0}}
	fc := geojson.NewFeatureCollection()
	fc.Append(geojson.NewFeature(orb.Polygon{r}))
	b := prepareLevels(t, fc, Options{MinZoom: 0, MaxZoom: 0, Workers: 1})
	w := new(levelWork)
	w.reset(b.t, b.imp)
	w.mark(1)
	w.mark(2) // as resolve leaves them at its round limit
	w.reset(b.t, b.imp)
	for i, bad := range w.bad {
		if bad {
			t.Errorf("vertex %d is still marked after reset", i)
		}
	}
	w.mark(2)
	if len(w.badList) != 1 || w.badList[0] != 2 {
		t.Errorf("after reset, marking vertex 2 gave badList %v, want [2]", w.badList)
	}
}
