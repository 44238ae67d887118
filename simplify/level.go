package simplify

import (
	"encoding/binary"
	"math"
	"slices"
	"sync"
	"unsafe"

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
	// loRun[r] is the last kept vertex at or before the first vertex of
	// run r (topo.runs); -1 in inactive arcs. Within a run, kept gives the
	// rest, so no per-vertex array has to be written at every level.
	loRun []int32
	// shorts lists the shortcuts of the threshold, arc by arc.
	shorts  []segment
	stamp   []int32
	query   int32
	bad     []bool
	badList []int32
	nseg    int
	arcKept []int32   // per arc: kept vertices but the last
	touched []bool    // per arc: ensureMinPoints restored a vertex
	spare   []segment // the other buffer of relink
	runBuf  []int32
	ptBuf   []int32
	// strikes counts, per shortcut start, the rounds it conflicted in,
	// with those of the chains it was split from (restoreBad).
	strikes map[int32]int32
	join    joinGrid
	// scans counts the segments joinCheck tested by a scan (see there).
	scans int
	// above is the tolerance of the zoom above when this level was
	// thresholded from it (thresholdFrom) and restored no vertex to keep
	// rings whole but ones kept there, or 0; then every kept segment here
	// is a kept segment there or a shortcut whose chain holds a vertex
	// kept there: one at least above important, or one that level
	// restored (wasRestored). A shortcut whose chain holds neither was a
	// shortcut there too (see staticCheckChanged).
	above    float64
	newBoxes []geom.BBox
	newMask  boxMask
	isNew    []bool
	// boxes holds the chain bbox of each shortcut of shorts when boxesOK
	// (the first round checked every shortcut from the static index).
	boxes   []geom.BBox
	boxesOK bool
	// prevShorts and prevBoxes are shorts and boxes of the last level
	// built on this levelWork (its first round's shortcuts, before any
	// repair), kept when its first round was a static check (boxesOK)
	// and its repair ended with no conflict left; prevTol is its
	// tolerance then, else 0. staticCheckChanged copies the boxes of the
	// shortcuts that were shortcuts there.
	prevShorts []segment
	prevBoxes  []geom.BBox
	prevTol    float64
	// gone and merged are the vertices thresholdFrom removed and the
	// kept vertices before them, whose segments became shortcuts;
	// wasRestored are those of gone that the level above had restored
	// (kept below its tolerance), in increasing order.
	gone, merged, wasRestored []int32
	// from is the tolerance of the level above when thresholdFrom made
	// this one from it, else 0; ensuredNew reports that ensureMinPoints
	// then restored a vertex that was not kept there.
	from       float64
	ensuredNew bool
}

// maxStrikes is how many rounds a chain gets its vertices back one at a
// time before all of them come back.
const maxStrikes = 8

type segment struct {
	i, j int32 // first and last vertex; a shortcut when j > i+1
}

// buildLevel filters the topology at one zoom and repairs the result.
// above is the tolerance of zoom z+1 when that level was the last one
// built on the pooled scratch space, or 0: buildLevelOn then starts from
// that level (thresholdFrom) when the scratch space still holds it.
func (b *builder) buildLevel(z int, above float64) Level {
	w := b.pool.Get().(*levelWork)
	defer b.pool.Put(w)
	return b.buildLevelOn(w, z, above)
}

// buildLevelOn is buildLevel on the scratch space w, which keeps what the
// next level down may reuse (prevShorts) when it is built on w too.
func (b *builder) buildLevelOn(w *levelWork, z int, above float64) Level {
	t := b.t
	tol := Tolerance(z, b.opts.Detail, b.opts.ToleranceScale)
	unit := WorldSize / math.Ldexp(1, b.opts.Detail+z)
	minArea := b.opts.MinArea * unit * unit
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
	// vertex aside), and link them.
	w.shorts = reserve(w.shorts, b.shortcutRoom(tol))
	from := above > 0 && w.prevTol == above && b.fewChanges(above, tol) && w.wasActive()
	w.from = 0
	if from {
		w.from = above
		w.thresholdFrom(above, tol)
	} else {
		w.threshold(tol)
	}
	// 3. Every ring keeps at least 3 distinct vertices (4 points).
	for pi, p := range t.paths {
		if w.dropped[pi] || p.kind == kindLine {
			continue
		}
		w.ensureMinPoints(p)
	}
	if w.restored > 0 {
		w.relink()
	}
	// 4. Restore vertices until no shortcut conflicts.
	w.above = 0
	if from && !w.ensuredNew {
		w.above = above
	}
	w.resolve()
	w.prevTol = 0
	if len(w.badList) == 0 && w.boxesOK { // not left at the round limit
		w.prevShorts, w.shorts = w.shorts, w.prevShorts
		w.prevBoxes, w.boxes = w.boxes, w.prevBoxes
		w.prevTol = tol
	}
	return b.output(z, tol, w)
}

