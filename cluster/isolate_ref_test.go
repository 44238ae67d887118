package cluster

// A copy of isolationZooms as it was before the fused test-and-coarsen pass
// (commit 7e1ec69), renamed: TestIsolationZoomsMatchReference compares the
// current one with it exactly.

import (
	"context"
	"math"

	"github.com/mapcluster/mapcluster/internal/hugepage"
)

// refIsoTable is the occupied cells of one zoom in row-major order: the cells
// of row rowVal[i] are cells[rowStart[i]:rowEnd[i]]. Rows need not be
// contiguous: each part of the next zoom is written where its rows lie in
// this one (it is never larger), so no cell is copied twice.
type refIsoTable struct {
	refIsoRows
	cells []refIsoCell
}

// refIsoCell is a cell of an refIsoTable. It holds up to two points by their
// positions in sort order (a, then b; refIsoNone for an empty slot), or none
// and b = refIsoDense when it holds three or more. za and zb are the lowest
// zoom each point has passed so far, or refIsoFailed once it has failed one
// (it then only stands in others' way), and for an empty slot. One record
// a cell: a test reads all of it, and coarsening moves it in one piece.
type refIsoCell struct {
	col    uint32
	a, b   int32
	za, zb uint8
}

// candidate reports whether a point of the cell is still passing: empty
// slots hold refIsoFailed too, and zooms are below 64.
func (c *refIsoCell) candidate() bool { return c.za&c.zb != refIsoFailed }

// Slots of an refIsoCell.
const (
	refIsoNone  int32 = -1 // no point in this slot
	refIsoDense int32 = -2 // in b: the cell holds three points or more
	// refIsoFailed marks a point that failed a zoom; zooms are at most 62, and
	// refIsoNever at most 63.
	refIsoFailed uint8 = 0xFF
)

// refIsoRows is the row directory of an refIsoTable, or of one part of it.
type refIsoRows struct {
	rowVal           []uint32
	rowStart, rowEnd []int32
}

// refIsoParts is the row directory of one chunk's part of the next table.
// Workers append to neighbouring chunks' parts at once: the padding keeps
// their slice headers off one cache line.
type refIsoParts struct {
	refIsoRows
	_ [64]byte
}

func (r *refIsoRows) reset() {
	r.rowVal, r.rowStart, r.rowEnd = r.rowVal[:0], r.rowStart[:0], r.rowEnd[:0]
}

func (r *refIsoRows) add(row uint32, start, end int32) {
	r.rowVal = append(r.rowVal, row)
	r.rowStart = append(r.rowStart, start)
	r.rowEnd = append(r.rowEnd, end)
}

// refIsoNever is the isolation zoom of a point that is not isolated even at
// maxZoom: it is in the grid from the start.
func refIsoNever(o Options) uint8 { return uint8(o.MaxZoom + 1) }

