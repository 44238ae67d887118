package cluster

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/mapcluster/mapcluster"
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
	b := &builder{ix: ix, workers: opts.Workers, ranks: newRankBits(n)}
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
	ix.finish()
	return ix, nil
}

type builder struct {
	zs      int // the highest zoom whose cells are S units wide (see start)
	zoom    int // the zoom being computed
	ix      *Index
	workers int
	ranks   *rankBits
	g       grid // the current level, in cell order
	next    level
	moved   level
	sort    sortScratch

	// per-level scratch, reused
	cellSeed   []int32
	ownerCell  []int32
	hasMembers []uint32
	scratch    []int32
	role       []uint8
	runs       []run
	ccol       []uint32
	clusters   []int32
	outs       []chunkOut
	nbrLo      []int32
	nbrHi      []int32
	seq        []seqItem
	seqKeys    []uint64
}

// chunkOut is what step 1 finds in one chunk of rows.
type chunkOut struct {
	mem       []int32   // members of the seeds of groups, back to back
	clusters  []group   // seeds that form a cluster
	leftovers []group   // seeds too small to form one
	nbrs      []int32   // neighbour cells of dependent cells, back to back
	items     []seqItem // every item of a dependent cell
}

// seqItem is an item that the sequential step decides.
type seqItem struct{ key, pos, cell, chunk int32 }

// run is a stretch of the next level's items that lie in one row of the
// current cells.
type run struct {
	row        uint32
	start, end int32
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
	ix.x = make([]int32, n)
	ix.y = make([]int32, n)
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
	keys := make([]uint64, n)
	gather(b.workers, n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			keys[i] = b.g.cellKeyOf(ix.x[i], ix.y[i])
		}
	})
	perm := radixSortPerm(keys, &b.sort)
	b.sort = sortScratch{}
	lv := &b.g.lv
	lv.resize(n)
	gather(b.workers, n, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			p := perm[j]
			lv.x[j], lv.y[j], lv.w[j], lv.key[j], lv.item[j] = ix.x[p], ix.y[p], 1, p, p
		}
	})
	b.g.cellKey = make([]uint64, 0, n)
	b.g.cellStart = make([]int32, 0, n+1)
	b.g.buildCells()
	return nil
}

// shiftFor is the cell shift of zoom z: cells are S·2^shift units wide.
func (b *builder) shiftFor(z int) uint { return uint(max(0, b.zs-z)) }

// parallel runs fn over [0, n) in chunks of about chunk, on at most
// b.workers goroutines. Chunks never influence results: every caller writes
// only to the slots of its own range.
func (b *builder) parallel(ctx context.Context, n, chunk int, fn func(lo, hi int) error) error {
	if n <= chunk || b.workers == 1 {
		return fn(0, n)
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(b.workers)
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			return fn(lo, hi)
		})
	}
	return g.Wait()
}

