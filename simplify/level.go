package simplify

import (
	"math"
	"slices"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/mapcluster/mapcluster/simplify/internal/geom"
)

// levelWork holds the state of one zoom level.
type levelWork struct {
	t        *topo
	imp      []float64
	kept     []bool
	active   []bool // per arc
	dropped  []bool // per path
	restored int
	ndropped int
	// next[v] is the next kept vertex after kept vertex v in its arc.
	next []int32
	// lo[v] is the last kept vertex at or before v in its arc; -1 in
	// inactive arcs.
	lo      []int32
	stamp   []int32
	query   int32
	bad     []bool
	badList []int32
	nseg    int
	arcKept []int32 // per arc: kept vertices but the last
	runBuf  []int32
	ptBuf   []int32
	// strikes counts, per shortcut start, the rounds it conflicted in.
	strikes map[int32]int32
	join    joinGrid
}

// maxStrikes is how many rounds a chain gets its vertices back one at a
// time before all of them come back.
const maxStrikes = 8

type segment struct {
	i, j int32 // first and last vertex; a shortcut when j > i+1
}

// buildLevel filters the topology at one zoom and repairs the result.
func (b *builder) buildLevel(z int) Level {
	t := b.t
	tol := Tolerance(z, b.opts.Detail, b.opts.ToleranceScale)
	unit := WorldSize / math.Ldexp(1, b.opts.Detail+z)
	minArea := b.opts.MinArea * unit * unit
	w := b.pool.Get().(*levelWork)
	defer b.pool.Put(w)
	w.reset(t, b.imp)

	// 1. Drop small parts that share no border with anything.
	if b.opts.MinArea > 0 {
		for fi := range t.ringsOf {
			rings := t.ringsOf[fi]
			for k := 0; k < len(rings); {
				p := t.paths[rings[k]]
				e := k + 1
				for e < len(rings) && t.paths[rings[e]].part == p.part {
					e++
				}
				if p.kind == kindShell && p.area < minArea && !(b.opts.KeepShapes && t.largest[fi] == rings[k]) {
					shared := false
					for _, r := range rings[k:e] {
						shared = shared || t.paths[r].shared
					}
					if !shared {
						for _, r := range rings[k:e] {
							w.dropped[r] = true
						}
						w.ndropped++
					}
				}
				k = e
			}
		}
	}
	for pi, p := range t.paths {
		if w.dropped[pi] {
			continue
		}
		for _, a := range p.arcs {
			w.active[arcID(a)] = true
		}
	}
	// 2. Threshold, counting the kept vertices of each arc (its last
	// vertex aside).
	for a := range w.active {
		s, e := t.start[a], t.start[a+1]
		if !w.active[a] {
			clear(w.kept[s:e])
			continue
		}
		n := int32(0)
		for v := s; v < e; v++ {
			k := b.imp[v] >= tol
			w.kept[v] = k
			if k {
				n++
			}
		}
		w.arcKept[a] = n - 1
	}
	// 3. Every ring keeps at least 3 distinct vertices (4 points).
	for pi, p := range t.paths {
		if w.dropped[pi] || p.kind == kindLine {
			continue
		}
		w.ensureMinPoints(p)
	}
	// 4. Restore vertices until no shortcut conflicts.
	for a := range w.active {
		s, e := t.start[a], t.start[a+1]
		if !w.active[a] {
			for v := s; v < e; v++ {
				w.lo[v] = -1
			}
			continue
		}
		prev := s
		w.lo[s] = s
		for v := s + 1; v < e; v++ {
			if w.kept[v] {
				w.next[prev] = v
				prev = v
				w.nseg++
			}
			w.lo[v] = prev
		}
	}
	w.resolve()
	return b.output(z, tol, w)
}

func (w *levelWork) keptInRing(p tpath) int {
	n := 0
	for _, a := range p.arcs {
		n += int(w.arcKept[arcID(a)])
	}
	return n
}

// reset readies a pooled levelWork for a new level. The per-vertex arrays
// are rewritten by the threshold pass; bad is left all false by resolve;
// stamp relies on query, which only grows.
func (w *levelWork) reset(t *topo, imp []float64) {
	n := len(t.ll)
	if w.t != t {
		*w = levelWork{t: t, imp: imp,
			kept: make([]bool, n), next: make([]int32, n), lo: make([]int32, n),
			stamp: make([]int32, n), bad: make([]bool, n),
			active: make([]bool, t.arcs()), arcKept: make([]int32, t.arcs()), dropped: make([]bool, len(t.paths)),
			strikes: map[int32]int32{}}
		return
	}
	clear(w.active)
	clear(w.dropped)
	clear(w.strikes)
	w.restored, w.ndropped, w.nseg = 0, 0, 0
	w.badList = w.badList[:0]
}

