package cluster

import (
	"context"
	"fmt"
	"math"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/mapcluster/mapcluster"
)

// Build clusters pts for every zoom from opts.MaxZoom down to opts.MinZoom
// and returns the hierarchy. The result is exactly supercluster 9.1.0's for
// the same input order and options (see the package documentation for the
// method and the one documented difference), and it is identical for every
// value of opts.Workers.
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

	b := &builder{ix: ix, workers: opts.Workers, progress: opts.Progress}
	cur, err := b.project(ctx)
	if err != nil {
		return nil, err
	}
	total := int64(opts.MaxZoom - opts.MinZoom + 1)
	var g grid
	for z := opts.MaxZoom; z >= opts.MinZoom; z-- {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("cluster z%d: %w", z, err)
		}
		r := zoomRadius(opts.Radius, opts.Extent, z)
		cs := newCellSize(r)
		buildGrid(&g, cur.x, cur.y, cur.w, cs, cellReach(r, cs), &b.sort, b.workers)
		ix.setLevel(z+1, &g, cur.item)
		next, err := b.clusterLevel(ctx, z, r, &g, cur)
		if err != nil {
			return nil, err
		}
		cur = next
		opts.Progress.Report("cluster", int64(opts.MaxZoom-z+1), total)
	}
	// The lowest level is only queried: index it at the next zoom's cell size.
	r := zoomRadius(opts.Radius, opts.Extent, opts.MinZoom-1)
	cs := newCellSize(r)
	buildGrid(&g, cur.x, cur.y, cur.w, cs, cellReach(r, cs), &b.sort, b.workers)
	ix.setLevel(opts.MinZoom, &g, cur.item)
	ix.finish()
	return ix, nil
}

// levelWork is one level's items in rank order (supercluster's array order):
// fixed-point coordinates, weights (point counts) and the item each row is.
type levelWork struct {
	x, y, w []int32
	item    []int32
}

func (l *levelWork) len() int { return len(l.x) }

func (l *levelWork) push(x, y, w, item int32) {
	l.x = append(l.x, x)
	l.y = append(l.y, y)
	l.w = append(l.w, w)
	l.item = append(l.item, item)
}

type builder struct {
	ix       *Index
	workers  int
	progress mapcluster.Progress
	sort     sortScratch

	// per-level scratch, reused
	cellSeed  []int32
	role      []uint8
	ownerCell []int32
	memStart  []int32
	memItems  []int32
	posOfRank []int32
}

// project converts the input to fixed point, in parallel.
func (b *builder) project(ctx context.Context) (levelWork, error) {
	ix := b.ix
	n := ix.n
	lw := levelWork{x: make([]int32, n), y: make([]int32, n), w: make([]int32, n), item: make([]int32, n)}
	ix.x = lw.x // items 0..n-1 are the input points; clusters are appended
	ix.y = lw.y
	err := b.parallel(ctx, n, 1<<14, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			lng, lat := ix.pts.Lng[i], ix.pts.Lat[i]
			if math.IsNaN(lng) || math.IsInf(lng, 0) || math.IsNaN(lat) || math.IsInf(lat, 0) || lat < -90 || lat > 90 {
				return mapcluster.Errorf(mapcluster.EInvalid, "point %d: coordinates (%v, %v) are not a valid longitude and latitude", i, lng, lat)
			}
			lw.x[i] = encode(lngX(lng))
			lw.y[i] = encode(latY(lat))
			lw.w[i] = 1
			lw.item[i] = int32(i)
		}
		return nil
	})
	if err != nil {
		return levelWork{}, err
	}
	// The rank-order arrays of the top level double as the point table; the
	// next level gets fresh arrays, so copy only the weights and item ids.
	lw.x = slices.Clone(lw.x)
	lw.y = slices.Clone(lw.y)
	return lw, nil
}

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

