package simplify

import (
	"math"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/mapcluster/mapcluster/simplify/internal/geom"
)

// tpath is a ring or line of a prepared feature, as a sequence of arcs.
type tpath struct {
	feature, part, ring int32
	kind                pathKind
	// arcs lists the arcs in order; ^a (negative) means arc a reversed.
	arcs []int32
	// area is the ring's absolute area in square Web Mercator metres.
	area float64
	// shared reports that an arc of the ring is used by another ring.
	shared bool
}

// topo is the arc topology of all features. Arc a owns the vertices
// start[a] .. start[a+1]-1 of ll; its first and last vertices are its
// endpoints, which neighbouring arcs repeat. Web Mercator coordinates are
// read from the rings, which prepare projected to compute their areas.
type topo struct {
	ll []geom.Point // lon/lat
	// refs[a] locates arc a in the path it was cut from, and srcMerc[p]
	// is path p in Web Mercator metres (nil for lines), for
	// computeImportance (mercArc; both nil afterwards).
	refs    []arcRef
	srcMerc [][]geom.Point
	start   []int32
	uses    []int32
	paths   []tpath
	// largest[f] is the path index of feature f's largest ring, or -1.
	largest []int32
	// ringsOf[f] lists the path indexes of feature f.
	ringsOf [][]int32
	// box16 and box256 are bboxes (lon/lat) of blocks of vertices
	// [k·B, (k+1)·B] for B = 16 and 256, used for point-in-region tests
	// (filled by buildBlockTree, like blocks and runs).
	box16, box256 []geom.BBox
	// blocks indexes runs: runs[r] holds the first and last vertex of up
	// to 16 consecutive segments of one arc. The runs of arc a are
	// runStart[a] .. runStart[a+1]-1, in order along the arc.
	blocks   *geom.RTree
	runs     [][2]int32
	runBox   []geom.BBox
	runStart []int32
	// nbStart and nb list the runs whose boxes overlap each run's box, in
	// the order blocks.SearchInto reports them (geom.RTree.Neighbours).
	nbStart, nb []int32
	// arcAt[b] is the arc holding vertex 64·b (the earlier one at an
	// arc's end).
	arcAt []int32
	// maxArc is the vertex count of the longest arc.
	maxArc int
}

func (t *topo) arcs() int { return len(t.start) - 1 }

// hashPoint mixes the bits of a point's coordinates. Zeroes are made
// positive first so that points equal by == hash alike.
func hashPoint(p geom.Point) uint64 {
	if p.X == 0 {
		p.X = 0
	}
	if p.Y == 0 {
		p.Y = 0
	}
	h := math.Float64bits(p.X)*0x9E3779B97F4A7C15 ^ math.Float64bits(p.Y)*0xC2B2AE3D27D4EB4F
	h ^= h >> 31
	h *= 0x94D049BB133111EB
	return h ^ h>>29
}

// mercator projects lon/lat to Web Mercator metres. Beyond the square
// world of web maps (±85.05113°) y goes on linearly, at the scale the
// projection has there, rather than stopping: with latitude clamped, the
// points up there all had the same y, so every vertex between two of them
// had no area and no importance, and went at every zoom. Rings so reduced
// to three vertices crossed their neighbours, and the repair rounds of the
// 4x tiled countries-10m, which has 18,144 vertices up there (countries-10m
// 30), restored thousands of vertices at each of its 13 levels.
func mercator(p geom.Point) geom.Point {
	const (
		r      = 6378137.0
		maxLat = 85.0511287798066
		maxY   = math.Pi * r // y at maxLat
		// dy/dlat at maxLat, in metres per degree: r/cos(maxLat) per
		// radian, and cos(maxLat) = 1/cosh(π).
		slope = r * math.Pi / 180 * 11.591953275521519
	)
	y := r * math.Log(math.Tan(math.Pi/4+p.Y*math.Pi/360))
	switch {
	case p.Y > maxLat:
		y = maxY + (p.Y-maxLat)*slope
	case p.Y < -maxLat:
		y = -maxY + (p.Y+maxLat)*slope
	}
	return geom.Point{X: r * p.X * math.Pi / 180, Y: y}
}

