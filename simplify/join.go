package simplify

import (
	"math"
	"math/bits"
	"slices"

	"github.com/mapcluster/mapcluster/simplify/internal/geom"
)

// joinGrid is the scratch space of gridJoin, kept in levelWork between
// levels so that its slices are allocated once.
type joinGrid struct {
	chain []geom.BBox // chain bbox of each shortcut (levelWork.boxes)
	atEnd []bool      // per shortcut: it ends at its arc's last vertex
	// keys holds the entries, each as one word: the key (cell<<1 | 1 for
	// a kept segment, 0 for a shortcut) in the high 32 bits, the value
	// (shortcut index, or segment start | arcEndBit | plainBit) in the
	// low 32 (see entry).
	keys  []uint64
	tmpK  []uint64
	count []int // radix sort buckets
	sizes []float64
	big   []int32 // shortcuts whose chain bbox covers too many cells
	// cellSegs holds the boxes of the shortcuts of one cell (joinCell).
	cellSegs []geom.BBox
	built    bool // the shortcuts of this level are entered
	plain    bool // vertex numbers are below plainBit (see there)
	// cell size and origin of the current level.
	cell, x0, y0 float64
	nx           uint64
	// room is the capacity planned for keys, and for tmpK, which
	// sort swaps with keys: sizing tmpK by its need rather than by keys'
	// capacity, which growslice rounds up, kept the two from outgrowing
	// each other at every level.
	room int
}

const (
	// joinCheckScans is how many segments of a level joinCheck tests by
	// a scan of all chain bboxes before it builds the grid: a scan costs
	// about a twentieth of building it (countries-10m, z4).
	joinCheckScans = 16
	arcEndBit      = 1 << 31
	// plainBit marks a segment entry that is an original segment, whose
	// end is the next vertex, so joinCell does not look it up in next (a
	// dependent random load before the points'): z2 and z3 of
	// countries-10m took 20.0-20.6 and 27.7-28.0 ms instead of 20.8-21.3
	// and 28.2-28.6 (best of 20, one core, four alternating runs on a
	// loaded machine). It is used when vertex numbers leave the bit free
	// (joinGrid.plain).
	plainBit = 1 << 30
	// joinMaxCells is how many cells a shortcut's chain bbox may cover;
	// larger ones are checked through the static index instead.
	joinMaxCells = 64
)

