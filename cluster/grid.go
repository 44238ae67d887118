package cluster

import (
	"math"
	"math/bits"
	"sync/atomic"

	"github.com/mapcluster/mapcluster/internal/hugepage"
)

// The grid: at zoom z the items of level z+1 are bucketed into square cells
// of side S·2^k fixed-point units, where k = maxZoom - z and S is the largest
// integer with S·√2 < r(maxZoom). Since r doubles with every zoom out, the
// cells of every zoom are at most r/√2 wide, so:
//
//   - two items of one cell are within r of each other, and a cell holds at
//     most one seed;
//   - an item within r of another lies at most reach (usually 2) cells away;
//   - the cells of zoom z-1 are exactly 2×2 blocks of the cells of zoom z, so
//     the next level's order comes from a linear merge of row pairs, not a sort.
//
// Items are kept in row-major cell order, and by rank within a cell. The
// cells of one row that lie within reach of a query cell form one contiguous
// range, so a neighbour look-up costs one range per row and no hashing.
//
// Why a grid and not kdbush (supercluster's k-d tree): the grid is never
// rebuilt from scratch, where a k-d tree costs a selection per node per zoom;
// and a look-up is a few cursor moves, where a k-d query walks a stack.
type grid struct {
	fine  fineCells
	shift uint  // cell = fine cell >> shift
	reach int32 // cells to scan on each side

	lv level // the items, in cell order

	// Cells in row-major order: cell c is in column cellCol[c] and holds the
	// items [cellStart[c], cellStart[c+1]). Its row is the row whose cells
	// include c: occupied row i has the value rowVal[i] and the cells
	// [rowFirst[i], rowFirst[i+1]). (Four-byte columns rather than
	// eight-byte row-and-column keys: at 10M points the cell tables are
	// among the largest arrays at the peak of a build.)
	cellCol   []uint32
	cellStart []int32
	rowVal    []uint32
	rowFirst  []int32
	// cellHead[c] is the order key of cell c's first item (its lowest), kept
	// beside the columns so that scanning neighbours reads no item data.
	cellHead []int32
}

// level is one level's items, structure of arrays: fixed-point position,
// weight (point count), order key and item number. The order key orders
// items as supercluster visits them; it is the input index at the top level
// and is kept by a seed's cluster, so only relative order is meaningful.
type level struct {
	x, y, w, key, item []int32
}

func (l *level) len() int { return len(l.x) }

func (l *level) resize(n int) {
	l.x = grow(&l.x, n)
	l.y = grow(&l.y, n)
	l.w = grow(&l.w, n)
	l.key = grow(&l.key, n)
	l.item = grow(&l.item, n)
}

const coordOffset = 1 << 29 // moves fixed point [-2^29, 2^29] to [0, 2^30]

// fineCells divides a fixed-point coordinate by the fine cell side S with a
// multiply and a shift. With sh = 31 + ceil(log2 S) and mul = ceil(2^sh / S)
// the quotient is exact for every value below 2^31 (Granlund and
// Montgomery), and the product fits in 64 bits.
type fineCells struct {
	side uint64
	mul  uint64
	sh   uint
}

func newFineCells(side uint64) fineCells {
	l := uint(bits.Len64(side - 1)) // ceil(log2 side)
	sh := 31 + l
	num := uint64(1) << sh
	mul := num / side
	if mul*side != num {
		mul++
	}
	return fineCells{side: side, mul: mul, sh: sh}
}

func (f fineCells) of(v int32) uint32 { return uint32(uint64(v+coordOffset) * f.mul >> f.sh) }

// fineSide is the fine cell side for a radius r at maxZoom.
func fineSide(r float64) uint64 {
	s := math.Floor(r / math.Sqrt2 * 0.999)
	if s < 1 {
		return 1
	}
	return uint64(s)
}

// reachFor is how many cells of side S·2^shift an item within r can lie away.
func reachFor(r float64, side uint64, shift uint) int32 {
	w := float64(side) * math.Ldexp(1, int(shift))
	return max(1, int32(math.Ceil(math.Floor(r)/w)))
}

func (g *grid) cellKeyOf(x, y int32) uint64 {
	return uint64(g.fine.of(y)>>g.shift)<<32 | uint64(g.fine.of(x)>>g.shift)
}