// Roles of an item of the current level in the next.
const (
	roleDrop    uint8 = iota // absorbed into a cluster
	roleKeep                 // itself at the next zoom
	roleCluster              // the seed of a cluster: replaced by it
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
//  1. in parallel, each cell's first item (in rank order) looks for any item
//     of lower rank within r; if there is none it is a seed, and the rest of
//     its cell is taken by it;
//  2. sequentially, in rank order, the items of the other cells are decided:
//     an item is a seed unless its cell or a neighbouring cell already has a
//     seed within r. Only cells near a lower-ranked item take part, so on
//     sparse levels this touches few items;
//  3. in parallel, every item finds its owner, the seed of lowest rank within r;
//  4. each seed with members becomes a cluster (weighted centroid) or, below
//     minPoints, stays with its members as individual items;
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
	nc := len(g.cellKey)
	r2 := r * r
	lv := &g.lv
	cellSeed := growI32(&b.cellSeed, nc)

	// 1. independent cell heads; dependent cells list their neighbour cells.
	g.buildRows()
	bounds := g.rowChunks(2048)
	nChunks := len(bounds) - 1
	if len(b.outs) < nChunks {
		b.outs = append(b.outs, make([]chunkOut, nChunks-len(b.outs))...)
	}
	outs := b.outs[:nChunks]
	nbrLo := growI32(&b.nbrLo, nc)
	nbrHi := growI32(&b.nbrHi, nc)
	forCells := func(ch int, fn func(nr *neighbourRows, c int32)) {
		nr := newNeighbourRows(g)
		for ri := bounds[ch]; ri < bounds[ch+1]; ri++ {
			nr.setRow(int(ri))
			for c := g.rowFirst[ri]; c < g.rowFirst[ri+1]; c++ {
				fn(nr, c)
			}
		}
	}
	err := b.parallel(ctx, nChunks, 1, func(lo, hi int) error {
		for ch := lo; ch < hi; ch++ {
			o := &outs[ch]
			o.nbrs, o.items = o.nbrs[:0], o.items[:0]
			forCells(ch, func(nr *neighbourRows, c int32) {
				p := g.cellStart[c]
				if len(nr.from) == 1 && g.aloneInRow(c) {
					cellSeed[c] = p // no other cell within reach: nothing can take it
					return
				}
				px, py, pk := lv.x[p], lv.y[p], lv.key[p]
				nr.advance(c)
				dependent := false
			scan:
				for i, f := range nr.from {
					for c2 := f; c2 < nr.end[i] && uint32(g.cellKey[c2]) <= nr.hiCol; c2++ {
						if c2 == c {
							continue
						}
						for q := g.cellStart[c2]; q < g.cellStart[c2+1] && lv.key[q] < pk; q++ {
							if sqDist(px, py, lv.x[q], lv.y[q]) <= r2 {
								dependent = true
								break scan
							}
						}
					}
				}
				if !dependent {
					cellSeed[c] = p
					return
				}
				cellSeed[c] = -1
				// Keep only the neighbour cells whose lowest-ranked item ranks
				// below this cell's last: only those can hold a seed that takes
				// one of this cell's items (the sequential step checks distances).
				nbrLo[c] = int32(len(o.nbrs))
				cEnd := g.cellStart[c+1]
				lastKey := lv.key[cEnd-1]
				for i, f := range nr.from {
					for c2 := f; c2 < nr.end[i] && uint32(g.cellKey[c2]) <= nr.hiCol; c2++ {
						if c2 != c && lv.key[g.cellStart[c2]] < lastKey {
							o.nbrs = append(o.nbrs, c2)
						}
					}
				}
				nbrHi[c] = int32(len(o.nbrs))
				for q := p; q < cEnd; q++ {
					o.items = append(o.items, seqItem{key: lv.key[q], pos: q, cell: c, chunk: int32(ch)})
				}
			})
		}
		return nil
	})
	if err != nil {
		return err
	}

	// 2. the sequential part: decide the items of dependent cells in rank order.
	seq := b.seq[:0]
	for ch := range outs {
		seq = append(seq, outs[ch].items...)
	}
	b.seq = seq
	keys := growU64(&b.seqKeys, len(seq))
	for i, e := range seq {
		keys[i] = uint64(e.key)
	}
	for _, i := range radixSortPerm(keys, &b.sort) {
		e := seq[i]
		c := e.cell
		if cellSeed[c] >= 0 {
			continue
		}
		qx, qy := lv.x[e.pos], lv.y[e.pos]
		covered := false
		for _, c2 := range outs[e.chunk].nbrs[nbrLo[c]:nbrHi[c]] {
			if s := cellSeed[c2]; s >= 0 && sqDist(qx, qy, lv.x[s], lv.y[s]) <= r2 {
				covered = true
				break
			}
		}
		if !covered {
			cellSeed[c] = e.pos
		}
	}

	// 3. owners: the seed of lowest rank within r; a seed that owns anything
	// besides itself is flagged.
	ownerCell := growI32(&b.ownerCell, n)
	role := growU8(&b.role, n)
	hasMembers := growU32(&b.hasMembers, nc)
	clear(hasMembers)
	err = b.parallel(ctx, nChunks, 1, func(lo, hi int) error {
		var failed error
		for ch := lo; ch < hi; ch++ {
			forCells(ch, func(nr *neighbourRows, c int32) {
				if g.cellStart[c+1]-g.cellStart[c] == 1 && cellSeed[c] == g.cellStart[c] {
					ownerCell[cellSeed[c]] = c // a lone seed owns itself
					role[cellSeed[c]] = roleKeep
					return
				}
				nr.advance(c)
				for j := g.cellStart[c]; j < g.cellStart[c+1]; j++ {
					if cellSeed[c] == j {
						ownerCell[j], role[j] = c, roleKeep
						continue
					}
					jx, jy := lv.x[j], lv.y[j]
					best, bestKey := int32(-1), int32(math.MaxInt32)
					for i, f := range nr.from {
						for c2 := f; c2 < nr.end[i] && uint32(g.cellKey[c2]) <= nr.hiCol; c2++ {
							q := cellSeed[c2]
							if q < 0 {
								continue
							}
							if lv.key[q] < bestKey && sqDist(jx, jy, lv.x[q], lv.y[q]) <= r2 {
								best, bestKey = c2, lv.key[q]
							}
						}
					}
					if best < 0 {
						failed = fmt.Errorf("cluster z%d: internal error: item %d has no seed within r", z, lv.key[j])
						continue
					}
					ownerCell[j], role[j] = best, roleDrop
					if atomic.LoadUint32(&hasMembers[best]) == 0 {
						atomic.StoreUint32(&hasMembers[best], 1)
					}
				}
			})
		}
		return failed
	})
	if err != nil {
		return err
	}
	return b.formClusters(ctx, z, forCells, outs)
}