// gridJoin finds every conflicting shortcut of the first round by a join
// on a uniform grid: each shortcut is entered in the cells its chain bbox
// covers, each other kept segment in the cells it passes through, the
// entries are sorted by cell and every (shortcut, segment) and (shortcut,
// other shortcut) pair that shares a cell is tested. A pair that shares
// several cells is tested in each; marks are idempotent, so the result
// does not depend on the order. The cell side is four times the median
// extent of the chain bboxes. With shortcuts entered once, z0–z3 of
// countries-10m took (sum of the best of 24 per level, one core, the same
// output) 112 ms at 1.5 times, 105 at 2, 97 at 3, 91-95 at 4, 90-92 at 6,
// 92 at 8, 96 at 12 and 100 at 16; 4 is the low end of the plateau, where
// cells full of shortcuts (tested in pairs) stay small.
//
// A shortcut is not entered a second time as a segment: the cells of its
// chain bbox hold every cell it passes through, and a pair tested only
// because of the extra cells cannot conflict (a crossing point or a
// vertex in the swept region lies in a cell of both), so the marks are
// the same. That spares the shortcuts' segment entries and the test of
// each shortcut against itself: z0–z3 of countries-10m took 12.4, 19.7,
// 31.4 and 43.9 ms instead of 13.7, 22.7, 35.6 and 47.9 (best of 32, one
// core).
//
// Measured on countries-10m at z0–z3 (29–114k shortcuts, 32–254k kept
// segments), whole level, best of 8: 26→19, 45→33, 75→53 and 110→75 ms
// against the R-tree of the shortcuts it replaces (packed per level and
// queried from every 16-vertex block), because the radix sort and the
// per-cell tests read memory in order. At higher zooms, where few
// vertices go, cells are small and kept segments many: there the static
// index is cheaper (about 60 against 10 ms at z12).
func (w *levelWork) gridJoin(shorts []segment) {
	t := w.t
	g := &w.join
	// Most shortcuts and segments fall in one or two cells: reserve room
	// for all of them at once (growing the lists as they filled made
	// them twice, in fresh memory).
	w.enterShortcuts(shorts, 2*w.nseg)
	g.plain = len(t.ll) <= plainBit
	for _, k := range g.big {
		w.staticCheckAll(shorts[k])
	}
	// The kept segments, but the shortcuts that are entered: those stand
	// for themselves as segments in the cells of their chain bbox, which
	// hold every cell the segment passes through. The walk meets the
	// shortcuts in the order of shorts (both go arc by arc), so sk is the
	// index of the next one and big[bk] the next big one.
	//
	// A shortcut and the kept segments before and after it in its arc are
	// tested here, once, rather than in every cell they share (joinCell
	// skips them). Such pairs share an end point, so their boxes always
	// overlap and they always share a cell; on countries-10m they were
	// 85-90 % of the pairs tested at z0-z3 (198k of 222k at z2), each in
	// both orders when both are shortcuts, and in every cell they share.
	// The marks are the same (a pair that can conflict shares a cell, and
	// marks are idempotent); z0-z3 took 6.4-7.2, 11.5-12.4, 19.9-21.1
	// and 24.7-28.4 ms instead of 7.9-8.8, 14.1-16.7, 23.0-26.7 and
	// 31.8-34.5 (best of 20, one core, three alternating runs).
	sk, bk := 0, 0
	for a := range w.active {
		if !w.active[a] {
			continue
		}
		end := t.start[a+1] - 1
		prev := segment{-1, -1}
		pk := -1 // the index of prev in shorts when it is a grid shortcut
		for v := t.start[a]; v < end; v = w.next[v] {
			j := w.next[v]
			o := segment{v, j}
			ok := -1
			if j > v+1 {
				ok = sk
				sk++
				if bk < len(g.big) && int(g.big[bk]) == ok {
					bk++
					ok = -1
				}
			}
			if pk >= 0 || (ok >= 0 && prev.i >= 0) {
				w.testNeighbours(prev, pk, o, ok, j == end)
			}
			prev, pk = o, ok
			if ok >= 0 {
				continue
			}
			val := uint32(v)
			if j == end {
				val |= arcEndBit
			}
			if j == v+1 && g.plain {
				val |= plainBit
			}
			g.segCells(t.ll[v], t.ll[j], func(cell uint64) {
				g.keys = append(g.keys, entry(cell<<1|1, val))
			})
		}
	}
	g.sort()
	// Each run of equal cells holds its shortcuts, then its segments.
	keys := g.keys
	for s := 0; s < len(keys); {
		cell := keys[s] >> 33
		m := s
		for m < len(keys) && keys[m]>>32 == cell<<1 {
			m++
		}
		e := m
		for e < len(keys) && keys[e]>>32 == cell<<1|1 {
			e++
		}
		if m > s && (e > m || m-s > 1) {
			w.joinCell(shorts, keys[s:m], keys[m:e])
		}
		s = e
	}
}

// enterShortcuts computes the chain bboxes of the shortcuts, picks the cell
// size and enters each shortcut in the cells its chain bbox covers, or in
// big when they are too many. shorts are the first round's (w.shorts);
// room is the number of entries to make room for.
func (w *levelWork) enterShortcuts(shorts []segment, room int) {
	t := w.t
	g := &w.join
	g.big = g.big[:0]
	// The chain bboxes go in w.boxes: after a static first round they
	// are there already, and after a grid join nothing else uses it.
	// One array instead of two halves their fresh memory.
	w.boxes = reserve(w.boxes, len(shorts))[:len(shorts)]
	g.chain = w.boxes
	g.atEnd = reserve(g.atEnd, len(shorts))[:len(shorts)]
	g.sizes = g.sizes[:0]
	a := 0 // the arc of shortcut k
	for k, s := range shorts {
		for t.start[a+1] <= s.i {
			a++
		}
		g.atEnd[k] = s.j == t.start[a+1]-1
		cb := g.chain[k]
		if !w.boxesOK {
			// Else a later round after a static first round, which
			// computed them: at z4 of countries-10m, computing them again
			// was 40 % of the grid's set-up and 8 % of the level.
			cb = t.chainBBox(int(s.i), int(s.j))
			g.chain[k] = cb
		}
		if k%7 == 0 {
			g.sizes = append(g.sizes, max(cb.MaxX-cb.MinX, cb.MaxY-cb.MinY))
		}
	}
	g.cell = 4 * median(g.sizes)
	if !(g.cell > 1e-7) {
		g.cell = 1e-7
	}
	// Cells are numbered row by row over the lon/lat plane (coordinates
	// are checked to lie within ±180, ±90).
	g.x0, g.y0 = -180-g.cell, -90-g.cell
	g.nx = uint64(math.Ceil(362/g.cell + 2))
	// Keys must fit in the 32 bits above an entry's value: every cell
	// number times two, plus one. Where the cells would be too many
	// (never on countries-10m or -50m, whose grids have 17-23 bit keys),
	// they are made larger, which changes what is tested, not the marks.
	for 2*float64(g.nx)*math.Ceil(182/g.cell+2) > 1<<32 {
		g.cell *= 2
		g.x0, g.y0 = -180-g.cell, -90-g.cell
		g.nx = uint64(math.Ceil(362/g.cell + 2))
	}
	g.built = true
	g.room = room
	g.keys = reserve(g.keys, room)
	for k := range shorts {
		cb := g.chain[k]
		x0, y0 := g.cellOf(cb.MinX, cb.MinY)
		x1, y1 := g.cellOf(cb.MaxX, cb.MaxY)
		if (x1-x0+1)*(y1-y0+1) > joinMaxCells {
			g.big = append(g.big, int32(k))
			continue
		}
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				g.keys = append(g.keys, entry((y*g.nx+x)<<1, uint32(k)))
			}
		}
	}
}