// srcPath is a ring or line of the prepared features, in the order of
// topo.paths. Its vertices are numbered off .. off+len(pts)-1 in the flat
// numbering of all vertices.
type srcPath struct {
	pts  []geom.Point
	merc []geom.Point // pts in Web Mercator metres, or nil (lines)
	kind pathKind
	off  int
}

// buildTopology finds the arcs of the prepared features: it marks junctions
// (points where the neighbours differ between the rings passing through,
// and line ends), cuts every ring and line at its junctions and merges arcs
// that are the same point sequence, either way. Rings without a junction
// become one closed arc starting at their lowest point, so that two rings
// tracing the same loop share it. Points are equal when their coordinates
// are (==); no point ids are made.
func buildTopology(feats []feat, workers int) *topo {
	var src []srcPath
	n := 0
	t := &topo{largest: make([]int32, len(feats)), ringsOf: make([][]int32, len(feats))}
	for fi, f := range feats {
		t.largest[fi] = -1
		best := -1.0
		for pi, p := range f.parts {
			for ri, r := range p.rings {
				tp := tpath{feature: int32(fi), part: int32(pi), ring: int32(ri), kind: r.kind}
				if r.kind != kindLine {
					tp.area = r.area
					if tp.area > best {
						best = tp.area
						t.largest[fi] = int32(len(t.paths))
					}
				}
				t.ringsOf[fi] = append(t.ringsOf[fi], int32(len(t.paths)))
				t.paths = append(t.paths, tp)
				src = append(src, srcPath{pts: r.pts, merc: r.merc, kind: r.kind, off: n})
				n += len(r.pts)
			}
		}
	}
	junc := make([]bool, n)
	markJunctions(src, n, junc, workers)
	t.cut(src, junc, workers)
	return t
}