// thresholdFrom is threshold when w holds the level above, at tolerance
// above, as it was built (prevTol == above): the vertices kept here are
// those kept there but the ones of importance below tol (those above it
// restored among them), and arcs only become inactive. So only those
// vertices are unlinked, each from its neighbours, and the shortcuts they
// merge into replace theirs in the first-round list of the level above
// (prevShorts), which stays as it is for staticCheckChanged. On
// countries-10m, z11-z6 remove 270 to 2,000 vertices each, where
// threshold and link read all 477,000 of the active arcs: z12 to z6 in a
// row took 17.4-18.5 ms instead of 22.9-24.1 (best of 20, one core,
// alternating).
//
// A vertex the level above restored (after its threshold, to keep a ring
// whole or to repair a conflict) is kept there below its tolerance: it
// goes here like any vertex below tol, and the shortcut of that level's
// first round it split comes back merged. Until that was handled, a level
// that restored anything ended the reuse: the 4x tiled countries-10m,
// whose top levels each restore 26-46 vertices, built each of z11-z7 in
// full, in 25-28 ms; now 9-17 (best of 5, one core).
func (w *levelWork) thresholdFrom(above, tol float64) {
	t := w.t
	w.gone = w.gone[:0]
	w.merged = w.merged[:0]
	w.wasRestored = w.wasRestored[:0]
	for a := range w.active {
		s, e := t.start[a], t.start[a+1]
		if !w.active[a] {
			if w.loRun[t.runStart[a]] >= 0 { // active above
				clear(w.kept[s:e])
				for r := t.runStart[a]; r < t.runStart[a+1]; r++ {
					w.loRun[r] = -1
				}
			}
			continue
		}
		kept := w.kept[s+1 : e-1]
		for v, x := range w.imp[s+1 : e-1] {
			if x < tol && kept[v] {
				w.unkeep(a, s+1+int32(v))
				if x < above {
					w.wasRestored = append(w.wasRestored, s+1+int32(v))
				}
			}
		}
		w.nseg += int(w.arcKept[a])
	}
	// The shortcuts: those of the level above in active arcs that neither
	// start at a vertex gone nor were merged, and the merged ones, in the
	// order of their first vertex.
	a, g, m := 0, 0, 0
	for _, sh := range w.prevShorts {
		for t.start[a+1] <= sh.i {
			a++
		}
		for m < len(w.merged) && w.merged[m] < sh.i {
			w.shorts = append(w.shorts, segment{w.merged[m], w.next[w.merged[m]]})
			m++
		}
		for g < len(w.gone) && w.gone[g] < sh.i {
			g++
		}
		if !w.active[a] || (g < len(w.gone) && w.gone[g] == sh.i) || (m < len(w.merged) && w.merged[m] == sh.i) {
			continue
		}
		w.shorts = append(w.shorts, sh)
	}
	for ; m < len(w.merged); m++ {
		w.shorts = append(w.shorts, segment{w.merged[m], w.next[w.merged[m]]})
	}
}

// fewChanges reports whether the threshold moving from above to tol
// removes few vertices, by the sample of importances: fewer than a
// sixteenth of all, and than a quarter of those removed at tol. Else
// thresholdFrom, which unlinks them one by one, and staticCheckChanged,
// for which most shortcuts are new, cost more than building the level
// alone: in a row from z12 on the 4x tiled countries-10m, z4 made from z5
// took 125 ms instead of 106, z6 from z7 57-62 instead of 44.
func (b *builder) fewChanges(above, tol float64) bool {
	lo, _ := slices.BinarySearch(b.sample, above)
	hi, _ := slices.BinarySearch(b.sample, tol)
	return 16*(hi-lo) < len(b.sample) && 4*(hi-lo) < hi
}

// wasActive reports whether every arc active here was active in the level
// w holds (its runs have a kept vertex), as thresholdFrom assumes: rings
// are only dropped towards the low zooms, so this holds unless the
// options change between the levels.
func (w *levelWork) wasActive() bool {
	for a, act := range w.active {
		if act && w.loRun[w.t.runStart[a]] < 0 {
			return false
		}
	}
	return true
}