// joinCheck tests segment o, new since the first round, against the
// shortcuts of the first round that are still whole: those that share a
// cell with it, and the big ones.
//
// After a static first round the grid is not built, and later rounds
// usually test few segments (6 at z4 and 8 at z5 of countries-10m, for
// 76k and 32k shortcuts): the first joinCheckScans of them each scan the
// chain bboxes of all shortcuts instead, which are there (w.boxes) and
// read in order, and the grid is built only for more. Building it took
// 3.2 ms of z4's 22: z4 took 19.3-19.5 ms instead of 21.6-21.7, z5
// 9.5-9.8 instead of 10.1-10.6 (best of 20, one core). A pair that can
// conflict shares a cell, so testing every pair whose boxes overlap marks
// the same.
func (w *levelWork) joinCheck(shorts []segment, o segment) {
	t := w.t
	g := &w.join
	test := func(k int32, cb geom.BBox) {
		s := shorts[k]
		if s == o || w.next[s.i] != s.j {
			return // itself, or split since
		}
		w.testPair(s, cb, o, true)
	}
	if !g.built && w.scans < joinCheckScans {
		w.scans++
		ob := geom.SegBBox(t.ll[o.i], t.ll[o.j])
		for k, cb := range w.boxes[:len(shorts)] {
			if cb.Overlaps(ob) {
				test(int32(k), cb)
			}
		}
		return
	}
	if !g.built {
		w.enterShortcuts(shorts, 2*len(shorts))
		g.sort()
	}
	g.segCells(t.ll[o.i], t.ll[o.j], func(cell uint64) {
		key := cell << 1
		x, _ := slices.BinarySearch(g.keys, entry(key, 0))
		for ; x < len(g.keys) && g.keys[x]>>32 == key; x++ {
			k := int32(uint32(g.keys[x]))
			test(k, g.chain[k])
		}
	})
	for _, k := range g.big {
		test(k, g.chain[k])
	}
}

// joinCell tests the shortcuts of one cell against its other kept
// segments: the segments entered in it, and the other shortcuts.
func (w *levelWork) joinCell(shorts []segment, sc, segs []uint64) {
	t := w.t
	g := &w.join
	for _, e := range segs {
		sv := uint32(e)
		o := segment{int32(sv &^ arcEndBit), 0}
		if g.plain && sv&plainBit != 0 {
			o.i &^= plainBit
			o.j = o.i + 1
		} else {
			o.j = w.next[o.i]
		}
		a, b := t.ll[o.i], t.ll[o.j]
		ob := geom.SegBBox(a, b)
		for _, e := range sc {
			k := uint32(e)
			if cb := g.chain[k]; cb.Overlaps(ob) {
				if s := shorts[k]; s.i != o.j && s.j != o.i {
					w.testPair(s, cb, o, sv&arcEndBit != 0)
				}
			}
		}
	}
	if len(sc) < 2 {
		return
	}
	// Two shortcuts, each in both orders: once per pair, when their chain
	// bboxes overlap (each holds its shortcut's box, so a pair whose
	// chain bboxes do not overlap has nothing to test either way). Each
	// shortcut's box is computed once per cell. The cells hold 0.3-0.8
	// million ordered pairs of shortcuts at z0-z3 of countries-10m, most
	// of them not overlapping; z0-z3 took 6.1, 11.3, 19.6 and 26.7 ms
	// this way, 7.1, 12.4, 19.9 and 27.7 testing each ordered pair (best
	// of 8, one core, alternating). The order of the tests changes, not
	// the marks (see gridJoin).
	boxes := g.cellSegs[:0]
	for _, e := range sc {
		s := shorts[uint32(e)]
		boxes = append(boxes, geom.SegBBox(t.ll[s.i], t.ll[s.j]))
	}
	g.cellSegs = boxes
	for x, ex := range sc {
		kx := uint32(ex)
		cx := g.chain[kx]
		for y := x + 1; y < len(sc); y++ {
			ky := uint32(sc[y])
			cy := g.chain[ky]
			if !cx.Overlaps(cy) {
				continue
			}
			sx, sy := shorts[kx], shorts[ky]
			if sx.i == sy.j || sx.j == sy.i {
				continue // neighbours in their arc: see testNeighbours
			}
			if cy.Overlaps(boxes[x]) {
				w.testPair(sy, cy, sx, g.atEnd[kx])
			}
			if cx.Overlaps(boxes[y]) {
				w.testPair(sx, cx, sy, g.atEnd[ky])
			}
		}
	}
}