// refIsolationZooms returns, for every point, the lowest zoom z ≥ MinZoom from
// which the point is provably untouched up to maxZoom, or MaxZoom+1 when it
// is not isolated at maxZoom. It stops early, leaving points at the last
// zoom they passed, once too few points remain isolated to pay for a zoom;
// that only keeps a point in the grid longer, which never changes results.
func refIsolationZooms(ctx context.Context, x, y []int32, o Options, tm *team, sc *sortScratch) ([]uint8, error) {
	n := len(x)
	ziso := hugepage.Advise(make([]uint8, n))
	never := refIsoNever(o)
	for i := range ziso {
		ziso[i] = never
	}
	r := zoomRadius(o.Radius, o.Extent, o.MaxZoom)
	// margin: one unit of centre truncation per zoom, and float rounding.
	margin := float64(2*(o.MaxZoom-o.MinZoom+2)) + 16
	need := 3*r*(1+1e-9) + margin
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
	tm.gather(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			keys[i] = uint64(uint32(y[i]+coordOffset)>>k0)<<colBits | uint64(uint32(x[i]+coordOffset)>>k0)
		}
	})
	perm := radixSortPerm(keys, sc, tm)
	colMask := uint64(1)<<colBits - 1
	if n == 0 {
		return ziso, nil
	}
	// The cells of zoom maxZoom, from the sorted keys, in parts that start
	// on a new row: each part writes its cells from the position of its
	// first point on (a part has no more cells than points) and lists its
	// own rows, which refIsoTable allows. At 10M points this loop took 490 ms
	// on one worker, as much as the sort before it.
	nParts := min(64, max(1, n>>16))
	cut := make([]int, nParts+1)
	for k := 1; k < nParts; k++ {
		j := max(k*n/nParts, cut[k-1])
		for j < n && j > 0 && keys[j]>>colBits == keys[j-1]>>colBits {
			j++
		}
		cut[k] = j
	}
	cut[nParts] = n
	var a, b refIsoTable
	a.cells = hugepage.Advise(make([]refIsoCell, n))
	rows := make([]refIsoRows, nParts)
	tm.forEach(nParts, func(k int) {
		rs := &rows[k]
		w := int32(cut[k])
		for j := cut[k]; j < cut[k+1]; {
			key := keys[j]
			e := j + 1
			for e < n && keys[e] == key {
				e++
			}
			if row := uint32(key >> colBits); len(rs.rowVal) == 0 || rs.rowVal[len(rs.rowVal)-1] != row {
				if len(rs.rowVal) > 0 {
					rs.rowEnd = append(rs.rowEnd, w)
				}
				rs.rowVal = append(rs.rowVal, row)
				rs.rowStart = append(rs.rowStart, w)
			}
			c := refIsoCell{col: uint32(key & colMask), a: refIsoNone, b: refIsoDense, za: refIsoFailed, zb: refIsoFailed}
			switch e - j {
			case 1:
				c.a, c.b, c.za = int32(j), refIsoNone, never
			case 2:
				c.a, c.b, c.za, c.zb = int32(j), int32(j+1), never, never
			}
			a.cells[w] = c
			w++
			j = e
		}
		if len(rs.rowVal) > 0 {
			rs.rowEnd = append(rs.rowEnd, w)
		}
	})
	for k := range rows {
		a.rowVal = append(a.rowVal, rows[k].rowVal...)
		a.rowStart = append(a.rowStart, rows[k].rowStart...)
		a.rowEnd = append(a.rowEnd, rows[k].rowEnd...)
	}
	// The keys' memory now holds the points in sort order, x above y: the
	// distance tests read the points of neighbouring cells, which are near
	// each other in this order.
	xy := keys
	tm.gather(n, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			xy[j] = uint64(uint32(x[perm[j]]))<<32 | uint64(uint32(y[perm[j]]))
		}
	})
	keys = nil

	b.cells = hugepage.Advise(make([]refIsoCell, len(a.cells)))
	cur, next := &a, &b
	st := refIsoState{ziso: ziso, perm: perm, xy: xy, never: never}
	var parts []refIsoParts // per chunk of rows, reused
	for z := o.MaxZoom; z >= o.MinZoom && k0+(o.MaxZoom-z) <= 29; z-- {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// Chunks of rows that start on an even row, so no pair of rows that
		// merge is split. Each tests its rows, then merges them into the
		// next zoom's table where they lie in this one: a chunk reads only
		// the points of the rows around it, and writes only its own cells.
		// Chunks of about 4096 cells: with 65536, world-cities (135k cells)
		// made two chunks and then one, and these passes took 17.9 ms on 2
		// workers against 23.4 on one; now 13.2 (a temporary phase probe,
		// session 7).
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
			parts = append(parts, refIsoParts{})
		}
		passed := make([]int, len(bounds)-1)
		last := z == o.MinZoom || k0+(o.MaxZoom-z) == 29
		zst := st
		d := 3*zoomRadius(o.Radius, o.Extent, z)*(1+1e-9) + margin
		zst.d2 = d * d
		tm.forEach(len(passed), func(k int) {
			passed[k] = cur.test(&zst, uint8(z), bounds[k], bounds[k+1])
			if !last {
				// Merged before the stopping test below, which needs every
				// chunk's count: at the zoom that stops, this is wasted.
				cur.coarsen(next, &zst, &parts[k].refIsoRows, bounds[k], bounds[k+1])
			}
		})
		total := 0
		for _, p := range passed {
			total += p
		}
		if total == 0 || total*refIsoStopRatio < cells || last {
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
		for i := cur.rowStart[ri]; i < cur.rowEnd[ri]; i++ {
			c := &cur.cells[i]
			st.fail(c.a, &c.za)
			st.fail(c.b, &c.zb)
		}
	}
	return ziso, nil
}

// refIsoState is what the tests of one zoom share: the points in sort order
// and the result.
type refIsoState struct {
	ziso  []uint8
	perm  []int32  // sort position to point
	xy    []uint64 // in sort order, x above y
	never uint8
	d2    float64 // the squared distance within which points fail this zoom
}

// fail ends the run of zooms of point j (a sort position) whose lowest
// passed zoom is *zi, recording it unless it passed none. Failed points and
// empty slots hold refIsoFailed, which it leaves alone.
func (s *refIsoState) fail(j int32, zi *uint8) {
	if *zi == refIsoFailed {
		return
	}
	if *zi != s.never {
		s.ziso[s.perm[j]] = *zi
	}
	*zi = refIsoFailed
}

// near reports whether the points j and q (sort positions) are within d.
func (s *refIsoState) near(j, q int32) bool {
	p, o := s.xy[j], s.xy[q]
	return sqDist(int32(p>>32), int32(p), int32(o>>32), int32(o)) <= s.d2
}