// colBits is the number of bits of a cell's column at cell shift sh. Keys
// for sorting pack row<<colBits | col rather than row<<32 | col: the radix
// sort skips only digits that no key sets, and with 17 bits of row and 17
// of column at 10M points the spread-out key made it take five passes of 11
// bits instead of four.
func (g *grid) colBits(sh uint) uint { return uint(bits.Len32(g.fine.of(1<<29) >> sh)) }

// packKey turns a cell key (row<<32 | col) into a sort key whose columns
// take cb bits (colBits); unpackKey turns it back. Both keep the order.
func packKey(ck uint64, cb uint) uint64 { return ck>>32<<cb | ck&math.MaxUint32 }

func unpackKey(k uint64, cb uint) uint64 { return k>>cb<<32 | k&(1<<cb-1) }

// buildCells scans the items (already in cell order) into the cell and row
// tables.
func (g *grid) buildCells() {
	g.cellCol, g.cellStart = g.cellCol[:0], g.cellStart[:0]
	g.rowVal, g.rowFirst = g.rowVal[:0], g.rowFirst[:0]
	prev := uint64(math.MaxUint64)
	for j := range g.lv.x {
		k := g.cellKeyOf(g.lv.x[j], g.lv.y[j])
		if k == prev {
			continue
		}
		if row := uint32(k >> 32); len(g.rowVal) == 0 || row != g.rowVal[len(g.rowVal)-1] {
			g.rowVal = append(g.rowVal, row)
			g.rowFirst = append(g.rowFirst, int32(len(g.cellCol)))
		}
		prev = k
		g.cellCol = append(g.cellCol, uint32(k))
		g.cellStart = append(g.cellStart, int32(j))
	}
	g.cellStart = append(g.cellStart, int32(len(g.lv.x)))
	g.rowFirst = append(g.rowFirst, int32(len(g.cellCol)))
}

// buildHeads records every cell's lowest order key.
func (g *grid) buildHeads(tm *team) {
	head := grow(&g.cellHead, len(g.cellCol))
	tm.gather(len(head), func(lo, hi int) {
		for c := lo; c < hi; c++ {
			head[c] = g.lv.key[g.cellStart[c]]
		}
	})
}

// rowChunks splits the rows into chunks of about size cells, returned as
// row boundaries. It depends only on the grid, never on the worker count.
func (g *grid) rowChunks(size int) []int32 {
	bounds := []int32{0}
	start := int32(0)
	for ri := range g.rowVal {
		if int(g.rowFirst[ri+1]-g.rowFirst[start]) >= size {
			bounds = append(bounds, int32(ri+1))
			start = int32(ri + 1)
		}
	}
	if bounds[len(bounds)-1] != int32(len(g.rowVal)) {
		bounds = append(bounds, int32(len(g.rowVal)))
	}
	return bounds
}

// neighbourRows walks the cells of one row at a time and keeps, for each
// occupied row within reach of it, a cursor at the first cell that can be
// within reach of the current cell. Callers scan a row's cells from nr.from[i]
// while their column is at most nr.hiCol, in the rows from nr.lo on. Rows
// are found once per row, and a cursor only moves forward along its own
// row, so a sparse grid, where most rows within reach are empty, costs
// little per cell.
type neighbourRows struct {
	g     *grid
	from  []int32  // per occupied neighbour row: first cell to scan
	end   []int32  // per occupied neighbour row: end of its cells
	row   []uint32 // per occupied neighbour row: its value
	hiCol uint32
	lo    int // the first neighbour row that the current cell can reach
	self  int // the current row's index in from
	// the current row's cells
	rowLo, rowHi int32
	r            int32 // floor(r), capped: no item within r is farther on either axis
}

func newNeighbourRows(g *grid, r float64) *neighbourRows {
	n := 2*g.reach + 1
	return &neighbourRows{g: g, from: make([]int32, 0, n), end: make([]int32, 0, n), row: make([]uint32, 0, n), r: int32(min(math.Floor(r), coordOffset*2))}
}

