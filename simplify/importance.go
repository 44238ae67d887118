package simplify

import (
	"context"
	"math"
	"math/bits"
	"slices"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/mapcluster/mapcluster/simplify/internal/geom"
)

// The importance of every arc vertex is computed once, in Web Mercator
// metres, and each zoom level is then a threshold over it. The metrics are
// written here rather than taken from orb's simplify package, which returns
// simplified lines but not the per-vertex importance this design needs.
//
//   - Douglas-Peucker: the distance from the vertex to the chord of the
//     sub-chain in which the recursion picks it, capped by its parent's
//     importance so that importance never grows down the recursion.
//   - Visvalingam: 0.65 × √(effective area), the area of the triangle the
//     vertex forms with its neighbours when it is eliminated, never less
//     than the area of any vertex eliminated before it (mapshaper's linear
//     equivalent of the area, so thresholds are distances for every method).
//   - Weighted Visvalingam: as Visvalingam, with the area weighted by
//     1 − cos(θ)·k (θ the vertex angle, k the weighting, 0.7 by default):
//     spikes go first and gentle curves stay.
//
// Arc endpoints are junctions and get +Inf: they are kept at every zoom.

// computeImportance returns the importance of every arc vertex. Arcs are
// taken in chunks of about 8192 vertices (or one longer arc), largest chunk
// first so that the workers finish together, by opts.Workers goroutines
// that each keep their scratch space (the heap). The arcs are read in Web
// Mercator metres from the rings that prepare projected for their areas
// (t.mercArc): projecting here again cost about a quarter of this
// function.
func computeImportance(ctx context.Context, t *topo, opts *Options) ([]float64, error) {
	imp := make([]float64, len(t.ll))
	na := t.arcs()
	const target = 8192
	var chunks [][2]int // arc ranges
	for a := 0; a < na; {
		b := a + 1
		for b < na && int(t.start[b+1]-t.start[a]) <= target {
			b++
		}
		chunks = append(chunks, [2]int{a, b})
		a = b
	}
	size := func(c [2]int) int { return int(t.start[c[1]] - t.start[c[0]]) }
	slices.SortStableFunc(chunks, func(x, y [2]int) int { return size(y) - size(x) })
	w := 0.0
	if opts.Method == Weighted {
		w = opts.Weighting
	}
	stop := Tolerance(opts.MinZoom, opts.Detail, opts.ToleranceScale)
	g, ctx := errgroup.WithContext(ctx)
	var next, done atomic.Int64
	for range min(opts.Workers, len(chunks)) {
		g.Go(func() error {
			var h vwHeap
			var buf []geom.Point // arcs that wrap around their ring's end
			for {
				i := int(next.Add(1) - 1)
				if i >= len(chunks) {
					return nil
				}
				if err := ctx.Err(); err != nil {
					return err
				}
				for arc := chunks[i][0]; arc < chunks[i][1]; arc++ {
					s, e := int(t.start[arc]), int(t.start[arc+1])
					var pts []geom.Point
					pts, buf = t.mercArc(arc, buf)
					out := imp[s:e]
					if opts.Method == DouglasPeucker {
						douglasPeucker(pts, out)
					} else {
						h.visvalingam(pts, out, w, stop)
					}
					out[0] = math.Inf(1)
					out[len(out)-1] = math.Inf(1)
				}
				opts.Progress.Report("importance", done.Add(int64(size(chunks[i]))), int64(len(t.ll)))
			}
		})
	}
	return imp, g.Wait()
}

// douglasPeucker writes the capped Douglas-Peucker importance of pts[1:n-1].
func douglasPeucker(pts []geom.Point, imp []float64) {
	n := len(pts)
	if n < 3 {
		return
	}
	type span struct {
		a, b int
		cap  float64
	}
	stack := []span{{0, n - 1, math.Inf(1)}}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if s.b-s.a < 2 {
			continue
		}
		best, bd := -1, -1.0
		for k := s.a + 1; k < s.b; k++ {
			d := segDist(pts[k], pts[s.a], pts[s.b])
			if d > bd {
				best, bd = k, d
			}
		}
		if bd > s.cap {
			bd = s.cap
		}
		imp[best] = bd
		stack = append(stack, span{s.a, best, bd}, span{best, s.b, bd})
	}
}

