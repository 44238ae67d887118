package cluster

import (
	"context"
	"math"
	"sync"
	"testing"
)

// fuzzIndex is the index the query fuzzer asks: 3,000 synthetic points,
// built once.
var fuzzIndex = sync.OnceValues(func() (*Index, error) {
	return Build(context.Background(), syntheticPoints(3000, 11), DefaultOptions())
})

// FuzzQueries asks Clusters and Tile arbitrary boxes, zooms and tile
// coordinates (NaN, infinities, boxes past the world's edges, across the
// antimeridian): no query may panic; a plain box (west ≤ east, inside the
// world) returns exactly the features of the zoom whose fixed-point
// position lies within its bounds (the brute-force answer from the whole
// world's features); a tile returns every feature within its buffered
// bounds, and only features within the buffer.
func FuzzQueries(f *testing.F) {
	f.Add(-180.0, -90.0, 180.0, 90.0, 0, 0, 0)
	f.Add(170.0, -10.0, -170.0, 10.0, 5, 0, 31)
	f.Add(-10.0, 35.0, 30.0, 60.0, 17, 3, 1)
	f.Add(math.NaN(), 0.0, math.Inf(1), 1.0, 40, 1<<20, -3)
	f.Add(-200.0, -100.0, 500.0, 100.0, -1, 7, 7)
	f.Fuzz(func(t *testing.T, w, s, e, n float64, z, x, y int) {
		ix, err := fuzzIndex()
		if err != nil {
			t.Fatal(err)
		}
		z = max(-5, min(z, 40))
		fs := ix.Clusters([4]float64{w, s, e, n}, z)
		world := ix.Clusters([4]float64{-180, -90, 180, 90}, z)
		// within reports whether a feature's fixed-point position is in
		// the box [x0, x1] × [y0, y1] of Mercator coordinates.
		within := func(f Feature, x0, y0, x1, y1 float64) bool {
			px, py := ix.pos(f.item)
			return px >= queryLo(x0) && px <= queryHi(x1) && py >= queryLo(y0) && py <= queryHi(y1)
		}
		if w <= e && w >= -180 && e <= 180 && s <= n && s >= -90 && n <= 90 && e-w < 360 {
			want := map[int32]bool{}
			for _, f := range world {
				if within(f, lngX(w), latY(n), lngX(e), latY(s)) {
					want[f.item] = true
				}
			}
			got := map[int32]bool{}
			for _, f := range fs {
				if !want[f.item] {
					t.Fatalf("Clusters(%v, %v, %v, %v, z%d) returned %+v, outside the box", w, s, e, n, z, f)
				}
				got[f.item] = true
			}
			if len(got) != len(want) || len(got) != len(fs) {
				t.Fatalf("Clusters(%v, %v, %v, %v, z%d): %d features (%d distinct), the box holds %d", w, s, e, n, z, len(fs), len(got), len(want))
			}
		}
		if z < 0 || z > 30 {
			return
		}
		side := 1 << z
		x, y = ((x%side)+side)%side, ((y%side)+side)%side
		o := ix.Options()
		lo, hi := -o.Radius-1, o.Extent+o.Radius+1
		got := map[int32]bool{}
		for _, f := range ix.Tile(z, x, y) {
			if float64(f.X) < lo || float64(f.X) > hi || float64(f.Y) < lo || float64(f.Y) > hi {
				t.Fatalf("Tile(%d, %d, %d) returned %+v, outside its buffer", z, x, y, f)
			}
			got[f.item] = true
		}
		z2, p := float64(side), o.Radius/o.Extent
		for _, f := range world {
			if within(f, (float64(x)-p)/z2, (float64(y)-p)/z2, (float64(x+1)+p)/z2, (float64(y+1)+p)/z2) && !got[f.item] {
				t.Fatalf("Tile(%d, %d, %d) misses %+v, within its bounds", z, x, y, f)
			}
		}
	})
}