func (w *levelWork) ensureMinPoints(p tpath) {
	n := w.keptInRing(p)
	if n >= 3 {
		return
	}
	var cand []int32
	for _, a := range p.arcs {
		a = arcID(a)
		for v := w.t.start[a] + 1; v < w.t.start[a+1]-1; v++ {
			if !w.kept[v] {
				cand = append(cand, v)
			}
		}
	}
	slices.SortFunc(cand, func(x, y int32) int {
		if w.imp[x] != w.imp[y] {
			if w.imp[x] > w.imp[y] {
				return -1
			}
			return 1
		}
		return int(x - y)
	})
	for _, v := range cand {
		if n >= 3 {
			break
		}
		w.kept[v] = true
		w.arcKept[w.arcOf(v)]++
		w.restored++
		n++
	}
}

// arcOf returns the arc holding vertex v (not an endpoint).
func (w *levelWork) arcOf(v int32) int {
	st := w.t.start
	lo, hi := 0, len(st)-1
	for lo+1 < hi {
		m := (lo + hi) / 2
		if st[m] <= v {
			lo = m
		} else {
			hi = m
		}
	}
	return lo
}

// swept reports whether p lies strictly inside the region between shortcut
// s and the chain of vertices it replaces.
func (w *levelWork) swept(s segment, cb geom.BBox, p geom.Point) bool {
	t := w.t
	sa, sb := t.ll[s.i], t.ll[s.j]
	if p == sa || p == sb || !cb.Contains(p) {
		return false
	}
	return t.chainParity(p, int(s.i), int(s.j)) != edgeCrosses(p, sb, sa)
}

func (w *levelWork) mark(i int32) {
	if !w.bad[i] {
		w.bad[i] = true
		w.badList = append(w.badList, i)
	}
}

// resolve restores vertices until no shortcut crosses or touches another
// segment, and no shortcut's swept region (between the shortcut and the
// chain it replaces) holds a kept vertex. Each round restores the most
// important removed vertex of every conflicting shortcut (all of its chain
// after maxStrikes rounds). The first round tests every shortcut, from the
// shortcut's side (static index) or by a grid join of the shortcuts with
// the kept segments (gridJoin), whichever is cheaper; later rounds test
// the new segments against the first round's shortcuts (through the same
// grid), and the shortcuts made since against everything.
func (w *levelWork) resolve() {
	t := w.t
	var shorts []segment
	for a := range w.active {
		if !w.active[a] {
			continue
		}
		for v := t.start[a]; v < t.start[a+1]-1; v = w.next[v] {
			if w.next[v] > v+1 {
				shorts = append(shorts, segment{v, w.next[v]})
			}
		}
	}
	if len(shorts) == 0 {
		return
	}
	// Pick the cheaper way to find conflicts: from each shortcut through the
	// static index of original segments (cheap when chains are short, at
	// high zooms), or by joining every kept segment with the shortcuts on a
	// grid (cheap when few vertices are kept, at low zooms).
	// The vertices the shortcuts replace stand for the first cost, the
	// kept segments for the second; the static side gets half again as
	// much since its one-run chains skip the tree (countries-10m z3, 324k
	// replaced against 254k kept: 51 ms static, 57 ms joined).
	est := 0
	for _, sh := range shorts {
		est += int(sh.j - sh.i)
	}
	w.join.built = false
	if est <= w.nseg {
		for _, sh := range shorts {
			w.staticCheck(sh)
		}
	} else {
		w.gridJoin(shorts)
	}
	// Later rounds: the new segments against the first round's shortcuts,
	// and the shortcuts made since (new or not yet split) through the
	// static index, which sees every kept vertex.
	var later []segment
	for round := 0; len(w.badList) > 0 && round < 1000; round++ {
		var newSegs []segment
		var pts []geom.BBox
		w.restoreBad(func(s segment) {
			newSegs = append(newSegs, s)
			p := t.ll[s.j]
			pts = append(pts, geom.BBox{MinX: p.X, MinY: p.Y, MaxX: p.X, MaxY: p.Y})
		})
		// Shortcuts made in earlier rounds that may hold a restored vertex.
		ptree := geom.NewRTree(pts)
		keep := later[:0]
		for _, o := range later {
			if w.next[o.i] != o.j {
				continue
			}
			keep = append(keep, o)
			if w.ptBuf = ptree.SearchInto(t.chainBBox(int(o.i), int(o.j)), w.ptBuf[:0]); len(w.ptBuf) > 0 {
				w.staticCheck(o)
			}
		}
		later = keep
		for _, o := range newSegs {
			if w.next[o.i] == o.j {
				w.joinCheck(shorts, o)
				if o.j > o.i+1 {
					later = append(later, o)
					w.staticCheck(o)
				}
			}
		}
	}
}