// setRow prepares the cursors for the cells of occupied row ri.
func (nr *neighbourRows) setRow(ri int) {
	g := nr.g
	nr.from, nr.end, nr.row = nr.from[:0], nr.end[:0], nr.row[:0]
	nr.rowLo, nr.rowHi = g.rowFirst[ri], g.rowFirst[ri+1]
	row := int64(g.rowVal[ri])
	lo := max(ri-int(g.reach), 0)
	hi := min(ri+int(g.reach), len(g.rowVal)-1)
	for k := lo; k <= hi; k++ {
		if d := int64(g.rowVal[k]) - row; d >= -int64(g.reach) && d <= int64(g.reach) {
			if k == ri {
				nr.self = len(nr.from)
			}
			nr.from = append(nr.from, g.rowFirst[k])
			nr.end = append(nr.end, g.rowFirst[k+1])
			nr.row = append(nr.row, g.rowVal[k])
		}
	}
}

// aloneInRow reports whether no other cell of c's row, whose cells are
// [lo, hi), lies within reach of it (cells of a row are sorted by column,
// so only the next ones can).
func (g *grid) aloneInRow(c, lo, hi int32) bool {
	col, reach := g.cellCol[c], uint32(g.reach)
	if c > lo && col-g.cellCol[c-1] <= reach {
		return false
	}
	if c+1 < hi && g.cellCol[c+1]-col <= reach {
		return false
	}
	return true
}

// window sets the window of cell c, a cell of the current row, whose
// items span [xlo, xhi] and lie at ylo or below: an item within r of one of
// them lies in a column from that of xlo-r to that of xhi+r, and, among the
// rows up to the current one, in a row from that of ylo-r on. It moves the
// cursors of those rows to the window's first column. Calls come with c
// increasing, and so xlo, since the cells of a row are sorted by column:
// the cursors only move forward. The window is up to reach cells wide on
// each side, and usually less: with cells of r/√2, an item reaches 2.8
// columns on average rather than 5 (and 1.4 rows above rather than 2).
func (nr *neighbourRows) window(xlo, xhi, ylo int32) {
	g := nr.g
	keys := g.cellCol
	lo := min(max(int64(xlo)-int64(nr.r), -coordOffset), coordOffset)
	hi := min(max(int64(xhi)+int64(nr.r), -coordOffset), coordOffset)
	yl := min(max(int64(ylo)-int64(nr.r), -coordOffset), coordOffset)
	loCol := g.fine.of(int32(lo)) >> g.shift
	nr.hiCol = g.fine.of(int32(hi)) >> g.shift
	loRow := g.fine.of(int32(yl)) >> g.shift
	nr.lo = nr.self
	for nr.lo > 0 && nr.row[nr.lo-1] >= loRow {
		nr.lo--
	}
	for i := nr.lo; i <= nr.self; i++ {
		f, e := nr.from[i], nr.end[i]
		for f < e && keys[f] < loCol {
			f++
		}
		nr.from[i] = f
	}
}

// sortScratch holds the buffers of radixSortPerm.
type sortScratch struct {
	keys2       []uint64
	perm, perm2 []int32
	counts      []int
	local       []int32 // per worker: the histograms of radixSort.bucket
}

// radixSortPerm sorts keys in place (radix, stable) and returns the
// permutation: perm[j] is the original index of the j-th key, and is
// sc.perm. Stability keeps equal keys in index order, so the result is
// defined by the keys alone, whatever the order of the passes and however
// the work is split.
//
// Inputs below radixMSDMin take LSD passes of 11-bit digits (radixLSD).
// Larger ones take one MSD pass on the top significant digit and then sort
// each bucket on its own (radixSort.msd): a bucket fits in cache, where
// each LSD pass over all the keys reads and writes them all in main memory,
// its writes to 2048 places at once missing the cache. At 10M keys shaped
// like isolationZooms' (37 significant bits: four LSD passes) the sort
// went from 431 to 302 ms on one worker and from 235 to 154 on two; at 1M
// from 22.9 to 23.7 ms on one and from 13.0 to 10.7 on two (medians of
// seven rounds alternating both in one process).
func radixSortPerm(keys []uint64, sc *sortScratch, tm *team) []int32 {
	n := len(keys)
	perm := grow(&sc.perm, n)
	if n < radixMSDMin {
		radixLSD(keys, perm, sc, tm)
		return perm
	}
	s := radixSort{
		k:  [2][]uint64{keys, grow(&sc.keys2, n)},
		p:  [2][]int32{perm, grow(&sc.perm2, n)},
		sc: sc,
		tm: tm,
	}
	s.msd(0, n, 0, true)
	return perm
}