// unkeep removes kept vertex v (not an end) of active arc a: the
// kept vertex p before it now links to the one after it, and runs that
// started at or after v before that one now start after p. It records v
// in gone and p in merged, both in increasing order when called in
// increasing order of v.
func (w *levelWork) unkeep(a int, v int32) {
	w.kept[v] = false
	w.arcKept[a]--
	p := v - 1
	for !w.kept[p] {
		p--
	}
	n := w.next[v]
	w.next[p] = n
	w.setLoRuns(v, n, p)
	w.gone = append(w.gone, v)
	if len(w.merged) == 0 || w.merged[len(w.merged)-1] != p {
		w.merged = append(w.merged, p)
	}
}

// threshold keeps the vertices of importance tol or more in the active
// arcs, counts them (arcKept) and links them (link).
func (w *levelWork) threshold(tol float64) {
	t := w.t
	for a := range w.active {
		s, e := t.start[a], t.start[a+1]
		if !w.active[a] {
			clear(w.kept[s:e])
			for r := t.runStart[a]; r < t.runStart[a+1]; r++ {
				w.loRun[r] = -1
			}
			continue
		}
		n := int32(0)
		for v := s; v < e; v++ {
			k := w.imp[v] >= tol
			w.kept[v] = k
			if k {
				n++
			}
		}
		w.arcKept[a] = n - 1
		w.link(a)
	}
}

// link sets next and loRun along active arc a from kept, counts its kept
// segments in nseg and appends its shortcuts to shorts. Arc endpoints are
// always kept (their importance is +Inf).
func (w *levelWork) link(a int) {
	t := w.t
	s, e := t.start[a], t.start[a+1]
	kept, next := w.kept[:e], w.next[:e]
	// Without branches on kept, which is random at the low zooms: next
	// of the last kept vertex is set at every vertex, the last time at
	// the next kept one; shortcuts go to spare capacity, the count
	// advancing only for real ones.
	shorts := slices.Grow(w.shorts, int(e-s))
	ns := len(shorts)
	shorts = shorts[:cap(shorts)]
	prev := s
	nseg := 0
	r := t.runStart[a]
	w.loRun[r] = s
	r++
	mark := s + 16 // the first vertex of run r
	for v := s + 1; v < e; v++ {
		next[prev] = v
		k := b2i(kept[v])
		shorts[ns] = segment{prev, v}
		ns += k & b2i(v > prev+1)
		nseg += k
		prev += (v - prev) * int32(k)
		if v == mark {
			if v < e-1 {
				w.loRun[r] = prev
				r++
			}
			mark += 16
		}
	}
	w.shorts = shorts[:ns]
	w.nseg += nseg
}

// relink links again the arcs where ensureMinPoints restored vertices
// (touched), and keeps the shortcuts of the others, in arc order as link
// makes them. Linking every arc again cost as much as the first linking:
// z0–z5 of countries-10m took 0.2–1.1 ms less each this way (best of 32,
// one core).
func (w *levelWork) relink() {
	t := w.t
	old := w.shorts
	// Room for every shortcut at once (see shortcutRoom): each restored
	// vertex splits at most one, and link wants room for an arc beyond
	// the list. The room depends on the need, not on the other buffer's
	// capacity, which growslice rounds up: sized after that, the two
	// buffers outgrew each other at every level.
	w.shorts, w.spare = reserve(w.spare, len(old)+w.restored+t.maxArc), old
	w.nseg = 0
	p := 0
	for a := range w.active {
		if !w.active[a] {
			continue
		}
		q, e := p, t.start[a+1]
		for q < len(old) && old[q].i < e {
			q++
		}
		if w.touched[a] {
			w.touched[a] = false
			w.link(a)
		} else {
			w.shorts = append(w.shorts, old[p:q]...)
			w.nseg += int(w.arcKept[a])
		}
		p = q
	}
}

// reserve returns s emptied, with room for n elements: s[:0] when it has
// the room, else a new array made by make. slices.Grow would append the
// room to the array, and the runtime clears what it appends, which touches
// every page of it; make leaves a fresh array to the kernel, which zeroes
// only the pages written. Fresh pages are slow to touch on the benchmark
// VM, and a level writes only part of the room it reserves (shortcutRoom
// and the grid's room are upper bounds).
func reserve[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:0]
	}
	return make([]T, 0, n)
}

