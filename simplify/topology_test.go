package simplify

import (
	"math/rand/v2"
	"testing"

	"github.com/mapcluster/mapcluster/simplify/internal/geom"
)

// refJunctions marks junctions the direct way: a map from point to the
// neighbour pairs of its occurrences.
func refJunctions(src []srcPath, n int) []bool {
	type pair [2]geom.Point
	pairs := map[geom.Point][]pair{}
	end := map[geom.Point]bool{}
	for _, s := range src {
		for k, p := range s.pts {
			a, b, lineEnd := s.neighbours(k)
			if lineEnd {
				end[p] = true
				continue
			}
			pairs[p] = append(pairs[p], pair{a, b})
		}
	}
	junc := make([]bool, n)
	for _, s := range src {
		for k, p := range s.pts {
			j := end[p]
			for _, q := range pairs[p] {
				j = j || q != pairs[p][0]
			}
			junc[s.off+k] = j
		}
	}
	return junc
}

// randomPaths makes rings and lines over a small grid of points, so that
// points, and runs of points, repeat often.
func randomPaths(r *rand.Rand) ([]srcPath, int) {
	var src []srcPath
	n := 0
	for range 1 + r.IntN(40) {
		kind := []pathKind{kindShell, kindHole, kindLine}[r.IntN(3)]
		m := 2 + r.IntN(12)
		if kind != kindLine {
			m++
		}
		pts := make([]geom.Point, m)
		for k := range pts {
			pts[k] = geom.Point{X: float64(r.IntN(6)), Y: float64(r.IntN(6))}
			if r.IntN(10) == 0 {
				pts[k].X = -pts[k].X * 0 // negative zero or zero
			}
		}
		src = append(src, srcPath{pts: pts, kind: kind, off: n})
		n += m
	}
	return src, n
}

// TestMarkJunctions compares markJunctions with the direct way on random
// paths, for 1 and 3 workers.
func TestMarkJunctions(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		src, n := randomPaths(r)
		want := refJunctions(src, n)
		for _, workers := range []int{1, 3} {
			junc := make([]bool, n)
			markJunctions(src, n, junc, workers)
			for v := range n {
				if junc[v] != want[v] {
					t.Fatalf("case %d, %d workers: vertex %d: junction %v, want %v", i, workers, v, junc[v], want[v])
				}
			}
		}
	}
}

// TestJunctionScanCollisions gives junctionScan.run runs in which distinct
// points share their hash bits, as colliding hashes would.
func TestJunctionScanCollisions(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 200 {
		src, n := randomPaths(r)
		want := refJunctions(src, n)
		junc := make([]bool, n)
		items := make([]uint64, n)
		for v := range n {
			items[v] = uint64(v) // equal (zero) hash bits for all
		}
		var js junctionScan
		js.run(items, 1<<32-1, src, newPathLocator(src, n), junc)
		for _, s := range src {
			if s.kind == kindLine {
				junc[s.off] = true
				junc[s.off+len(s.pts)-1] = true
			}
		}
		for v := range n {
			if junc[v] != want[v] {
				t.Fatalf("case %d: vertex %d: junction %v, want %v", i, v, junc[v], want[v])
			}
		}
	}
}
