package simplify

import (
	"context"
	"math"
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

// computeImportance fills imp for every arc, in parallel over arcs.
func computeImportance(ctx context.Context, t *topo, opts *Options) ([]float64, error) {
	imp := make([]float64, len(t.mx))
	na := t.arcs()
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Workers)
	// Chunks of about equal vertex counts, in arc order.
	const target = 8192
	var done atomic.Int64
	for a := 0; a < na; {
		b := a
		for b < na && int(t.start[b+1]-t.start[a]) < target {
			b++
		}
		if b == a {
			b = a + 1
		}
		lo, hi := a, min(b, na)
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			var h vwHeap
			for arc := lo; arc < hi; arc++ {
				s, e := int(t.start[arc]), int(t.start[arc+1])
				pts := t.mx[s:e]
				out := imp[s:e]
				switch opts.Method {
				case DouglasPeucker:
					douglasPeucker(pts, out)
				default:
					w := 0.0
					if opts.Method == Weighted {
						w = opts.Weighting
					}
					h.visvalingam(pts, out, w)
				}
				out[0] = math.Inf(1)
				out[len(out)-1] = math.Inf(1)
			}
			opts.Progress.Report("importance", done.Add(int64(t.start[hi]-t.start[lo])), int64(len(t.mx)))
			return nil
		})
		a = hi
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

// vwHeap is a binary min-heap of vertex indexes keyed by area, with
// positions so that neighbours can be updated in place. It is reused across
// arcs to avoid allocation.
type vwHeap struct {
	heap       []int32
	pos        []int32
	area       []float64
	prev, next []int32
}

func (h *vwHeap) less(i, j int) bool {
	a, b := h.heap[i], h.heap[j]
	if h.area[a] != h.area[b] {
		return h.area[a] < h.area[b]
	}
	return a < b
}

func (h *vwHeap) swap(i, j int) {
	h.heap[i], h.heap[j] = h.heap[j], h.heap[i]
	h.pos[h.heap[i]] = int32(i)
	h.pos[h.heap[j]] = int32(j)
}

func (h *vwHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			break
		}
		h.swap(i, p)
		i = p
	}
}

func (h *vwHeap) down(i int) {
	n := len(h.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.less(r, l) {
			m = r
		}
		if !h.less(m, i) {
			return
		}
		h.swap(i, m)
		i = m
	}
}

func (h *vwHeap) fix(i int) {
	h.up(i)
	h.down(i)
}

func (h *vwHeap) pop() int32 {
	top := h.heap[0]
	last := len(h.heap) - 1
	h.swap(0, last)
	h.heap = h.heap[:last]
	h.pos[top] = -1
	if last > 0 {
		h.down(0)
	}
	return top
}

// metric returns the (weighted) triangle area at b.
func vwMetric(a, b, c geom.Point, w float64) float64 {
	area := math.Abs((a.X-c.X)*(b.Y-c.Y)-(b.X-c.X)*(a.Y-c.Y)) / 2
	if w == 0 {
		return area
	}
	d1 := math.Sqrt((a.X-b.X)*(a.X-b.X) + (a.Y-b.Y)*(a.Y-b.Y))
	d2 := math.Sqrt((c.X-b.X)*(c.X-b.X) + (c.Y-b.Y)*(c.Y-b.Y))
	cos := 0.0
	if den := d1 * d2; den > 0 {
		cos = ((a.X-b.X)*(c.X-b.X) + (a.Y-b.Y)*(c.Y-b.Y)) / den
		cos = math.Max(-1, math.Min(1, cos))
	}
	return area * (1 - cos*w)
}

// visvalingam writes 0.65·√(effective area) for pts[1:n-1].
func (h *vwHeap) visvalingam(pts []geom.Point, imp []float64, w float64) {
	n := len(pts)
	if n < 3 {
		return
	}
	if cap(h.pos) < n {
		h.pos = make([]int32, n)
		h.area = make([]float64, n)
		h.prev = make([]int32, n)
		h.next = make([]int32, n)
		h.heap = make([]int32, 0, n)
	}
	h.pos, h.area, h.prev, h.next = h.pos[:n], h.area[:n], h.prev[:n], h.next[:n]
	h.heap = h.heap[:0]
	for k := 0; k < n; k++ {
		h.prev[k] = int32(k - 1)
		h.next[k] = int32(k + 1)
	}
	for k := 1; k < n-1; k++ {
		h.area[k] = vwMetric(pts[k-1], pts[k], pts[k+1], w)
		h.pos[k] = int32(len(h.heap))
		h.heap = append(h.heap, int32(k))
	}
	for i := len(h.heap)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
	last := 0.0
	for len(h.heap) > 0 {
		k := h.pop()
		a := h.area[k]
		if a < last {
			a = last
		}
		last = a
		imp[k] = 0.65 * math.Sqrt(a)
		p, q := h.prev[k], h.next[k]
		h.next[p] = q
		h.prev[q] = p
		if p > 0 {
			h.area[p] = vwMetric(pts[h.prev[p]], pts[p], pts[q], w)
			h.fix(int(h.pos[p]))
		}
		if int(q) < n-1 {
			h.area[q] = vwMetric(pts[p], pts[q], pts[h.next[q]], w)
			h.fix(int(h.pos[q]))
		}
	}
}
