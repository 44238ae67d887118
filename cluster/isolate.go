package cluster

import (
	"context"
	"github.com/mapcluster/mapcluster/internal/hugepage"
	"math"
)

// Isolated points: most points of a large set have no neighbour for many
// zooms below maxZoom (at zoom 16 the radius is ~50 m), yet a plain greedy
// pass scans and copies every one of them at every zoom. Build keeps such
// points out of the grid for the zooms where nothing can reach them.
//
// The bound: an item of zoom z+1 lies within D(z+1) of each of its input
// points, where D(maxZoom+1) = 0 and D(z) ≤ D(z+1) + 2r(z) (a cluster's
// centre is within r of its seed, and so is each child), so
// D(z+1) < 2r(z) + (truncation, a unit per zoom). An input point p that is
// still itself at zoom z+1 is therefore untouched at zoom z (nobody takes it,
// and it takes nobody) when no other input point lies within 3r(z) of it.
// As r doubles with every zoom out, that holds from some zoom up to maxZoom;
// isolationZooms finds, for every point, the lowest such zoom.
//
// It tests "no other point within 3r(z)" on power-of-two cells of side
// s(z) > 3r(z) + margin: p passes when its cell holds only p and the eight
// cells around are empty. The cells of zoom z-1 are 2×2 blocks of those of
// zoom z, so one sort at maxZoom and a linear merge per zoom give every zoom;
// and a point that passes at zoom z-1 passed at zoom z (its block at z lies
// inside its block at z-1), so each point's answer is a run of zooms.

// isoTable is the occupied cells of one zoom in row-major order: the cells
// of row rowVal[i] are [rowFirst[i], rowFirst[i+1]), with their columns, and
// rep is the cell's only point while that point has passed every zoom so
// far, else -1.
type isoTable struct {
	rowVal   []uint32
	rowFirst []int32
	col      []uint32
	rep      []int32
	zi       []uint8 // the lowest zoom rep has passed so far
}

func (t *isoTable) reset() {
	t.rowVal, t.rowFirst, t.col, t.rep, t.zi = t.rowVal[:0], t.rowFirst[:0], t.col[:0], t.rep[:0], t.zi[:0]
}

// isoNever is the isolation zoom of a point that is not isolated even at
// maxZoom: it is in the grid from the start.
func isoNever(o Options) uint8 { return uint8(o.MaxZoom + 1) }

// isolationZooms returns, for every point, the lowest zoom z ≥ MinZoom from
// which the point is provably untouched up to maxZoom, or MaxZoom+1 when it
// is not isolated at maxZoom. It stops early, leaving points at the last
// zoom they passed, once too few points remain isolated to pay for a zoom;
// that only keeps a point in the grid longer, which never changes results.
func isolationZooms(ctx context.Context, x, y []int32, o Options, workers int, sc *sortScratch) ([]uint8, error) {
	n := len(x)
	ziso := hugepage.Advise(make([]uint8, n))
	never := isoNever(o)
	for i := range ziso {
		ziso[i] = never
	}
	r := zoomRadius(o.Radius, o.Extent, o.MaxZoom)
	// margin: one unit of centre truncation per zoom, and float rounding.
	need := 3*r*(1+1e-9) + float64(2*(o.MaxZoom-o.MinZoom+2)) + 16
	k0 := max(0, int(math.Ceil(math.Log2(need))))
	for k0 < 62 && math.Ldexp(1, k0) < need {
		k0++
	}
	if k0 > 28 {
		return ziso, nil // cells a quarter of the world wide: nothing is isolated
	}
	// Keys are row<<colBits | col, packed tight so the radix sort makes as
	// few passes as the rows and columns need.
	colBits := uint(31 - k0)
	keys := hugepage.Advise(make([]uint64, n))
	gather(workers, n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			keys[i] = uint64(uint32(y[i]+coordOffset)>>k0)<<colBits | uint64(uint32(x[i]+coordOffset)>>k0)
		}
	})
	perm := radixSortPerm(keys, sc, workers)
	colMask := uint64(1)<<colBits - 1

	var a, b isoTable
	a.col = hugepage.Advise(make([]uint32, 0, n))
	a.rep = hugepage.Advise(make([]int32, 0, n))
	a.zi = hugepage.Advise(make([]uint8, 0, n))
	for j := 0; j < n; {
		k := keys[j]
		e := j + 1
		for e < n && keys[e] == k {
			e++
		}
		if row := uint32(k >> colBits); len(a.rowVal) == 0 || a.rowVal[len(a.rowVal)-1] != row {
			a.rowVal = append(a.rowVal, row)
			a.rowFirst = append(a.rowFirst, int32(len(a.col)))
		}
		a.col = append(a.col, uint32(k&colMask))
		a.zi = append(a.zi, never)
		if e-j == 1 {
			a.rep = append(a.rep, perm[j])
		} else {
			a.rep = append(a.rep, -1)
		}
		j = e
	}
	a.rowFirst = append(a.rowFirst, int32(len(a.col)))
	keys = nil

	b.col = hugepage.Advise(make([]uint32, 0, len(a.col)))
	b.rep = hugepage.Advise(make([]int32, 0, len(a.col)))
	b.zi = hugepage.Advise(make([]uint8, 0, len(a.col)))
	cur, next := &a, &b
	var parts []isoTable // per chunk of rows, reused
	for z := o.MaxZoom; z >= o.MinZoom && k0+(o.MaxZoom-z) <= 29; z-- {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Chunks of rows that start on an even row, so no pair of rows that
		// merge is split; each tests its rows and merges them into its part.
		bounds := []int{0}
		for ri, last := 0, 0; ri < len(cur.rowVal); ri++ {
			if int(cur.rowFirst[ri]-cur.rowFirst[last]) >= 1<<16 && cur.rowVal[ri]>>1 != cur.rowVal[ri-1]>>1 {
				bounds = append(bounds, ri)
				last = ri
			}
		}
		bounds = append(bounds, len(cur.rowVal))
		for len(parts) < len(bounds)-1 {
			parts = append(parts, isoTable{})
		}
		for k := range len(bounds) - 1 {
			if c := int(cur.rowFirst[bounds[k+1]] - cur.rowFirst[bounds[k]]); cap(parts[k].col) < c {
				parts[k].col = make([]uint32, 0, c)
				parts[k].rep = make([]int32, 0, c)
				parts[k].zi = make([]uint8, 0, c)
			}
		}
		passed := make([]int, len(bounds)-1)
		forEach(workers, len(passed), func(k int) {
			passed[k] = cur.test(ziso, uint8(z), never, bounds[k], bounds[k+1])
		})
		total := 0
		for _, p := range passed {
			total += p
		}
		if total == 0 || total*isoStopRatio < len(cur.col) || z == o.MinZoom {
			break
		}
		forEach(workers, len(passed), func(k int) {
			cur.coarsen(&parts[k], bounds[k], bounds[k+1])
		})
		next.reset()
		for k := range passed {
			p := &parts[k]
			base := int32(len(next.col))
			next.rowVal = append(next.rowVal, p.rowVal...)
			for _, f := range p.rowFirst[:len(p.rowVal)] {
				next.rowFirst = append(next.rowFirst, base+f)
			}
			next.col = append(next.col, p.col...)
			next.rep = append(next.rep, p.rep...)
			next.zi = append(next.zi, p.zi...)
		}
		next.rowFirst = append(next.rowFirst, int32(len(next.col)))
		cur, next = next, cur
	}
	for c, p := range cur.rep {
		if p >= 0 {
			ziso[p] = cur.zi[c]
		}
	}
	return ziso, nil
}

