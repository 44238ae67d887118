package simplify

import (
	"math"
	"sync"

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
// start[a] .. start[a+1]-1 of the flat vertex arrays; its first and last
// vertices are its endpoints, which neighbouring arcs repeat.
type topo struct {
	ll, mx []geom.Point // lon/lat and Web Mercator metres
	start  []int32
	uses   []int32
	paths  []tpath
	// largest[f] is the path index of feature f's largest ring, or -1.
	largest []int32
	// ringsOf[f] lists the path indexes of feature f.
	ringsOf [][]int32
	// box16 and box256 are bboxes (lon/lat) of blocks of vertices
	// [k·B, (k+1)·B] for B = 16 and 256, used for point-in-region tests.
	box16, box256 []geom.BBox
	// blocks indexes runs: runs[r] holds the first and last vertex of up
	// to 16 consecutive segments of one arc.
	blocks *geom.RTree
	runs   [][2]int32
}

func (t *topo) arcs() int { return len(t.start) - 1 }

// pointTable interns points: equal coordinates get equal ids.
type pointTable struct {
	pts   []geom.Point
	slots []int32
	mask  uint64
}

func newPointTable(n int) *pointTable {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	t := &pointTable{slots: make([]int32, size), mask: uint64(size - 1), pts: make([]geom.Point, 0, n)}
	for i := range t.slots {
		t.slots[i] = -1
	}
	return t
}

func hashPoint(p geom.Point) uint64 {
	h := math.Float64bits(p.X)*0x9E3779B97F4A7C15 ^ math.Float64bits(p.Y)*0xC2B2AE3D27D4EB4F
	h ^= h >> 31
	h *= 0x94D049BB133111EB
	return h ^ h>>29
}

func (t *pointTable) id(p geom.Point) int32 {
	h := hashPoint(p) & t.mask
	for {
		s := t.slots[h]
		if s < 0 {
			if len(t.pts)*2 >= len(t.slots) {
				t.grow()
				return t.id(p)
			}
			id := int32(len(t.pts))
			t.pts = append(t.pts, p)
			t.slots[h] = id
			return id
		}
		if t.pts[s] == p {
			return s
		}
		h = (h + 1) & t.mask
	}
}

func (t *pointTable) grow() {
	n := len(t.slots) * 2
	t.slots = make([]int32, n)
	t.mask = uint64(n - 1)
	for i := range t.slots {
		t.slots[i] = -1
	}
	for id, p := range t.pts {
		h := hashPoint(p) & t.mask
		for t.slots[h] >= 0 {
			h = (h + 1) & t.mask
		}
		t.slots[h] = int32(id)
	}
}

// mercator projects lon/lat to Web Mercator metres, clamping latitude to the
// square world of web maps (±85.05113°).
func mercator(p geom.Point) geom.Point {
	const r = 6378137.0
	lat := math.Max(-85.0511287798066, math.Min(85.0511287798066, p.Y))
	return geom.Point{
		X: r * p.X * math.Pi / 180,
		Y: r * math.Log(math.Tan(math.Pi/4+lat*math.Pi/360)),
	}
}

// buildTopology finds the arcs of the prepared features: it interns every
// point, marks junctions (points where the neighbours differ between the
// rings passing through, and line ends), cuts every ring and line at its
// junctions and merges arcs that are the same point sequence, either way.
// Rings without a junction become one closed arc starting at their lowest
// point, so that two rings tracing the same loop share it.
func buildTopology(feats []feat, nPts int) *topo {
	pt := newPointTable(nPts)
	type rawPath struct {
		ids []int32
		p   tpath
	}
	var raws []rawPath
	t := &topo{largest: make([]int32, len(feats)), ringsOf: make([][]int32, len(feats))}
	for fi, f := range feats {
		t.largest[fi] = -1
		best := -1.0
		for pi, p := range f.parts {
			for ri, r := range p.rings {
				ids := make([]int32, len(r.pts))
				for k, q := range r.pts {
					ids[k] = pt.id(q)
				}
				tp := tpath{feature: int32(fi), part: int32(pi), ring: int32(ri), kind: r.kind}
				if r.kind != kindLine {
					tp.area = r.area
					if tp.area > best {
						best = tp.area
						t.largest[fi] = int32(len(raws))
					}
				}
				t.ringsOf[fi] = append(t.ringsOf[fi], int32(len(raws)))
				raws = append(raws, rawPath{ids: ids, p: tp})
			}
		}
	}
	np := len(pt.pts)
	first := make([][2]int32, np)
	for i := range first {
		first[i] = [2]int32{-2, -2}
	}
	junc := make([]bool, np)
	visit := func(id, a, b int32) {
		if a > b {
			a, b = b, a
		}
		f := &first[id]
		if f[0] == -2 {
			*f = [2]int32{a, b}
		} else if f[0] != a || f[1] != b {
			junc[id] = true
		}
	}
	for _, r := range raws {
		n := len(r.ids)
		if r.p.kind == kindLine {
			junc[r.ids[0]] = true
			junc[r.ids[n-1]] = true
			for k := 1; k < n-1; k++ {
				visit(r.ids[k], r.ids[k-1], r.ids[k+1])
			}
			continue
		}
		for k := range n {
			visit(r.ids[k], r.ids[(k+n-1)%n], r.ids[(k+1)%n])
		}
	}
	// Cut into arcs and merge equal ones.
	var seqs []int32
	t.start = []int32{0}
	index := map[[2]int32][]int32{}
	addArc := func(seq []int32) int32 {
		a, b := seq[0], seq[len(seq)-1]
		for _, c := range index[[2]int32{a, b}] {
			s := seqs[t.start[c]:t.start[c+1]]
			if equalSeq(s, seq, false) {
				t.uses[c]++
				return c
			}
		}
		for _, c := range index[[2]int32{b, a}] {
			s := seqs[t.start[c]:t.start[c+1]]
			if equalSeq(s, seq, true) {
				t.uses[c]++
				return ^c
			}
		}
		c := int32(len(t.start) - 1)
		seqs = append(seqs, seq...)
		t.start = append(t.start, int32(len(seqs)))
		t.uses = append(t.uses, 1)
		index[[2]int32{a, b}] = append(index[[2]int32{a, b}], c)
		return c
	}
	t.paths = make([]tpath, len(raws))
	buf := make([]int32, 0, 1024)
	for pi, r := range raws {
		ids := r.ids
		n := len(ids)
		p := r.p
		if p.kind == kindLine {
			buf = append(buf[:0], ids[0])
			for k := 1; k < n; k++ {
				buf = append(buf, ids[k])
				if junc[ids[k]] {
					p.arcs = append(p.arcs, addArc(buf))
					buf = append(buf[:0], ids[k])
				}
			}
			t.paths[pi] = p
			continue
		}
		j0 := -1
		for k := range n {
			if junc[ids[k]] {
				j0 = k
				break
			}
		}
		if j0 < 0 {
			lo := 0
			for k := 1; k < n; k++ {
				if geom.Less(pt.pts[ids[k]], pt.pts[ids[lo]]) {
					lo = k
				}
			}
			buf = buf[:0]
			for k := 0; k <= n; k++ {
				buf = append(buf, ids[(lo+k)%n])
			}
			p.arcs = append(p.arcs, addArc(buf))
			t.paths[pi] = p
			continue
		}
		buf = append(buf[:0], ids[j0])
		for k := 1; k <= n; k++ {
			id := ids[(j0+k)%n]
			buf = append(buf, id)
			if junc[id] {
				p.arcs = append(p.arcs, addArc(buf))
				buf = append(buf[:0], id)
			}
		}
		t.paths[pi] = p
	}
	for pi := range t.paths {
		for _, a := range t.paths[pi].arcs {
			if t.uses[arcID(a)] > 1 {
				t.paths[pi].shared = true
			}
		}
	}
	t.ll = make([]geom.Point, len(seqs))
	t.mx = make([]geom.Point, len(seqs))
	var wg sync.WaitGroup
	const chunk = 1 << 15
	for s := 0; s < len(seqs); s += chunk {
		wg.Add(1)
		go func(s, e int) {
			defer wg.Done()
			for v := s; v < e; v++ {
				p := pt.pts[seqs[v]]
				t.ll[v] = p
				t.mx[v] = mercator(p)
			}
		}(s, min(s+chunk, len(seqs)))
	}
	wg.Wait()
	t.buildBlocks()
	return t
}

// buildBlockTree indexes runs of up to 16 consecutive segments of one arc
// in an R-tree.
func (t *topo) buildBlockTree() {
	var boxes []geom.BBox
	for a := 0; a < t.arcs(); a++ {
		s, e := t.start[a], t.start[a+1]-1 // segments s..e-1
		for k := s; k < e; k += 16 {
			end := min(k+16, e)
			bb := geom.EmptyBBox()
			for v := k; v <= end; v++ {
				bb.Extend(t.ll[v])
			}
			t.runs = append(t.runs, [2]int32{k, end})
			boxes = append(boxes, bb)
		}
	}
	t.blocks = geom.NewRTree(boxes)
}

func arcID(a int32) int32 {
	if a < 0 {
		return ^a
	}
	return a
}

func equalSeq(s, q []int32, rev bool) bool {
	if len(s) != len(q) {
		return false
	}
	n := len(s)
	for i := range s {
		j := i
		if rev {
			j = n - 1 - i
		}
		if s[i] != q[j] {
			return false
		}
	}
	return true
}

func mercatorArea(pts []geom.Point) float64 {
	n := len(pts)
	if n < 3 {
		return 0
	}
	o := mercator(pts[0])
	var s float64
	prev := geom.Point{}
	for k := 1; k < n; k++ {
		q := mercator(pts[k])
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
		bb := geom.EmptyBBox()
		for v := b * 16; v <= min(b*16+16, n-1); v++ {
			bb.Extend(t.ll[v])
		}
		t.box16[b] = bb
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

// chainBBox returns the bbox of vertices i..j.
func (t *topo) chainBBox(i, j int) geom.BBox {
	bb := geom.EmptyBBox()
	for v := i; v <= j; {
		switch {
		case v%256 == 0 && v+256 <= j:
			bb.Union(t.box256[v/256])
			v += 256
		case v%16 == 0 && v+16 <= j:
			bb.Union(t.box16[v/16])
			v += 16
		default:
			bb.Extend(t.ll[v])
			v++
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