// against fails the candidates of cell c that are near a point of cell o
// (a neighbour), or all of them when o holds three points or more.
func (s *refIsoState) against(c, o *refIsoCell) {
	if c.za != refIsoFailed && (o.b == refIsoDense || s.near(c.a, o.a) || o.b >= 0 && s.near(c.a, o.b)) {
		s.fail(c.a, &c.za)
	}
	if c.zb != refIsoFailed && (o.b == refIsoDense || s.near(c.b, o.a) || o.b >= 0 && s.near(c.b, o.b)) {
		s.fail(c.b, &c.zb)
	}
}

// test fails the candidates of rows [rlo, rhi) that have another point
// within d, records zoom z for those that pass, and returns how many
// passed. It writes only to those rows' cells, and reads the points of the
// rows just outside them, which nobody writes during a test.
//
// Each pair of adjacent rows is merged once to list the pairs of cells in
// neighbouring columns (a pair at the edge of [rlo, rhi) is tested from this
// side only), instead of each cell looking up the row above and the row
// below; only cells holding a candidate compute distances.
func (t *refIsoTable) test(s *refIsoState, z uint8, rlo, rhi int) int {
	cells := t.cells
	// touching tests each pair of cells of rows ra and rb (adjacent) in
	// neighbouring columns, both ways; markA and markB say which rows are
	// this call's to test.
	touching := func(ra, rb int, markA, markB bool) {
		b, bEnd := t.rowStart[rb], t.rowEnd[rb]
		for a := t.rowStart[ra]; a < t.rowEnd[ra] && b < bEnd; a++ {
			ca := &cells[a]
			for b < bEnd && cells[b].col+1 < ca.col {
				b++
			}
			for q := b; q < bEnd && cells[q].col <= ca.col+1; q++ {
				cq := &cells[q]
				if markA && ca.candidate() {
					s.against(ca, cq)
				}
				if markB && cq.candidate() {
					s.against(cq, ca)
				}
			}
		}
	}
	if rlo > 0 && t.rowVal[rlo-1]+1 == t.rowVal[rlo] {
		touching(rlo-1, rlo, false, true)
	}
	for ri := rlo; ri < rhi; ri++ {
		lo, hi := t.rowStart[ri], t.rowEnd[ri]
		for i := lo; i < hi; i++ {
			c := &cells[i]
			if c.b >= 0 && c.candidate() && s.near(c.a, c.b) {
				s.fail(c.a, &c.za)
				s.fail(c.b, &c.zb)
			}
			if i+1 < hi && c.col+1 == cells[i+1].col {
				o := &cells[i+1]
				if c.candidate() {
					s.against(c, o)
				}
				if o.candidate() {
					s.against(o, c)
				}
			}
		}
		if ri+1 < len(t.rowVal) && t.rowVal[ri]+1 == t.rowVal[ri+1] {
			touching(ri, ri+1, true, ri+1 < rhi)
		}
	}
	passed := 0
	for ri := rlo; ri < rhi; ri++ {
		for i := t.rowStart[ri]; i < t.rowEnd[ri]; i++ {
			c := &cells[i]
			if c.za != refIsoFailed {
				c.za = z
				passed++
			}
			if c.zb != refIsoFailed {
				c.zb = z
				passed++
			}
		}
	}
	return passed
}

// coarsen writes the cells of the next zoom (2×2 blocks) made from rows
// [rlo, rhi) into out, from the position of the first of those cells on, and
// their row directory into rows. out is as long as t, so they fit. Cells
// that merge keep two points in two slots; three or more make a dense cell,
// whose candidates fail.
func (t *refIsoTable) coarsen(out *refIsoTable, s *refIsoState, rows *refIsoRows, rlo, rhi int) {
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
			if b >= bEnd || (a < aEnd && t.cells[a].col <= t.cells[b].col) {
				j = a
				a++
			} else {
				b++
			}
			in := &t.cells[j]
			col := in.col >> 1
			if w == start || out.cells[w-1].col != col {
				c := *in
				c.col = col
				out.cells[w] = c
				w++
				continue
			}
			c := &out.cells[w-1]
			if c.b == refIsoNone && in.b == refIsoNone {
				c.b, c.zb = in.a, in.za
				continue
			}
			s.fail(c.a, &c.za)
			s.fail(c.b, &c.zb)
			s.fail(in.a, &in.za)
			s.fail(in.b, &in.zb)
			c.a, c.b = refIsoNone, refIsoDense
		}
		rows.add(row, start, w)
	}
}

// refIsoStopRatio ends the search for isolated points once fewer than one cell
// in refIsoStopRatio holds one: a zoom of the search costs about as much per
// cell as the build spends on a few items, and it only saves the build the
// items that pass.
const refIsoStopRatio = 6