// markJunctions sets junc[v] for every vertex v (flat numbering) whose point
// is a junction: the point occurs more than once and the neighbour pairs of
// its occurrences differ, or one occurrence is a line end (every line's two
// ends are set first).
//
// Equal points are found by sorting, not hashing: every vertex becomes a
// 64-bit item, the high bits of its point's hash above its number v, which
// are scattered into 2^k buckets by their top bits (about 16 items each:
// measured best against 64 and 256) and sorted bucket by bucket, in
// parallel. Equal points then lie in runs of equal hash bits; only those
// runs (shared points) look at the points themselves, so collisions are
// told apart. On countries-10m (545k vertices, 2 cores, a fresh process)
// interning through an open-addressing table, a dependent random read of
// 150–200 ns per vertex plus 17 MB of fresh memory, and marking junctions
// through a table indexed by point id took 50–130 ms; this takes 13–15 ms
// and 4.4 MB (page faults cost 10–18 µs each on that VM).
func markJunctions(src []srcPath, n int, junc []bool, workers int) {
	if n == 0 {
		return
	}
	for _, s := range src {
		if s.kind == kindLine {
			junc[s.off] = true
			junc[s.off+len(s.pts)-1] = true
		}
	}
	vb := bits.Len(uint(n))
	vmask := uint64(1)<<vb - 1
	bb := min(bits.Len(uint(n>>4)), 16, 64-vb)
	nb := 1 << bb
	shift := uint(64 - bb) // bucket of item x: x >> shift (0 when bb is 0)
	workers = max(1, min(workers, len(src)))

	// Split the paths into ranges of about equal vertex counts, one per
	// worker, and count the items of each range by bucket.
	bounds := make([]int, workers+1)
	for w, i := 1, 0; w < workers; w++ {
		for i < len(src) && src[i].off < n*w/workers {
			i++
		}
		bounds[w] = i
	}
	bounds[workers] = len(src)
	counts := make([][]int, workers)
	var wg sync.WaitGroup
	for w := range workers {
		counts[w] = make([]int, nb)
		wg.Go(func() {
			c := counts[w]
			for _, s := range src[bounds[w]:bounds[w+1]] {
				for _, p := range s.pts {
					c[hashPoint(p)>>shift]++
				}
			}
		})
	}
	wg.Wait()
	// Bucket starts; within a bucket, worker w's items follow w-1's.
	starts := make([]int, nb+1)
	pos := 0
	for b := range nb {
		starts[b] = pos
		for w := range workers {
			c := counts[w][b]
			counts[w][b] = pos
			pos += c
		}
	}
	starts[nb] = pos
	items := make([]uint64, n)
	for w := range workers {
		wg.Go(func() {
			next := counts[w]
			for _, s := range src[bounds[w]:bounds[w+1]] {
				for k, p := range s.pts {
					h := hashPoint(p)
					b := h >> shift
					items[next[b]] = h&^vmask | uint64(s.off+k)
					next[b]++
				}
			}
		})
	}
	wg.Wait()

	loc := newPathLocator(src, n)
	// Sort and scan the buckets, in chunks taken in turn by the workers.
	const chunk = 32
	var nextChunk atomic.Int64
	for range workers {
		wg.Go(func() {
			var js junctionScan
			for {
				c := int(nextChunk.Add(1)-1) * chunk
				if c >= nb {
					return
				}
				for b := c; b < min(c+chunk, nb); b++ {
					bucket := items[starts[b]:starts[b+1]]
					slices.Sort(bucket)
					for i := 0; i < len(bucket); {
						j := i + 1
						for j < len(bucket) && (bucket[j]^bucket[i])&^vmask == 0 {
							j++
						}
						if j-i > 1 {
							js.run(bucket[i:j], vmask, src, loc, junc)
						}
						i = j
					}
				}
			}
		})
	}
	wg.Wait()
}

// pathLocator finds the path holding a vertex of the flat numbering: a
// table of the path at every 64th vertex, then a short scan. It replaced a
// binary search over the path offsets, whose mispredicted branches cost a
// quarter of the junction scan on countries-10m.
type pathLocator struct {
	offs  []int   // offs[i] is the first vertex of path i; offs[len(src)] = n
	block []int32 // block[b] is the path holding vertex 64·b
}

func newPathLocator(src []srcPath, n int) *pathLocator {
	l := &pathLocator{offs: make([]int, len(src)+1), block: make([]int32, (n+63)/64)}
	for i, s := range src {
		l.offs[i] = s.off
	}
	l.offs[len(src)] = n
	i := 0
	for b := range l.block {
		for l.offs[i+1] <= 64*b {
			i++
		}
		l.block[b] = int32(i)
	}
	return l
}

// find returns the index of the path holding vertex v.
func (l *pathLocator) find(v int) int {
	i := int(l.block[v/64])
	for l.offs[i+1] <= v {
		i++
	}
	return i
}

// junctionScan is the scratch space of markJunctions for one worker.
type junctionScan struct {
	occ    []occurrence
	groups []pointGroup
}

// occurrence is one vertex of a run of equal hashes.
type occurrence struct {
	v     int
	group int
}

// pointGroup gathers the occurrences of one point within a run.
type pointGroup struct {
	p        geom.Point
	a, b     geom.Point // neighbour pair of the first occurrence, a ≤ b
	paired   bool
	junction bool
}