// segDist returns the distance from p to segment a-b.
func segDist(p, a, b geom.Point) float64 {
	dx, dy := b.X-a.X, b.Y-a.Y
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = ((p.X-a.X)*dx + (p.Y-a.Y)*dy) / l2
		t = math.Max(0, math.Min(1, t))
	}
	ex, ey := a.X+t*dx-p.X, a.Y+t*dy-p.Y
	return math.Sqrt(ex*ex + ey*ey)
}

// vwHeap is a 4-ary min-heap of vertices ordered by (area, index), with
// each vertex's heap position so that neighbours can be updated in place.
// The area sits in the heap entry itself, so that sifting compares without
// an indirection, and the fourfold fan-out halves the levels (four children
// in one cache line). Measured on countries-10m, one worker, projection
// included: 114 ms with a binary heap of indexes, 94 ms with this. It is
// reused across arcs to avoid allocation.
type vwHeap struct {
	heap       []vwEntry
	pos        []int32
	prev, next []int32
	// lens[k] is the length of the segment from vertex k to the next one
	// left (next[k]), for the weighting (see visvalingam).
	lens []float64
}

// vwEntry is a vertex in the heap with its current (effective) area, as
// areaKey(area).
type vwEntry struct {
	key uint64
	k   int32
}

// areaKey maps an area to a uint64 in the same order, equal areas (+0 and
// -0 among them) to the same key, so that entries compare as integers
// (lessBits). Positive floats order as their bits; negative ones (a
// weighting above 1 can give them) in reverse, so their bits are
// inverted, and the sign bit of positive ones set to put them above.
// Adding +0 turns -0 into +0.
func areaKey(a float64) uint64 {
	u := math.Float64bits(a + 0)
	return u ^ (uint64(int64(u)>>63) | 1<<63)
}

// keyArea is the inverse of areaKey (but for the sign of a zero).
func keyArea(u uint64) float64 {
	if u>>63 != 0 {
		return math.Float64frombits(u &^ (1 << 63))
	}
	return math.Float64frombits(^u)
}

func (e vwEntry) less(f vwEntry) bool {
	return lessBits(e, f) != 0
}

func (h *vwHeap) set(i int, e vwEntry) {
	h.heap[i] = e
	h.pos[e.k] = int32(i)
}

func (h *vwHeap) up(i int) {
	e := h.heap[i]
	for i > 0 {
		p := (i - 1) / 4
		if !e.less(h.heap[p]) {
			break
		}
		h.set(i, h.heap[p])
		i = p
	}
	h.set(i, e)
}

// lessBits is e.less(f), (key, k) < (f.key, f.k), computed without
// branches, as 0 or 1: the borrow out of the 128-bit subtraction of the
// two pairs, a subtraction and a subtraction with borrow. Comparing the
// areas as floats, for less and for equal, then the indexes, cost about
// 4 ms more of importance on countries-10m, one worker (with pop's
// descent: 63.5 ms before both, 57.5 after, best of 48; 62.0 after the
// descent alone).
func lessBits(e, f vwEntry) int {
	_, b := bits.Sub64(uint64(e.k), uint64(f.k), 0)
	_, b = bits.Sub64(e.key, f.key, b)
	return int(b)
}