// restoreBad restores the most important removed vertex of every marked
// shortcut and reports the two segments that replace it.
func (w *levelWork) restoreBad(add func(segment)) {
	slices.Sort(w.badList)
	for _, i := range w.badList {
		w.bad[i] = false
		j := w.next[i]
		if j <= i+1 {
			continue
		}
		w.strikes[i]++
		if w.strikes[i] > maxStrikes {
			// This chain keeps conflicting: restore all of it at once
			// rather than one vertex per round.
			for v := i + 1; v < j; v++ {
				w.kept[v] = true
				w.arcKept[w.arcOf(v)]++
				w.restored++
				w.next[v-1] = v
				w.lo[v] = v
				add(segment{v - 1, v})
			}
			w.next[j-1] = j
			add(segment{j - 1, j})
			continue
		}
		best := int32(-1)
		for v := i + 1; v < j; v++ {
			if best < 0 || w.imp[v] > w.imp[best] {
				best = v
			}
		}
		w.kept[best] = true
		w.arcKept[w.arcOf(best)]++
		w.restored++
		w.next[i] = best
		w.next[best] = j
		for v := best; v < j; v++ {
			w.lo[v] = best
		}
		add(segment{i, best})
		add(segment{best, j})
	}
	w.badList = w.badList[:0]
}

// staticCheck finds conflicts of shortcut s through the static index of
// all original segments: every kept segment that can cross s or have a
// vertex in its swept region has an original segment in the bbox of the
// chain s replaces, and lo maps that segment to the kept one. It stops at
// the first conflict, so a shortcut that crosses s is marked only when it
// is checked itself.
func (w *levelWork) staticCheck(s segment) { w.staticCheckMode(s, false) }

// staticCheckAll is staticCheck that goes on after the first conflict and
// marks every shortcut that crosses s, for when those are not checked
// themselves against s.
func (w *levelWork) staticCheckAll(s segment) { w.staticCheckMode(s, true) }

func (w *levelWork) staticCheckMode(s segment, all bool) {
	t := w.t
	w.query++
	q := w.query
	i, j := s.i, s.j
	sa, sb := t.ll[i], t.ll[j]
	cb := t.chainBBox(int(i), int(j))
	sbb := geom.SegBBox(sa, sb)
	if r := t.runOf(i); r == t.runOf(j-1) {
		// The chain lies in one run, so cb lies in its box: filter the
		// run's neighbours rather than walk the tree (same runs, same
		// order).
		w.runBuf = w.runBuf[:0]
		for _, c := range t.nb[t.nbStart[r]:t.nbStart[r+1]] {
			if t.runBox[c].Overlaps(cb) {
				w.runBuf = append(w.runBuf, c)
			}
		}
	} else {
		w.runBuf = t.blocks.SearchInto(cb, w.runBuf[:0])
	}
	for _, run := range w.runBuf {
		rs := t.runs[run]
		if (rs[0] >= i && rs[1] <= j) || w.lo[rs[0]] < 0 {
			continue // within the shortcut's own chain, or in an inactive arc
		}
		for k := rs[0]; k < rs[1]; k++ {
			if k >= i && k < j {
				continue // the shortcut's own chain
			}
			a, b := t.ll[k], t.ll[k+1]
			if (a.X < cb.MinX && b.X < cb.MinX) || (a.X > cb.MaxX && b.X > cb.MaxX) ||
				(a.Y < cb.MinY && b.Y < cb.MinY) || (a.Y > cb.MaxY && b.Y > cb.MaxY) {
				continue
			}
			r := w.lo[k]
			if r < 0 || w.stamp[r] == q {
				continue
			}
			w.stamp[r] = q
			o := segment{r, w.next[r]}
			oa, ob := t.ll[o.i], t.ll[o.j]
			if geom.SegBBox(oa, ob).Overlaps(sbb) && geom.Conflict(sa, sb, oa, ob) {
				w.mark(i)
				if o.j > o.i+1 {
					w.mark(o.i)
				}
				if !all {
					return
				}
				continue
			}
			if !w.bad[i] && (w.swept(s, cb, oa) || w.swept(s, cb, ob)) {
				w.mark(i)
				if !all {
					return
				}
			}
		}
	}
}