// median returns the element of xs at index len(xs)/2 in sorted order
// (xs must not be empty and hold no NaN), reordering xs. It selects
// rather than sorts: Hoare partitions around the median of three, on the
// side holding that index only. The grid join and the box mask take the
// median of a sample of box sizes at every level (16,000 at z3 of
// countries-10m), whose sort by slices.Sort was about 2 % of the levels'
// time: z0-z3 took 6.11, 10.05, 18.17 and 25.19 ms instead of 6.14,
// 10.71, 18.24 and 25.59, z12-z6 in a row 14.6 instead of 16.1 (best of
// 8, one core, alternating, on a busy machine). The median is the same
// number either way.
func median(xs []float64) float64 {
	k := len(xs) / 2
	lo, hi := 0, len(xs)-1
	for lo < hi {
		a, b, c := xs[lo], xs[lo+(hi-lo)/2], xs[hi]
		p := max(min(a, b), min(max(a, b), c))
		i, j := lo, hi
		for i <= j {
			for xs[i] < p {
				i++
			}
			for xs[j] > p {
				j--
			}
			if i <= j {
				xs[i], xs[j] = xs[j], xs[i]
				i++
				j--
			}
		}
		// xs[lo:j+1] ≤ p ≤ xs[i:hi+1], and what lies between equals p.
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return xs[k]
		}
	}
	return xs[k]
}

// b2i returns 1 for true and 0 for false, without a branch.
func b2i(b bool) int {
	var i int
	if b {
		i = 1
	}
	return i
}

// setLoRuns sets loRun of the runs that start at one of the vertices
// from .. to-1 of an arc to val, or to their first vertex when val < 0.
func (w *levelWork) setLoRuns(from, to, val int32) {
	t := w.t
	for r := t.runOf(from); r < int32(len(t.runs)) && t.runs[r][0] < to; r++ {
		if v := t.runs[r][0]; v >= from {
			if val < 0 {
				w.loRun[r] = v
			} else {
				w.loRun[r] = val
			}
		}
	}
}

func (w *levelWork) keptInRing(p tpath) int {
	n := 0
	for _, a := range p.arcs {
		n += int(w.arcKept[arcID(a)])
	}
	return n
}

