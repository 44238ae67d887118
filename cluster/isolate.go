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
// It tests "no other point within d(z)", d(z) = 3r(z) + margin, on
// power-of-two cells of side s(z) ≥ d(z), so every point within d(z) of p
// lies in p's cell or the eight around it. A cell whose block holds no other
// point passes at once; otherwise p's distance to each point of the block
// decides, which lets a point through whose neighbours are near but not
// within d(z) (on world-cities the points kept in the grid, summed over the
// zooms, fell from 1.595M to 1.481M against the test by empty blocks alone,
// and an exact search gives 1.477M; BENCHMARKS.md). Cells remember two
// points at most: a point sharing its cell with two others, or next to a
// cell of three or more, fails, which only keeps it in the grid longer. The
// cells of zoom z-1 are 2×2 blocks of those of zoom z, so one sort at
// maxZoom and a linear merge per zoom give every zoom; and a point that
// passes at zoom z-1 passes at zoom z (d shrinks and nothing else changes),
// so each point's answer is a run of zooms.

// isoTable is the occupied cells of one zoom in row-major order: the cells
// of row rowVal[i] are cells[rowStart[i]:rowEnd[i]]. Rows need not be
// contiguous: each part of the next zoom is written where its rows lie in
// this one (it is never larger), so no cell is copied twice.
type isoTable struct {
	isoRows
	cells []isoCell
}

// isoCell is a cell of an isoTable. It holds up to two points by their
// positions in sort order (a, then b; isoNone for an empty slot), or none
// and b = isoDense when it holds three or more. za and zb are the lowest
// zoom each point has passed so far, or isoFailed once it has failed one
// (it then only stands in others' way), and for an empty slot. One record
// a cell: a test reads all of it, and coarsening moves it in one piece.
type isoCell struct {
	col    uint32
	a, b   int32
	za, zb uint8
}

// candidate reports whether a point of the cell is still passing: empty
// slots hold isoFailed too, and zooms are below 64.
func (c *isoCell) candidate() bool { return c.za&c.zb != isoFailed }

// Slots of an isoCell.
const (
	isoNone  int32 = -1 // no point in this slot
	isoDense int32 = -2 // in b: the cell holds three points or more
	// isoFailed marks a point that failed a zoom; zooms are at most 62, and
	// isoNever at most 63.
	isoFailed uint8 = 0xFF
)

// isoRows is the row directory of an isoTable, or of one part of it.
type isoRows struct {
	rowVal           []uint32
	rowStart, rowEnd []int32
}