// testNeighbours is testPair for two consecutive kept segments of an arc,
// prev and o, in each order in which the first is a grid shortcut (pk,
// ok: their indexes in shorts, or -1); arcEnd reports that o ends at the
// arc's last vertex. The two share vertex o.i, so their boxes overlap,
// and they meet elsewhere only when their other ends and the shared one
// are collinear: Conflict then decides, in both orders. Otherwise what is
// left of testPair is the swept test of the far end of the other segment
// (the near one is an end of the shortcut, which swept leaves out). The
// orientation here is Conflict's own first step, with its error bound,
// so the result is the same; it is done once for both orders, the points
// loaded once, and without the calls: through testPair, these pairs took
// about 4.6 ms of each of z0-z3 on countries-10m, most of what leaving
// them out of the cells saved.
func (w *levelWork) testNeighbours(prev segment, pk int, o segment, ok int, arcEnd bool) {
	t := w.t
	g := &w.join
	pp, p, q := t.ll[prev.i], t.ll[o.i], t.ll[o.j]
	// Orient(p, pp, q) is not 0: pp, p and q are distinct and not
	// collinear, so neither order conflicts.
	if !surelyTurns(p, pp, q) {
		if pk >= 0 && geom.Conflict(pp, p, p, q) {
			w.mark(prev.i)
			if o.j > o.i+1 {
				w.mark(o.i)
			}
			pk = -1
		}
		if ok >= 0 && geom.Conflict(p, q, pp, p) {
			w.mark(o.i)
			if prev.j > prev.i+1 {
				w.mark(prev.i)
			}
			ok = -1
		}
	}
	if pk >= 0 && arcEnd {
		if cb := g.chain[pk]; cb.Contains(q) && w.swept(prev, cb, q) {
			w.mark(prev.i)
		}
	}
	if ok >= 0 {
		if cb := g.chain[ok]; cb.Contains(pp) && w.swept(o, cb, pp) {
			w.mark(o.i)
		}
	}
}

// testPair marks shortcut s (chain bbox cb) when it crosses or touches
// segment o or holds o's first vertex (or its last, with arcEnd) in its
// swept region, and marks o too when it is a shortcut that crosses s.
func (w *levelWork) testPair(s segment, cb geom.BBox, o segment, arcEnd bool) {
	t := w.t
	a, b := t.ll[o.i], t.ll[o.j]
	ob := geom.SegBBox(a, b)
	if !cb.Overlaps(ob) {
		return
	}
	sa, sb := t.ll[s.i], t.ll[s.j]
	if geom.SegBBox(sa, sb).Overlaps(ob) && geom.Conflict(sa, sb, a, b) {
		w.mark(s.i)
		if o.j > o.i+1 {
			w.mark(o.i)
		}
		return
	}
	if w.swept(s, cb, a) || (arcEnd && w.swept(s, cb, b)) {
		w.mark(s.i)
	}
}

// cellOf returns the column and row of the cell holding (x, y).
func (g *joinGrid) cellOf(x, y float64) (uint64, uint64) {
	return uint64((x - g.x0) / g.cell), uint64((y - g.y0) / g.cell)
}

