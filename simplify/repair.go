package simplify

import (
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/mapcluster/mapcluster/simplify/internal/geom"
)

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

type segPair struct{ i, j int }

// ringConflicts finds the pairs of edges of a closed ring that meet other
// than at the vertex two neighbouring edges share.
func ringConflicts(pts []geom.Point) []segPair {
	n := len(pts)
	seg := func(i int) (geom.Point, geom.Point) { return pts[i], pts[(i+1)%n] }
	var out []segPair
	test := func(i, j int) {
		if i == j {
			return
		}
		if i > j {
			i, j = j, i
		}
		a, b := seg(i)
		c, d := seg(j)
		if j == i+1 || (i == 0 && j == n-1) {
			if geom.Conflict(a, b, c, d) {
				out = append(out, segPair{i, j})
			}
			return
		}
		if geom.Intersects(a, b, c, d) {
			out = append(out, segPair{i, j})
		}
	}
	if n <= 48 {
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				test(i, j)
			}
		}
		return out
	}
	boxes := make([]geom.BBox, n)
	ext := geom.EmptyBBox()
	for i := range n {
		a, b := seg(i)
		bb := geom.EmptyBBox()
		bb.Extend(a)
		bb.Extend(b)
		boxes[i] = bb
		ext.Union(bb)
	}
	geom.NewGrid(boxes, ext, 2).Pairs(boxes, func(i, j int32) { test(int(i), int(j)) })
	sort.Slice(out, func(a, b int) bool {
		if out[a].i != out[b].i {
			return out[a].i < out[b].i
		}
		return out[a].j < out[b].j
	})
	return out
}

// node inserts the points where conflicting edges meet into both edges.
func node(pts []geom.Point, conf []segPair) []geom.Point {
	n := len(pts)
	ins := map[int][]geom.Point{}
	add := func(i int, p geom.Point) {
		a, b := pts[i], pts[(i+1)%n]
		if p == a || p == b {
			return
		}
		ins[i] = append(ins[i], p)
	}
	for _, c := range conf {
		a, b := pts[c.i], pts[(c.i+1)%n]
		d0, d1 := pts[c.j], pts[(c.j+1)%n]
		o1, o2 := geom.Orient(a, b, d0), geom.Orient(a, b, d1)
		o3, o4 := geom.Orient(d0, d1, a), geom.Orient(d0, d1, b)
		if o1*o2 < 0 && o3*o4 < 0 {
			p := geom.IntersectionPoint(a, b, d0, d1)
			add(c.i, p)
			add(c.j, p)
			continue
		}
		on := func(s0, s1, p geom.Point, o int) bool {
			return o == 0 && math.Min(s0.X, s1.X) <= p.X && p.X <= math.Max(s0.X, s1.X) &&
				math.Min(s0.Y, s1.Y) <= p.Y && p.Y <= math.Max(s0.Y, s1.Y)
		}
		if on(a, b, d0, o1) {
			add(c.i, d0)
		}
		if on(a, b, d1, o2) {
			add(c.i, d1)
		}
		if on(d0, d1, a, o3) {
			add(c.j, a)
		}
		if on(d0, d1, b, o4) {
			add(c.j, b)
		}
	}
	out := make([]geom.Point, 0, n+2*len(conf))
	for i := 0; i < n; i++ {
		a, b := pts[i], pts[(i+1)%n]
		out = append(out, a)
		if ps := ins[i]; len(ps) > 0 {
			dx, dy := b.X-a.X, b.Y-a.Y
			sort.Slice(ps, func(x, y int) bool {
				return (ps[x].X-a.X)*dx+(ps[x].Y-a.Y)*dy < (ps[y].X-a.X)*dx+(ps[y].Y-a.Y)*dy
			})
			out = append(out, ps...)
		}
	}
	return out
}