// isoParts is the row directory of one chunk's part of the next table.
// Workers append to neighbouring chunks' parts at once: the padding keeps
// their slice headers off one cache line.
type isoParts struct {
	isoRows
	_ [64]byte
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
func isolationZooms(ctx context.Context, x, y []int32, o Options, tm *team, sc *sortScratch) ([]uint8, error) {
	n := len(x)
	ziso := hugepage.Advise(make([]uint8, n))
	never := isoNever(o)
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
	// own rows, which isoTable allows. At 10M points this loop took 490 ms
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
	// Each part counts its rows first, and then writes its row directory
	// straight into the table's. Before, each part grew its own by append
	// and they were joined after: on world-cities (2 parts) this step took
	// 1.9 ms on one worker and as long on two, each part's growing slower
	// beside the other's; BenchmarkIsolationZooms went 20.6 -> 19.2 ms on
	// 2 workers and 33.0 -> 32.3 on one (medians of six alternating runs).
	firstRow := make([]int, nParts+1)
	tm.forEach(nParts, func(k int) {
		m := 0
		for j := cut[k]; j < cut[k+1]; j++ {
			if j == cut[k] || keys[j]>>colBits != keys[j-1]>>colBits {
				m++
			}
		}
		firstRow[k+1] = m
	})
	for k := range nParts {
		firstRow[k+1] += firstRow[k]
	}
	var a, b isoTable
	a.cells = hugepage.Advise(make([]isoCell, n))
	a.rowVal = make([]uint32, firstRow[nParts])
	a.rowStart = make([]int32, firstRow[nParts])
	a.rowEnd = make([]int32, firstRow[nParts])
	tm.forEach(nParts, func(k int) {
		r := firstRow[k] // next row
		w := int32(cut[k])
		for j := cut[k]; j < cut[k+1]; {
			key := keys[j]
			e := j + 1
			for e < n && keys[e] == key {
				e++
			}
			if row := uint32(key >> colBits); r == firstRow[k] || a.rowVal[r-1] != row {
				if r > firstRow[k] {
					a.rowEnd[r-1] = w
				}
				a.rowVal[r], a.rowStart[r] = row, w
				r++
			}
			c := isoCell{col: uint32(key & colMask), a: isoNone, b: isoDense, za: isoFailed, zb: isoFailed}
			switch e - j {
			case 1:
				c.a, c.b, c.za = int32(j), isoNone, never
			case 2:
				c.a, c.b, c.za, c.zb = int32(j), int32(j+1), never, never
			}
			a.cells[w] = c
			w++
			j = e
		}
		if r > firstRow[k] {
			a.rowEnd[r-1] = w
		}
	})
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

	b.cells = hugepage.Advise(make([]isoCell, len(a.cells)))
	cur, next := &a, &b
	st := isoState{ziso: ziso, perm: perm, xy: xy, never: never}
	var parts []isoParts // per chunk of rows, reused
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
			parts = append(parts, isoParts{})
		}
		passed := make([]int, len(bounds)-1)
		last := z == o.MinZoom || k0+(o.MaxZoom-z) == 29
		zst := st
		d := 3*zoomRadius(o.Radius, o.Extent, z)*(1+1e-9) + margin
		zst.d2 = d * d
		var out *isoTable
		if !last {
			// Merged before the stopping test below, which needs every
			// chunk's count: at the zoom that stops, this is wasted.
			out = next
		}
		tm.forEach(len(passed), func(k int) {
			passed[k] = cur.step(out, &zst, uint8(z), &parts[k].isoRows, bounds[k], bounds[k+1])
		})
		total := 0
		for _, p := range passed {
			total += p
		}
		if out != nil {
			next.reset()
			for k := range passed {
				p := &parts[k]
				next.rowVal = append(next.rowVal, p.rowVal...)
				next.rowStart = append(next.rowStart, p.rowStart...)
				next.rowEnd = append(next.rowEnd, p.rowEnd...)
			}
			cur, next = next, cur
		}
		if total == 0 || total*isoStopRatio < cells || last {
			break
		}
	}
	// The points still passing hold the zoom that stopped in cur, merged or
	// not.
	for ri := range cur.rowVal {
		for i := cur.rowStart[ri]; i < cur.rowEnd[ri]; i++ {
			c := &cur.cells[i]
			st.fail(c.a, &c.za)
			st.fail(c.b, &c.zb)
		}
	}
	return ziso, nil
}

// isoState is what the tests of one zoom share: the points in sort order
// and the result.
type isoState struct {
	ziso  []uint8
	perm  []int32  // sort position to point
	xy    []uint64 // in sort order, x above y
	never uint8
	d2    float64 // the squared distance within which points fail this zoom
}

// fail ends the run of zooms of point j (a sort position) whose lowest
// passed zoom is *zi, recording it unless it passed none. Failed points and
// empty slots hold isoFailed, which it leaves alone.
func (s *isoState) fail(j int32, zi *uint8) {
	if *zi == isoFailed {
		return
	}
	if *zi != s.never {
		s.ziso[s.perm[j]] = *zi
	}
	*zi = isoFailed
}

// near reports whether the points j and q (sort positions) are within d.
func (s *isoState) near(j, q int32) bool {
	p, o := s.xy[j], s.xy[q]
	return sqDist(int32(p>>32), int32(p), int32(o>>32), int32(o)) <= s.d2
}

// against fails the candidates of cell c that are near a point of cell o
// (a neighbour), or all of them when o holds three points or more.
func (s *isoState) against(c, o *isoCell) {
	if c.za != isoFailed && (o.b == isoDense || s.near(c.a, o.a) || o.b >= 0 && s.near(c.a, o.b)) {
		s.fail(c.a, &c.za)
	}
	if c.zb != isoFailed && (o.b == isoDense || s.near(c.b, o.a) || o.b >= 0 && s.near(c.b, o.b)) {
		s.fail(c.b, &c.zb)
	}
}