// run marks the junctions among the vertices of items, a run of equal hash
// bits: it groups them by point (hashes may collide) and compares the
// neighbour pairs of each group's occurrences.
func (js *junctionScan) run(items []uint64, vmask uint64, src []srcPath, loc *pathLocator, junc []bool) {
	js.occ = js.occ[:0]
	js.groups = js.groups[:0]
	for _, x := range items {
		v := int(x & vmask)
		s := &src[loc.find(v)]
		k := v - s.off
		p := s.pts[k]
		g := 0
		for g < len(js.groups) && js.groups[g].p != p {
			g++
		}
		if g == len(js.groups) {
			js.groups = append(js.groups, pointGroup{p: p})
		}
		js.occ = append(js.occ, occurrence{v: v, group: g})
		pg := &js.groups[g]
		if pg.junction {
			continue
		}
		a, b, lineEnd := s.neighbours(k)
		if lineEnd {
			pg.junction = true
			continue
		}
		if !pg.paired {
			pg.a, pg.b, pg.paired = a, b, true
		} else if pg.a != a || pg.b != b {
			pg.junction = true
		}
	}
	for _, o := range js.occ {
		if js.groups[o.group].junction {
			junc[o.v] = true
		}
	}
}

// neighbours returns the points before and after vertex k of the path, in
// geom.Less order (so both directions of travel give the same pair), or
// lineEnd for the first and last vertex of a line.
func (s *srcPath) neighbours(k int) (a, b geom.Point, lineEnd bool) {
	m := len(s.pts)
	switch {
	case s.kind == kindLine && (k == 0 || k == m-1):
		return a, b, true
	case s.kind == kindLine:
		a, b = s.pts[k-1], s.pts[k+1]
	default:
		a, b = s.pts[(k+m-1)%m], s.pts[(k+1)%m]
	}
	if geom.Less(b, a) {
		a, b = b, a
	}
	return a, b, false
}

// arcRef locates an arc's points in the path it was first cut from: point i
// is src[path].pts[(start+i) % len(pts)], for i < n.
type arcRef struct {
	path, start, n int
}