// splitRing repairs a ring that touches or crosses itself. It nodes the ring
// at its self-intersections, cuts it into simple loops at repeated vertices
// and sorts the loops: those wound like the largest loop keep the ring's
// role (same); those wound the other way and lying inside a loop of the
// same role take the opposite role (flipped: an inverted hole, or an island
// in a lake); the rest are twists and are dropped. fixed reports a repair;
// dropped reports that degenerate loops were dropped.
func splitRing(pts []geom.Point) (same, flipped [][]geom.Point, fixed, dropped bool) {
	pts = removeSpikes(dedupe(pts))
	if len(pts) < 3 {
		return nil, nil, false, true
	}
	for round := 0; round < 4; round++ {
		conf := ringConflicts(pts)
		if len(conf) == 0 {
			if round == 0 {
				// A simple ring: nothing to split.
				if geom.SignedArea(pts) == 0 {
					return nil, nil, false, true
				}
				return [][]geom.Point{pts}, nil, false, false
			}
			break
		}
		fixed = true
		pts = removeSpikes(dedupe(node(pts, conf)))
		if len(pts) < 3 {
			return nil, nil, true, true
		}
	}
	loops := splitLoops(pts)
	if len(loops) > 1 {
		fixed = true
	}
	type lp struct {
		pts  []geom.Point
		area float64
	}
	var ls []lp
	for _, l := range loops {
		l = removeSpikes(l)
		a := geom.SignedArea(l)
		if len(l) < 3 || a == 0 {
			dropped = true
			continue
		}
		ls = append(ls, lp{l, a})
	}
	if len(ls) == 0 {
		return nil, nil, fixed, true
	}
	dom := 0
	for i := range ls {
		if math.Abs(ls[i].area) > math.Abs(ls[dom].area) {
			dom = i
		}
	}
	sign := ls[dom].area > 0
	for _, l := range ls {
		if (l.area > 0) == sign {
			same = append(same, l.pts)
		}
	}
	for _, l := range ls {
		if (l.area > 0) == sign {
			continue
		}
		inside := false
		for _, s := range same {
			if ringInside(l.pts, s) {
				inside = true
				break
			}
		}
		if inside {
			flipped = append(flipped, l.pts)
		} else {
			fixed = true // a twist, dropped
		}
	}
	return same, flipped, fixed, dropped
}

// splitLoops cuts a closed walk into simple loops at its repeated vertices.
func splitLoops(pts []geom.Point) [][]geom.Point {
	pos := make(map[geom.Point]int, len(pts))
	st := make([]geom.Point, 0, len(pts))
	var out [][]geom.Point
	for _, p := range pts {
		if k, ok := pos[p]; ok {
			loop := slices.Clone(st[k:])
			for _, q := range st[k+1:] {
				delete(pos, q)
			}
			st = st[:k+1]
			out = append(out, loop)
			continue
		}
		pos[p] = len(st)
		st = append(st, p)
	}
	out = append(out, st)
	return out
}

// crossesAntimeridian reports an edge spanning more than 180° of longitude.
func crossesAntimeridian(pts []geom.Point) bool {
	n := len(pts)
	for i := range n {
		if math.Abs(pts[(i+1)%n].X-pts[i].X) > 180 {
			return true
		}
	}
	return false
}