// segCells calls fn with every cell segment a-b passes through: the cells
// of its bbox when they are few, else, column by column, the rows its
// y-range within the column covers, widened by a cell on each side against
// rounding.
func (g *joinGrid) segCells(a, b geom.Point, fn func(cell uint64)) {
	x0, y0 := g.cellOf(min(a.X, b.X), min(a.Y, b.Y))
	x1, y1 := g.cellOf(max(a.X, b.X), max(a.Y, b.Y))
	if (x1-x0+1)*(y1-y0+1) <= 4 || x0 == x1 || y0 == y1 {
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				fn(y*g.nx + x)
			}
		}
		return
	}
	if a.X > b.X {
		a, b = b, a
	}
	slope := (b.Y - a.Y) / (b.X - a.X)
	for x := x0; x <= x1; x++ {
		lo := max(a.X, g.x0+float64(x)*g.cell)
		hi := min(b.X, g.x0+float64(x+1)*g.cell)
		ya, yb := a.Y+(lo-a.X)*slope, a.Y+(hi-a.X)*slope
		_, r0 := g.cellOf(0, min(ya, yb))
		_, r1 := g.cellOf(0, max(ya, yb))
		r0 = max(r0, y0+1) - 1
		r1 = min(r1+1, y1)
		for y := r0; y <= r1; y++ {
			fn(y*g.nx + x)
		}
	}
}

// entry packs a grid entry: key above, value below. Entries are made
// packed and sorted as one word, on the key's bits only, and joinCell
// reads the values from them; before, the grid kept a key and a value
// array, which sort packed before its passes and unpacked after. Packed
// from the start, countries-10m z0-z3 took 5.85, 9.56, 15.59 and 23.25
// ms instead of 5.91, 10.04, 16.40 and 24.34, all 13 levels 104.9 ms
// instead of 109.1 (BenchmarkLevels10m, -test.benchtime 10x, one core,
// best of 8 alternating runs; medians 6.13/11.03/17.82/24.86 against
// 6.46/10.94/18.19/25.52). Timed in one process, alternating the two
// versions level by level (best of 80), z2 and z3 took 17.46-17.70 and
// 24.42-25.48 ms instead of 17.65-18.26 and 25.85-26.11.
func entry(key uint64, val uint32) uint64 {
	return key<<32 | uint64(val)
}

// sort sorts the entries by key, stably, with a radix sort on digits of
// up to 12 bits up to the highest key bit. (16-bit digits, two passes for
// most levels, took twice as long on countries-10m: 65,536 counters
// scatter the writes over more pages than the cache and TLB hold.)
func (g *joinGrid) sort() {
	n := len(g.keys)
	var top uint64
	for _, k := range g.keys {
		top |= k
	}
	top &^= 1<<32 - 1
	if g.count == nil {
		g.count = make([]int, 1<<maxDigit)
	}
	g.tmpK = reserve(g.tmpK, max(n, g.room))[:n]
	// As few passes of at most 12 bits as the key needs, split evenly:
	// z3 of countries-10m has 23-bit keys, which took three 11-bit passes
	// and take two of 12 bits; z0 and z1 (17 and 20 bits) count on 512
	// and 1024 buckets. z0-z3 took 6.5-6.9, 11.1-11.7, 18.1-18.3 and
	// 25.0-26.4 ms instead of 6.9-7.1, 11.6-13.5, 19.1-20.7 and 25.6-27.7
	// (best of 20, one core, four alternating runs).
	width := uint(bits.Len64(top >> 32))
	passes := max(1, (width+maxDigit-1)/maxDigit)
	g.keys, g.tmpK = radixSort(g.keys, g.tmpK, 32, top, (width+passes-1)/passes, g.count)
}

// maxDigit is how many bits a digit of radixSort has at most.
const maxDigit = 12

// digitStarts sets count[d] to where the keys whose digit at shift is d
// start in the sorted order of that digit; the digit has as many bits as
// count has entries (a power of two).
func digitStarts(count []int, keys []uint64, shift uint) {
	clear(count)
	mask := uint64(len(count) - 1)
	for _, k := range keys {
		count[(k>>shift)&mask]++
	}
	sum := 0
	for i, c := range count {
		count[i] = sum
		sum += c
	}
}

// radixSort sorts a by its bits from shift up to the highest bit of top,
// stably, on digits of digit bits (at most maxDigit), using b as scratch,
// and returns the sorted slice and the other.
func radixSort(a, b []uint64, shift uint, top uint64, digit uint, count []int) ([]uint64, []uint64) {
	count = count[:1<<digit]
	mask := uint64(1)<<digit - 1
	for ; shift < 64 && top>>shift != 0; shift += digit {
		digitStarts(count, a, shift)
		for _, k := range a {
			d := (k >> shift) & mask
			b[count[d]] = k
			count[d]++
		}
		a, b = b, a
	}
	return a, b
}