// radixMSDMin is the smallest input radixSortPerm sorts MSD first. At 2^16
// keys (36 bits) the MSD sort took 0.96 of the LSD passes' time on one
// worker and 0.73 on two; smaller inputs fit in the L2 cache anyway.
const radixMSDMin = 1 << 16

// radixBucketMax is the largest bucket radixSort.bucket sorts in one go,
// 768 KB of keys and permutation in each buffer; larger ones, where
// clustered keys crowd one digit, take another MSD pass.
const radixBucketMax = 1 << 16

// radixLSD sorts keys in place (LSD radix, 11-bit digits, stable) and
// writes the permutation to perm. Digits that are the same for every key
// are skipped. Inputs of 2^15 keys or more are sorted by the team's
// workers, each counting and then scattering its own contiguous range; the
// ranges are fixed by the input size, and each goroutine's share of a
// bucket follows the previous one's, so the result is the same for any
// number of workers.
func radixLSD(keys []uint64, perm []int32, sc *sortScratch, tm *team) {
	n := len(keys)
	var or, and uint64 = 0, math.MaxUint64
	for _, k := range keys {
		or |= k
		and &= k
	}
	diff := or ^ and
	const digit = 11
	const buckets = 1 << digit
	parts := 1
	if tm.size() > 1 && n >= 1<<15 {
		parts = tm.size()
	}
	step := (n + parts - 1) / parts
	if cap(sc.counts) < buckets*parts {
		sc.counts = make([]int, buckets*parts)
	}
	counts := sc.counts[:buckets*parts]
	src, dst := keys, grow(&sc.keys2, n)
	psrc, pdst := perm, grow(&sc.perm2, n)
	swapped, fresh := false, true
	for shift := uint(0); shift < 64; shift += digit {
		if (diff>>shift)&(buckets-1) == 0 {
			continue
		}
		clear(counts)
		run := func(fn func(w, lo, hi int)) {
			if parts == 1 {
				fn(0, 0, n)
				return
			}
			tm.forEach(parts, func(w int) {
				fn(w, min(w*step, n), min((w+1)*step, n))
			})
		}
		run(func(w, lo, hi int) {
			c := counts[w*buckets : (w+1)*buckets]
			for _, k := range src[lo:hi] {
				c[(k>>shift)&(buckets-1)]++
			}
		})
		sum := 0
		for d := range buckets {
			for w := range parts {
				c := counts[w*buckets+d]
				counts[w*buckets+d] = sum
				sum += c
			}
		}
		// The first pass writes the permutation's indices rather than
		// reading an identity permutation written before.
		from := psrc
		if fresh {
			from = nil
		}
		run(func(w, lo, hi int) {
			scatter(counts[w*buckets:(w+1)*buckets], src, dst, from, pdst, shift, buckets-1, lo, hi)
		})
		fresh = false
		src, dst = dst, src
		psrc, pdst = pdst, psrc
		swapped = !swapped
	}
	switch {
	case fresh: // every key equal
		for i := range perm {
			perm[i] = int32(i)
		}
	case swapped:
		copy(keys, src)
		copy(perm, psrc)
	}
}

// scatter moves keys [lo, hi) of src to dst by the digit (k>>shift)&mask,
// each to the next slot of its digit in c, and their permutation entries
// with them: psrc[i], or i itself when psrc is nil (the first pass, which
// so needs no identity permutation written before it).
func scatter(c []int, src, dst []uint64, psrc, pdst []int32, shift uint, mask uint64, lo, hi int) {
	fresh := psrc == nil // the same every time round: predicted
	for i := lo; i < hi; i++ {
		k := src[i]
		d := (k >> shift) & mask
		at := c[d]
		c[d] = at + 1
		dst[at] = k
		if fresh {
			pdst[at] = int32(i)
		} else {
			pdst[at] = psrc[i]
		}
	}
}

// radixSort is one MSD sort: buffer 0 is the keys and perm the caller
// gets, buffer 1 the scratch. A range of keys sits in one buffer or the
// other as passes move it, and ends in buffer 0.
type radixSort struct {
	k  [2][]uint64
	p  [2][]int32
	sc *sortScratch
	tm *team
}