// cutAntimeridian unwraps a ring whose edges jump across ±180° and cuts it
// at the antimeridian into rings within -180..180. A ring that winds around
// a pole is closed along that pole.
func cutAntimeridian(pts []geom.Point) [][]geom.Point {
	n := len(pts)
	u := make([]geom.Point, n, n+3)
	u[0] = pts[0]
	shift := 0.0
	for i := 1; i < n; i++ {
		d := pts[i].X - pts[i-1].X
		if d > 180 {
			shift -= 360
		} else if d < -180 {
			shift += 360
		}
		u[i] = geom.Point{X: pts[i].X + shift, Y: pts[i].Y}
	}
	d := pts[0].X - pts[n-1].X
	if d > 180 {
		shift -= 360
	} else if d < -180 {
		shift += 360
	}
	if shift != 0 {
		// Polar ring: close it along the nearer pole.
		var lat, minY, maxY float64
		minY, maxY = 90, -90
		for _, p := range pts {
			lat += p.Y
			minY = math.Min(minY, p.Y)
			maxY = math.Max(maxY, p.Y)
		}
		pole := 90.0
		if lat < 0 {
			pole = -90
		}
		if maxY-minY < 0.01 && math.Abs(pole-(minY+maxY)/2) < 0.01 {
			return nil // the ring only traces the pole
		}
		end := pts[0].X + shift
		u = append(u, geom.Point{X: end, Y: pts[0].Y}, geom.Point{X: end, Y: pole}, geom.Point{X: u[0].X, Y: pole})
	}
	// Shifting by 360° is not exact in floating point: remember the input
	// point behind every unwrapped one, so that the output keeps the input's
	// exact coordinates (which neighbours share).
	orig := make(map[geom.Point]geom.Point, n)
	for i := range n {
		orig[u[i]] = pts[i]
	}
	u = dedupe(u)
	if geom.SignedArea(u) < 0 {
		slices.Reverse(u)
	}
	minX, maxX := math.Inf(1), math.Inf(-1)
	for _, p := range u {
		minX = math.Min(minX, p.X)
		maxX = math.Max(maxX, p.X)
	}
	pieces := [][]geom.Point{u}
	for L := -540.0; L <= 540; L += 360 {
		if !(L > minX && L < maxX) {
			continue
		}
		var next [][]geom.Point
		for _, pc := range pieces {
			next = append(next, clipHalf(pc, L, true)...)
			next = append(next, clipHalf(pc, L, false)...)
		}
		pieces = next
	}
	out := pieces[:0]
	for _, pc := range pieces {
		var cx float64
		for _, p := range pc {
			cx += p.X
		}
		cx /= float64(len(pc))
		k := math.Round(cx / 360)
		for i := range pc {
			x := pc[i].X - 360*k
			if o, ok := orig[pc[i]]; ok && math.Abs(o.X-x) < 1e-6 {
				pc[i] = o
				continue
			}
			pc[i].X = math.Max(-180, math.Min(180, x))
		}
		pc = removeSpikes(dedupe(pc))
		if len(pc) >= 3 && geom.SignedArea(pc) != 0 {
			out = append(out, pc)
		}
	}
	return out
}

// clipHalf clips a counter-clockwise simple ring to the half-plane x <= L
// (west) or x > L, returning the counter-clockwise rings of the part inside.
func clipHalf(r []geom.Point, L float64, west bool) [][]geom.Point {
	in := func(p geom.Point) bool { return (p.X <= L) == west }
	n := len(r)
	start := -1
	all := true
	for i, p := range r {
		if !in(p) {
			all = false
			if start < 0 {
				start = i
			}
		}
	}
	if all {
		return [][]geom.Point{r}
	}
	cross := func(a, b geom.Point) geom.Point {
		if a.X == L {
			return a
		}
		if b.X == L {
			return b
		}
		t := (L - a.X) / (b.X - a.X)
		return geom.Point{X: L, Y: a.Y + t*(b.Y-a.Y)}
	}
	type chain struct {
		pts  []geom.Point
		used bool
	}
	var chains []*chain
	var cur *chain
	for k := 0; k < n; k++ {
		a, b := r[(start+k)%n], r[(start+k+1)%n]
		ia, ib := in(a), in(b)
		switch {
		case !ia && ib:
			cur = &chain{pts: []geom.Point{cross(a, b), b}}
		case ia && ib:
			cur.pts = append(cur.pts, b)
		case ia && !ib:
			cur.pts = append(cur.pts, cross(a, b))
			chains = append(chains, cur)
			cur = nil
		}
	}
	if len(chains) == 0 {
		return nil
	}
	// From an exit, the boundary runs along the line towards the interior:
	// north for the west half, south for the east half, to the nearest entry.
	next := func(exit geom.Point) *chain {
		var best *chain
		for _, c := range chains {
			e := c.pts[0]
			if west {
				if e.Y >= exit.Y && (best == nil || e.Y < best.pts[0].Y) {
					best = c
				}
			} else if e.Y <= exit.Y && (best == nil || e.Y > best.pts[0].Y) {
				best = c
			}
		}
		return best
	}
	var out [][]geom.Point
	for _, c := range chains {
		if c.used {
			continue
		}
		var ring []geom.Point
		for cc := c; cc != nil && !cc.used; {
			cc.used = true
			ring = append(ring, cc.pts...)
			cc = next(cc.pts[len(cc.pts)-1])
		}
		out = append(out, ring)
	}
	return out
}