// reset readies a pooled levelWork for a new level. The per-vertex arrays
// are rewritten by the threshold pass; bad is all false but for the
// vertices of badList, which resolve leaves marked only when it stops at
// its round limit, and reset clears those; stamp relies on query, which
// only grows.
func (w *levelWork) reset(t *topo, imp []float64) {
	n := len(t.ll)
	if w.t != t {
		*w = levelWork{t: t, imp: imp,
			kept: make([]bool, n), next: make([]int32, n), loRun: make([]int32, len(t.runs)),
			stamp: make([]int32, n), bad: make([]bool, n),
			active: make([]bool, t.arcs()), arcKept: make([]int32, t.arcs()), touched: make([]bool, t.arcs()), dropped: make([]bool, len(t.paths)),
			strikes: map[int32]int32{}}
		return
	}
	clear(w.active)
	clear(w.dropped)
	clear(w.strikes)
	w.restored, w.ndropped, w.nseg, w.scans = 0, 0, 0, 0
	w.ensuredNew = false
	w.shorts = w.shorts[:0]
	for _, i := range w.badList {
		w.bad[i] = false // else mark would skip them at the next level
	}
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
		if w.from > 0 && w.imp[v] < w.from {
			_, was := slices.BinarySearch(w.wasRestored, v)
			w.ensuredNew = w.ensuredNew || !was
		}
		a := w.arcOf(v)
		w.arcKept[a]++
		w.touched[a] = true
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
	shorts := w.shorts
	w.boxes = w.boxes[:0]
	w.boxesOK = true
	if len(shorts) == 0 {
		return
	}
	// Pick the cheaper way to find conflicts: from each shortcut through the
	// static index of original segments (cheap when chains are short, at
	// high zooms), or by joining every kept segment with the shortcuts on a
	// grid (cheap when few vertices are kept, at low zooms).
	// The vertices the shortcuts replace stand for the first cost, the
	// kept segments for the second.
	est := 0
	for _, sh := range shorts {
		est += int(sh.j - sh.i)
	}
	w.join.built = false
	if est <= w.nseg && w.above > 0 {
		w.staticCheckChanged(shorts)
	} else if est <= w.nseg {
		w.boxes = reserve(w.boxes, len(shorts))[:len(shorts)]
		for k, sh := range shorts {
			w.boxes[k] = t.chainBBox(int(sh.i), int(sh.j))
			w.staticCheckMode(sh, w.boxes[k], false)
		}
	} else {
		w.boxesOK = false
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

// staticCheckChanged is the first round's static check of every shortcut
// when this level was thresholded from the zoom above and restored no
// vertex to keep rings whole but ones kept there (w.above > 0), skipping
// the shortcuts that cannot conflict, with the same result.
//
// The kept vertices here are a subset of those kept above (thresholds
// only grow towards low zooms, and a vertex restored here to keep a ring
// whole was kept there), so every kept segment here either was a kept
// segment above, or is a new shortcut (one whose chain holds a vertex
// kept above: one of importance at least w.above, or one that level
// restored). A shortcut that was a shortcut above, at the end of that
// level's repair, conflicted with no kept segment there; here it can
// conflict only with a new shortcut, which
// it finds through an original segment of that shortcut's chain in its
// chain bbox, so only when the two chain bboxes overlap. Old shortcuts
// whose chain bbox overlaps no new shortcut's are therefore skipped: their
// check would find nothing and mark nothing. The others are checked in the
// order of shorts, as without the skip, because a check that finds its
// shortcut already marked goes on and may mark more.
//
// On countries-10m, z6–z11 check 2–23 % of their shortcuts this way (those
// within reach of the 2–21 % that are new), and each of those levels takes
// 5–6 ms on one core instead of 7–9 ms. (Since then thresholdFrom and the
// boxMask took them to 1.5–4 ms.)
func (w *levelWork) staticCheckChanged(shorts []segment) {
	t := w.t
	w.newBoxes = w.newBoxes[:0]
	w.isNew = reserve(w.isNew, len(shorts))[:len(shorts)]
	w.boxes = reserve(w.boxes, len(shorts))[:len(shorts)]
	// The chain bboxes of the old shortcuts come from the level above when
	// it was the last one built on w (both lists go by first vertex):
	// computing them again read the vertices of every shortcut, scattered
	// over the whole array, a cache miss each. z12 to z6 of countries-10m
	// in a row took 32 ms instead of 39 (best of 32, one core).
	prev, p := w.prevShorts, 0
	if w.prevTol != w.above {
		prev = nil
	}
	r := 0 // the next vertex of wasRestored
	for k, sh := range shorts {
		for r < len(w.wasRestored) && w.wasRestored[r] <= sh.i {
			r++
		}
		isNew := r < len(w.wasRestored) && w.wasRestored[r] < sh.j
		for v := sh.i + 1; v < sh.j && !isNew; v++ {
			isNew = w.imp[v] >= w.above
		}
		w.isNew[k] = isNew
		if !isNew && prev != nil {
			for p < len(prev) && prev[p].i < sh.i {
				p++
			}
			// It was a shortcut there (see the doc comment), so it is
			// found; the test only keeps a broken assumption from
			// giving a wrong box.
			if p < len(prev) && prev[p] == sh {
				w.boxes[k] = w.prevBoxes[p]
				continue
			}
		}
		w.boxes[k] = t.chainBBox(int(sh.i), int(sh.j))
		if isNew {
			w.newBoxes = append(w.newBoxes, w.boxes[k])
		}
	}
	if len(w.newBoxes) == 0 {
		return
	}
	tree := geom.NewRTree(w.newBoxes)
	w.newMask.build(w.newBoxes)
	for k, sh := range shorts {
		if !w.isNew[k] && !(w.newMask.mayOverlap(w.boxes[k]) && tree.Any(w.boxes[k])) {
			continue
		}
		w.staticCheckMode(sh, w.boxes[k], false)
	}
}

// boxMask is a coarse raster of a set of boxes: the cells of a uniform grid
// that any of them covers, as bits, and the boxes that cover too many cells
// to be drawn (wide). mayOverlap is false only for a box that overlaps none
// of the set, so it can stand before an exact test. In staticCheckChanged
// it turns away most old shortcuts (98 % or more at z6-z11 of
// countries-10m; tree.Any decides the others) for a few loads each, where
// tree.Any walked the R-tree of the new shortcuts, about 80 ns a query:
// z12 to z6 in a row took 22.0-22.6 ms instead of 25.8-26.7 (best of 40,
// one core, alternating).
type boxMask struct {
	bits        []uint64
	wide        []geom.BBox
	sizes       []float64
	x0, y0, inv float64 // origin, and 1 / cell side
	nx, ny      int
}

// maskMaxCells bounds the cells of a boxMask, and maskMaxBox the cells a
// box may cover to be drawn.
const (
	maskMaxCells = 1 << 20
	maskMaxBox   = 64
)

// build rasterizes boxes on cells of twice their median extent over their
// bbox, fewer when that makes more than maskMaxCells.
func (m *boxMask) build(boxes []geom.BBox) {
	m.wide = m.wide[:0]
	ext := geom.EmptyBBox()
	sizes := m.sizes[:0]
	for k, b := range boxes {
		ext = unionBBox(ext, b)
		if k%8 == 0 {
			sizes = append(sizes, max(b.MaxX-b.MinX, b.MaxY-b.MinY))
		}
	}
	m.sizes = sizes
	w, h := ext.MaxX-ext.MinX, ext.MaxY-ext.MinY
	cell := max(2*median(sizes), math.Sqrt(w*h/maskMaxCells), 1e-9)
	m.x0, m.y0, m.inv = ext.MinX, ext.MinY, 1/cell
	m.nx = min(int(w*m.inv)+1, maskMaxCells)
	m.ny = min(int(h*m.inv)+1, maskMaxCells/m.nx)
	n := (m.nx*m.ny + 63) / 64
	if cap(m.bits) < n {
		m.bits = make([]uint64, n)
	}
	m.bits = m.bits[:n]
	clear(m.bits)
	for _, b := range boxes {
		x0, y0, x1, y1 := m.cells(b)
		if (x1-x0+1)*(y1-y0+1) > maskMaxBox {
			m.wide = append(m.wide, b)
			continue
		}
		for y := y0; y <= y1; y++ {
			for x := x0; x <= x1; x++ {
				c := y*m.nx + x
				m.bits[c/64] |= 1 << (c % 64)
			}
		}
	}
}

// cells returns the cells box b covers, clamped to the grid.
func (m *boxMask) cells(b geom.BBox) (x0, y0, x1, y1 int) {
	cl := func(v float64, n int) int {
		return int(min(max(v, 0), float64(n-1)))
	}
	return cl((b.MinX-m.x0)*m.inv, m.nx), cl((b.MinY-m.y0)*m.inv, m.ny),
		cl((b.MaxX-m.x0)*m.inv, m.nx), cl((b.MaxY-m.y0)*m.inv, m.ny)
}

// mayOverlap reports whether b may overlap a box of the set: it covers a
// drawn cell, or overlaps a wide box.
func (m *boxMask) mayOverlap(b geom.BBox) bool {
	for _, o := range m.wide {
		if o.Overlaps(b) {
			return true
		}
	}
	x0, y0, x1, y1 := m.cells(b)
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			if c := y*m.nx + x; m.bits[c/64]>>(c%64)&1 != 0 {
				return true
			}
		}
	}
	return false
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
				add(segment{v - 1, v})
			}
			w.setLoRuns(i+1, j, -1)
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
		// Both pieces keep the chain's count: (i, best) by its start,
		// (best, j) by this copy. Counted by start only, the second piece
		// began again at 0, and where the removed vertices tie in
		// importance (all 0 beyond the latitudes Web Mercator clamps) the
		// first one is restored, so a chain conflicting at its far end came
		// back one vertex a round: 551 rounds at every zoom of the 4x tiled
		// countries-10m (18 now), whose 13 levels took 1.49 s instead of
		// 0.77 (sum of the best of 5 per level, one core).
		w.strikes[best] = w.strikes[i]
		w.kept[best] = true
		w.arcKept[w.arcOf(best)]++
		w.restored++
		w.next[i] = best
		w.next[best] = j
		w.setLoRuns(best, j, best)
		add(segment{i, best})
		add(segment{best, j})
	}
	w.badList = w.badList[:0]
}

