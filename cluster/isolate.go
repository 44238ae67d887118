package cluster

import (
	"context"
	"math"

	"github.com/mapcluster/mapcluster/internal/hugepage"
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
// of row rowVal[i] are [rowStart[i], rowEnd[i]), with their columns, and
// rep is the cell's only point while that point has passed every zoom so
// far, else -1. Rows need not be contiguous: each part of the next zoom is
// written where its rows lie in this one (it is never larger), so no cell is
// copied twice.
type isoTable struct {
	isoRows
	col []uint32
	rep []int32
	zi  []uint8 // the lowest zoom rep has passed so far
}

// isoRows is the row directory of an isoTable, or of one part of it.
type isoRows struct {
	rowVal           []uint32
	rowStart, rowEnd []int32
}

func (r *isoRows) reset() {
	r.rowVal, r.rowStart, r.rowEnd = r.rowVal[:0], r.rowStart[:0], r.rowEnd[:0]
}

func (r *isoRows) add(row uint32, start, end int32) {
	r.rowVal = append(r.rowVal, row)
	r.rowStart = append(r.rowStart, start)
	r.rowEnd = append(r.rowEnd, end)
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
			if len(a.rowVal) > 0 {
				a.rowEnd = append(a.rowEnd, int32(len(a.col)))
			}
			a.rowVal = append(a.rowVal, row)
			a.rowStart = append(a.rowStart, int32(len(a.col)))
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
	if n == 0 {
		return ziso, nil
	}
	a.rowEnd = append(a.rowEnd, int32(len(a.col)))
	keys = nil

	b.col = hugepage.Advise(make([]uint32, len(a.col)))
	b.rep = hugepage.Advise(make([]int32, len(a.col)))
	b.zi = hugepage.Advise(make([]uint8, len(a.col)))
	cur, next := &a, &b
	var parts []isoRows // per chunk of rows, reused
	for z := o.MaxZoom; z >= o.MinZoom && k0+(o.MaxZoom-z) <= 29; z-- {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Chunks of rows that start on an even row, so no pair of rows that
		// merge is split. Each tests its rows, then merges them into the
		// next zoom's table where they lie in this one: a chunk reads only
		// the columns of the rows around it, which nobody writes. Chunks of
		// about 4096 cells: with 65536, world-cities (135k cells) made two
		// chunks and then one, and these passes took 17.9 ms on 2 workers
		// against 23.4 on one; now 13.2 (a temporary phase probe, session 7).
		bounds := []int{0}
		cells := 0
		for ri, acc := 0, 0; ri < len(cur.rowVal); ri++ {
			if acc >= 1<<12 && cur.rowVal[ri]>>1 != cur.rowVal[ri-1]>>1 {
				bounds = append(bounds, ri)
				acc = 0
			}
			m := int(cur.rowEnd[ri] - cur.rowStart[ri])
			acc += m
			cells += m
		}
		bounds = append(bounds, len(cur.rowVal))
		for len(parts) < len(bounds)-1 {
			parts = append(parts, isoRows{})
		}
		passed := make([]int, len(bounds)-1)
		last := z == o.MinZoom || k0+(o.MaxZoom-z) == 29
		forEach(workers, len(passed), func(k int) {
			passed[k] = cur.test(ziso, uint8(z), never, bounds[k], bounds[k+1])
			if !last {
				// Merged before the stopping test below, which needs every
				// chunk's count: at the zoom that stops, this is wasted.
				cur.coarsen(next, &parts[k], bounds[k], bounds[k+1])
			}
		})
		total := 0
		for _, p := range passed {
			total += p
		}
		if total == 0 || total*isoStopRatio < cells || last {
			break
		}
		next.reset()
		for k := range passed {
			p := &parts[k]
			next.rowVal = append(next.rowVal, p.rowVal...)
			next.rowStart = append(next.rowStart, p.rowStart...)
			next.rowEnd = append(next.rowEnd, p.rowEnd...)
		}
		cur, next = next, cur
	}
	for ri := range cur.rowVal {
		for c := cur.rowStart[ri]; c < cur.rowEnd[ri]; c++ {
			if p := cur.rep[c]; p >= 0 {
				ziso[p] = cur.zi[c]
			}
		}
	}
	return ziso, nil
}

// test clears rep for every cell of rows [rlo, rhi) that has an occupied
// neighbour, records zoom z for the points that pass, and returns how many
// passed. It writes only to those rows' cells, and reads the columns of the
// rows just outside them.
//
// Each pair of adjacent rows is merged once, marking the cells of both that
// touch a cell of the other (a pair at the edge of [rlo, rhi) marks only
// this side), instead of each cell looking up the row above and the row
// below: half the look-ups, and a merge's branches are more predictable.
func (t *isoTable) test(ziso []uint8, z, never uint8, rlo, rhi int) int {
	block := func(c int32) {
		if p := t.rep[c]; p >= 0 {
			if t.zi[c] != never {
				ziso[p] = t.zi[c]
			}
			t.rep[c] = -1
		}
	}
	// touching marks the cells of rows ra and rb (adjacent) that have a
	// cell of the other row in a neighbouring column; markA and markB say
	// which rows are this call's to mark.
	touching := func(ra, rb int, markA, markB bool) {
		a, aEnd := t.rowStart[ra], t.rowEnd[ra]
		b, bEnd := t.rowStart[rb], t.rowEnd[rb]
		for a < aEnd && b < bEnd {
			ca, cb := t.col[a], t.col[b]
			switch {
			case ca+1 < cb:
				a++
			case cb+1 < ca:
				b++
			default:
				if markA {
					block(a)
				}
				if markB {
					block(b)
				}
				// Move past the smaller column: the other cell can still
				// touch the next one of this row.
				if ca <= cb {
					a++
				} else {
					b++
				}
			}
		}
	}
	if rlo > 0 && t.rowVal[rlo-1]+1 == t.rowVal[rlo] {
		touching(rlo-1, rlo, false, true)
	}
	for ri := rlo; ri < rhi; ri++ {
		lo, hi := t.rowStart[ri], t.rowEnd[ri]
		for c := lo; c+1 < hi; c++ {
			if t.col[c]+1 == t.col[c+1] {
				block(c)
				block(c + 1)
			}
		}
		if ri+1 < len(t.rowVal) && t.rowVal[ri]+1 == t.rowVal[ri+1] {
			touching(ri, ri+1, true, ri+1 < rhi)
		}
	}
	passed := 0
	for ri := rlo; ri < rhi; ri++ {
		for c := t.rowStart[ri]; c < t.rowEnd[ri]; c++ {
			if t.rep[c] >= 0 {
				t.zi[c] = z
				passed++
			}
		}
	}
	return passed
}

// coarsen writes the cells of the next zoom (2×2 blocks) made from rows
// [rlo, rhi) into out, from the position of the first of those cells on, and
// their row directory into rows. out is as long as t, so they fit.
func (t *isoTable) coarsen(out *isoTable, rows *isoRows, rlo, rhi int) {
	rows.reset()
	w := t.rowStart[rlo]
	for ri := rlo; ri < rhi; {
		row := t.rowVal[ri] >> 1
		a, aEnd := t.rowStart[ri], t.rowEnd[ri]
		ri++
		b, bEnd := int32(0), int32(0)
		if ri < rhi && t.rowVal[ri]>>1 == row {
			b, bEnd = t.rowStart[ri], t.rowEnd[ri]
			ri++
		}
		start := w
		for a < aEnd || b < bEnd {
			j := b
			if b >= bEnd || (a < aEnd && t.col[a] <= t.col[b]) {
				j = a
				a++
			} else {
				b++
			}
			col := t.col[j] >> 1
			if w > start && out.col[w-1] == col {
				out.rep[w-1] = -1 // two cells merge: neither held a passing point
				continue
			}
			out.col[w], out.rep[w], out.zi[w] = col, t.rep[j], t.zi[j]
			w++
		}
		rows.add(row, start, w)
	}
}

// isoStopRatio ends the search for isolated points once fewer than one cell
// in isoStopRatio holds one: a zoom of the search costs about as much per
// cell as the build spends on a few items, and it only saves the build the
// items that pass.
const isoStopRatio = 6