// step runs zoom z on rows [rlo, rhi): it fails the candidates that have
// another point within d, records z for those that pass, and returns how
// many passed. With out, it also merges the rows into the cells of the next
// zoom (2×2 blocks), written into out from the position of the first of
// those cells on, with their row directory in rows (out is as long as t, so
// they fit); cells that merge keep two points in two slots, and three or
// more make a dense cell, whose candidates fail. It writes only to those
// rows' cells, and reads the points of the rows just outside them, which
// nobody writes during a step.
//
// It goes by pairs of rows, those that make one row of the next zoom. A
// pair meets the row after it first (a pair at the edge of [rlo, rhi) is
// tested from this side only, and the pair before met this pair's first row
// already). Then one walk merges the pair's two rows by column, as the next
// zoom lists them: in that order, a cell's neighbours within the pair are
// among the (at most three) cells just before it whose column is at most one
// less, so each pair of neighbours is tested once, and a cell is final, and
// is moved to the next zoom, once the walk has passed its column + 1. Only
// cells holding a candidate compute distances. Before, a test pass (a walk
// of each row and a merge of each two adjacent rows), a pass to count the
// points that passed and a coarsen pass (another merge of each pair) made
// each row take part in four merges and walks, now in two; the branches
// where a merge picks a row are most of the cost. On world-cities
// (BenchmarkIsolationZooms, medians of five alternating runs) isolation
// took 37.7 -> 33.2 ms on 1 worker and 22.6 -> 20.9 on 2.
func (t *isoTable) step(out *isoTable, s *isoState, z uint8, rows *isoRows, rlo, rhi int) int {
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
	passed := 0
	rows.reset()
	w := t.rowStart[rlo] // next cell of out
	for ri := rlo; ri < rhi; {
		row := t.rowVal[ri] >> 1
		a, aEnd := t.rowStart[ri], t.rowEnd[ri]
		ri++
		b, bEnd := int32(0), int32(0)
		if ri < rhi && t.rowVal[ri]>>1 == row {
			b, bEnd = t.rowStart[ri], t.rowEnd[ri]
			ri++
		}
		if ri < len(t.rowVal) && t.rowVal[ri-1]+1 == t.rowVal[ri] {
			touching(ri-1, ri, true, ri < rhi)
		}
		// The walk: ring[head:tail] (mod 4) are the cells walked and not yet
		// moved on, the ones the next cell may neighbour. A last round with
		// col past every column moves the rest on.
		var ring [4]int32
		head, tail := 0, 0
		start := w
		for {
			j, col := int32(-1), uint32(math.MaxUint32)
			if a < aEnd || b < bEnd {
				if b >= bEnd || (a < aEnd && cells[a].col <= cells[b].col) {
					j = a
					a++
				} else {
					j = b
					b++
				}
				col = cells[j].col
			}
			for ; head < tail && cells[ring[head&3]].col+1 < col; head++ {
				in := &cells[ring[head&3]]
				if in.za != isoFailed {
					in.za = z
					passed++
				}
				if in.zb != isoFailed {
					in.zb = z
					passed++
				}
				if out == nil {
					continue
				}
				oc := in.col >> 1
				if w == start || out.cells[w-1].col != oc {
					out.cells[w] = *in
					out.cells[w].col = oc
					w++
					continue
				}
				c := &out.cells[w-1]
				if c.b == isoNone && in.b == isoNone {
					c.b, c.zb = in.a, in.za
					continue
				}
				s.fail(c.a, &c.za)
				s.fail(c.b, &c.zb)
				s.fail(in.a, &in.za)
				s.fail(in.b, &in.zb)
				c.a, c.b = isoNone, isoDense
			}
			if j < 0 {
				break
			}
			c := &cells[j]
			for k := head; k < tail; k++ {
				o := &cells[ring[k&3]]
				if c.candidate() {
					s.against(c, o)
				}
				if o.candidate() {
					s.against(o, c)
				}
			}
			if c.b >= 0 && c.candidate() && s.near(c.a, c.b) {
				s.fail(c.a, &c.za)
				s.fail(c.b, &c.zb)
			}
			ring[tail&3] = j
			tail++
		}
		if out != nil {
			rows.add(row, start, w)
		}
	}
	return passed
}

// isoStopRatio ends the search for isolated points once fewer than one cell
// in isoStopRatio holds one: a zoom of the search costs about as much per
// cell as the build spends on a few items, and it only saves the build the
// items that pass.
const isoStopRatio = 6
