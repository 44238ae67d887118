package geom

import "slices"

// RTree is a static R-tree over boxes, packed along a Hilbert curve of the
// box centres: it adapts to uneven density, where a uniform grid does not,
// and packs in linear time (a radix sort). Read-only after NewRTree; safe
// for concurrent queries.
type RTree struct {
	nodes []rnode
	items []int32 // box ids, in leaf order
	boxes []BBox  // their boxes, in leaf order
	root  int32
}

type rnode struct {
	bb           BBox
	first, count int32 // children: nodes, or items for a leaf
	leaf         bool
}

const rtreeFan = 16

// NewRTree packs the boxes; their index is the id Search reports. Empty
// boxes (MinX > MaxX) are left out.
func NewRTree(boxes []BBox) *RTree {
	t := &RTree{root: -1}
	ext := EmptyBBox()
	n := 0
	for _, b := range boxes {
		if b.MinX <= b.MaxX {
			ext.Extend(Point{(b.MinX + b.MaxX) / 2, (b.MinY + b.MaxY) / 2})
			n++
		}
	}
	if n == 0 {
		return t
	}
	sx, sy := 65535/(ext.MaxX-ext.MinX), 65535/(ext.MaxY-ext.MinY)
	if !(sx < 1e300) {
		sx = 0
	}
	if !(sy < 1e300) {
		sy = 0
	}
	keys := make([]uint64, 0, n)
	for i, b := range boxes {
		if b.MinX > b.MaxX {
			continue
		}
		x := uint32(((b.MinX+b.MaxX)/2 - ext.MinX) * sx)
		y := uint32(((b.MinY+b.MaxY)/2 - ext.MinY) * sy)
		keys = append(keys, uint64(hilbert(x, y))<<32|uint64(i))
	}
	radixSort(keys)
	t.items = make([]int32, n)
	t.boxes = make([]BBox, n)
	for k, key := range keys {
		id := int32(uint32(key))
		t.items[k] = id
		t.boxes[k] = boxes[id]
	}
	level := make([]int32, 0, n/rtreeFan+1)
	for s := 0; s < n; s += rtreeFan {
		e := min(s+rtreeFan, n)
		bb := EmptyBBox()
		for _, b := range t.boxes[s:e] {
			bb.Union(b)
		}
		level = append(level, int32(len(t.nodes)))
		t.nodes = append(t.nodes, rnode{bb: bb, first: int32(s), count: int32(e - s), leaf: true})
	}
	for len(level) > 1 {
		next := make([]int32, 0, len(level)/rtreeFan+1)
		for s := 0; s < len(level); s += rtreeFan {
			e := min(s+rtreeFan, len(level))
			bb := EmptyBBox()
			for _, c := range level[s:e] {
				bb.Union(t.nodes[c].bb)
			}
			next = append(next, int32(len(t.nodes)))
			// Nodes of a level are contiguous, so children are level[s:e].
			t.nodes = append(t.nodes, rnode{bb: bb, first: level[s], count: int32(e - s)})
		}
		level = next
	}
	t.root = level[0]
	return t
}

// hilbert returns the position of (x, y) on a Hilbert curve over a
// 65536 × 65536 grid. The quadrant's reflection and the swap are applied
// through masks rather than branches, which depend on the bits of x and y
// and were mispredicted: the block tree of countries-10m (34k boxes) took
// 9.8 ms instead of 11.0 (best of 32, one core); the positions are the
// same.
func hilbert(x, y uint32) uint32 {
	var d uint32
	for s := uint32(1 << 15); s > 0; s >>= 1 {
		rx := uint32(bit(x&s != 0))
		ry := uint32(bit(y&s != 0))
		d += s * s * ((3 * rx) ^ ry)
		// When ry == 0: reflect the low bits if rx == 1, then swap.
		flip := (s - 1) & -(rx &^ ry)
		x ^= flip
		y ^= flip
		swap := (x ^ y) & -(ry ^ 1)
		x ^= swap
		y ^= swap
	}
	return d
}

// radixSort sorts keys by their upper 32 bits, stably (ids break ties in
// input order).
func radixSort(keys []uint64) {
	if len(keys) < 1<<14 {
		slices.Sort(keys) // ids are unique: same order as stable
		return
	}
	tmp := make([]uint64, len(keys))
	src, dst := keys, tmp
	for shift := uint(32); shift < 64; shift += 16 {
		var count [65537]int
		for _, k := range src {
			count[(k>>shift)&0xFFFF+1]++
		}
		for i := 1; i < len(count); i++ {
			count[i] += count[i-1]
		}
		for _, k := range src {
			b := (k >> shift) & 0xFFFF
			dst[count[b]] = k
			count[b]++
		}
		src, dst = dst, src
	}
}

// Search calls fn with the id of every box that overlaps q, until fn
// returns false.
func (t *RTree) Search(q BBox, fn func(id int32) bool) {
	if t.root < 0 {
		return
	}
	var stack [64]int32
	sp := 0
	stack[sp] = t.root
	sp++
	for sp > 0 {
		sp--
		n := &t.nodes[stack[sp]]
		if !n.bb.Overlaps(q) {
			continue
		}
		if n.leaf {
			for k := n.first; k < n.first+n.count; k++ {
				if t.boxes[k].Overlaps(q) && !fn(t.items[k]) {
					return
				}
			}
			continue
		}
		for c := n.first; c < n.first+n.count; c++ {
			if t.nodes[c].bb.Overlaps(q) {
				if sp == len(stack) {
					// Deeper than any packed tree gets; fall back to recursion.
					t.searchFrom(c, q, fn)
					continue
				}
				stack[sp] = c
				sp++
			}
		}
	}
}

