package cluster

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync/atomic"

	"github.com/mapcluster/mapcluster"
	"github.com/mapcluster/mapcluster/internal/hugepage"
)

// Build clusters pts for every zoom from opts.MaxZoom down to opts.MinZoom
// and returns the hierarchy. The result is exactly supercluster 9.1.0's for
// the same input order and options (see the package documentation), and it
// is identical for every value of opts.Workers.
func Build(ctx context.Context, pts *mapcluster.Points, opts Options) (*Index, error) {
	opts = opts.withDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	n := pts.Len()
	if n >= math.MaxInt32/2 {
		return nil, mapcluster.Errorf(mapcluster.EInvalid, "too many points: %d (the limit is %d)", n, math.MaxInt32/2)
	}
	aggs, err := newAggregator(pts, opts.Aggregates)
	if err != nil {
		return nil, err
	}
	ix := &Index{
		opts:   opts,
		pts:    pts,
		n:      n,
		levels: make([]levelIndex, opts.MaxZoom-opts.MinZoom+2),
		aggs:   aggs,
	}
	ix.zoomBits = 5 // supercluster's layout; enough while maxZoom+1 < 32
	if opts.MaxZoom+1 >= 32 {
		ix.zoomBits = 6
	}
	ix.iso = make([]levelIndex, opts.MaxZoom-opts.MinZoom+1)
	b := &builder{ix: ix, workers: opts.Workers, ranks: newRankBits(n), tm: newTeam(opts.Workers)}
	defer b.tm.stop()
	if err := b.start(ctx); err != nil {
		return nil, err
	}
	total := int64(opts.MaxZoom - opts.MinZoom + 1)
	for z := opts.MaxZoom; z >= opts.MinZoom; z-- {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("cluster z%d: %w", z, err)
		}
		if err := b.clusterLevel(ctx, z); err != nil {
			return nil, err
		}
		opts.Progress.Report("cluster", int64(opts.MaxZoom-z+1), total)
	}
	ix.setLevel(opts.MinZoom, &b.g)
	ix.finish(b.tm)
	return ix, nil
}

type builder struct {
	zs      int // the highest zoom whose cells are S units wide (see start)
	zoom    int // the zoom being computed
	ix      *Index
	workers int
	tm      *team // runs the parallel steps (team.go)
	ranks   *rankBits
	g       grid // the current level, in cell order
	next    level
	sort    sortScratch

	// per-level scratch, reused
	cellSeed   []int32
	ownerCell  []int32
	hasMembers []uint32 // bit set: cells whose seed owns other items
	role       []uint8
	outs       []chunkOut
	depOf      []int32   // per cell: its index in deps, or -1 when independent
	deps       []depCell // the dependent cells of the level, in grid order
	nbrList    []int32   // cell c's neighbours are nbrList[edgeStart[c]:edgeStart[c+1]]
	memAll     []int32   // members by owner cell, then grid order (groupMembers; edgeStart is reused)
	edgeStart  []int32
	stack      []resolveFrame
	groups     []groupOut
	ins        []insItem
	idKeys     []uint64

	// Isolated points (see isolate.go): isoOrder lists the points by the
	// zoom from which they are isolated (isoStart[v-MinZoom] is where the
	// points of zoom v start), in input order; each batch joins the grid when
	// the build reaches the zoom below it.
	isoOrder []int32
	isoStart []int32
	// isoKey holds the order key of each point of isoOrder while it is out
	// of the grid, when minPoints > 2 (renumber changes them); otherwise a
	// point's key is its index, and isoKey is nil.
	isoKey        []int32
	isoScratch    []int32
	isoKeyScratch []int32
	insSorted     []insItem // moved clusters sorted (sortInserts)
	insMerged     []insItem // both merged
}

// chunkCells is the number of cells in a chunk of rows, the unit of the
// parallel steps.
const chunkCells = 2048

// chunkOut is what step 1 finds in one chunk of rows.
type chunkOut struct {
	early     []int32   // members whose owner is in an earlier chunk (groupMembers)
	late      []int32   // members whose owner is in a later chunk
	clusters  []group   // seeds that form a cluster
	leftovers []group   // seeds too small to form one
	edges     []uint64  // edges between near cells (see clusterLevel)
	cross     []uint64  // the edges into an earlier chunk, in order
	dep       []depCell // the dependent cells, in grid order

	// Workers take neighbouring chunks at once and append to these on
	// every edge; the padding keeps two chunks' slice headers off one cache
	// line, which the workers would otherwise pass back and forth.
	_ [64]byte
}

// linkCells tests a pair of neighbouring cells, a cell c with items
// [p, pEnd) and a cell c2 with items [q0, qEnd), each in rank order. It
// reports whether c2 holds an item within r of one of c's items and ranked
// below it (into), and whether that can be c's first item (intoMark); from
// and fromMark are the same the other way round. The marks are tested
// first, and the search for any pair ends as soon as both directions are
// known, so cells of many identical points cost little when they are near.
// (Two cells of one item each, the usual pair, are tested by the caller.)
func linkCells(lv *level, p, pEnd, q0, qEnd int32, r2 float64) (into, intoMark, from, fromMark bool) {
	pk, qk := lv.key[p], lv.key[q0]
	for q := q0; q < qEnd && lv.key[q] < pk; q++ {
		if sqDist(lv.x[p], lv.y[p], lv.x[q], lv.y[q]) <= r2 {
			into, intoMark = true, true
			break
		}
	}
	for j := p; j < pEnd && lv.key[j] < qk; j++ {
		if sqDist(lv.x[j], lv.y[j], lv.x[q0], lv.y[q0]) <= r2 {
			from, fromMark = true, true
			break
		}
	}
	for q := q0; q < qEnd && !(into && from); q++ {
		for j := p; j < pEnd; j++ {
			below := lv.key[q] < lv.key[j] // q ranks below j: an edge into c
			if below && into || !below && from {
				continue
			}
			if sqDist(lv.x[j], lv.y[j], lv.x[q], lv.y[q]) <= r2 {
				if below {
					into = true
				} else {
					from = true
				}
				if into && from {
					break
				}
			}
		}
	}
	return into, intoMark, from, fromMark
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// Fields of an edge between near cells (see clusterLevel).
const (
	edgeTarget = 1<<31 - 1
	edgeMark   = 1 << 31
)

// depCell is a dependent cell: one whose first item has an item of lower
// rank within r, so the sequential step decides it. Only these cells need
// a neighbour list and a cursor, so they are kept apart from the per-cell
// tables (at 10M points that saves 12 bytes on each of 8 million cells).
type depCell struct {
	cell         int32
	nbrLo, nbrHi int32 // its neighbour cells: nbrList[nbrLo:nbrHi]
	next         int32 // its first undecided item
}

// start projects the points and sorts them into the grid of maxZoom.
func (b *builder) start(ctx context.Context) error {
	ix, n := b.ix, b.ix.n
	o := ix.opts
	// Cells double with every zoom out, from the highest zoom whose radius
	// spans a cell of one unit (at higher zooms, unit cells hold only
	// identical positions, which are always within r).
	b.zs = o.MaxZoom
	for b.zs > o.MinZoom && zoomRadius(o.Radius, o.Extent, b.zs)/math.Sqrt2*0.999 < 1 {
		b.zs--
	}
	b.g.fine = newFineCells(fineSide(zoomRadius(o.Radius, o.Extent, b.zs)))
	b.g.shift = b.shiftFor(o.MaxZoom)
	ix.x = hugepage.Advise(make([]int32, n))
	ix.y = hugepage.Advise(make([]int32, n))
	err := b.parallel(ctx, n, 1<<14, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			lng, lat := ix.pts.Lng[i], ix.pts.Lat[i]
			if math.IsNaN(lng) || math.IsInf(lng, 0) || math.IsNaN(lat) || math.IsInf(lat, 0) || lat < -90 || lat > 90 {
				return mapcluster.Errorf(mapcluster.EInvalid, "point %d: coordinates (%v, %v) are not a valid longitude and latitude", i, lng, lat)
			}
			ix.x[i] = encode(lngX(lng))
			ix.y[i] = encode(latY(lat))
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The grid starts with the points that are not isolated at maxZoom.
	// With minPoints > 2, leftovers renumber every item of a zoom, the
	// isolated points too, so those carry their order keys (isoKey).
	first := []int32(nil) // nil: every point
	if !o.noIsolation {
		ziso, err := isolationZooms(ctx, ix.x, ix.y, o, b.tm, &b.sort)
		if err != nil {
			return err
		}
		b.bucketIsolated(ziso)
		first = b.isoOrder[b.isoStart[len(b.isoStart)-2]:]
		if o.MinPoints > 2 {
			b.isoKey = hugepage.Advise(make([]int32, len(b.isoOrder)))
			b.tm.gather(len(b.isoKey), func(lo, hi int) {
				copy(b.isoKey[lo:hi], b.isoOrder[lo:hi])
			})
		}
	}
	m := n
	if first != nil {
		m = len(first)
	}
	at := func(j int) int32 {
		if first == nil {
			return int32(j)
		}
		return first[j]
	}
	keys := hugepage.Advise(make([]uint64, m))
	cb := b.g.colBits(b.g.shift)
	b.tm.gather(m, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			p := at(i)
			keys[i] = packKey(b.g.cellKeyOf(ix.x[p], ix.y[p]), cb)
		}
	})
	perm := radixSortPerm(keys, &b.sort, b.tm)
	b.sort = sortScratch{} // sized for every point: later sorts are of batches
	lv := &b.g.lv
	lv.resize(m)
	b.tm.gather(m, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			p := at(int(perm[j]))
			lv.x[j], lv.y[j], lv.w[j], lv.key[j], lv.item[j] = ix.x[p], ix.y[p], 1, p, p
		}
	})
	b.g.cellCol = hugepage.Advise(make([]uint32, 0, m))
	b.g.cellStart = hugepage.Advise(make([]int32, 0, m+1))
	b.g.buildCells()
	return nil
}