// checkPartConflicts looks for rings of one feature that cross, overlap or
// share an edge. Polygons that share edges are dissolved into one (the
// edges they share cancel out); rings that still cross are left as they
// are and reported: the simplifier keeps them from getting worse, but
// cannot make them valid.
func checkPartConflicts(f *feat, rep func(int, int, string) error) (changed bool, err error) {
	pairs := partConflicts(f)
	if len(pairs) == 0 {
		return false, nil
	}
	// Group the conflicting parts and dissolve each group.
	parent := make([]int, len(f.parts))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for _, pr := range pairs {
		a, b := find(pr[0]), find(pr[2])
		if a != b {
			parent[max(a, b)] = min(a, b)
		}
	}
	conflicted := make([]bool, len(f.parts))
	for _, pr := range pairs {
		conflicted[pr[0]], conflicted[pr[2]] = true, true
	}
	groups := map[int][]int{} // root -> members, in order
	for i := range f.parts {
		if conflicted[i] {
			r := find(i)
			groups[r] = append(groups[r], i)
		}
	}
	var keep []part
	var extra feat
	for i := range f.parts {
		if !conflicted[i] {
			keep = append(keep, f.parts[i])
			continue
		}
		if find(i) != i {
			continue // dissolved with its root
		}
		var rings []ring
		var parts []part
		for _, k := range groups[i] {
			rings = append(rings, f.parts[k].rings...)
			parts = append(parts, f.parts[k])
		}
		if err := rep(i, 0, RepairOverlap); err != nil {
			return true, err
		}
		var shells, holes [][]geom.Point
		loops := unionParts(parts)
		_ = rings
		for _, loop := range loops {
			loop = removeSpikes(loop)
			a := geom.SignedArea(loop)
			if len(loop) < 3 || a == 0 {
				continue
			}
			if a > 0 {
				shells = append(shells, loop)
			} else {
				holes = append(holes, loop)
			}
		}
		if err := assemble(shells, holes, &extra); err != nil {
			return true, err
		}
	}
	f.parts = append(keep, extra.parts...)
	// What still conflicts is reported.
	bad := map[[2]int]bool{}
	for _, pr := range partConflicts(f) {
		bad[[2]int{pr[0], pr[1]}] = true
		bad[[2]int{pr[2], pr[3]}] = true
	}
	keys := make([][2]int, 0, len(bad))
	for k := range bad {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b [2]int) int {
		if a[0] != b[0] {
			return a[0] - b[0]
		}
		return a[1] - b[1]
	})
	for _, k := range keys {
		if err := rep(k[0], k[1], RepairUnrepaired); err != nil {
			return true, err
		}
	}
	return true, nil
}