// down moves entry i down to its place. Where a node has all four
// children, the smallest is picked by a tournament of two pairs without
// branches (lessBits compiles to SETcc): which child wins depends on the
// data and a branch on it was mispredicted about half of the time. The
// branch-free pick, inline here rather than in a function the compiler
// would not inline, took importance from 82 to 58-64 ms on countries-10m,
// one worker, best of 10 (the output is the same). Aligning each group of
// four children to a 64-byte line gained nothing measurable.
func (h *vwHeap) down(i int) {
	n := len(h.heap)
	e := h.heap[i]
	for {
		c := 4*i + 1
		if c+3 >= n {
			if c >= n {
				break
			}
			if m := h.minOfLast(c); h.heap[m].less(e) {
				h.set(i, h.heap[m])
				i = m
			}
			break
		}
		// The smallest child, by a tournament of picks (see pick).
		hp := h.heap[c : c+4 : c+4]
		a, ka := pick(hp[0], hp[1], 0, 1)
		b, kb := pick(hp[2], hp[3], 2, 3)
		m, k := pick(a, b, ka, kb)
		if !m.less(e) {
			break
		}
		h.set(i, m)
		i = c + k
	}
	h.set(i, e)
}

// minOfLast returns the position of the smallest of the children from c
// to the end of the heap: the fewer than four children of the last node.
func (h *vwHeap) minOfLast(c int) int {
	m := c
	for j := c + 1; j < len(h.heap); j++ {
		if h.heap[j].less(h.heap[m]) {
			m = j
		}
	}
	return m
}

// pick returns the smaller of e and f, and i or j with it, without a
// branch: lessBits as a mask of all ones or zeroes selects each field.
//
// down and pop find the smallest of four children by a tournament of two
// pairs of picks. Picking winners by position and reading them back from
// the heap (hp[k]) put two more loads on the chain of dependent steps that
// each level of a descent waits for: importance on countries-10m, one
// worker, took 55.1-57.4 ms that way and 50.1-53.5 ms this way (best of 36
// to 48, alternating, three series), with the tournament in a function
// (minOf4, which the compiler does not inline) 52.9-53.7.
func pick(e, f vwEntry, i, j int) (vwEntry, int) {
	m := -uint64(lessBits(f, e))
	return vwEntry{key: e.key ^ (e.key^f.key)&m, k: e.k ^ (e.k^f.k)&int32(m)}, i ^ (i^j)&int(m)
}

// update gives vertex k a new area and restores the heap order.
func (h *vwHeap) update(k int32, area float64) {
	i := int(h.pos[k])
	old := h.heap[i].key
	key := areaKey(area)
	h.heap[i].key = key
	if key < old {
		h.up(i)
	} else {
		h.down(i)
	}
}

// pop removes and returns the smallest entry.
//
// The last entry, which takes the root's place, is most often among the
// largest, so rather than sift it down comparing it at every level (down),
// the hole at the root goes down to the bottom, each level taking its
// smallest child, and the entry then rises from there, most often not at
// all (Floyd's variant of heapsort). The order of the pops, set by (area,
// index), is the same. Importance on countries-10m, one worker: 63.3 ms
// before, 62.0 after (best of 48, alternating).
func (h *vwHeap) pop() vwEntry {
	top := h.heap[0]
	h.pos[top.k] = -1
	n := len(h.heap) - 1
	e := h.heap[n]
	h.heap = h.heap[:n]
	if n == 0 {
		return top
	}
	i := 0
	for {
		c := 4*i + 1
		if c+3 >= n {
			if c < n {
				m := h.minOfLast(c)
				h.set(i, h.heap[m])
				i = m
			}
			break
		}
		// The smallest child, by a tournament of picks (see pick).
		hp := h.heap[c : c+4 : c+4]
		a, ka := pick(hp[0], hp[1], 0, 1)
		b, kb := pick(hp[2], hp[3], 2, 3)
		m, k := pick(a, b, ka, kb)
		h.set(i, m)
		i = c + k
	}
	for i > 0 {
		p := (i - 1) / 4
		if !e.less(h.heap[p]) {
			break
		}
		h.set(i, h.heap[p])
		i = p
	}
	h.set(i, e)
	return top
}

