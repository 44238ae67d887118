package cluster

import (
	"math"
	"math/bits"
	"sync"
)

// A grid buckets the items of one level into square cells of side about r/√2
// fixed-point units, sorted row-major by cell and, within a cell, by rank (the
// item's position in supercluster's visiting order). Neighbour look-ups walk
// whole rows of cells: the cells of one row that lie within reach of a query
// cell form one contiguous range of the sorted order, so a look-up costs one
// range per row and no hashing.
//
// Why a grid and not kdbush (supercluster's k-d tree): a level's grid is built
// by one radix sort and queried with monotone cursors, where a k-d tree costs
// a selection per node to build and a stack walk per query. Measured, this is
// the difference between a 1x and a 20x Go port (see BENCHMARKS.md).
type grid struct {
	cells cellSize
	reach int32 // cells to scan on each side: every item within r is within reach cells

	// Items in cell order: their coordinates, weights and ranks are copied
	// here so that scans touch contiguous memory.
	x, y, w []int32
	rank    []int32

	// Cells in row-major order: cellKey[c] is (row << 32 | col) and the items
	// of cell c are [cellStart[c], cellStart[c+1]).
	cellKey   []uint64
	cellStart []int32
}

// cellSize maps a fixed-point coordinate to its cell index. Cells are
// squares of side about r/sqrt2 (with a safety margin), so that two items of
// one cell are always within r of each other, and an item within r of another
// is at most two cells away.
type cellSize struct {
	inv float64 // 1 / side
}

func newCellSize(r float64) cellSize {
	side := math.Floor(r / math.Sqrt2 * 0.999)
	if side < 1 {
		side = 1
	}
	return cellSize{inv: 1 / side}
}

func (cs cellSize) of(v int32) uint64 { return uint64(float64(v+coordOffset) * cs.inv) }

// cellReach is how many cells away an item within r can lie.
func cellReach(r float64, cs cellSize) int32 {
	return int32(math.Ceil(r*cs.inv*1.000001)) + 0
}

const coordOffset = 1 << 29 // moves fixed point [-2^29, 2^29] to [0, 2^30]

// buildGrid sorts the items (given in rank order) into cells of size cs.
// scratch buffers are reused between levels.
func buildGrid(g *grid, xs, ys, ws []int32, cs cellSize, reach int32, sc *sortScratch, workers int) {
	n := len(xs)
	g.cells, g.reach = cs, reach
	keys := growU64(&sc.keys, n)
	var maxCol uint64
	for i := range n {
		c := cs.of(xs[i])
		if c > maxCol {
			maxCol = c
		}
		keys[i] = c
	}
	colBits := uint(bits.Len64(maxCol))
	for i := range n {
		keys[i] |= cs.of(ys[i]) << colBits
	}
	perm := radixSortPerm(keys, sc)

	g.x = growI32(&g.x, n)
	g.y = growI32(&g.y, n)
	g.w = growI32(&g.w, n)
	g.rank = growI32(&g.rank, n)
	gather(workers, n, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			p := perm[j]
			g.x[j], g.y[j], g.w[j], g.rank[j] = xs[p], ys[p], ws[p], p
		}
	})
	g.cellKey = g.cellKey[:0]
	g.cellStart = g.cellStart[:0]
	prev := uint64(math.MaxUint64)
	colMask := uint64(1)<<colBits - 1
	for j := range perm {
		if k := keys[j]; k != prev {
			prev = k
			g.cellKey = append(g.cellKey, (k>>colBits)<<32|k&colMask)
			g.cellStart = append(g.cellStart, int32(j))
		}
	}
	g.cellStart = append(g.cellStart, int32(n))
}

// rowCursors finds, for a run of cells in increasing key order, the first
// cell within reach on each of the 2*reach+1 rows around the current cell;
// callers scan from there while keys stay at or below hiKey(i). Cursors only
// move forward, with a galloping search, so walking the cells of a grid in
// order costs O(cells) per row in all and skipping cells is cheap.
type rowCursors struct {
	g     *grid
	lo    []int    // per row offset: the monotone cursor
	from  []int    // per row offset: first cell to scan (len(cellKey) when none)
	hiKey []uint64 // per row offset: last key within reach
}