// cut cuts every path at its junctions into arcs, merging arcs that are the
// same point sequence either way, and fills t.ll, t.start, t.uses and the
// paths' arcs. Arcs are first found and merged as references into the
// paths, serially; their points are then copied into t.ll, of exact size,
// by the workers. The copy touches most of the fresh memory of the topology
// stage, whose page faults are slow on the benchmark VM: splitting it took
// the CLI's topology_ms on countries-10m from a median of 128 to 114 ms
// (5 runs each, alternating).
func (t *topo) cut(src []srcPath, junc []bool, workers int) {
	var refs []arcRef
	at := func(r arcRef, i int) geom.Point {
		pts := src[r.path].pts
		k := r.start + i // < 2·len(pts): an arc goes round its ring at most once
		if k >= len(pts) {
			k -= len(pts)
		}
		return pts[k]
	}
	equal := func(a, b arcRef, rev bool) bool {
		if a.n != b.n {
			return false
		}
		for i := range a.n {
			j := i
			if rev {
				j = a.n - 1 - i
			}
			if at(a, i) != at(b, j) {
				return false
			}
		}
		return true
	}
	t.start = []int32{0}
	// Arcs by their first and last point, few (one per junction pair).
	index := map[[2]geom.Point][]int32{}
	addArc := func(r arcRef) int32 {
		a, b := at(r, 0), at(r, r.n-1)
		for _, c := range index[[2]geom.Point{a, b}] {
			if equal(refs[c], r, false) {
				t.uses[c]++
				return c
			}
		}
		for _, c := range index[[2]geom.Point{b, a}] {
			if equal(refs[c], r, true) {
				t.uses[c]++
				return ^c
			}
		}
		c := int32(len(refs))
		refs = append(refs, r)
		t.start = append(t.start, t.start[c]+int32(r.n))
		t.uses = append(t.uses, 1)
		index[[2]geom.Point{a, b}] = append(index[[2]geom.Point{a, b}], c)
		return c
	}
	for pi, s := range src {
		pts := s.pts
		m := len(pts)
		j := junc[s.off : s.off+m]
		p := &t.paths[pi]
		if s.kind == kindLine {
			k0 := 0
			for k := 1; k < m; k++ {
				if j[k] {
					p.arcs = append(p.arcs, addArc(arcRef{pi, k0, k - k0 + 1}))
					k0 = k
				}
			}
			continue
		}
		j0 := slices.Index(j, true)
		if j0 < 0 {
			lo := 0
			for k := 1; k < m; k++ {
				if geom.Less(pts[k], pts[lo]) {
					lo = k
				}
			}
			p.arcs = append(p.arcs, addArc(arcRef{pi, lo, m + 1}))
			continue
		}
		// Positions run from j0 to j0+m, taken modulo m by a subtraction:
		// a division per vertex made buildTopology on countries-10m, one
		// worker, 0.4–1 ms slower (best of 9, two alternating series).
		u0 := j0
		for u := j0 + 1; u <= j0+m; u++ {
			k := u
			if k >= m {
				k -= m
			}
			if j[k] {
				p.arcs = append(p.arcs, addArc(arcRef{pi, u0 % m, u - u0 + 1}))
				u0 = u
			}
		}
	}
	for pi := range t.paths {
		for _, a := range t.paths[pi].arcs {
			if t.uses[arcID(a)] > 1 {
				t.paths[pi].shared = true
			}
		}
	}

	t.refs = refs
	t.srcMerc = make([][]geom.Point, len(src))
	for pi, s := range src {
		t.srcMerc[pi] = s.merc
	}

	// Copy the points, each worker a range of arcs of about equal size.
	// The Web Mercator points are not copied: mercArc reads them from the
	// rings. Copying them too (a second array of 8.7 MB, zeroed, then
	// written) made buildTopology on countries-10m, two workers, 17.4
	// instead of 15.7 ms (best of 9, alternating; medians 22.1 and 20.7).
	workers = max(workers, 1)
	total := int(t.start[len(refs)])
	t.ll = make([]geom.Point, total)
	var wg sync.WaitGroup
	lo := 0
	for w := 1; w <= workers; w++ {
		hi := lo
		for hi < len(refs) && (w == workers || int(t.start[hi]) < total*w/workers) {
			hi++
		}
		first := lo
		wg.Go(func() {
			for c := first; c < hi; c++ {
				r := refs[c]
				copyArc(t.ll[t.start[c]:t.start[c+1]], src[r.path].pts, r)
			}
		})
		lo = hi
	}
	wg.Wait()
}

// copyArc copies the points of arc r from pts, the points of its path,
// to dst (r.n points).
func copyArc(dst, pts []geom.Point, r arcRef) {
	k := copy(dst, pts[r.start:min(r.start+r.n, len(pts))])
	for k < r.n { // wrapped around the ring, maybe twice
		k += copy(dst[k:], pts[:min(r.n-k, len(pts))])
	}
}

// mercArc returns arc a in Web Mercator metres, the points prepare
// projected for the ring areas: a slice of its ring when the arc does not
// wrap around the ring's end, else a copy in buf, grown as needed and
// returned too. Arcs of lines are projected into buf.
func (t *topo) mercArc(a int, buf []geom.Point) (pts, newBuf []geom.Point) {
	r := t.refs[a]
	pm := t.srcMerc[r.path]
	if pm != nil && r.start+r.n <= len(pm) {
		return pm[r.start : r.start+r.n], buf
	}
	buf = slices.Grow(buf[:0], r.n)[:r.n]
	if pm != nil {
		copyArc(buf, pm, r)
		return buf, buf
	}
	for k, p := range t.ll[t.start[a]:t.start[a+1]] {
		buf[k] = mercator(p)
	}
	return buf, buf
}

// buildBlockTree indexes the bounding boxes of blocks of vertices
// (buildBlocks) and runs of up to 16 consecutive segments of one arc in an
// R-tree.
func (t *topo) buildBlockTree() {
	t.buildBlocks()
	t.buildRunTree()
}