// msd sorts [lo, hi), which is in buffer in, into buffer 0; with fresh the
// permutation is the identity, not yet written, and the scatter writes the
// indices instead of reading it. It scatters the range by its top
// significant digit (at most radixDigit bits, fewer for buckets of about
// 2^radixBucketBits keys) into the other buffer, the team's workers each
// counting and scattering a contiguous run as in radixLSD, and then sorts
// every bucket: those above radixBucketMax one by one, each by msd with the
// team, the others spread over the workers, which take the next unsorted
// bucket in turn. Each bucket's sort is stable and writes only its own
// range, so the split never changes the result.
//
// Software write-combining in the scatter (8-key buffers per bucket,
// written out a cache line at a time) made the 10M sort slower: 0.78 of the
// LSD passes' time against 0.68-0.72 without.
func (s *radixSort) msd(lo, hi, in int, fresh bool) {
	n := hi - lo
	tm := s.tm
	parts := 1
	if tm.size() > 1 && n >= 1<<15 {
		parts = tm.size()
	}
	step := (n + parts - 1) / parts
	run := func(fn func(w, lo, hi int)) {
		if parts == 1 {
			fn(0, lo, hi)
			return
		}
		tm.forEach(parts, func(w int) {
			fn(w, lo+min(w*step, n), lo+min((w+1)*step, n))
		})
	}
	src, psrc := s.k[in], s.p[in]
	out := 1 - in
	dst, pdst := s.k[out], s.p[out]

	ors := make([]uint64, 2*parts)
	run(func(w, a, b int) {
		var or, and uint64 = 0, math.MaxUint64
		for _, k := range src[a:b] {
			or |= k
			and &= k
		}
		ors[2*w], ors[2*w+1] = or, and
	})
	var or, and uint64 = 0, math.MaxUint64
	for w := range parts {
		or |= ors[2*w]
		and &= ors[2*w+1]
	}
	diff := or ^ and
	if diff == 0 { // every key equal: already in order
		run(func(_, a, b int) {
			if in != 0 {
				copy(s.k[0][a:b], src[a:b])
			}
			switch {
			case fresh:
				for i := a; i < b; i++ {
					s.p[0][i] = int32(i)
				}
			case in != 0:
				copy(s.p[0][a:b], psrc[a:b])
			}
		})
		return
	}
	top := uint(bits.Len64(diff))
	low := uint(bits.TrailingZeros64(diff))
	width := min(radixDigit, top-low, uint(max(bits.Len(uint(n))-radixBucketBits, 1)))
	shift := top - width
	buckets := 1 << width
	mask := uint64(buckets - 1)

	if cap(s.sc.counts) < buckets*parts {
		s.sc.counts = make([]int, buckets*parts)
	}
	counts := s.sc.counts[:buckets*parts]
	clear(counts)
	run(func(w, a, b int) {
		c := counts[w*buckets : (w+1)*buckets]
		for _, k := range src[a:b] {
			c[(k>>shift)&mask]++
		}
	})
	// starts[d] is where bucket d begins; starts[buckets] = hi.
	starts := make([]int, buckets+1)
	sum := lo
	for d := range buckets {
		starts[d] = sum
		for w := range parts {
			c := counts[w*buckets+d]
			counts[w*buckets+d] = sum
			sum += c
		}
	}
	starts[buckets] = hi
	from := psrc
	if fresh {
		from = nil
	}
	run(func(w, a, b int) {
		scatter(counts[w*buckets:(w+1)*buckets], src, dst, from, pdst, shift, mask, a, b)
	})

	if shift == low { // the digit was the last one: the buckets are sorted
		if out != 0 {
			run(func(_, a, b int) {
				copy(s.k[0][a:b], dst[a:b])
				copy(s.p[0][a:b], pdst[a:b])
			})
		}
		return
	}
	// The large buckets, one by one with the team.
	for d := range buckets {
		if a, b := starts[d], starts[d+1]; b-a > radixBucketMax {
			s.msd(a, b, out, false)
		}
	}
	// The others, each on one worker.
	const histMax = 6 << radixDigit // six 11-bit digits: 64 bits
	if len(s.sc.local) < histMax*tm.size() {
		s.sc.local = make([]int32, histMax*tm.size())
	}
	var next atomic.Int64
	tm.forEach(tm.size(), func(w int) {
		hist := s.sc.local[w*histMax : (w+1)*histMax]
		for d := int(next.Add(1) - 1); d < buckets; d = int(next.Add(1) - 1) {
			if a, b := starts[d], starts[d+1]; b-a <= radixBucketMax {
				s.bucket(a, b, out, low, shift, hist)
			}
		}
	})
}