// clusterLevel computes zoom z from the items of zoom z+1 (cur, in rank
// order, bucketed in g).
//
// supercluster visits items in rank order; an unvisited item becomes a seed
// and takes every unvisited item within r. So the seeds are exactly the
// greedy maximal independent set of the "within r" graph in rank order, and
// every other item belongs to the seed of lowest rank within r of it. Two
// items of one cell are within r of each other, so a cell holds at most one
// seed. The level is computed in four steps:
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
//     minPoints, stays with its members as individual items.
func (b *builder) clusterLevel(ctx context.Context, z int, r float64, g *grid, cur levelWork) (levelWork, error) {
	n := cur.len()
	nc := len(g.cellKey)
	r2 := r * r
	cellSeed := growI32(&b.cellSeed, nc)

	// 1. independent cell heads; dependent cells list their neighbour cells.
	const chunk = 2048
	nChunks := (nc + chunk - 1) / chunk
	type chunkOut struct {
		nbrs  []int32 // neighbour cells of dependent cells, back to back
		cells []int32 // dependent cells
		offs  []int32 // offset of each dependent cell's neighbours in nbrs
		items []uint64
	}
	outs := make([]chunkOut, nChunks)
	err := b.parallel(ctx, nChunks, 1, func(lo, hi int) error {
		for ch := lo; ch < hi; ch++ {
			first, last := ch*chunk, min((ch+1)*chunk, nc)
			rc := newRowCursors(g, first)
			o := &outs[ch]
			for c := first; c < last; c++ {
				rc.advance(c)
				p := g.cellStart[c]
				px, py, pr := g.x[p], g.y[p], g.rank[p]
				dependent := false
			scan:
				for i := range rc.lo {
					for c2, keys, hk := rc.from[i], g.cellKey, rc.hiKey[i]; c2 < len(keys) && keys[c2] <= hk; c2++ {
						if c2 == c {
							continue
						}
						for q := g.cellStart[c2]; q < g.cellStart[c2+1] && g.rank[q] < pr; q++ {
							if sqDist(px, py, g.x[q], g.y[q]) <= r2 {
								dependent = true
								break scan
							}
						}
					}
				}
				if !dependent {
					cellSeed[c] = p
					continue
				}
				cellSeed[c] = -1
				o.cells = append(o.cells, int32(c))
				o.offs = append(o.offs, int32(len(o.nbrs)))
				for i := range rc.lo {
					for c2, keys, hk := rc.from[i], g.cellKey, rc.hiKey[i]; c2 < len(keys) && keys[c2] <= hk; c2++ {
						if c2 != c {
							o.nbrs = append(o.nbrs, int32(c2))
						}
					}
				}
				for q := p; q < g.cellStart[c+1]; q++ {
					o.items = append(o.items, uint64(g.rank[q])<<32|uint64(q))
				}
			}
			o.offs = append(o.offs, int32(len(o.nbrs)))
		}
		return nil
	})
	if err != nil {
		return levelWork{}, err
	}

	// 2. the sequential part: decide the items of dependent cells in rank order.
	var seq []uint64
	for ch := range outs {
		seq = append(seq, outs[ch].items...)
	}
	slices.Sort(seq)
	if len(seq) > 0 {
		// where each dependent cell's neighbour list is
		cellChunkIdx := growI32(&b.memStart, nc) // scratch: index within its chunk's dependent list
		for ch := range outs {
			for k, c := range outs[ch].cells {
				cellChunkIdx[c] = int32(k)
			}
		}
		for _, e := range seq {
			q := int32(uint32(e))
			c := g.cellOf(q)
			if cellSeed[c] >= 0 {
				continue
			}
			o := &outs[int(c)/chunk]
			k := cellChunkIdx[c]
			qx, qy := g.x[q], g.y[q]
			covered := false
			for _, c2 := range o.nbrs[o.offs[k]:o.offs[k+1]] {
				if s := cellSeed[c2]; s >= 0 && sqDist(qx, qy, g.x[s], g.y[s]) <= r2 {
					covered = true
					break
				}
			}
			if !covered {
				cellSeed[c] = q
			}
		}
	}

	// 3. owners: the seed of lowest rank within r.
	ownerCell := growI32(&b.ownerCell, n)
	err = b.parallel(ctx, nChunks, 1, func(lo, hi int) error {
		for ch := lo; ch < hi; ch++ {
			first, last := ch*chunk, min((ch+1)*chunk, nc)
			rc := newRowCursors(g, first)
			for c := first; c < last; c++ {
				if g.cellStart[c+1]-g.cellStart[c] == 1 && cellSeed[c] == g.cellStart[c] {
					ownerCell[cellSeed[c]] = int32(c) // a lone seed owns itself
					continue
				}
				rc.advance(c)
				for j := g.cellStart[c]; j < g.cellStart[c+1]; j++ {
					jx, jy := g.x[j], g.y[j]
					best, bestRank := int32(-1), int32(math.MaxInt32)
					for i := range rc.lo {
						for c2, keys, hk := rc.from[i], g.cellKey, rc.hiKey[i]; c2 < len(keys) && keys[c2] <= hk; c2++ {
							q := cellSeed[c2]
							if q < 0 {
								continue
							}
							if g.rank[q] < bestRank && sqDist(jx, jy, g.x[q], g.y[q]) <= r2 {
								best, bestRank = int32(c2), g.rank[q]
							}
						}
					}
					if best < 0 {
						return fmt.Errorf("cluster z%d: internal error: item %d has no seed within r", z, g.rank[j])
					}
					ownerCell[j] = best
				}
			}
		}
		return nil
	})
	if err != nil {
		return levelWork{}, err
	}

	// 4. members of each seed, grouped by the seed's cell, in cell order.
	memStart := growI32(&b.memStart, nc+1)
	clear(memStart)
	for j := range n {
		if oc := ownerCell[j]; cellSeed[oc] != int32(j) {
			memStart[oc+1]++
		}
	}
	for c := 1; c <= nc; c++ {
		memStart[c] += memStart[c-1]
	}
	memItems := growI32(&b.memItems, int(memStart[nc]))
	fill := slices.Clone(memStart[:nc])
	for j := range n {
		if oc := ownerCell[j]; cellSeed[oc] != int32(j) {
			memItems[fill[oc]] = int32(j)
			fill[oc]++
		}
	}

	// 5. the next level, in rank order: seeds in rank order, each a cluster or
	// itself followed by its leftover members. Roles are scattered to rank
	// order in parallel so that the sequential pass reads memory in order.
	posOfRank := growI32(&b.posOfRank, n)
	role := growU8(&b.role, n)
	err = b.parallel(ctx, n, 1<<15, func(lo, hi int) error {
		for j := lo; j < hi; j++ {
			rk := g.rank[j]
			posOfRank[rk] = int32(j)
			oc := ownerCell[j]
			switch {
			case cellSeed[oc] != int32(j):
				role[rk] = roleMember
			case memStart[oc+1] > memStart[oc]:
				role[rk] = roleSeedWithMembers
			default:
				role[rk] = roleLoneSeed
			}
		}
		return nil
	})
	if err != nil {
		return levelWork{}, err
	}
	return b.emit(ctx, z, g, cur, posOfRank, role, ownerCell, memStart, memItems)
}