// staticCheck finds conflicts of shortcut s through the static index of
// all original segments: every kept segment that can cross s or have a
// vertex in its swept region has an original segment in the bbox of the
// chain s replaces, and loRun and kept map that segment to the kept one. It stops at
// the first conflict, so a shortcut that crosses s is marked only when it
// is checked itself.
func (w *levelWork) staticCheck(s segment) {
	w.staticCheckMode(s, w.t.chainBBox(int(s.i), int(s.j)), false)
}

// staticCheckAll is staticCheck that goes on after the first conflict and
// marks every shortcut that crosses s, for when those are not checked
// themselves against s.
func (w *levelWork) staticCheckAll(s segment) {
	w.staticCheckMode(s, w.t.chainBBox(int(s.i), int(s.j)), true)
}

// staticCheckMode is staticCheck or, with all, staticCheckAll, given the
// bbox cb of the chain s replaces.
func (w *levelWork) staticCheckMode(s segment, cb geom.BBox, all bool) {
	t := w.t
	w.query++
	q := w.query
	i, j := s.i, s.j
	sa, sb := t.ll[i], t.ll[j]
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
	if !all && w.quiet(s, cb) {
		return
	}
	for _, run := range w.runBuf {
		rs := t.runs[run]
		r := w.loRun[run] // the kept segment holding segment k, from r
		if (rs[0] >= i && rs[1] <= j) || r < 0 {
			continue // within the shortcut's own chain, or in an inactive arc
		}
		// The kept vertex and the segment's box without branches, which
		// were mispredicted here: z4 of countries-10m took 28 ms instead
		// of 33-35, z5 14 instead of 15.7 (best of 24, one core).
		for k := rs[0]; k < rs[1]; k++ {
			r += (k - r) * int32(b2i(w.kept[k]))
			if k >= i && k < j {
				continue // the shortcut's own chain
			}
			if !geom.SegBBox(t.ll[k], t.ll[k+1]).Overlaps(cb) {
				continue
			}
			if w.stamp[r] == q {
				continue
			}
			w.stamp[r] = q
			o := segment{r, w.next[r]}
			oa, ob := t.ll[o.i], t.ll[o.j]
			if o.j == i || o.i == j {
				// A neighbour in the arc (94 % of the segments
				// tested at z4-z12 of countries-10m): see
				// neighbourConflict.
				if w.neighbourConflict(s, cb, o, oa, ob) {
					if !all {
						return
					}
				}
				continue
			}
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

// neighbourConflict is the test of staticCheckMode for the kept segment o
// (points oa, ob) that comes before or after shortcut s in its arc: it
// marks s (and o, when a shortcut, on a crossing) and reports a
// conflict as that test would. The two share an end point, so their
// boxes overlap and Conflict comes down to one orientation of the three
// points, which is decided here by Orient's own fast test when it can be
// (Conflict is called otherwise); and the shared point is an end of s,
// which swept leaves out. Through Conflict and swept, these pairs took
// about a third of the static check's time: z4 of countries-10m took
// 22.8-23.7 ms instead of 25.1-25.6, z5 11.0-11.5 instead of 12.2-12.5
// (best of 20, one core, alternating). The order of the tests, which
// decides what a check that stops at its first conflict marks, is kept.
// (Testing a segment's box by the outcodes of its ends, four comparisons
// a point instead of min, max and four comparisons a segment, gained
// nothing.)
func (w *levelWork) neighbourConflict(s segment, cb geom.BBox, o segment, oa, ob geom.Point) bool {
	switch w.neighbourHit(s, cb, o, oa, ob) {
	case hitCrossing:
		w.mark(s.i)
		if o.j > o.i+1 {
			w.mark(o.i)
		}
		return true
	case hitSwept:
		w.mark(s.i)
		return true
	}
	return false
}

// The outcomes of neighbourHit.
const (
	hitNone = iota
	hitCrossing
	hitSwept
)

// neighbourHit is the test of neighbourConflict without the marks: whether
// s and its neighbour o cross or touch (hitCrossing), or o's far end lies
// in s's swept region while s is not marked yet (hitSwept).
func (w *levelWork) neighbourHit(s segment, cb geom.BBox, o segment, oa, ob geom.Point) int {
	t := w.t
	sa, sb := t.ll[s.i], t.ll[s.j]
	p, q1, far := sb, sa, ob // o starts at s's end
	if o.j == s.i {
		p, q1, far = sa, sb, oa // o ends at s's start
	}
	if !surelyTurns(p, q1, far) && geom.Conflict(sa, sb, oa, ob) {
		return hitCrossing
	}
	if !w.bad[s.i] && far != sa && far != sb && cb.Contains(far) && w.swept(s, cb, far) {
		return hitSwept
	}
	return hitNone
}

// quiet reports that the check of shortcut s (non-all) would find nothing,
// given the runs w.runBuf whose boxes overlap cb: neither kept segment
// beside s in its arc conflicts with it, and no original segment of the
// runs overlaps cb but those of s's chain and of those two neighbours'
// chains. Most shortcuts are quiet: at z4 of countries-10m 94 % of the
// kept segments a check meets are a neighbour of its shortcut. quiet tests
// the two neighbours first, each once, and scans only the segments outside
// the three chains, with no kept vertex to follow; when it cannot tell,
// the full check, in its order, decides (testing a neighbour that the scan
// would not have reached is then harmless). 89-90 % of the checks at z4
// and z5 of countries-10m end here; z4 took 21.6-21.7 ms instead of
// 23.0-23.2, z5 10.1-10.6 instead of 10.8-11.1 (best of 20, one core,
// alternating). What is left of the scan is mostly the other segments of
// the shortcut's own run.
func (w *levelWork) quiet(s segment, cb geom.BBox) bool {
	t := w.t
	i, j := s.i, s.j
	a := t.arcAt[i/64]
	for t.start[a+1]-1 <= i {
		a++
	}
	// p and n are the kept vertices before i and after j in the arc, or
	// i and j at its ends.
	p, n := i, j
	if i > t.start[a] {
		p = i - 1
		for !w.kept[p] {
			p--
		}
		if w.neighbourHit(s, cb, segment{p, i}, t.ll[p], t.ll[i]) != hitNone {
			return false
		}
	}
	if j < t.start[a+1]-1 {
		n = w.next[j]
		if w.neighbourHit(s, cb, segment{j, n}, t.ll[j], t.ll[n]) != hitNone {
			return false
		}
	}
	for _, run := range w.runBuf {
		if w.loRun[run] < 0 {
			continue // an inactive arc
		}
		rs := t.runs[run]
		if w.anyOverlaps(rs[0], min(rs[1], p), cb) || w.anyOverlaps(max(rs[0], n), rs[1], cb) {
			return false
		}
	}
	return true
}

// anyOverlaps reports whether one of the segments from vertex from to
// vertex to-1 (each to the next vertex) overlaps box b.
func (w *levelWork) anyOverlaps(from, to int32, b geom.BBox) bool {
	ll := w.t.ll
	for k := from; k < to; k++ {
		if geom.SegBBox(ll[k], ll[k+1]).Overlaps(b) {
			return true
		}
	}
	return false
}

// surelyTurns reports that Orient(p, q1, q2) is not 0 by Orient's fast
// test, computed the same way (with the same error bound), so without
// a call; false means that Orient has to decide. Equal points give 0
// and so false.
func surelyTurns(p, q1, q2 geom.Point) bool {
	l := (q1.X - p.X) * (q2.Y - p.Y)
	r := (q1.Y - p.Y) * (q2.X - p.X)
	return math.Abs(l-r) > 3.3306690738754716e-16*(math.Abs(l)+math.Abs(r))
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
	lv.out = &levelOutput{b: b, kept: packBits(w.kept), dropped: slices.Clone(w.dropped)}
	return lv
}

// levelOutput materializes a level's features on first use.
type levelOutput struct {
	once sync.Once
	b    *builder
	// kept holds the level's kept vertices as bits (keptBit), an eighth
	// of a copy of levelWork.kept: every level holds its own until it is
	// written, and fresh memory is slow to touch on the benchmark VM
	// (about 14 µs per 4 KiB page).
	kept     []uint64
	dropped  []bool
	features []*geojson.Feature
}

// packBits returns b as a bit set: bit v%64 of word v/64 is b[v].
//
// Eight bools are packed at a time: read as one little-endian word, each
// byte 0 or 1, and multiplied by 0x0102040810204080, which moves byte i's
// bit to bit 56+i with no carries (every other product lands below bit 56
// at a distinct bit, or above bit 63), so the top byte holds the eight
// bits in order. For the 560,000 vertices of countries-10m this takes
// 0.11 ms, a loop over single bools 0.45 ms (best of 200).
func packBits(b []bool) []uint64 {
	out := make([]uint64, (len(b)+63)/64)
	n8 := len(b) / 8
	if n8 > 0 {
		// The bools as bytes: a bool is one byte holding 0 or 1.
		by := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(b))), len(b))
		for g := range n8 {
			x := binary.LittleEndian.Uint64(by[8*g:])
			out[g/8] |= (x * 0x0102040810204080 >> 56) << (8 * (g % 8))
		}
	}
	for v := 8 * n8; v < len(b); v++ {
		if b[v] {
			out[v/64] |= 1 << (v % 64)
		}
	}
	return out
}

// keptBit reports bit v of the bit set bits (packBits).
func keptBit(bits []uint64, v int32) bool {
	return bits[v/64]>>(v%64)&1 != 0
}

func (o *levelOutput) get() []*geojson.Feature {
	o.once.Do(func() {
		o.features = o.b.materialize(o.kept, o.dropped)
		o.kept, o.dropped = nil, nil
	})
	return o.features
}

// materialize builds the features of a level from its kept vertices.
func (b *builder) materialize(kept []uint64, dropped []bool) []*geojson.Feature {
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
					if keptBit(kept, v) {
						buf = append(buf, t.ll[v])
					}
				}
			} else {
				for v := e - 1; v > s; v-- {
					if keptBit(kept, v) {
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