func newRowCursors(g *grid, fromCell int) *rowCursors {
	n := int(2*g.reach + 1)
	rc := &rowCursors{g: g, lo: make([]int, n), from: make([]int, n), hiKey: make([]uint64, n)}
	if fromCell < len(g.cellKey) {
		k := g.cellKey[fromCell]
		row := int64(k >> 32)
		first := lowerBound(g.cellKey, uint64(max(row-int64(g.reach), 0))<<32)
		for i := range rc.lo {
			rc.lo[i] = first
		}
	}
	return rc
}

// advance positions the cursors for cell c. It must be called with
// non-decreasing c.
func (rc *rowCursors) advance(c int) {
	g := rc.g
	k := g.cellKey[c]
	row, col := int64(k>>32), int64(k&0xffffffff)
	keys := g.cellKey
	for i := range rc.lo {
		r := row + int64(i) - int64(g.reach)
		if r < 0 {
			rc.from[i] = len(keys) // a row above the world: nothing to scan
			continue
		}
		loKey := uint64(r)<<32 | uint64(max(col-int64(g.reach), 0))
		rc.hiKey[i] = uint64(r)<<32 | uint64(col+int64(g.reach))
		lo := min(rc.lo[i], len(keys))
		if lo < len(keys) && keys[lo] < loKey {
			// gallop, then binary search
			step := 1
			for lo+step < len(keys) && keys[lo+step] < loKey {
				lo += step
				step <<= 1
			}
			hi := min(lo+step, len(keys))
			lo = lo + 1 + lowerBound(keys[lo+1:hi], loKey)
		}
		rc.lo[i], rc.from[i] = lo, lo
	}
}

func lowerBound(keys []uint64, k uint64) int {
	lo, hi := 0, len(keys)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if keys[m] < k {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// sortScratch holds the buffers of radixSortPerm between levels.
type sortScratch struct {
	keys, keys2 []uint64
	perm, perm2 []int32
	counts      []int
}

// radixSortPerm sorts keys in place (LSD radix, 11-bit digits, stable) and
// returns the permutation: perm[j] is the original index of the j-th key.
// Stability keeps equal keys in index (rank) order. Digits that are the same
// for every key are skipped.
func radixSortPerm(keys []uint64, sc *sortScratch) []int32 {
	n := len(keys)
	perm := growI32(&sc.perm, n)
	for i := range perm {
		perm[i] = int32(i)
	}
	var or, and uint64 = 0, math.MaxUint64
	for _, k := range keys {
		or |= k
		and &= k
	}
	diff := or ^ and // bits that vary
	const digit = 11
	const buckets = 1 << digit
	if cap(sc.counts) < buckets {
		sc.counts = make([]int, buckets)
	}
	counts := sc.counts[:buckets]
	src, dst := keys, growU64(&sc.keys2, n)
	psrc, pdst := perm, growI32(&sc.perm2, n)
	swapped := false
	for shift := uint(0); shift < 64; shift += digit {
		if (diff>>shift)&(buckets-1) == 0 {
			continue
		}
		clear(counts)
		for _, k := range src {
			counts[(k>>shift)&(buckets-1)]++
		}
		sum := 0
		for i, c := range counts {
			counts[i] = sum
			sum += c
		}
		for i, k := range src {
			d := (k >> shift) & (buckets - 1)
			at := counts[d]
			counts[d] = at + 1
			dst[at] = k
			pdst[at] = psrc[i]
		}
		src, dst = dst, src
		psrc, pdst = pdst, psrc
		swapped = !swapped
	}
	if swapped {
		copy(keys, src)
		copy(perm, psrc)
	}
	return perm
}

func growI32(s *[]int32, n int) []int32 {
	if cap(*s) < n {
		*s = make([]int32, n)
	}
	*s = (*s)[:n]
	return *s
}

func growU64(s *[]uint64, n int) []uint64 {
	if cap(*s) < n {
		*s = make([]uint64, n)
	}
	*s = (*s)[:n]
	return *s
}

// cellOf returns the cell of item position j.
func (g *grid) cellOf(j int32) int32 {
	// cells are sorted by start; find the last cell starting at or before j
	lo, hi := 0, len(g.cellStart)-1
	for lo < hi {
		m := int(uint(lo+hi+1) >> 1)
		if g.cellStart[m] <= j {
			lo = m
		} else {
			hi = m - 1
		}
	}
	return int32(lo)
}

// gather runs fn over [0, n) split into one contiguous range per worker. It
// is for loops whose iterations write disjoint slots, so the split never
// changes the result.
func gather(workers, n int, fn func(lo, hi int)) {
	if workers <= 1 || n < 1<<15 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += step {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, min(lo+step, n))
	}
	wg.Wait()
}