// Roles of an item in a level.
const (
	roleMember uint8 = iota
	roleLoneSeed
	roleSeedWithMembers
)

func (b *builder) emit(ctx context.Context, z int, g *grid, cur levelWork, posOfRank []int32, role []uint8, ownerCell, memStart, memItems []int32) (levelWork, error) {
	ix := b.ix
	n := cur.len()
	minPoints := int64(ix.opts.MinPoints)
	next := levelWork{
		x:    make([]int32, 0, n),
		y:    make([]int32, 0, n),
		w:    make([]int32, 0, n),
		item: make([]int32, 0, n),
	}
	var kd []int32 // supercluster's k-d tree visiting order, built when needed
	var leftovers []int32
	clusters := 0
	for rk := range n {
		switch role[rk] {
		case roleMember:
			continue // emitted with its seed
		case roleLoneSeed:
			next.push(cur.x[rk], cur.y[rk], cur.w[rk], cur.item[rk])
			continue
		}
		j := posOfRank[rk]
		c := ownerCell[j]
		members := memItems[memStart[c]:memStart[c+1]]
		wSeed := int64(g.w[j])
		wSum := wSeed
		for _, m := range members {
			wSum += int64(g.w[m])
		}
		if wSum > wSeed && wSum >= minPoints {
			if wSum > math.MaxInt32 {
				return levelWork{}, mapcluster.Errorf(mapcluster.EInvalid, "a cluster of %d points exceeds the limit of %d", wSum, math.MaxInt32)
			}
			wx := int64(g.x[j]) * wSeed
			wy := int64(g.y[j]) * wSeed
			for _, m := range members {
				wm := int64(g.w[m])
				wx += int64(g.x[m]) * wm
				wy += int64(g.y[m]) * wm
			}
			cx := int32(float64(wx) / float64(wSum))
			cy := int32(float64(wy) / float64(wSum))
			item := ix.addCluster(z, int64(rk), cx, cy, int32(wSum), cur.item[g.rank[j]], members, g, cur)
			next.push(cx, cy, int32(wSum), item)
			clusters++
			continue
		}
		next.push(g.x[j], g.y[j], g.w[j], cur.item[rk])
		if len(members) == 0 {
			continue
		}
		// Too few points for a cluster: the members follow their seed, in the
		// order supercluster's k-d tree lists them.
		if kd == nil {
			kd = kdVisitOrder(cur.x, cur.y, 64)
		}
		leftovers = leftovers[:0]
		for _, m := range members {
			leftovers = append(leftovers, g.rank[m])
		}
		slices.SortFunc(leftovers, func(a, b int32) int { return int(kd[a] - kd[b]) })
		for _, lr := range leftovers {
			next.push(cur.x[lr], cur.y[lr], cur.w[lr], cur.item[lr])
		}
	}
	if err := ctx.Err(); err != nil {
		return levelWork{}, err
	}
	if clusters == 0 {
		// supercluster keeps the previous order when no cluster forms, even
		// when leftovers were reordered; so do we.
		return cur, nil
	}
	return next, nil
}

func growU8(s *[]uint8, n int) []uint8 {
	if cap(*s) < n {
		*s = make([]uint8, n)
	}
	*s = (*s)[:n]
	return *s
}