// buildRunTree indexes runs of up to 16 consecutive segments of one arc
// in an R-tree, lists the overlapping runs of each run, and fills arcAt.
func (t *topo) buildRunTree() {
	nr := 0
	t.runStart = make([]int32, t.arcs()+1)
	for a := 0; a < t.arcs(); a++ {
		t.runStart[a] = int32(nr)
		nr += int(t.start[a+1]-t.start[a]-1+15) / 16
		t.maxArc = max(t.maxArc, int(t.start[a+1]-t.start[a]))
	}
	t.runStart[t.arcs()] = int32(nr)
	t.runBox = slices.Grow(t.runBox[:0], nr)
	t.runs = slices.Grow(t.runs[:0], nr)
	for a := 0; a < t.arcs(); a++ {
		s, e := t.start[a], t.start[a+1]-1 // segments s..e-1
		for k := s; k < e; k += 16 {
			end := min(k+16, e)
			t.runs = append(t.runs, [2]int32{k, end})
			t.runBox = append(t.runBox, extendBBox(geom.EmptyBBox(), t.ll[k:end+1]))
		}
	}
	t.blocks = geom.NewRTree(t.runBox)
	t.nbStart, t.nb = t.blocks.Neighbours(t.runBox)
	t.arcAt = make([]int32, (len(t.ll)+63)/64)
	a := 0
	for b := range t.arcAt {
		for t.start[a+1] <= int32(64*b) {
			a++
		}
		t.arcAt[b] = int32(a)
	}
}

// runOf returns the run holding segment k (from vertex k to k+1).
func (t *topo) runOf(k int32) int32 {
	a := t.arcAt[k/64]
	for t.start[a+1]-1 <= k {
		a++
	}
	return t.runStart[a] + (k-t.start[a])/16
}

func arcID(a int32) int32 {
	if a < 0 {
		return ^a
	}
	return a
}

// project returns pts in Web Mercator metres.
func project(pts []geom.Point) []geom.Point {
	out := make([]geom.Point, len(pts))
	for k, p := range pts {
		out[k] = mercator(p)
	}
	return out
}

// mercatorArea returns the absolute area of a ring given in Web Mercator
// metres (project), relative to its first point.
func mercatorArea(merc []geom.Point) float64 {
	n := len(merc)
	if n < 3 {
		return 0
	}
	o := merc[0]
	var s float64
	prev := geom.Point{}
	for k := 1; k < n; k++ {
		q := merc[k]
		q.X -= o.X
		q.Y -= o.Y
		if k > 1 {
			s += prev.X*q.Y - q.X*prev.Y
		}
		prev = q
	}
	return math.Abs(s) / 2
}

func (t *topo) buildBlocks() {
	n := len(t.ll)
	t.box16 = make([]geom.BBox, (n+15)/16)
	for b := range t.box16 {
		t.box16[b] = extendBBox(geom.EmptyBBox(), t.ll[b*16:min(b*16+16, n-1)+1])
	}
	t.box256 = make([]geom.BBox, (n+255)/256)
	for b := range t.box256 {
		bb := geom.EmptyBBox()
		for k := b * 16; k < min(b*16+16, len(t.box16)); k++ {
			bb.Union(t.box16[k])
		}
		t.box256[b] = bb
	}
}