// radixDigit is the widest digit of a pass, in bits: 2048 buckets.
const radixDigit = 11

// radixBucketBits sets the width of msd's digit: the buckets it leaves hold
// 2^radixBucketBits keys on average (at most 2^11 buckets), enough to pay
// for a bucket's counts and few enough to sit in the 2 MB L2 cache. With
// 2048 buckets of 500 keys at 1M keys, the sort was no faster than the LSD
// passes and 3.8 times slower at 2^16 keys (buckets of 32); 12, 14 and 16
// gave the same times at 10M within the noise, 16 was 8-25% slower at 1M
// and 2^16.
const radixBucketBits = 12

// bucket sorts [lo, hi), which is in buffer in and whose keys agree on every
// bit outside [low, top), into buffer 0: LSD passes of equal digits of at
// most radixDigit bits over [low, top), counted together in one read of the
// keys, skipping the digits that are the same for every key of the bucket.
// hist is scratch for the counts.
func (s *radixSort) bucket(lo, hi, in int, low, top uint, hist []int32) {
	n := hi - lo
	if n <= 16 {
		// Insertion sort, stable: cheaper than clearing and summing the
		// counts of the passes.
		k, p := s.k[0][lo:hi], s.p[0][lo:hi]
		if in != 0 {
			copy(k, s.k[in][lo:hi])
			copy(p, s.p[in][lo:hi])
		}
		for i := 1; i < n; i++ {
			ki, pi := k[i], p[i]
			j := i
			for ; j > 0 && k[j-1] > ki; j-- {
				k[j], p[j] = k[j-1], p[j-1]
			}
			k[j], p[j] = ki, pi
		}
		return
	}
	span := top - low // > 0: msd leaves no bucket without a digit to sort
	passes := (span + radixDigit - 1) / radixDigit
	width := (span + passes - 1) / passes
	size := 1 << width
	mask := uint64(size - 1)
	hist = hist[:int(passes)*size]
	clear(hist)
	if passes == 3 {
		// isolationZooms' keys leave 25 bits: three passes. Unrolled, the
		// counting took 7% less of a 4096-key bucket's sort.
		h0, h1, h2 := hist[:size], hist[size:2*size], hist[2*size:3*size]
		for _, k := range s.k[in][lo:hi] {
			k >>= low
			h0[k&mask]++
			h1[(k>>width)&mask]++
			h2[(k>>(2*width))&mask]++
		}
	} else {
		for _, k := range s.k[in][lo:hi] {
			k >>= low
			for d := range passes {
				hist[int(d)*size+int((k>>(d*width))&mask)]++
			}
		}
	}
	for d := range passes {
		h := hist[int(d)*size : int(d+1)*size]
		shift := low + d*width
		if h[(s.k[in][lo]>>shift)&mask] == int32(n) {
			continue // the same for every key of the bucket
		}
		sum := int32(lo)
		for i, c := range h {
			h[i] = sum
			sum += c
		}
		src, psrc := s.k[in][lo:hi], s.p[in][lo:hi]
		dst, pdst := s.k[1-in], s.p[1-in]
		for i, k := range src {
			x := (k >> shift) & mask
			at := h[x]
			h[x] = at + 1
			dst[at] = k
			pdst[at] = psrc[i]
		}
		in = 1 - in
	}
	if in != 0 {
		copy(s.k[0][lo:hi], s.k[1][lo:hi])
		copy(s.p[0][lo:hi], s.p[1][lo:hi])
	}
}

// grow returns *s resliced to n, reallocated when its capacity is short, so
// that per-zoom scratch is allocated once per build. A large buffer more
// than twice too big is reallocated too: levels shrink by orders of
// magnitude towards zoom 0, and the index they feed keeps growing, so
// holding the buffers of the densest level to the end would set the peak
// memory of a build.
func grow[T any](s *[]T, n int) []T {
	if c := cap(*s); c < n || c > 2*n && c > 1<<16 {
		*s = hugepage.Advise(make([]T, n))
	}
	*s = (*s)[:n]
	return *s
}