// unionParts returns the loops of the union of polygons (shells counter-
// clockwise, holes clockwise) whose rings cross: all rings are noded at
// their crossings; an edge is kept, turned so that the union lies on its
// left, when the polygons cover one of its sides and not the other (judged
// at its midpoint); edges run twice the same way are kept once; the rest is
// dissolved. A hole that crosses its own shell is cut out of it.
func unionParts(parts []part) [][]geom.Point {
	type rref struct{ part, ring int }
	var refs []rref
	var rings [][]geom.Point
	for pi, p := range parts {
		for ri, r := range p.rings {
			refs = append(refs, rref{pi, ri})
			rings = append(rings, r.pts)
		}
	}
	ins := make([]map[int][]geom.Point, len(rings))
	for i := range ins {
		ins[i] = map[int][]geom.Point{}
	}
	add := func(ri, k int, p geom.Point) {
		r := rings[ri]
		if p != r[k] && p != r[(k+1)%len(r)] {
			ins[ri][k] = append(ins[ri][k], p)
		}
	}
	for i := range rings {
		for j := i + 1; j < len(rings); j++ {
			a, b := rings[i], rings[j]
			for x := range a {
				p, q := a[x], a[(x+1)%len(a)]
				for y := range b {
					r, s := b[y], b[(y+1)%len(b)]
					if !geom.Intersects(p, q, r, s) {
						continue
					}
					o1, o2 := geom.Orient(p, q, r), geom.Orient(p, q, s)
					o3, o4 := geom.Orient(r, s, p), geom.Orient(r, s, q)
					if o1*o2 < 0 && o3*o4 < 0 {
						c := geom.IntersectionPoint(p, q, r, s)
						add(i, x, c)
						add(j, y, c)
						continue
					}
					if o1 == 0 && onSeg(p, q, r) {
						add(i, x, r)
					}
					if o2 == 0 && onSeg(p, q, s) {
						add(i, x, s)
					}
					if o3 == 0 && onSeg(r, s, p) {
						add(j, y, p)
					}
					if o4 == 0 && onSeg(r, s, q) {
						add(j, y, q)
					}
				}
			}
		}
	}
	// inPart reports whether m is strictly inside part p (1), outside (-1)
	// or on its boundary (0).
	inPart := func(m geom.Point, p part) int {
		in := geom.PointInRing(m, p.rings[0].pts)
		if in <= 0 {
			return in
		}
		for _, h := range p.rings[1:] {
			switch geom.PointInRing(m, h.pts) {
			case 1:
				return -1
			case 0:
				return 0
			}
		}
		return 1
	}
	type edge struct{ a, b geom.Point }
	seen := map[edge]bool{}
	var kept []ring
	for i, r := range rings {
		var pts []geom.Point
		n := len(r)
		for k := range n {
			a, b := r[k], r[(k+1)%n]
			pts = append(pts, a)
			if ps := ins[i][k]; len(ps) > 0 {
				dx, dy := b.X-a.X, b.Y-a.Y
				sort.Slice(ps, func(x, y int) bool {
					return (ps[x].X-a.X)*dx+(ps[x].Y-a.Y)*dy < (ps[y].X-a.X)*dx+(ps[y].Y-a.Y)*dy
				})
				pts = append(pts, ps...)
			}
		}
		pts = dedupe(pts)
		m := len(pts)
		for k := range m {
			a, b := pts[k], pts[(k+1)%m]
			e := edge{a, b}
			if seen[e] {
				continue
			}
			mid := geom.Point{X: (a.X + b.X) / 2, Y: (a.Y + b.Y) / 2}
			// Cover of the edge's right side, and of its left side, by
			// the polygons; the edge's own polygon covers its left side
			// where its other rings allow.
			right := 0
			for pj, p := range parts {
				if pj != refs[i].part && inPart(mid, p) == 1 {
					right++
				}
			}
			own := parts[refs[i].part]
			left := right
			ownCovers := refs[i].ring == 0 || geom.PointInRing(mid, own.rings[0].pts) == 1
			for hi, h := range own.rings[1:] {
				if hi+1 != refs[i].ring && geom.PointInRing(mid, h.pts) == 1 {
					ownCovers = false
				}
			}
			if ownCovers {
				left++
			}
			switch {
			case left > 0 && right == 0:
				seen[e] = true
				kept = append(kept, ring{pts: []geom.Point{a, b}, kind: kindShell})
			case left == 0 && right > 0:
				if r := (edge{b, a}); !seen[r] {
					seen[r] = true
					kept = append(kept, ring{pts: []geom.Point{b, a}, kind: kindShell})
				}
			}
		}
	}
	return dissolveEdges(kept)
}

func onSeg(a, b, p geom.Point) bool {
	return math.Min(a.X, b.X) <= p.X && p.X <= math.Max(a.X, b.X) &&
		math.Min(a.Y, b.Y) <= p.Y && p.Y <= math.Max(a.Y, b.Y)
}