// bucketIsolated groups the points by isolation zoom, in input order.
func (b *builder) bucketIsolated(ziso []uint8) {
	o := b.ix.opts
	nz := o.MaxZoom - o.MinZoom + 2 // zooms MinZoom..MaxZoom, then "never"
	start := make([]int32, nz+1)
	for _, v := range ziso {
		start[int(v)-o.MinZoom+1]++
	}
	for i := 1; i <= nz; i++ {
		start[i] += start[i-1]
	}
	order := hugepage.Advise(make([]int32, len(ziso)))
	at := slices.Clone(start[:nz])
	for p, v := range ziso {
		k := int(v) - o.MinZoom
		order[at[k]] = int32(p)
		at[k]++
	}
	b.isoOrder, b.isoStart = order, start
}

// shiftFor is the cell shift of zoom z: cells are S·2^shift units wide.
func (b *builder) shiftFor(z int) uint { return uint(max(0, b.zs-z)) }

// parallel runs fn over [0, n) in chunks of about chunk, on at most
// b.workers goroutines (the team). Chunks never influence results: every
// caller writes only to the slots of its own range. Once a chunk fails or
// ctx ends, the chunks not yet started are skipped, and the error of the
// first failed chunk in order is returned.
func (b *builder) parallel(ctx context.Context, n, chunk int, fn func(lo, hi int) error) error {
	if n <= chunk || b.workers == 1 {
		return fn(0, n)
	}
	errs := make([]error, (n+chunk-1)/chunk)
	var failed atomic.Bool
	b.tm.forEach(len(errs), func(k int) {
		if failed.Load() {
			return
		}
		err := ctx.Err()
		if err == nil {
			err = fn(k*chunk, min((k+1)*chunk, n))
		}
		if err != nil {
			errs[k] = err
			failed.Store(true)
		}
	})
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Roles of an item of the current level in the next.
const (
	roleDrop    uint8 = iota // absorbed into a cluster
	roleKeep                 // itself at the next zoom
	roleCluster              // the seed of a cluster: replaced by it
	roleMoved                // the seed of a cluster that left its seed's coarse cell (set by coarsen)
)

// clusterLevel computes zoom z from the items of zoom z+1, which b.g holds
// in cells of zoom z, and leaves the items of zoom z in b.g, in cells of
// zoom z-1.
//
// supercluster visits items in rank order; an unvisited item becomes a seed
// and takes every unvisited item within r. So the seeds are exactly the
// greedy maximal independent set of the "within r" graph in rank order, and
// every other item belongs to the seed of lowest rank within r of it. A cell
// holds at most one seed. The level is computed in steps:
//
//  1. in parallel, every pair of neighbouring cells is tested once
//     (linkCells): each cell gets the list of the cells that hold an item
//     within r of one of its items and ranked below it. A cell whose first
//     item (in rank order) has no such item is independent: that item is a
//     seed, and the rest of its cell is taken by it;
//  2. the items of the other (dependent) cells are decided: an item is a
//     seed unless its cell or a listed cell has a seed of lower rank within
//     r. Cells are decided in grid order, each first deciding what it depends
//     on (see resolver), which gives the result of visiting in rank order
//     without its cache misses; most of it runs in parallel parts first.
//     Only cells near a lower-ranked item take part, so on sparse levels this
//     touches few items;
//  3. in parallel, every item finds its owner, the seed of lowest rank within
//     r, among its cell's list;
//  4. the members of each seed are grouped (groupMembers), and each seed with
//     members becomes a cluster (weighted centroid) or, below minPoints,
//     stays with its members as individual items;
//  5. the survivors and the clusters are merged into the cells of zoom z-1.
func (b *builder) clusterLevel(ctx context.Context, z int) error {
	ix := b.ix
	o := ix.opts
	g := &b.g
	b.zoom = z
	g.shift = b.shiftFor(z)
	r := zoomRadius(o.Radius, o.Extent, z)
	g.reach = reachFor(r, g.fine.side, g.shift)
	ix.setLevel(z+1, g)

	n := g.lv.len()
	nc := len(g.cellCol)
	r2 := r * r
	lv := &g.lv
	cellSeed := grow(&b.cellSeed, nc)

	// 1. near pairs of cells, as edges; then independent cell heads, and
	// the dependent cells with their lists of neighbours.
	g.buildHeads(b.tm)
	bounds := g.rowChunks(chunkCells)
	nChunks := len(bounds) - 1
	for len(b.outs) < nChunks {
		// Sized for a dense level up front: growing thousands of buffers by
		// doubling cost a tenth of a 10M build in copies and page faults.
		b.outs = append(b.outs, chunkOut{edges: make([]uint64, 0, chunkCells), dep: make([]depCell, 0, chunkCells/4)})
	}
	if len(b.outs) > nChunks {
		// the level shrank: let the buffers of the unused chunks go
		clear(b.outs[nChunks:])
		b.outs = b.outs[:nChunks]
	}
	outs := b.outs[:nChunks]
	depOf := grow(&b.depOf, nc)
	// Each pair of neighbouring cells is looked at once, from its later
	// cell, which scans only the cells before it (the rows above, and its
	// own row to the left). A pair yields an edge into a cell when the other
	// holds an item within r of one of its items and ranked below it: only
	// such a cell can hold a seed that takes one of its items. The edge is
	// marked when that item is the cell's first, which makes the cell
	// dependent. Edges are packed as (source<<1 | mark)<<31 | target. A
	// cell's edges are made in grid order of their sources: first while it
	// is scanned, then by the cells after it. Testing
	// distances here keeps the lists short: cells hold one item at most
	// zooms, and most neighbouring cells are not within r.
	err := b.parallel(ctx, nChunks, 1, func(lo, hi int) error {
		for ch := lo; ch < hi; ch++ {
			o := &outs[ch]
			if o.edges == nil { // new, or let go (see releaseScratch)
				o.edges, o.dep = make([]uint64, 0, chunkCells), make([]depCell, 0, chunkCells/4)
			}
			o.dep = o.dep[:0]
			edges := o.edges[:0] // a local, so appends stay in registers
			nr := newNeighbourRows(g, r)
			for ri := bounds[ch]; ri < bounds[ch+1]; ri++ {
				nr.setRow(int(ri))
				for c := g.rowFirst[ri]; c < g.rowFirst[ri+1]; c++ {
					if len(nr.from) == 1 && g.aloneInRow(c, nr.rowLo, nr.rowHi) {
						continue // no other cell within reach
					}
					p, pEnd := g.cellStart[c], g.cellStart[c+1]
					// Most cells hold one item at the levels that cost:
					// a pair of those is one distance, tested here.
					px, py, pk := lv.x[p], lv.y[p], lv.key[p]
					one := pEnd-p == 1
					xlo, xhi, ylo := px, px, py
					for j := p + 1; j < pEnd; j++ {
						xlo, xhi, ylo = min(xlo, lv.x[j]), max(xhi, lv.x[j]), min(ylo, lv.y[j])
					}
					nr.window(xlo, xhi, ylo)
					for i := nr.lo; i <= nr.self; i++ {
						for c2 := nr.from[i]; c2 < c && c2 < nr.end[i] && g.cellCol[c2] <= nr.hiCol; c2++ {
							q := g.cellStart[c2]
							if one && g.cellStart[c2+1]-q == 1 {
								if sqDist(px, py, lv.x[q], lv.y[q]) <= r2 {
									if lv.key[q] < pk {
										edges = append(edges, (uint64(c2)<<1|1)<<31|uint64(c))
									} else {
										edges = append(edges, (uint64(c)<<1|1)<<31|uint64(c2))
									}
								}
								continue
							}
							into, intoMark, from, fromMark := linkCells(lv, p, pEnd, q, g.cellStart[c2+1], r2)
							if into {
								edges = append(edges, (uint64(c2)<<1|b2u(intoMark))<<31|uint64(c))
							}
							if from {
								edges = append(edges, (uint64(c)<<1|b2u(fromMark))<<31|uint64(c2))
							}
						}
					}
				}
			}
			o.edges = edges
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The edges become one list per cell by a counting sort on their
	// targets. Almost every edge targets a cell of the chunk that made it,
	// which counts and places it in parallel; the few that target an
	// earlier chunk (rows just above a chunk's first) are set aside while
	// counting, then counted and placed afterwards, in chunk order, so the
	// sequential part reads only them. Each cell's list thus keeps the
	// order in which its edges were made, which is grid order of their
	// sources. A marked edge flags its target as dependent (in cellSeed,
	// which is set for real below).
	cellLo := func(ch int) int32 { return g.rowFirst[bounds[ch]] }
	edgeStart := grow(&b.edgeStart, nc+1) // counts at c+1, then starts at c
	flag := cellSeed
	b.tm.forEach(nChunks, func(ch int) {
		lo, hi := cellLo(ch), cellLo(ch+1)
		clear(edgeStart[lo+1 : hi+1])
		clear(flag[lo:hi])
		if ch == 0 {
			edgeStart[0] = 0
		}
		o := &outs[ch]
		o.cross = o.cross[:0]
		for _, e := range o.edges {
			if t := int32(e & edgeTarget); t >= lo {
				edgeStart[t+1]++
			} else {
				o.cross = append(o.cross, e)
			}
		}
	})
	for ch := 1; ch < nChunks; ch++ {
		for _, e := range outs[ch].cross {
			edgeStart[int32(e&edgeTarget)+1]++
		}
	}
	ne := int(shiftedStarts(b.tm, nChunks, cellLo, edgeStart))
	// Now edgeStart[c+1] is the start of cell c; placing the edges moves
	// it on to the end of c, which is the start of c+1.
	nbrList := grow(&b.nbrList, ne)
	place := func(e uint64) {
		t := int32(e & edgeTarget)
		nbrList[edgeStart[t+1]] = int32(e >> 32)
		edgeStart[t+1]++
		if e&edgeMark != 0 {
			flag[t] = 1
		}
	}
	b.tm.forEach(nChunks, func(ch int) {
		lo := cellLo(ch)
		for _, e := range outs[ch].edges {
			if int32(e&edgeTarget) >= lo {
				place(e)
			}
		}
	})
	for ch := 1; ch < nChunks; ch++ {
		for _, e := range outs[ch].cross {
			place(e)
		}
	}
	if b.large() {
		// The lists hold the edges now: on large levels their memory
		// serves the next steps' tables (at 10M points, up to 150 MB).
		for ch := range outs {
			outs[ch].edges, outs[ch].cross = nil, nil
		}
	}
	err = b.parallel(ctx, nChunks, 1, func(lo, hi int) error {
		for ch := lo; ch < hi; ch++ {
			o := &outs[ch]
			for c := g.rowFirst[bounds[ch]]; c < g.rowFirst[bounds[ch+1]]; c++ {
				e0, e1 := edgeStart[c], edgeStart[c+1]
				if flag[c] == 0 {
					cellSeed[c] = g.cellStart[c]
					depOf[c] = -1
					continue
				}
				cellSeed[c] = -1
				o.dep = append(o.dep, depCell{cell: c, nbrLo: e0, nbrHi: e1, next: g.cellStart[c]})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}

	// The dependent cells of all chunks, numbered in grid order.
	depBase := make([]int, nChunks+1)
	for ch := range outs {
		depBase[ch+1] = depBase[ch] + len(outs[ch].dep)
	}
	deps := grow(&b.deps, depBase[nChunks])
	b.tm.forEach(nChunks, func(ch int) {
		for i, d := range outs[ch].dep {
			deps[depBase[ch]+i] = d
			depOf[d.cell] = int32(depBase[ch] + i)
		}
	})

	// 2. the sequential part: decide the dependent cells, in grid order, on
	// demand (see resolve). Most chains of dependence are short and local,
	// so the dependent cells are first split into parts of the grid,
	// resolved in parallel, each part giving up on a chain where it reaches
	// a dependent cell of another part; a last pass in grid order decides
	// what is left. Every decision is the unique greedy one whichever pass
	// makes it, so the result does not depend on the parts.
	if parts := min(8*b.workers, len(deps)/32); b.workers > 1 && parts > 1 {
		b.tm.forEach(parts, func(k int) {
			lo, hi := k*len(deps)/parts, (k+1)*len(deps)/parts
			res := resolver{b: b, nbrs: nbrList, deps: deps, r2: r2, cellLo: deps[lo].cell, cellHi: math.MaxInt32}
			if hi < len(deps) {
				res.cellHi = deps[hi].cell
			}
			for d := lo; d < hi; d++ {
				res.resolve(int32(d), math.MaxInt32)
			}
		})
	}
	res := resolver{b: b, nbrs: nbrList, deps: deps, r2: r2, stack: b.stack[:0], cellLo: 0, cellHi: math.MaxInt32}
	for d := range deps {
		res.resolve(int32(d), math.MaxInt32)
	}
	b.stack = res.stack[:0]
	if b.large() {
		b.depOf, b.deps = nil, nil // decided: the memory serves the next steps
	}

	// 3. owners: the seed of lowest rank within r; a seed that owns anything
	// besides itself is flagged.
	ownerCell := grow(&b.ownerCell, n)
	role := grow(&b.role, n)
	hasMembers := grow(&b.hasMembers, (nc+31)/32)
	clear(hasMembers)
	err = b.parallel(ctx, nChunks, 1, func(lo, hi int) error {
		var failed error
		for c := g.rowFirst[bounds[lo]]; c < g.rowFirst[bounds[hi]]; c++ {
			if g.cellStart[c+1]-g.cellStart[c] == 1 && cellSeed[c] == g.cellStart[c] {
				ownerCell[cellSeed[c]] = c // a lone seed owns itself
				role[cellSeed[c]] = roleKeep
				continue
			}
			// A cell's list of neighbours holds every cell whose seed
			// can own one of its items: an owner ranks below the item.
			nbrs := nbrList[edgeStart[c]:edgeStart[c+1]]
			for j := g.cellStart[c]; j < g.cellStart[c+1]; j++ {
				if cellSeed[c] == j {
					ownerCell[j], role[j] = c, roleKeep
					continue
				}
				// The owner ranks below j, so the search starts with j's
				// key as the bound, and a cell whose lowest key is not
				// below the bound is skipped unread.
				jx, jy := lv.x[j], lv.y[j]
				best, bestKey := int32(-1), lv.key[j]
				if q := cellSeed[c]; q >= 0 && q < j {
					best, bestKey = c, lv.key[q]
				}
				for _, c2 := range nbrs {
					if g.cellHead[c2] >= bestKey {
						continue
					}
					if q := cellSeed[c2]; q >= 0 && lv.key[q] < bestKey && sqDist(jx, jy, lv.x[q], lv.y[q]) <= r2 {
						best, bestKey = c2, lv.key[q]
					}
				}
				if best < 0 {
					failed = fmt.Errorf("cluster z%d: internal error: item %d has no seed within r", z, lv.key[j])
					continue
				}
				ownerCell[j], role[j] = best, roleDrop
				if w, bit := &hasMembers[best>>5], uint32(1)<<(best&31); atomic.LoadUint32(w)&bit == 0 {
					atomic.OrUint32(w, bit)
				}
			}
		}
		return failed
	})
	if err != nil {
		return err
	}
	if b.large() {
		b.nbrList = nil // owners are found
		runtime.GC()
	}
	b.groupMembers(bounds, outs)
	err = b.formClusters(ctx, z, bounds, outs)
	for i := range outs {
		o := &outs[i]
		trim(&o.early)
		trim(&o.late)
		trim(&o.clusters)
		trim(&o.leftovers)
		trim(&o.edges)
		trim(&o.cross)
		trim(&o.dep)
	}
	return err
}

// trim lets a chunk's buffer go when this zoom used less than a quarter of
// it. Chunks cover different ground at every zoom, so keeping each one's
// largest buffer would hold the sum of the maxima, not the maximum of the
// sums: at 10M points that was 250 MB at the end of a build.
func trim[T any](s *[]T) {
	if cap(*s) > 4*len(*s)+chunkCells {
		*s = nil
	}
}

// resolver decides the dependent cells of a level: the sequential step of
// the greedy pass, computed on demand so that it walks the grid in cell order
// instead of jumping around it in rank order (which costs a cache miss per
// look-up on large levels).
//
// A dependent cell's items are decided in rank order, each becoming the
// cell's seed unless a seed of lower rank in a neighbouring cell lies within
// r. To decide item q, every neighbouring cell first has its items of lower
// rank than q decided, recursively; the rank bound drops with every step,
// so the recursion ends and never meets a cell that is waiting on it. It is
// kept on an explicit stack, as chains can be long on sorted input.
type resolver struct {
	b     *builder
	nbrs  []int32 // nbrList
	deps  []depCell
	r2    float64
	stack []resolveFrame
	// Dependent cells outside [cellLo, cellHi) belong to another part:
	// reaching one abandons the chain (see clusterLevel).
	cellLo, cellHi int32
}

// resolveFrame is a dependent cell (its index in deps) being decided up to
// rank bound, with the index of the next neighbour to look at for its
// current item.
type resolveFrame struct{ dep, bound, nbr int32 }

// resolve decides the items of dependent cell deps[d0] with rank below bound.
func (rs *resolver) resolve(d0, bound int32) {
	b := rs.b
	g := &b.g
	lv := &g.lv
	cellSeed, depOf, deps := b.cellSeed, b.depOf, rs.deps
	if d := &deps[d0]; cellSeed[d.cell] >= 0 || d.next == g.cellStart[d.cell+1] || lv.key[d.next] >= bound {
		return
	}
	rs.stack = append(rs.stack, resolveFrame{dep: d0, bound: bound, nbr: deps[d0].nbrLo})
	for len(rs.stack) > 0 {
		f := &rs.stack[len(rs.stack)-1]
		d := &deps[f.dep]
		c := d.cell
		q := d.next
		if cellSeed[c] >= 0 || q == g.cellStart[c+1] || lv.key[q] >= f.bound {
			rs.stack = rs.stack[:len(rs.stack)-1]
			continue
		}
		kq, qx, qy := lv.key[q], lv.x[q], lv.y[q]
		nbrs := rs.nbrs
		covered, pushed := false, false
		for ; f.nbr < d.nbrHi; f.nbr++ {
			c2 := nbrs[f.nbr]
			d2 := depOf[c2]
			if d2 >= 0 && (c2 < rs.cellLo || c2 >= rs.cellHi) {
				rs.stack = rs.stack[:0] // another part's cell: leave the chain to the last pass
				return
			}
			s := cellSeed[c2]
			if s < 0 {
				// c2 is dependent and undecided: if it has undecided items
				// of lower rank, decide them first
				if n2 := deps[d2].next; n2 < g.cellStart[c2+1] && lv.key[n2] < kq {
					rs.stack = append(rs.stack, resolveFrame{dep: d2, bound: kq, nbr: deps[d2].nbrLo})
					pushed = true
					break
				}
				continue
			}
			if lv.key[s] < kq && sqDist(qx, qy, lv.x[s], lv.y[s]) <= rs.r2 {
				covered = true
				break
			}
		}
		switch {
		case pushed:
		case covered:
			d.next++ // q is taken; go on with the cell's next item
			f.nbr = d.nbrLo
		default:
			cellSeed[c] = q
		}
	}
}

// groupMembers lists the members of every seed, grouped by the seed's cell
// and in grid order within a group, into b.memAll: the members of cell c's
// seed are memAll[edgeStart[c]:edgeStart[c+1]] (the neighbour lists are no
// longer needed). It is a counting sort on the owner cell. A member's owner
// lies in its own chunk of rows or, near a chunk's first or last rows, in a
// neighbouring chunk: each chunk counts and places the members of its own
// cells in parallel; those of other chunks are listed and placed in order,
// before (owner in a later chunk) or after (owner in an earlier chunk) the
// parallel step, which keeps grid order.
func (b *builder) groupMembers(bounds []int32, outs []chunkOut) {
	g := &b.g
	nc := len(g.cellCol)
	nChunks := len(bounds) - 1
	role, owner := b.role, b.ownerCell
	cellLo := func(ch int) int32 { return g.rowFirst[bounds[ch]] }
	start := grow(&b.edgeStart, nc+1) // counts at c+1, then starts at c
	b.tm.forEach(nChunks, func(ch int) {
		lo, hi := cellLo(ch), cellLo(ch+1)
		o := &outs[ch]
		o.early, o.late = o.early[:0], o.late[:0]
		clear(start[lo+1 : hi+1])
		for j := g.cellStart[lo]; j < g.cellStart[hi]; j++ {
			if role[j] != roleDrop {
				continue
			}
			switch c := owner[j]; {
			case c >= hi:
				o.late = append(o.late, j)
			case c < lo:
				o.early = append(o.early, j)
			default:
				start[c+1]++
			}
		}
	})
	start[0] = 0
	for ch := range nChunks {
		for _, j := range outs[ch].late {
			start[owner[j]+1]++
		}
		for _, j := range outs[ch].early {
			start[owner[j]+1]++
		}
	}
	total := shiftedStarts(b.tm, nChunks, cellLo, start)
	// Now start[c+1] is where cell c's members start; placing them moves it
	// on to their end, the start of c+1.
	mem := grow(&b.memAll, int(total))
	place := func(j int32) {
		c := owner[j]
		mem[start[c+1]] = j
		start[c+1]++
	}
	for ch := range nChunks {
		for _, j := range outs[ch].late {
			place(j)
		}
	}
	b.tm.forEach(nChunks, func(ch int) {
		lo, hi := cellLo(ch), cellLo(ch+1)
		for j := g.cellStart[lo]; j < g.cellStart[hi]; j++ {
			if c := owner[j]; role[j] == roleDrop && c >= lo && c < hi {
				place(j)
			}
		}
	})
	for ch := range nChunks {
		for _, j := range outs[ch].early {
			place(j)
		}
	}
}

// shiftedStarts turns per-cell counts, held at start[c+1], into the start
// of each cell's range, still held at start[c+1] (start[0] is 0), and
// returns the total. Placing a cell's entries then advances start[c+1]
// from the start of c to its end, which is the start of c+1. Chunks of
// cells (cellLo(ch) to cellLo(ch+1)) are summed and scanned in parallel.
func shiftedStarts(tm *team, nChunks int, cellLo func(int) int32, start []int32) int32 {
	base := make([]int32, nChunks+1)
	tm.forEach(nChunks, func(ch int) {
		sum := int32(0)
		for c := cellLo(ch); c < cellLo(ch+1); c++ {
			sum += start[c+1]
		}
		base[ch+1] = sum
	})
	for ch := range nChunks {
		base[ch+1] += base[ch]
	}
	tm.forEach(nChunks, func(ch int) {
		at := base[ch]
		for c := cellLo(ch); c < cellLo(ch+1); c++ {
			at, start[c+1] = at+start[c+1], at
		}
	})
	return base[nChunks]
}

// group is a seed with members, found by formClusters.
type group struct {
	cell           int32
	memLo, memHi   int32 // its members in builder.memAll
	wx, wy, weight int64
}

// formClusters gathers the members of every seed that has any (from the
// seed's own neighbourhood, in grid order), decides between a cluster and
// leftovers, makes the clusters, and moves the level on to zoom z.
func (b *builder) formClusters(ctx context.Context, z int, bounds []int32, outs []chunkOut) error {
	ix := b.ix
	g := &b.g
	lv := &g.lv
	cellSeed, role := b.cellSeed, b.role
	mem, memStart, hasMembers := b.memAll, b.edgeStart, b.hasMembers
	minPoints := int64(ix.opts.MinPoints)
	// leftovers: some seed is too small to form a cluster, so its members
	// follow it (see renumber); sortLeftovers: some has two members or more,
	// which come in k-d tree order.
	var leftovers, sortLeftovers atomic.Bool
	err := b.parallel(ctx, len(outs), 1, func(lo, hi int) error {
		for ch := lo; ch < hi; ch++ {
			o := &outs[ch]
			o.clusters, o.leftovers = o.clusters[:0], o.leftovers[:0]
			for c := g.rowFirst[bounds[ch]]; c < g.rowFirst[bounds[ch+1]]; c++ {
				if hasMembers[c>>5]&(1<<(c&31)) == 0 {
					continue
				}
				s := cellSeed[c]
				ws := int64(lv.w[s])
				gr := group{cell: c, memLo: memStart[c], memHi: memStart[c+1], wx: int64(lv.x[s]) * ws, wy: int64(lv.y[s]) * ws, weight: ws}
				for _, j := range mem[gr.memLo:gr.memHi] {
					wm := int64(lv.w[j])
					gr.wx += int64(lv.x[j]) * wm
					gr.wy += int64(lv.y[j]) * wm
					gr.weight += wm
				}
				if gr.weight > ws && gr.weight >= minPoints {
					role[s] = roleCluster
					o.clusters = append(o.clusters, gr)
					continue
				}
				for _, m := range mem[gr.memLo:gr.memHi] {
					role[m] = roleKeep
				}
				o.leftovers = append(o.leftovers, gr)
				leftovers.Store(true)
				if gr.memHi-gr.memLo > 1 {
					sortLeftovers.Store(true)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}

	// The table of this zoom's clusters, in grid order.
	m := 0
	base := make([]int, len(outs)+1)
	for ch := range outs {
		m += len(outs[ch].clusters)
		base[ch+1] = m
	}
	if m == 0 {
		// supercluster keeps the previous order when no cluster forms, even
		// when leftovers were reordered; so do we.
		b.coarsen(nil, nil, clusterSeeds{}, 0)
		return ctx.Err()
	}
	t := zoomClusters{
		zoom: z, first: ix.nClusters,
		x: hugepage.Advise(make([]int32, m)), y: hugepage.Advise(make([]int32, m)),
		w: hugepage.Advise(make([]int32, m)), rank: hugepage.Advise(make([]int32, m)),
		idBase: int64(z+1) + int64(ix.n), idShift: ix.zoomBits,
		kidStart: hugepage.Advise(make([]int32, m+1)), byID: hugepage.Advise(make([]int32, m)),
	}
	i := 0
	for ch := range outs {
		for _, gr := range outs[ch].clusters {
			if gr.weight > math.MaxInt32 {
				return mapcluster.Errorf(mapcluster.EInvalid, "a cluster of %d points exceeds the limit of %d", gr.weight, math.MaxInt32)
			}
			t.kidStart[i+1] = t.kidStart[i] + 1 + gr.memHi - gr.memLo
			i++
		}
	}
	t.kids = hugepage.Advise(make([]int32, t.kidStart[m]))
	first := int32(ix.nClusters) + int32(ix.n)
	// forClusters runs fn in parallel for every cluster of this zoom: its
	// number in the table, its group and its seed.
	forClusters := func(fn func(i int, gr *group, s int32)) error {
		return b.parallel(ctx, len(outs), 1, func(lo, hi int) error {
			for ch := lo; ch < hi; ch++ {
				for k := range outs[ch].clusters {
					gr := &outs[ch].clusters[k]
					fn(base[ch]+k, gr, cellSeed[gr.cell])
				}
			}
			return nil
		})
	}
	err = forClusters(func(i int, gr *group, s int32) {
		kids := t.kids[t.kidStart[i]:t.kidStart[i+1]]
		kids[0] = lv.item[s]
		for q, mm := range mem[gr.memLo:gr.memHi] {
			kids[q+1] = lv.item[mm]
		}
		t.x[i] = int32(float64(gr.wx) / float64(gr.weight))
		t.y[i] = int32(float64(gr.wy) / float64(gr.weight))
		t.w[i] = int32(gr.weight)
		t.rank[i] = int32(b.ranks.rank(lv.key[s]))
		t.byID[i] = int32(i)
	})
	if err != nil {
		return err
	}
	// Ranks are distinct and non-negative, and ids grow with them: a radix
	// sort orders the ids.
	idKeys := grow(&b.idKeys, m)
	for i, r := range t.rank {
		idKeys[i] = uint64(r)
	}
	copy(t.byID, radixSortPerm(idKeys, &b.sort, b.tm))
	ix.addTable(t)
	if len(ix.aggs.specs) > 0 {
		for i := range m {
			ix.aggs.add(ix, t.kids[t.kidStart[i]:t.kidStart[i+1]])
		}
	}

	var newKey []int32
	if leftovers.Load() {
		newKey = b.renumber(mem, memStart, sortLeftovers.Load()) // resets the rank set
	}
	// The seeds' rows now hold their clusters; coarsen numbers them (in
	// grid order, as the table) since the item array belongs to the index.
	seedCells, seeds := make([]int32, m), make([]int32, m)
	err = forClusters(func(i int, gr *group, s int32) {
		lv.x[s], lv.y[s], lv.w[s] = t.x[i], t.y[i], t.w[i]
		seedCells[i], seeds[i] = gr.cell, s
	})
	if err != nil {
		return err
	}
	if newKey == nil {
		// Without leftovers, the members' keys leave the rank set. On one
		// goroutine: members of one chunk have keys all over the set, so
		// two workers clearing bits atomically fought over the same words
		// (world-cities, 2 workers: 8 ms a build, against under 1 ms here).
		for ch := range outs {
			for _, gr := range outs[ch].clusters {
				for _, mm := range mem[gr.memLo:gr.memHi] {
					b.ranks.clear(lv.key[mm])
				}
			}
		}
		b.ranks.rebuild()
	}
	b.releaseScratch()
	b.coarsen(role, newKey, clusterSeeds{cells: seedCells, items: seeds}, first)
	return ctx.Err()
}

// releaseScratch lets go of the per-level tables that coarsen does not
// read, on large levels: coarsen allocates the next level and the index's
// arrays, and with these gone it reuses their memory instead of adding to
// the peak. Small levels keep them, as reallocating costs more than it
// saves.
//
// Peak memory on large levels. Every scratch table is let go as soon as
// the steps of the level are done with it: the edges once they are in the
// lists, the dependent cells once decided, the lists once the owners are
// found, the rest here, and what only coarsen uses at its end
// (releaseCoarsen). Each step then allocates what it needs from the memory
// the earlier steps gave back. Three of these points also run a collection
// (runtime.GC): the heap is a few large pointer-free arrays, so one costs
// well under a millisecond of marking, and it makes the memory reusable at
// once rather than after the heap has grown by the collector's target.
// Measured on 10M points (bin/mapcluster build --sample-size 10000000
// --stats), peak RSS went from 176 to 113–115 bytes per point; the
// collections alone are 3–5 of those bytes (BENCHMARKS.md, clustering,
// "Summary at session 5").
func (b *builder) releaseScratch() {
	if !b.large() {
		return
	}
	// (the dependent cells and the lists went earlier, in clusterLevel)
	b.edgeStart, b.memAll, b.g.cellHead = nil, nil, nil
	b.cellSeed, b.ownerCell = nil, nil // coarsen has the seeds (clusterSeeds)
	clear(b.outs)                      // the chunks' lists: the cluster table is made
	runtime.GC()
}

// large reports whether the current level is large enough for the builder
// to let go of scratch between the steps that use it (see releaseScratch).
func (b *builder) large() bool {
	least := b.ix.opts.releaseMin
	if least == 0 {
		least = 1 << 20
	}
	return b.g.lv.len() >= least
}

// releaseCoarsen lets go, on large levels, of what only coarsen uses: the
// spare level (the old item arrays), the coarse rows' cell tables and the
// inserted items. Coarsen allocates them again while the per-level tables
// of releaseScratch are free, so they no longer add to the peak of the
// steps before it (at 10M points: about 300 MB).
func (b *builder) releaseCoarsen() {
	b.next = level{}
	b.groups, b.ins, b.insSorted, b.insMerged, b.idKeys, b.isoScratch, b.isoKeyScratch = nil, nil, nil, nil, nil, nil, nil
	runtime.GC()
}

// clusterSeeds are the seeds of a zoom's clusters in grid order: cells[i]
// holds items[i], the seed of cluster number i.
type clusterSeeds struct{ cells, items []int32 }

// from returns the number of the first cluster whose seed's cell is c or
// after it.
func (cs clusterSeeds) from(c int32) int {
	i, _ := slices.BinarySearch(cs.cells, c)
	return i
}

// advance moves cursor i on to the first cluster whose seed's cell is c or
// after it, for cells c visited in increasing order.
func (cs clusterSeeds) advance(i int, c int32) int {
	for i < len(cs.cells) && cs.cells[i] < c {
		i++
	}
	return i
}

// renumber gives the items of zoom z their order keys when leftovers change
// the order: seeds in rank order, each followed by its leftover members
// (mem[memStart[c]:memStart[c+1]] for the seed's cell c) in the order
// supercluster's k-d tree lists them, which is needed only when sortKD is
// set (some seed has two leftover members or more). It returns the new key
// of every kept position and resets the rank set.
//
// Every step is parallel: a seed's first key is the number of keys taken
// by the seeds ranked before it, a prefix sum over ranks. (A sequential
// walk in rank order, with a map of the leftovers, took 21 of the 36 s of
// a 10M-point build with minPoints 5.)
func (b *builder) renumber(mem, memStart []int32, sortKD bool) []int32 {
	g := &b.g
	lv := &g.lv
	ix := b.ix
	n := lv.len()
	owner, seedOf, role := b.ownerCell, b.cellSeed, b.role
	// The isolated points out of the grid are items of zoom z+1 too, each a
	// seed on its own.
	var out, outKey []int32
	if b.isoKey != nil {
		end := b.isoStart[b.zoom-ix.opts.MinZoom+1]
		out, outKey = b.isoOrder[:end], b.isoKey[:end]
	}
	all := n + len(out)
	// rankOf[j] is j's position in supercluster's array of zoom z+1; the
	// k-d tree is built over the points in that order.
	rankOf := make([]int32, n)
	var coords []int32
	if sortKD {
		coords = make([]int32, 2*all)
	}
	b.tm.gather(n, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			d := int32(b.ranks.rank(lv.key[j]))
			rankOf[j] = d
			if coords != nil {
				coords[2*d], coords[2*d+1] = lv.x[j], lv.y[j]
			}
		}
	})
	// The isolated points' keys become their positions until the new keys
	// replace them below.
	b.tm.gather(len(out), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d := int32(b.ranks.rank(outKey[i]))
			outKey[i] = d
			if coords != nil {
				p := out[i]
				coords[2*d], coords[2*d+1] = ix.x[p], ix.y[p]
			}
		}
	})
	var kd []int32
	if sortKD {
		kd = kdVisitOrder(coords, 64, b.tm)
		coords = nil
	}
	// first[d]: the keys the item at position d takes (1 and its leftovers
	// for a seed, none for a member), then, summed, its first key.
	first := make([]int32, all)
	b.tm.gather(len(out), func(lo, hi int) {
		for _, d := range outKey[lo:hi] {
			first[d] = 1
		}
	})
	b.tm.gather(n, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			if c := owner[j]; seedOf[c] == int32(j) {
				k := int32(1)
				if role[j] != roleCluster {
					k += memStart[c+1] - memStart[c]
				}
				first[rankOf[j]] = k
			}
		}
	})
	total := exclusiveSums(b.tm, first)
	b.tm.gather(len(out), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			outKey[i] = first[outKey[i]]
		}
	})
	newKey := make([]int32, n)
	b.tm.gather(n, func(lo, hi int) {
		var ms []int32
		for j := lo; j < hi; j++ {
			c := owner[j]
			if seedOf[c] != int32(j) {
				continue // a member: placed with its seed
			}
			k := first[rankOf[j]]
			newKey[j] = k
			if role[j] == roleCluster {
				continue
			}
			ms = append(ms[:0], mem[memStart[c]:memStart[c+1]]...)
			if len(ms) > 1 {
				slices.SortFunc(ms, func(p, q int32) int { return cmp.Compare(kd[rankOf[p]], kd[rankOf[q]]) })
			}
			for i, m := range ms {
				newKey[m] = k + 1 + int32(i)
			}
		}
	})
	b.ranks.reset(int(total))
	return newKey
}

// exclusiveSums replaces each element of s by the sum of those before it,
// in parallel, and returns the sum of all.
func exclusiveSums(tm *team, s []int32) int32 {
	parts := 1
	if tm.size() > 1 && len(s) >= 1<<16 {
		parts = tm.size()
	}
	sums := make([]int32, parts+1)
	bound := func(k int) int { return k * len(s) / parts }
	tm.forEach(parts, func(k int) {
		t := int32(0)
		for _, v := range s[bound(k):bound(k+1)] {
			t += v
		}
		sums[k+1] = t
	})
	for k := range parts {
		sums[k+1] += sums[k]
	}
	tm.forEach(parts, func(k int) {
		t := sums[k]
		part := s[bound(k):bound(k+1)]
		for i, v := range part {
			part[i] = t
			t += v
		}
	})
	return sums[parts]
}

// coarsen turns the level into zoom z's items in the cells of zoom z-1:
// cells of the next zoom are 2×2 blocks of the current ones (or the same
// cells while they stay one unit wide), so each pair of rows merges into one,
// and clusters that moved out of their seed's cell are merged in. Groups of
// coarse rows are merged in parallel, each into its own range of the output.
// role is nil when every item is kept as it is; seeds are the seeds of this
// zoom's clusters in grid order, numbered from firstCluster; newKey, when
// set, replaces the order keys.
func (b *builder) coarsen(role []uint8, newKey []int32, seeds clusterSeeds, firstCluster int32) {
	g := &b.g
	lv := &g.lv
	newShift := b.shiftFor(b.zoom - 1)
	delta := newShift - g.shift // 1, or 0 while cells stay one unit wide
	fine := g.fine
	coarseKey := func(x, y int32) uint64 {
		return uint64(fine.of(y)>>newShift)<<32 | uint64(fine.of(x)>>newShift)
	}
	keyOf := func(j int32) int32 {
		if newKey != nil {
			return newKey[j]
		}
		return lv.key[j]
	}

	// Items that join the grid out of row order: clusters whose centre left
	// the coarse cell of their seed, and the points isolated down to this
	// zoom (see isolate.go), each list sorted by coarse cell, then order key.
	// The owner array is free by now: it gives each cluster seed its index in
	// the table.
	// The seeds are scanned in parts, in parallel; the order of the list
	// does not matter, as sortInserts orders it by cell and key.
	parts := 1
	if b.workers > 1 && len(seeds.cells) >= 1<<15 {
		parts = 4 * b.workers
	}
	lists := make([][]insItem, parts)
	lists[0] = b.ins[:0]
	b.tm.forEach(parts, func(k int) {
		lo, hi := k*len(seeds.cells)/parts, (k+1)*len(seeds.cells)/parts
		if lo == hi {
			return
		}
		moved := lists[k]
		// the row of seeds.cells[i], which are in grid order
		ri := sort.Search(len(g.rowVal), func(r int) bool { return g.rowFirst[r+1] > seeds.cells[lo] })
		for i := lo; i < hi; i++ {
			c, s := seeds.cells[i], seeds.items[i]
			for g.rowFirst[ri+1] <= c {
				ri++
			}
			if ck := coarseKey(lv.x[s], lv.y[s]); ck != uint64(g.rowVal[ri]>>delta)<<32|uint64(g.cellCol[c]>>delta) {
				role[s] = roleMoved
				moved = append(moved, insItem{ck: ck, x: lv.x[s], y: lv.y[s], w: lv.w[s], key: keyOf(s), item: firstCluster + int32(i)})
			}
		}
		lists[k] = moved
	})
	moved := lists[0]
	for _, l := range lists[1:] {
		moved = append(moved, l...)
	}
	b.ins = moved[:0]
	cb := g.colBits(newShift)
	moved = b.sortInserts(moved, cb)
	ins := b.joinIsolated(moved, coarseKey, newShift, cb)
	if b.large() {
		b.ins, b.insSorted = nil, nil // merged into ins (see releaseCoarsen)
	}

	// Coarse rows: the fine rows they merge and the inserted items they get.
	type coarseRow struct {
		row        uint32
		a, b       int32 // fine row indices, -1 when absent
		mLo, mHi   int32 // inserted items, positions in ins
		count, out int32 // items, first output position
	}
	var rows []coarseRow
	mi := 0
	for ri := 0; ri < len(g.rowVal) || mi < len(ins); {
		var cr coarseRow
		switch {
		case ri < len(g.rowVal) && (mi >= len(ins) || uint64(g.rowVal[ri]>>delta) <= ins[mi].ck>>32):
			cr = coarseRow{row: g.rowVal[ri] >> delta, a: int32(ri), b: -1}
			ri++
			if delta == 1 && ri < len(g.rowVal) && g.rowVal[ri]>>1 == cr.row {
				cr.b = int32(ri)
				ri++
			}
		default:
			cr = coarseRow{row: uint32(ins[mi].ck >> 32), a: -1, b: -1}
		}
		cr.mLo = int32(mi)
		for mi < len(ins) && uint32(ins[mi].ck>>32) == cr.row {
			mi++
		}
		cr.mHi = int32(mi)
		rows = append(rows, cr)
	}

	kept := func(j int32) bool { return role == nil || role[j] == roleKeep || role[j] == roleCluster }
	countRow := func(ri int32) int32 {
		if ri < 0 {
			return 0
		}
		lo, hi := g.cellStart[g.rowFirst[ri]], g.cellStart[g.rowFirst[ri+1]]
		if role == nil {
			return hi - lo
		}
		n := int32(0)
		for j := lo; j < hi; j++ {
			if kept(j) {
				n++
			}
		}
		return n
	}
	const rowsPerTask = 256
	b.tm.forEach((len(rows)+rowsPerTask-1)/rowsPerTask, func(k int) {
		for i := k * rowsPerTask; i < min((k+1)*rowsPerTask, len(rows)); i++ {
			rows[i].count = countRow(rows[i].a) + countRow(rows[i].b) + rows[i].mHi - rows[i].mLo
		}
	})
	total := int32(0)
	for i := range rows {
		rows[i].out = total
		total += rows[i].count
	}

	// Groups of coarse rows, merged in parallel.
	var bounds []int
	for i, acc := 0, int32(0); i < len(rows); i++ {
		if i == 0 || acc >= 4096 {
			bounds = append(bounds, i)
			acc = 0
		}
		acc += rows[i].count
	}
	bounds = append(bounds, len(rows))
	if cap(b.groups) < len(bounds)-1 {
		b.groups = append(b.groups[:cap(b.groups)], make([]groupOut, len(bounds)-1-cap(b.groups))...)
	} else {
		clear(b.groups[len(bounds)-1 : cap(b.groups)]) // unused: let their buffers go
	}
	groups := b.groups[:len(bounds)-1]
	// A group has no more cells than items: its buffers are sized for
	// that up front (growing them by appends cost 6% of the CPU time of a
	// 10M build, in copies and in clearing the new memory).
	b.tm.forEach(len(groups), func(gi int) {
		gr := &groups[gi]
		items := total - rows[bounds[gi]].out
		if gi+1 < len(groups) {
			items = rows[bounds[gi+1]].out - rows[bounds[gi]].out
		}
		nr := bounds[gi+1] - bounds[gi]
		gr.cellCol, gr.cellStart = sized(gr.cellCol, int(items)), sized(gr.cellStart, int(items))
		gr.rowVal, gr.rowFirst = sized(gr.rowVal, nr), sized(gr.rowFirst, nr)
		gr.unsorted = gr.unsorted[:0]
	})
	out := &b.next
	out.resize(int(total))
	out.item = hugepage.Advise(make([]int32, total)) // fresh: the index keeps the old one
	_ = b.parallel(context.Background(), len(groups), 1, func(glo, ghi int) error {
		for gi := glo; gi < ghi; gi++ {
			gr := &groups[gi]
			for ri := bounds[gi]; ri < bounds[gi+1]; ri++ {
				cr := rows[ri]
				w := cr.out
				first := true // no cell of this row yet
				emit := func(ck uint64, x, y, wt, key, item int32) {
					n := len(gr.cellCol)
					if first || gr.cellCol[n-1] != uint32(ck) {
						if first {
							gr.rowVal = append(gr.rowVal, cr.row)
							gr.rowFirst = append(gr.rowFirst, int32(n))
							first = false
						}
						gr.cellCol = append(gr.cellCol, uint32(ck))
						gr.cellStart = append(gr.cellStart, w)
					} else if key < out.key[w-1] && (len(gr.unsorted) == 0 || gr.unsorted[len(gr.unsorted)-1] != int32(n-1)) {
						gr.unsorted = append(gr.unsorted, int32(n-1))
					}
					out.x[w], out.y[w], out.w[w], out.key[w], out.item[w] = x, y, wt, key, item
					w++
				}
				// cursors over the cells of fine rows a and b, and the moved list
				ca, caEnd := int32(0), int32(0)
				if cr.a >= 0 {
					ca, caEnd = g.rowFirst[cr.a], g.rowFirst[cr.a+1]
				}
				cb, cbEnd := int32(0), int32(0)
				if cr.b >= 0 {
					cb, cbEnd = g.rowFirst[cr.b], g.rowFirst[cr.b+1]
				}
				// cursors over the clusters of rows a and b: the number of
				// the cluster whose seed is in cell c
				sa, sb := seeds.from(ca), seeds.from(cb)
				m := cr.mLo
				const none = math.MaxUint64
				for {
					ka, kb, km := uint64(none), uint64(none), uint64(none)
					if ca < caEnd {
						ka = uint64(cr.row)<<32 | uint64(g.cellCol[ca]>>delta)
					}
					if cb < cbEnd {
						kb = uint64(cr.row)<<32 | uint64(g.cellCol[cb]>>delta)
					}
					if m < cr.mHi {
						km = ins[m].ck
					}
					var c int32
					switch {
					case ka == none && kb == none && km == none:
						c = -2
					case ka <= kb && ka <= km:
						c, ca = ca, ca+1
						sa = seeds.advance(sa, c)
					case kb <= km:
						c, cb = cb, cb+1
						sb = seeds.advance(sb, c)
					default:
						c = -1
					}
					if c == -2 {
						break
					}
					if c == -1 {
						it := &ins[m]
						emit(km, it.x, it.y, it.w, it.key, it.item)
						m++
						continue
					}
					ck := uint64(cr.row)<<32 | uint64(g.cellCol[c]>>delta)
					for j := g.cellStart[c]; j < g.cellStart[c+1]; j++ {
						if !kept(j) {
							continue
						}
						item := lv.item[j]
						if role != nil && role[j] == roleCluster {
							// the cell's cluster: the cursor of its row
							// reached it, and the other row's is behind
							if cr.b >= 0 && c >= g.rowFirst[cr.b] {
								item = firstCluster + int32(sb)
							} else {
								item = firstCluster + int32(sa)
							}
						}
						emit(ck, lv.x[j], lv.y[j], lv.w[j], keyOf(j), item)
					}
				}
			}
			for _, u := range gr.unsorted {
				lo := int(gr.cellStart[u])
				hi := int(total)
				if int(u)+1 < len(gr.cellStart) {
					hi = int(gr.cellStart[u+1])
				} else if gi+1 < len(groups) {
					hi = int(rows[bounds[gi+1]].out)
				}
				sortCell(out, lo, hi)
			}
		}
		return nil
	})

	// The cell and row tables of the new grid.
	at := make([]int, len(groups)+1)
	rowAt := make([]int, len(groups)+1)
	for gi := range groups {
		at[gi+1] = at[gi] + len(groups[gi].cellCol)
		rowAt[gi+1] = rowAt[gi] + len(groups[gi].rowVal)
	}
	cells, nRows := at[len(groups)], rowAt[len(groups)]
	if cap(g.cellCol) < cells || cap(g.cellStart) < cells+1 || cap(g.cellCol) > 2*cells {
		g.cellCol = hugepage.Advise(make([]uint32, 0, cells+cells/4))
		g.cellStart = hugepage.Advise(make([]int32, 0, cells+cells/4+1))
	}
	g.cellCol, g.cellStart = g.cellCol[:cells], g.cellStart[:cells+1]
	g.rowVal, g.rowFirst = grow(&g.rowVal, nRows), grow(&g.rowFirst, nRows+1)
	b.tm.forEach(len(groups), func(gi int) {
		gr := &groups[gi]
		copy(g.cellCol[at[gi]:], gr.cellCol)
		copy(g.cellStart[at[gi]:], gr.cellStart)
		copy(g.rowVal[rowAt[gi]:], gr.rowVal)
		for i, f := range gr.rowFirst {
			g.rowFirst[rowAt[gi]+i] = f + int32(at[gi])
		}
		trim(&gr.cellCol)
		trim(&gr.cellStart)
		trim(&gr.unsorted)
	})
	g.rowFirst[nRows] = int32(cells)
	g.cellStart[cells] = total
	g.shift = newShift
	release := b.large()
	b.g.lv, b.next = b.next, b.g.lv
	if release {
		b.releaseCoarsen()
	}
}

// sortInserts sorts items by coarse cell (columns of cb bits), then order
// key, into a buffer of the builder: a stable radix sort by cell (the list
// is in seed order, so runs of one cell are short) and an insertion sort of
// each run by key.
// (slices.SortFunc took a tenth of the sequential time of a 4M build.)
func (b *builder) sortInserts(items []insItem, cb uint) []insItem {
	keys := grow(&b.idKeys, len(items))
	for i := range items {
		keys[i] = packKey(items[i].ck, cb)
	}
	perm := radixSortPerm(keys, &b.sort, b.tm)
	out := grow(&b.insSorted, len(items))
	b.tm.gather(len(items), func(lo, hi int) {
		for j := lo; j < hi; j++ {
			out[j] = items[perm[j]]
		}
	})
	for lo := 0; lo < len(out); {
		hi := lo + 1
		for hi < len(out) && out[hi].ck == out[lo].ck {
			hi++
		}
		for i := lo + 1; i < hi; i++ {
			for j := i; j > lo && out[j].key < out[j-1].key; j-- {
				out[j], out[j-1] = out[j-1], out[j]
			}
		}
		lo = hi
	}
	return out
}

// insItem is an item that coarsen merges into the rows of the next grid.
type insItem struct {
	ck                 uint64 // coarse cell key
	x, y, w, key, item int32
}

// joinIsolated returns moved merged with the points whose isolation zoom is
// the zoom just computed: from the next zoom down they are in the grid. Those
// points, in the order of the next grid's cells, are also recorded as the
// index's list of points isolated from this zoom up.
func (b *builder) joinIsolated(moved []insItem, coarseKey func(x, y int32) uint64, newShift, cb uint) []insItem {
	if b.isoStart == nil {
		return moved
	}
	ix := b.ix
	v := b.zoom - ix.opts.MinZoom
	batch := b.isoOrder[b.isoStart[v]:b.isoStart[v+1]]
	if len(batch) == 0 {
		return moved
	}
	keys := grow(&b.idKeys, len(batch))
	b.tm.gather(len(batch), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			p := batch[i]
			keys[i] = packKey(coarseKey(ix.x[p], ix.y[p]), cb)
		}
	})
	perm := radixSortPerm(keys, &b.sort, b.tm) // stable: input order within a cell
	// The batch is sorted in place and becomes the index's list: the
	// index keeps isoOrder instead of a copy of it.
	orig := grow(&b.isoScratch, len(batch))
	copy(orig, batch)
	items := batch
	// order keys: the point's index, or its isoKey (sorted with the batch)
	itemKeys := items
	if b.isoKey != nil {
		itemKeys = b.isoKey[b.isoStart[v]:b.isoStart[v+1]]
		origKeys := grow(&b.isoKeyScratch, len(batch))
		copy(origKeys, itemKeys)
		b.tm.gather(len(batch), func(lo, hi int) {
			for j := lo; j < hi; j++ {
				itemKeys[j] = origKeys[perm[j]]
			}
		})
	}
	b.tm.gather(len(batch), func(lo, hi int) {
		for j := lo; j < hi; j++ {
			items[j] = orig[perm[j]]
			keys[j] = unpackKey(keys[j], cb) // back to cell keys, for the merge
		}
	})
	ix.iso[v] = levelIndex{fine: b.g.fine, shift: newShift, items: items}
	// Merge in parallel: each range of the batch starts after the moved
	// items that sort before its first point (order keys are distinct).
	out := grow(&b.insMerged, len(moved)+len(items))
	before := func(m *insItem, j int) bool { return m.ck < keys[j] || m.ck == keys[j] && m.key < itemKeys[j] }
	const part = 1 << 14
	b.tm.forEach((len(items)+part-1)/part, func(k int) {
		lo, hi := k*part, min((k+1)*part, len(items))
		mi := 0 // the first range also takes the moved items before every point
		if lo > 0 {
			mi = sort.Search(len(moved), func(i int) bool { return !before(&moved[i], lo) })
		}
		mEnd := len(moved)
		if hi < len(items) {
			mEnd = sort.Search(len(moved), func(i int) bool { return !before(&moved[i], hi) })
		}
		w := lo + mi
		for j := lo; j < hi; j++ {
			for mi < mEnd && before(&moved[mi], j) {
				out[w] = moved[mi]
				w++
				mi++
			}
			p := items[j]
			out[w] = insItem{ck: keys[j], x: ix.x[p], y: ix.y[p], w: 1, key: itemKeys[j], item: p}
			w++
		}
		copy(out[w:], moved[mi:mEnd])
	})
	return out
}

// sized returns s emptied, with room for n elements.
func sized[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, 0, n)
	}
	return s[:0]
}

// groupOut is what one group of coarse rows produces in coarsen.
type groupOut struct {
	cellCol   []uint32
	cellStart []int32 // absolute output positions
	unsorted  []int32 // indices into cellCol of cells not in rank order
	rowVal    []uint32
	rowFirst  []int32 // indices into cellCol

	_ [64]byte // off the next group's cache lines, as chunkOut
}

// sortCell sorts items [lo, hi) of l by order key: an insertion sort over
// the five arrays, as cells hold a handful of items.
func sortCell(l *level, lo, hi int) {
	for i := lo + 1; i < hi; i++ {
		x, y, w, k, it := l.x[i], l.y[i], l.w[i], l.key[i], l.item[i]
		j := i
		for ; j > lo && l.key[j-1] > k; j-- {
			l.x[j], l.y[j], l.w[j], l.key[j], l.item[j] = l.x[j-1], l.y[j-1], l.w[j-1], l.key[j-1], l.item[j-1]
		}
		l.x[j], l.y[j], l.w[j], l.key[j], l.item[j] = x, y, w, k, it
	}
}
