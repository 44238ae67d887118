package cluster

import (
	"math"
	"math/bits"
)

// A grid buckets the items of one level into square cells of side 2^shift
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
	shift uint
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

// cellShift returns the largest shift such that two points in one cell of
// side 2^shift are always within r of each other (side * sqrt2 < r), so that
// at most one point of a cell can start a cluster.
func cellShift(r float64) uint {
	k := uint(0)
	for k < 31 {
		s := math.Ldexp(1, int(k+1))
		if 2*s*s > r*r*0.999 {
			break
		}
		k++
	}
	return k
}

// cellReach is how many cells away an integer point within r can lie.
func cellReach(r float64, shift uint) int32 {
	side := math.Ldexp(1, int(shift))
	return int32(math.Ceil(math.Floor(r) / side))
}

const coordOffset = 1 << 29 // moves fixed point [-2^29, 2^29] to [0, 2^30]

func cellOf(v int32, shift uint) uint64 { return uint64(uint32(v+coordOffset) >> shift) }

// buildGrid sorts the items (given in rank order) into cells of side 2^shift.
// scratch buffers are reused between levels.
func buildGrid(g *grid, xs, ys, ws []int32, shift uint, reach int32, sc *sortScratch) {
	n := len(xs)
	g.shift, g.reach = shift, reach
	keys := growU64(&sc.keys, n)
	var maxCol uint64
	for i := range n {
		c := cellOf(xs[i], shift)
		if c > maxCol {
			maxCol = c
		}
		keys[i] = c
	}
	colBits := uint(bits.Len64(maxCol))
	for i := range n {
		keys[i] |= cellOf(ys[i], shift) << colBits
	}
	perm := radixSortPerm(keys, sc)

	g.x = growI32(&g.x, n)
	g.y = growI32(&g.y, n)
	g.w = growI32(&g.w, n)
	g.rank = growI32(&g.rank, n)
	g.cellKey = g.cellKey[:0]
	g.cellStart = g.cellStart[:0]
	prev := uint64(math.MaxUint64)
	colMask := uint64(1)<<colBits - 1
	for j, p := range perm {
		g.x[j], g.y[j], g.w[j], g.rank[j] = xs[p], ys[p], ws[p], p
		if k := keys[j]; k != prev {
			prev = k
			g.cellKey = append(g.cellKey, (k>>colBits)<<32|k&colMask)
			g.cellStart = append(g.cellStart, int32(j))
		}
	}
	g.cellStart = append(g.cellStart, int32(n))
}

// rowCursors finds, for a run of cells in increasing key order, the range of
// cells within reach on each of the 2*reach+1 rows around the current cell.
// Cursors only move forward, so walking every cell of the grid in order costs
// O(cells) per row in all.
type rowCursors struct {
	g      *grid
	lo, hi []int // per row offset: the cell range [lo, hi)
}

func newRowCursors(g *grid, fromCell int) *rowCursors {
	n := int(2*g.reach + 1)
	rc := &rowCursors{g: g, lo: make([]int, n), hi: make([]int, n)}
	// Start every cursor at the first cell of the row reach rows above.
	if fromCell < len(g.cellKey) {
		k := g.cellKey[fromCell]
		row := int64(k >> 32)
		first := lowerBound(g.cellKey, uint64(max(row-int64(g.reach), 0))<<32)
		for i := range rc.lo {
			rc.lo[i], rc.hi[i] = first, first
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
			continue
		}
		loKey := uint64(r)<<32 | uint64(max(col-int64(g.reach), 0))
		hiKey := uint64(r)<<32 | uint64(col+int64(g.reach))
		lo := rc.lo[i]
		for lo < len(keys) && keys[lo] < loKey {
			lo++
		}
		hi := max(rc.hi[i], lo)
		for hi < len(keys) && keys[hi] <= hiKey {
			hi++
		}
		rc.lo[i], rc.hi[i] = lo, hi
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