// dissolveEdges is dissolve over open two-point edges.
func dissolveEdges(edges []ring) [][]geom.Point { return dissolveWith(edges, false) }

func dissolveWith(rings []ring, closed bool) [][]geom.Point {
	type edge struct{ a, b geom.Point }
	count := map[edge]int{}
	var order []edge
	for _, r := range rings {
		n := len(r.pts)
		m := n
		if !closed {
			m = n - 1
		}
		for k := range m {
			e := edge{r.pts[k], r.pts[(k+1)%n]}
			if c := count[edge{e.b, e.a}]; c > 0 {
				count[edge{e.b, e.a}] = c - 1
				continue
			}
			if count[e] == 0 {
				order = append(order, e)
			}
			count[e]++
		}
	}
	out := map[geom.Point][]geom.Point{}
	var starts []geom.Point
	for _, e := range order {
		for c := count[e]; c > 0; c-- {
			if len(out[e.a]) == 0 {
				starts = append(starts, e.a)
			}
			out[e.a] = append(out[e.a], e.b)
		}
	}
	var loops [][]geom.Point
	for _, s := range starts {
		for len(out[s]) > 0 {
			var walk []geom.Point
			p := s
			prev := geom.Point{}
			first := true
			for len(out[p]) > 0 {
				walk = append(walk, p)
				// Take the outgoing edge first met turning clockwise
				// from the way back: it bounds the face on the left of
				// the incoming edge, so loops touching at a vertex stay
				// apart.
				k := 0
				if !first && len(out[p]) > 1 {
					back := math.Atan2(prev.Y-p.Y, prev.X-p.X)
					best := math.Inf(1)
					for c, q := range out[p] {
						d := back - math.Atan2(q.Y-p.Y, q.X-p.X)
						for d <= 0 {
							d += 2 * math.Pi
						}
						if d < best {
							best, k = d, c
						}
					}
				}
				q := out[p][k]
				out[p] = append(out[p][:k:k], out[p][k+1:]...)
				prev, p, first = p, q, false
			}
			loops = append(loops, splitLoops(walk)...)
		}
	}
	return loops
}