// extendBBox returns bb grown to cover pts. It takes min and max, which
// compile without branches, where BBox.Extend branches on each comparison
// and mispredicts about half of them on a short chain: chain bboxes took
// 5-10 % less of each level's time on countries-10m at z0-z4. (The two
// differ only in the sign of a zero bound, which no test of a box sees.)
// Points go in pairs, into two sets of bounds merged at the end, which
// halves the chain of dependent min and max operations.
func extendBBox(bb geom.BBox, pts []geom.Point) geom.BBox {
	minX, minY, maxX, maxY := bb.MinX, bb.MinY, bb.MaxX, bb.MaxY
	minX2, minY2, maxX2, maxY2 := minX, minY, maxX, maxY
	for len(pts) >= 2 {
		p, q := pts[0], pts[1]
		minX, minY = min(minX, p.X), min(minY, p.Y)
		maxX, maxY = max(maxX, p.X), max(maxY, p.Y)
		minX2, minY2 = min(minX2, q.X), min(minY2, q.Y)
		maxX2, maxY2 = max(maxX2, q.X), max(maxY2, q.Y)
		pts = pts[2:]
	}
	if len(pts) == 1 {
		p := pts[0]
		minX, minY = min(minX, p.X), min(minY, p.Y)
		maxX, maxY = max(maxX, p.X), max(maxY, p.Y)
	}
	return geom.BBox{MinX: min(minX, minX2), MinY: min(minY, minY2), MaxX: max(maxX, maxX2), MaxY: max(maxY, maxY2)}
}

// unionBBox returns the bbox of a and b, by min and max (see extendBBox).
func unionBBox(a, b geom.BBox) geom.BBox {
	return geom.BBox{MinX: min(a.MinX, b.MinX), MinY: min(a.MinY, b.MinY), MaxX: max(a.MaxX, b.MaxX), MaxY: max(a.MaxY, b.MaxY)}
}

// chainBBox returns the bbox of vertices i..j. The bounds stay in
// registers (BBox.Union, through a pointer, kept them in memory and
// branched on each comparison). With the paired extendBBox, the 13 levels
// of countries-10m took 158 ms instead of 167 (sum of the best of 24 per
// level, one core).
func (t *topo) chainBBox(i, j int) geom.BBox {
	bb := geom.EmptyBBox()
	for v := i; v <= j; {
		switch {
		case v%256 == 0 && v+256 <= j:
			bb = unionBBox(bb, t.box256[v/256])
			v += 256
		case v%16 == 0 && v+16 <= j:
			bb = unionBBox(bb, t.box16[v/16])
			v += 16
		default:
			// Up to the next multiple of 16, or j.
			e := min(j, v|15)
			bb = extendBBox(bb, t.ll[v:e+1])
			v = e + 1
		}
	}
	return bb
}

// chainParity returns the parity of the crossings of the ray from p towards
// +x with the edges of the chain of vertices i..j.
func (t *topo) chainParity(p geom.Point, i, j int) bool {
	par := false
	for v := i; v < j; {
		switch {
		case v%256 == 0 && v+256 <= j:
			par = par != t.blockParity(p, v, 256, t.box256[v/256])
			v += 256
		case v%16 == 0 && v+16 <= j:
			par = par != t.blockParity(p, v, 16, t.box16[v/16])
			v += 16
		default:
			par = par != edgeCrosses(p, t.ll[v], t.ll[v+1])
			v++
		}
	}
	return par
}

func (t *topo) blockParity(p geom.Point, v, size int, bb geom.BBox) bool {
	if bb.MinY > p.Y || bb.MaxY <= p.Y || bb.MaxX < p.X {
		return false
	}
	if bb.MinX > p.X {
		return (t.ll[v].Y > p.Y) != (t.ll[v+size].Y > p.Y)
	}
	if size == 256 {
		par := false
		for k := 0; k < 16; k++ {
			w := v + k*16
			par = par != t.blockParity(p, w, 16, t.box16[w/16])
		}
		return par
	}
	par := false
	for k := v; k < v+size; k++ {
		par = par != edgeCrosses(p, t.ll[k], t.ll[k+1])
	}
	return par
}

// edgeCrosses reports whether edge a-b crosses the ray from p towards +x,
// counting an endpoint on the ray's line with the half-open rule.
func edgeCrosses(p, a, b geom.Point) bool {
	if (a.Y > p.Y) == (b.Y > p.Y) {
		return false
	}
	o := geom.Orient(a, b, p)
	return o != 0 && (o > 0) == (b.Y > a.Y)
}