func (t *RTree) searchFrom(i int32, q BBox, fn func(int32) bool) bool {
	n := &t.nodes[i]
	if n.leaf {
		for k := n.first; k < n.first+n.count; k++ {
			if t.boxes[k].Overlaps(q) && !fn(t.items[k]) {
				return false
			}
		}
		return true
	}
	for c := n.first; c < n.first+n.count; c++ {
		if t.nodes[c].bb.Overlaps(q) && !t.searchFrom(c, q, fn) {
			return false
		}
	}
	return true
}

// SearchInto appends to buf the ids of the boxes that overlap q. It repeats
// Search's walk without the callback on purpose: it is the inner loop of
// every level's conflict search, where a call per hit (fn cannot be
// inlined) is measurable; the test checks both against brute force.
func (t *RTree) SearchInto(q BBox, buf []int32) []int32 {
	if t.root < 0 {
		return buf
	}
	var stack [64]int32
	sp := 0
	stack[sp] = t.root
	sp++
	for sp > 0 {
		sp--
		n := &t.nodes[stack[sp]]
		if n.leaf {
			for k := n.first; k < n.first+n.count; k++ {
				if t.boxes[k].Overlaps(q) {
					buf = append(buf, t.items[k])
				}
			}
			continue
		}
		for c := n.first; c < n.first+n.count; c++ {
			if t.nodes[c].bb.Overlaps(q) {
				if sp == len(stack) {
					t.searchFrom(c, q, func(id int32) bool { buf = append(buf, id); return true })
					continue
				}
				stack[sp] = c
				sp++
			}
		}
	}
	return buf
}

// Any reports whether some box overlaps q. It is SearchInto's walk,
// repeated so that it can stop at the first overlap: the top zooms ask it
// of every unchanged shortcut.
func (t *RTree) Any(q BBox) bool {
	if t.root < 0 || !t.nodes[t.root].bb.Overlaps(q) {
		return false
	}
	var stack [64]int32
	sp := 0
	stack[sp] = t.root
	sp++
	for sp > 0 {
		sp--
		n := &t.nodes[stack[sp]]
		if n.leaf {
			for k := n.first; k < n.first+n.count; k++ {
				if t.boxes[k].Overlaps(q) {
					return true
				}
			}
			continue
		}
		for c := n.first; c < n.first+n.count; c++ {
			if t.nodes[c].bb.Overlaps(q) {
				if sp == len(stack) {
					return t.searchPos(q, nil) != nil
				}
				stack[sp] = c
				sp++
			}
		}
	}
	return false
}

// Neighbours returns, for every box of boxes (the slice the tree was built
// from), the ids of the boxes that overlap it, itself included, in the
// order SearchInto reports them: ids[start[i]:start[i+1]] for box i. A
// query box that lies inside box i overlaps only boxes of that list, so
// filtering the list gives what SearchInto would, in the same order,
// without walking the tree. It runs one search per leaf, with the leaf's
// box, and filters the result for each box of the leaf. Empty boxes get
// empty lists.
func (t *RTree) Neighbours(boxes []BBox) (start, ids []int32) {
	start = make([]int32, len(boxes)+1)
	var cand []int32                         // leaf positions
	flat := make([]int32, 0, 4*len(t.items)) // the lists, leaf by leaf
	from := make([]int32, len(boxes))        // where box i's list starts in flat
	for ni := range t.nodes {
		n := &t.nodes[ni]
		if !n.leaf {
			continue
		}
		cand = t.searchPos(n.bb, cand[:0])
		for k := n.first; k < n.first+n.count; k++ {
			b, id := t.boxes[k], t.items[k]
			from[id] = int32(len(flat))
			for _, c := range cand {
				if t.boxes[c].Overlaps(b) {
					flat = append(flat, t.items[c])
				}
			}
			start[id+1] = int32(len(flat)) - from[id]
		}
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	ids = make([]int32, len(flat))
	for id := range boxes {
		copy(ids[start[id]:start[id+1]], flat[from[id]:])
	}
	return start, ids
}

// searchPos is SearchInto reporting leaf positions (indexes of t.items and
// t.boxes) rather than ids, in the same order.
func (t *RTree) searchPos(q BBox, buf []int32) []int32 {
	if t.root < 0 {
		return buf
	}
	stack := make([]int32, 1, 64)
	stack[0] = t.root
	for len(stack) > 0 {
		n := &t.nodes[stack[len(stack)-1]]
		stack = stack[:len(stack)-1]
		if n.leaf {
			for k := n.first; k < n.first+n.count; k++ {
				if t.boxes[k].Overlaps(q) {
					buf = append(buf, k)
				}
			}
			continue
		}
		for c := n.first; c < n.first+n.count; c++ {
			if t.nodes[c].bb.Overlaps(q) {
				stack = append(stack, c)
			}
		}
	}
	return buf
}