// test clears rep for every cell of rows [rlo, rhi) that has an occupied
// neighbour, records zoom z for the points that pass, and returns how many
// passed. It writes only to those rows' cells.
func (t *isoTable) test(ziso []uint8, z, never uint8, rlo, rhi int) int {
	passed := 0
	for ri := rlo; ri < rhi; ri++ {
		row := t.rowVal[ri]
		lo, hi := t.rowFirst[ri], t.rowFirst[ri+1]
		// cursors over the rows just above and below, when occupied
		ua, uaEnd := int32(0), int32(0)
		if ri > 0 && t.rowVal[ri-1]+1 == row {
			ua, uaEnd = t.rowFirst[ri-1], t.rowFirst[ri]
		}
		ub, ubEnd := int32(0), int32(0)
		if ri+1 < len(t.rowVal) && t.rowVal[ri+1] == row+1 {
			ub, ubEnd = t.rowFirst[ri+1], t.rowFirst[ri+2]
		}
		for c := lo; c < hi; c++ {
			if t.rep[c] < 0 {
				continue
			}
			col := t.col[c]
			alone := (c == lo || t.col[c-1]+1 < col) && (c+1 == hi || t.col[c+1] > col+1)
			if alone && ua < uaEnd {
				for ua < uaEnd && t.col[ua]+1 < col {
					ua++
				}
				alone = ua == uaEnd || t.col[ua] > col+1
			}
			if alone && ub < ubEnd {
				for ub < ubEnd && t.col[ub]+1 < col {
					ub++
				}
				alone = ub == ubEnd || t.col[ub] > col+1
			}
			if alone {
				t.zi[c] = z
				passed++
			} else {
				if t.zi[c] != never {
					ziso[t.rep[c]] = t.zi[c]
				}
				t.rep[c] = -1
			}
		}
	}
	return passed
}

// coarsen writes the cells of the next zoom (2×2 blocks) made from rows
// [rlo, rhi) into out.
func (t *isoTable) coarsen(out *isoTable, rlo, rhi int) {
	out.reset()
	emit := func(col uint32, rep int32, zi uint8) {
		n := len(out.col)
		if n > int(out.rowFirst[len(out.rowFirst)-1]) && out.col[n-1] == col {
			out.rep[n-1] = -1 // two cells merge: neither held a passing point
			return
		}
		out.col = append(out.col, col)
		out.rep = append(out.rep, rep)
		out.zi = append(out.zi, zi)
	}
	for ri := rlo; ri < rhi; {
		row := t.rowVal[ri] >> 1
		a, aEnd := t.rowFirst[ri], t.rowFirst[ri+1]
		ri++
		b, bEnd := int32(0), int32(0)
		if ri < rhi && t.rowVal[ri]>>1 == row {
			b, bEnd = t.rowFirst[ri], t.rowFirst[ri+1]
			ri++
		}
		out.rowVal = append(out.rowVal, row)
		out.rowFirst = append(out.rowFirst, int32(len(out.col)))
		for a < aEnd || b < bEnd {
			if b >= bEnd || (a < aEnd && t.col[a] <= t.col[b]) {
				emit(t.col[a]>>1, t.rep[a], t.zi[a])
				a++
			} else {
				emit(t.col[b]>>1, t.rep[b], t.zi[b])
				b++
			}
		}
	}
	out.rowFirst = append(out.rowFirst, int32(len(out.col)))
}

// isoStopRatio ends the search for isolated points once fewer than one cell
// in isoStopRatio holds one: a zoom of the search costs about as much per
// cell as the build spends on a few items, and it only saves the build the
// items that pass.
const isoStopRatio = 6