// output builds the level's features from the kept vertices.
func (b *builder) output(z int, tol float64, w *levelWork) Level {
	t := b.t
	lv := Level{Zoom: z, Tolerance: tol, Restored: w.restored, Dropped: w.ndropped}
	// Count what materialize will write, and which features it keeps.
	for fi, rings := range t.ringsOf {
		present := false
		for _, pi := range rings {
			if w.dropped[pi] {
				continue
			}
			present = true
			p := t.paths[pi]
			lv.Vertices++ // closing point, or a line's last point
			for _, a := range p.arcs {
				a = arcID(a)
				lv.Vertices += int(w.arcKept[a])
			}
		}
		if present {
			lv.Index = append(lv.Index, fi)
		}
	}
	lv.out = &levelOutput{b: b, kept: slices.Clone(w.kept), dropped: slices.Clone(w.dropped)}
	return lv
}

// levelOutput materializes a level's features on first use.
type levelOutput struct {
	once     sync.Once
	b        *builder
	kept     []bool
	dropped  []bool
	features []*geojson.Feature
}

func (o *levelOutput) get() []*geojson.Feature {
	o.once.Do(func() {
		o.features = o.b.materialize(o.kept, o.dropped)
		o.kept, o.dropped = nil, nil
	})
	return o.features
}

// materialize builds the features of a level from its kept vertices.
func (b *builder) materialize(kept, dropped []bool) []*geojson.Feature {
	t := b.t
	var out []*geojson.Feature
	var buf []geom.Point
	walk := func(p tpath) []geom.Point {
		buf = buf[:0]
		for _, a := range p.arcs {
			id := arcID(a)
			s, e := t.start[id], t.start[id+1]
			if a >= 0 {
				for v := s; v < e-1; v++ {
					if kept[v] {
						buf = append(buf, t.ll[v])
					}
				}
			} else {
				for v := e - 1; v > s; v-- {
					if kept[v] {
						buf = append(buf, t.ll[v])
					}
				}
			}
		}
		if p.kind == kindLine {
			last := p.arcs[len(p.arcs)-1]
			id := arcID(last)
			if last >= 0 {
				buf = append(buf, t.ll[t.start[id+1]-1])
			} else {
				buf = append(buf, t.ll[t.start[id]])
			}
		}
		return buf
	}
	for fi, in := range b.features {
		rings := t.ringsOf[fi]
		var polys orb.MultiPolygon
		var lines orb.MultiLineString
		for k := 0; k < len(rings); k++ {
			pi := rings[k]
			p := t.paths[pi]
			if dropped[pi] {
				continue
			}
			pts := walk(p)
			if p.kind == kindLine {
				ls := make(orb.LineString, len(pts))
				for x, q := range pts {
					ls[x] = orb.Point{q.X, q.Y}
				}
				lines = append(lines, ls)
				continue
			}
			r := make(orb.Ring, len(pts)+1)
			for x, q := range pts {
				r[x] = orb.Point{q.X, q.Y}
			}
			r[len(pts)] = r[0]
			if p.kind == kindShell {
				polys = append(polys, orb.Polygon{r})
			} else {
				polys[len(polys)-1] = append(polys[len(polys)-1], r)
			}
		}
		var g orb.Geometry
		switch in.Geometry.(type) {
		case orb.LineString:
			if len(lines) == 1 {
				g = lines[0]
			} else if len(lines) > 1 {
				g = lines
			}
		case orb.MultiLineString:
			if len(lines) > 0 {
				g = lines
			}
		case orb.Polygon:
			if len(polys) == 1 {
				g = polys[0]
			} else if len(polys) > 1 {
				g = polys
			}
		case orb.MultiPolygon:
			if len(polys) > 0 {
				g = polys
			}
		}
		if g == nil {
			continue
		}
		out = append(out, &geojson.Feature{Type: "Feature", ID: in.ID, Properties: in.Properties, Geometry: g})
	}
	return out
}