// partConflicts returns the pairs of rings, as (part, ring, part, ring), of
// different parts of a feature, or of a shell and its hole, that cross, run
// along each other or share an edge.
func partConflicts(f *feat) [][4]int {
	type sref struct {
		part, ring int
		a, b       geom.Point
	}
	var segs []sref
	var boxes []geom.BBox
	ext := geom.EmptyBBox()
	for pi, p := range f.parts {
		for ri, r := range p.rings {
			n := len(r.pts)
			for k := range n {
				a, b := r.pts[k], r.pts[(k+1)%n]
				segs = append(segs, sref{pi, ri, a, b})
				bb := geom.EmptyBBox()
				bb.Extend(a)
				bb.Extend(b)
				boxes = append(boxes, bb)
				ext.Union(bb)
			}
		}
	}
	g := geom.NewGrid(boxes, ext, 2)
	seen := map[[4]int]bool{}
	var out [][4]int
	g.Pairs(boxes, func(i, j int32) {
		s, t := segs[i], segs[j]
		if s.part == t.part && s.ring == t.ring {
			return
		}
		if geom.Conflict(s.a, s.b, t.a, t.b) && !touchOnly(s.a, s.b, t.a, t.b) {
			k := [4]int{s.part, s.ring, t.part, t.ring}
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	})
	// Polygons that touch at two or more vertices can overlap without any
	// edges crossing: test sampled vertices of each inside the other.
	owner := map[geom.Point]int{}
	touches := map[[2]int]int{}
	for pi, p := range f.parts {
		for _, r := range p.rings {
			for _, q := range r.pts {
				if o, ok := owner[q]; !ok {
					owner[q] = pi
				} else if o != pi {
					touches[[2]int{o, pi}]++
				}
			}
		}
	}
	var tk [][2]int
	for k, n := range touches {
		if n >= 2 {
			tk = append(tk, k)
		}
	}
	slices.SortFunc(tk, func(a, b [2]int) int {
		if a[0] != b[0] {
			return a[0] - b[0]
		}
		return a[1] - b[1]
	})
	for _, k := range tk {
		a, b := f.parts[k[0]], f.parts[k[1]]
		if overlapsBySample(a, b) || overlapsBySample(b, a) {
			key := [4]int{k[0], 0, k[1], 0}
			if !seen[key] {
				seen[key] = true
				out = append(out, key)
			}
		}
	}
	// A hole that touches its shell and leaves it does not cross it.
	for pi, p := range f.parts {
		for ri, h := range p.rings[1:] {
			for _, q := range geom.SampleRing(h.pts) {
				if geom.PointInRing(q, p.rings[0].pts) < 0 {
					k := [4]int{pi, 0, pi, ri + 1}
					if !seen[k] {
						seen[k] = true
						out = append(out, k)
					}
					break
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b [4]int) int {
		for i := range a {
			if a[i] != b[i] {
				return a[i] - b[i]
			}
		}
		return 0
	})
	return out
}

// overlapsBySample reports whether a sampled vertex of a's shell lies in
// b's interior.
func overlapsBySample(a, b part) bool {
	for _, q := range geom.SampleRing(a.rings[0].pts) {
		if geom.PointInRing(q, b.rings[0].pts) != 1 {
			continue
		}
		inHole := false
		for _, h := range b.rings[1:] {
			if geom.PointInRing(q, h.pts) >= 0 {
				inHole = true
				break
			}
		}
		if !inHole {
			return true
		}
	}
	return false
}

// touchOnly reports that two segments meet at a single point without
// crossing: rings of a polygon may touch like that.
func touchOnly(a, b, c, d geom.Point) bool {
	o1, o2 := geom.Orient(a, b, c), geom.Orient(a, b, d)
	o3, o4 := geom.Orient(c, d, a), geom.Orient(c, d, b)
	if o1*o2 < 0 && o3*o4 < 0 {
		return false // proper crossing
	}
	if o1 == 0 && o2 == 0 {
		return false // collinear overlap (Conflict said they meet)
	}
	return true
}

// dropNested drops the polygons of a feature that lie inside another of its
// polygons (and not in a hole of it): the feature's union is unchanged.
func dropNested(f *feat, rep func(int, int, string) error) error {
	n := len(f.parts)
	bbs := make([]geom.BBox, n)
	areas := make([]float64, n)
	for i, p := range f.parts {
		bbs[i] = geom.EmptyBBox()
		for _, q := range p.rings[0].pts {
			bbs[i].Extend(q)
		}
		areas[i] = math.Abs(geom.SignedArea(p.rings[0].pts))
	}
	drop := make([]bool, n)
	for i := range n {
		for j := range n {
			if i == j || drop[j] || areas[j] < areas[i] || (areas[j] == areas[i] && j > i) || !bbs[j].Contains(geom.Point{X: bbs[i].MinX, Y: bbs[i].MinY}) || !bbs[j].Contains(geom.Point{X: bbs[i].MaxX, Y: bbs[i].MaxY}) {
				continue
			}
			if partInside(f.parts[i].rings[0].pts, f.parts[j]) {
				drop[i] = true
				break
			}
		}
	}
	out := f.parts[:0]
	for i, p := range f.parts {
		if drop[i] {
			if err := rep(i, 0, RepairOverlap); err != nil {
				return err
			}
			continue
		}
		out = append(out, p)
	}
	f.parts = out
	return nil
}

// partInside reports whether ring r lies in the interior of polygon p,
// judged by its first vertex not on p's boundary.
func partInside(r []geom.Point, p part) bool {
	for _, q := range r {
		in := geom.PointInRing(q, p.rings[0].pts)
		if in == 0 {
			continue
		}
		if in < 0 {
			return false
		}
		on := false
		for _, h := range p.rings[1:] {
			switch geom.PointInRing(q, h.pts) {
			case 1:
				return false
			case 0:
				on = true
			}
		}
		if !on {
			return true
		}
	}
	return false
}