// vwMetric returns the (weighted) triangle area at b, given d1 and d2,
// the lengths of a-b and b-c (segLen; unused when w is 0).
func vwMetric(a, b, c geom.Point, d1, d2, w float64) float64 {
	area := math.Abs((a.X-c.X)*(b.Y-c.Y)-(b.X-c.X)*(a.Y-c.Y)) / 2
	if w == 0 {
		return area
	}
	cos := 0.0
	if den := d1 * d2; den > 0 {
		cos = ((a.X-b.X)*(c.X-b.X) + (a.Y-b.Y)*(c.Y-b.Y)) / den
		// Clamped by comparisons: math.Max and math.Min, which handle
		// NaN and signed zeroes, cost a tenth of the pass.
		if cos < -1 {
			cos = -1
		} else if cos > 1 {
			cos = 1
		}
	}
	return area * (1 - cos*w)
}

// segLen returns the length of segment a-b. Subtraction is exact under
// negation, so segLen(a, b) == segLen(b, a).
func segLen(a, b geom.Point) float64 {
	return math.Sqrt((a.X-b.X)*(a.X-b.X) + (a.Y-b.Y)*(a.Y-b.Y))
}

// visvalingam writes 0.65·√(effective area) for pts[1:n-1], or, from the
// first vertex whose importance reaches stop on, that vertex's importance
// for it and all the vertices not yet eliminated.
//
// Importance only grows along the elimination, so those vertices are
// all at least stop, the tolerance of the lowest zoom: they are kept at
// every zoom, where only the order of removed vertices (restoreBad,
// ensureMinPoints) and thresholds up to stop (thresholdFrom, schedule)
// read importance. Their exact values would change nothing.
func (h *vwHeap) visvalingam(pts []geom.Point, imp []float64, w, stop float64) {
	n := len(pts)
	if n < 3 {
		return
	}
	if cap(h.pos) < n {
		h.pos = make([]int32, n)
		h.prev = make([]int32, n)
		h.next = make([]int32, n)
		h.lens = make([]float64, n)
		h.heap = make([]vwEntry, 0, n)
	}
	h.pos, h.prev, h.next, h.lens = h.pos[:n], h.prev[:n], h.next[:n], h.lens[:n]
	h.heap = h.heap[:0]
	for k := 0; k < n; k++ {
		h.prev[k] = int32(k - 1)
		h.next[k] = int32(k + 1)
	}
	// The weighting takes the lengths of the two segments at a vertex.
	// Each is kept per segment, so that an elimination computes one, of
	// the segment it makes, where computing both of both neighbours took
	// four square roots: importance on countries-10m, one worker, took
	// 50.5 ms instead of 52.4 (best of 8, alternating). The lengths are
	// the same numbers (a-b and b-a differ only in sign).
	if w != 0 {
		for k := 0; k < n-1; k++ {
			h.lens[k] = segLen(pts[k], pts[k+1])
		}
	}
	for k := 1; k < n-1; k++ {
		h.pos[k] = int32(len(h.heap))
		h.heap = append(h.heap, vwEntry{areaKey(vwMetric(pts[k-1], pts[k], pts[k+1], h.lens[k-1], h.lens[k], w)), int32(k)})
	}
	for i := (len(h.heap) - 2) / 4; i >= 0; i-- {
		h.down(i)
	}
	last := 0.0
	for len(h.heap) > 0 {
		e := h.pop()
		k, a := e.k, keyArea(e.key)
		if a < last {
			a = last
		}
		last = a
		imp[k] = 0.65 * math.Sqrt(a)
		if imp[k] >= stop {
			for _, e := range h.heap {
				imp[e.k] = imp[k]
			}
			h.heap = h.heap[:0]
			return
		}
		p, q := h.prev[k], h.next[k]
		h.next[p] = q
		h.prev[q] = p
		if w != 0 {
			h.lens[p] = segLen(pts[p], pts[q])
		}
		if p > 0 {
			h.update(p, vwMetric(pts[h.prev[p]], pts[p], pts[q], h.lens[h.prev[p]], h.lens[p], w))
		}
		if int(q) < n-1 {
			h.update(q, vwMetric(pts[p], pts[q], pts[h.next[q]], h.lens[p], h.lens[q], w))
		}
	}
}