// group is a seed with members, found by formClusters.
type group struct {
	cell           int32
	memLo, memHi   int32 // its members in chunkOut.mem
	wx, wy, weight int64
}

// formClusters gathers the members of every seed that has any (from the
// seed's own neighbourhood, in grid order), decides between a cluster and
// leftovers, makes the clusters, and moves the level on to zoom z.
func (b *builder) formClusters(ctx context.Context, z int, forCells func(int, func(*neighbourRows, int32)), outs []chunkOut) error {
	ix := b.ix
	g := &b.g
	lv := &g.lv
	cellSeed, ownerCell, role, hasMembers := b.cellSeed, b.ownerCell, b.role, b.hasMembers
	minPoints := int64(ix.opts.MinPoints)
	var leftovers atomic.Bool
	err := b.parallel(ctx, len(outs), 1, func(lo, hi int) error {
		for ch := lo; ch < hi; ch++ {
			o := &outs[ch]
			o.mem, o.clusters, o.leftovers = o.mem[:0], o.clusters[:0], o.leftovers[:0]
			forCells(ch, func(nr *neighbourRows, c int32) {
				if hasMembers[c] == 0 {
					return
				}
				s := cellSeed[c]
				ws := int64(lv.w[s])
				gr := group{cell: c, memLo: int32(len(o.mem)), wx: int64(lv.x[s]) * ws, wy: int64(lv.y[s]) * ws, weight: ws}
				nr.advance(c)
				for i, f := range nr.from {
					for c2 := f; c2 < nr.end[i] && uint32(g.cellKey[c2]) <= nr.hiCol; c2++ {
						for j := g.cellStart[c2]; j < g.cellStart[c2+1]; j++ {
							if ownerCell[j] == c && j != s {
								o.mem = append(o.mem, j)
								wm := int64(lv.w[j])
								gr.wx += int64(lv.x[j]) * wm
								gr.wy += int64(lv.y[j]) * wm
								gr.weight += wm
							}
						}
					}
				}
				gr.memHi = int32(len(o.mem))
				if gr.weight > ws && gr.weight >= minPoints {
					role[s] = roleCluster
					o.clusters = append(o.clusters, gr)
					return
				}
				for _, m := range o.mem[gr.memLo:gr.memHi] {
					role[m] = roleKeep
				}
				o.leftovers = append(o.leftovers, gr)
				leftovers.Store(true)
			})
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
		b.coarsen(nil, nil, 0)
		return ctx.Err()
	}
	t := zoomClusters{
		zoom: z, first: ix.nClusters,
		x: make([]int32, m), y: make([]int32, m), w: make([]int32, m), id: make([]int64, m),
		kidStart: make([]int32, m+1), byID: make([]int32, m),
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
	t.kids = make([]int32, t.kidStart[m])
	zoomPart := int64(z+1) + int64(ix.n)
	first := int32(ix.nClusters) + int32(ix.n)
	err = b.parallel(ctx, len(outs), 1, func(lo, hi int) error {
		for ch := lo; ch < hi; ch++ {
			o := &outs[ch]
			for k, gr := range o.clusters {
				i := base[ch] + k
				s := cellSeed[gr.cell]
				kids := t.kids[t.kidStart[i]:t.kidStart[i+1]]
				kids[0] = lv.item[s]
				for q, mm := range o.mem[gr.memLo:gr.memHi] {
					kids[q+1] = lv.item[mm]
				}
				t.x[i] = int32(float64(gr.wx) / float64(gr.weight))
				t.y[i] = int32(float64(gr.wy) / float64(gr.weight))
				t.w[i] = int32(gr.weight)
				t.id[i] = b.ranks.rank(lv.key[s])<<ix.zoomBits + zoomPart
				t.byID[i] = int32(i)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(t.byID, func(a, b int32) int { return cmpInt64(t.id[a], t.id[b]) })
	ix.zc = append(ix.zc, t)
	ix.nClusters += m
	for i := range m {
		ix.aggs.add(ix, t.kids[t.kidStart[i]:t.kidStart[i+1]])
	}

	var newKey []int32
	if leftovers.Load() {
		lefts := map[int32][]int32{}
		for ch := range outs {
			for _, gr := range outs[ch].leftovers {
				lefts[gr.cell] = outs[ch].mem[gr.memLo:gr.memHi]
			}
		}
		newKey = b.renumber(lefts)
	} else {
		for ch := range outs {
			for _, gr := range outs[ch].clusters {
				for _, mm := range outs[ch].mem[gr.memLo:gr.memHi] {
					b.ranks.clear(lv.key[mm])
				}
			}
		}
		b.ranks.rebuild()
	}
	// The seeds' rows now hold their clusters; coarsen numbers them (in
	// grid order, as the table) since the item array belongs to the index.
	i = 0
	for ch := range outs {
		for _, gr := range outs[ch].clusters {
			s := cellSeed[gr.cell]
			lv.x[s], lv.y[s], lv.w[s] = t.x[i], t.y[i], t.w[i]
			i++
		}
	}
	b.coarsen(role, newKey, first)
	return ctx.Err()
}

// renumber gives the items of zoom z their order keys when leftovers change
// the order: seeds in rank order, each followed by its leftover members in
// the order supercluster's k-d tree lists them. It returns the new key of
// every kept position and resets the rank set.
func (b *builder) renumber(lefts map[int32][]int32) []int32 {
	g := &b.g
	lv := &g.lv
	n := lv.len()
	// positions in supercluster's order for zoom z+1
	posOf := make([]int32, n)
	for j := range n {
		posOf[b.ranks.rank(lv.key[j])] = int32(j)
	}
	xs := make([]int32, n)
	ys := make([]int32, n)
	for d, j := range posOf {
		xs[d], ys[d] = lv.x[j], lv.y[j]
	}
	kd := kdVisitOrder(xs, ys, 64)
	newKey := make([]int32, n)
	next := int32(0)
	var lo []int32
	for _, j := range posOf {
		c := b.ownerCell[j]
		if b.cellSeed[c] != j {
			continue // a member: placed with its seed
		}
		newKey[j] = next
		next++
		if b.role[j] == roleCluster {
			continue
		}
		lo = append(lo[:0], lefts[c]...)
		slices.SortFunc(lo, func(p, q int32) int {
			return int(kd[b.ranks.rank(lv.key[p])] - kd[b.ranks.rank(lv.key[q])])
		})
		for _, m := range lo {
			newKey[m] = next
			next++
		}
	}
	b.ranks.reset(int(next))
	return newKey
}

// coarsen turns the level into zoom z's items in the cells of zoom z-1:
// cells of the next zoom are 2×2 blocks of the current ones, so each pair of
// rows merges into one, clusters that moved out of their seed's cell are
// sorted in, and each cell is put in rank order. role is nil when every item
// is kept as it is; newKey, when set, replaces the order keys.
func (b *builder) coarsen(role []uint8, newKey []int32, firstCluster int32) {
	g := &b.g
	lv := &g.lv
	newShift := b.shiftFor(b.zoom - 1)
	delta := newShift - g.shift // 1, or 0 while cells stay one unit wide
	fine := g.fine
	coarseKey := func(x, y int32) uint64 {
		return uint64(fine.of(y)>>newShift)<<32 | uint64(fine.of(x)>>newShift)
	}

	// Gather the kept items, in cell order, as runs of one current row; set
	// aside the clusters that left their seed's coarse cell.
	src := &b.next
	src.resize(lv.len())
	ccol := growU32(&b.ccol, lv.len())
	moved := &b.moved
	moved.resize(0)
	var movedKeys []uint64
	runs := b.runs[:0]
	m := 0
	for c := range g.cellKey {
		row := uint32(g.cellKey[c] >> 32)
		cellCoarse := uint64(row>>delta)<<32 | (g.cellKey[c]&0xffffffff)>>delta
		if len(runs) == 0 || runs[len(runs)-1].row != row {
			if len(runs) > 0 {
				runs[len(runs)-1].end = int32(m)
			}
			runs = append(runs, run{row: row, start: int32(m)})
		}
		for j := g.cellStart[c]; j < g.cellStart[c+1]; j++ {
			if role != nil && role[j] == roleDrop {
				continue
			}
			key, item := lv.key[j], lv.item[j]
			if newKey != nil {
				key = newKey[j]
			}
			if role != nil && role[j] == roleCluster {
				item = firstCluster
				firstCluster++
				if ck := coarseKey(lv.x[j], lv.y[j]); ck != cellCoarse {
					moved.x = append(moved.x, lv.x[j])
					moved.y = append(moved.y, lv.y[j])
					moved.w = append(moved.w, lv.w[j])
					moved.key = append(moved.key, key)
					moved.item = append(moved.item, item)
					movedKeys = append(movedKeys, ck)
					continue
				}
			}
			src.x[m], src.y[m], src.w[m], src.key[m], src.item[m] = lv.x[j], lv.y[j], lv.w[j], key, item
			ccol[m] = uint32(g.cellKey[c]&0xffffffff) >> delta
			m++
		}
	}
	if len(runs) > 0 {
		runs[len(runs)-1].end = int32(m)
	}
	b.runs = runs

	// Merge row pairs into coarse rows, and the moved clusters in.
	total := m + moved.len()
	out := lv // reuse the current arrays as the destination, but for the
	// items, which the index keeps for the level just done
	out.resize(total)
	out.item = make([]int32, total)
	g.cellKey = g.cellKey[:0]
	g.cellStart = g.cellStart[:0]
	movedOrder := make([]int32, moved.len())
	for i := range movedOrder {
		movedOrder[i] = int32(i)
	}
	slices.SortFunc(movedOrder, func(p, q int32) int {
		if movedKeys[p] != movedKeys[q] {
			if movedKeys[p] < movedKeys[q] {
				return -1
			}
			return 1
		}
		return int(moved.key[p] - moved.key[q])
	})
	mi := 0
	w := 0
	emit := func(ck uint64, from *level, i int) {
		if len(g.cellKey) == 0 || g.cellKey[len(g.cellKey)-1] != ck {
			g.cellKey = append(g.cellKey, ck)
			g.cellStart = append(g.cellStart, int32(w))
		}
		out.set(w, from, i)
		w++
	}
	// emitUpTo emits the moved clusters whose coarse key is below ck.
	emitMovedBelow := func(ck uint64) {
		for mi < len(movedOrder) && movedKeys[movedOrder[mi]] < ck {
			emit(movedKeys[movedOrder[mi]], moved, int(movedOrder[mi]))
			mi++
		}
	}
	for ri := 0; ri < len(runs); ri++ {
		a := runs[ri]
		crow := uint64(a.row >> delta)
		var bRun run
		if delta == 1 && a.row%2 == 0 && ri+1 < len(runs) && runs[ri+1].row == a.row+1 {
			bRun = runs[ri+1]
			ri++
		}
		i, j := int(a.start), int(bRun.start)
		for i < int(a.end) || j < int(bRun.end) {
			var p int
			if j >= int(bRun.end) || (i < int(a.end) && ccol[i] <= ccol[j]) {
				p = i
				i++
			} else {
				p = j
				j++
			}
			ck := crow<<32 | uint64(ccol[p])
			emitMovedBelow(ck + 1)
			emit(ck, src, p)
		}
	}
	emitMovedBelow(math.MaxUint64)
	g.cellStart = append(g.cellStart, int32(w))
	g.shift = newShift

	// Put each cell in rank order (cells that merged several fine cells).
	for c := range g.cellKey {
		lo, hi := int(g.cellStart[c]), int(g.cellStart[c+1])
		if hi-lo < 2 {
			continue
		}
		sorted := true
		for k := lo + 1; k < hi; k++ {
			if out.key[k] < out.key[k-1] {
				sorted = false
				break
			}
		}
		if !sorted {
			sortCell(out, lo, hi, src)
		}
	}
}

// sortCell sorts items [lo, hi) of l by order key, using tmp as scratch.
func sortCell(l *level, lo, hi int, tmp *level) {
	idx := make([]int, hi-lo)
	for i := range idx {
		idx[i] = lo + i
	}
	slices.SortFunc(idx, func(p, q int) int { return int(l.key[p] - l.key[q]) })
	tmp.resize(max(tmp.len(), hi-lo))
	for i, p := range idx {
		tmp.set(i, l, p)
	}
	for i := range idx {
		l.set(lo+i, tmp, i)
	}
}
