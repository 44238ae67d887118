package cluster

import (
	"cmp"
	"math"
	"slices"

	"github.com/mapcluster/mapcluster"
)

// Index is a built cluster hierarchy. It is immutable and safe for
// concurrent queries.
//
// Items are the input points (numbers 0..n-1) followed by the clusters in
// the order they were made. Each zoom keeps the list of its items sorted by
// grid cell, which serves bounding-box and tile queries; each cluster keeps
// the list of its children.
type Index struct {
	opts     Options
	pts      *mapcluster.Points
	n        int
	zoomBits uint

	x, y []int32 // fixed-point position of every input point

	// The clusters, one table per zoom in the order they were made (maxZoom
	// first); cluster numbers run on from one table to the next.
	zc        []zoomClusters
	nClusters int
	// zcBlock[b] is the table that holds cluster number b<<zcBlockShift:
	// table scans forward from it instead of searching every table (a
	// query looks up a table for every cluster it meets).
	zcBlock []uint8

	levels []levelIndex // by zoom - MinZoom; the last is the input points
	// iso[v-MinZoom] lists the points isolated from zoom v up to MaxZoom (see
	// isolate.go): they are left out of the levels above v, and a query at
	// zoom z reads levels[z] and iso[v] for every v < z.
	iso  []levelIndex
	aggs *aggregator
}

type levelIndex struct {
	fine  fineCells
	shift uint
	items []int32 // item numbers sorted by grid cell (row-major), then rank
	// sample holds the cell key (row<<32 | col) of every sampleStep-th
	// item, so that rangeQuery finds where a row starts by searching this
	// small array first and then at most sampleStep items, each of which
	// costs a look-up of its position.
	sample []uint64
}

// sampleStep is the spacing of levelIndex.sample: a quarter of a byte per
// item. Getting tiles of world-cities (bench/queries.sh), the search
// through item positions was 45% of the time before.
const sampleStep = 32

func cellKey(row, col uint32) uint64 { return uint64(row)<<32 | uint64(col) }

// buildSample fills l.sample.
func (l *levelIndex) buildSample(ix *Index) {
	l.sample = make([]uint64, (len(l.items)+sampleStep-1)/sampleStep)
	for i := range l.sample {
		l.sample[i] = cellKey(l.cell(ix.pos(l.items[i*sampleStep])))
	}
}

func (l *levelIndex) cell(x, y int32) (row, col uint32) {
	return l.fine.of(y) >> l.shift, l.fine.of(x) >> l.shift
}

// zoomClusters are the clusters made at one zoom, numbered from first.
type zoomClusters struct {
	zoom    int
	first   int
	x, y, w []int32
	// rank[i] is local cluster i's index in supercluster's list of the
	// zoom's items, which makes its id (see id): four bytes instead of eight.
	rank     []int32
	idBase   int64
	idShift  uint
	kidStart []int32 // children of local cluster i: kids[kidStart[i]:kidStart[i+1]]
	kids     []int32
	byID     []int32 // local numbers sorted by id
}

// id returns the id of local cluster i: supercluster's
// (index << 5) + zoom + 1 + n, with a sixth zoom bit when maxZoom ≥ 31.
func (t *zoomClusters) id(i int) int64 { return int64(t.rank[i])<<t.idShift + t.idBase }

// setLevel records the items of zoom z, in the grid's cell order, for queries.
func (ix *Index) setLevel(z int, g *grid) {
	// The grid gives every level a fresh item array (see coarsen), so the
	// index can keep it.
	ix.levels[z-ix.opts.MinZoom] = levelIndex{fine: g.fine, shift: g.shift, items: g.lv.item}
}

// zcBlockShift sets the blocks of cluster numbers of Index.zcBlock: a byte
// per 256 clusters.
const zcBlockShift = 8

// addTable appends the clusters of a zoom, numbered on from the last table.
func (ix *Index) addTable(t zoomClusters) {
	ix.zc = append(ix.zc, t)
	ix.nClusters += len(t.w)
	for len(ix.zcBlock)<<zcBlockShift < ix.nClusters {
		ix.zcBlock = append(ix.zcBlock, uint8(len(ix.zc)-1))
	}
}

// table returns the table holding cluster number cn and its index there.
// Tables number their clusters one after the other, so the table of cn is
// the block's first table or one of the few after it (there are at most 64
// tables, and a block of 256 clusters rarely spans more than one).
func (ix *Index) table(cn int) (*zoomClusters, int) {
	i := int(ix.zcBlock[cn>>zcBlockShift])
	for i+1 < len(ix.zc) && ix.zc[i+1].first <= cn {
		i++
	}
	return &ix.zc[i], cn - ix.zc[i].first
}

// pos returns the fixed-point position of an item.
func (ix *Index) pos(item int32) (int32, int32) {
	if int(item) < ix.n {
		return ix.x[item], ix.y[item]
	}
	t, i := ix.table(int(item) - ix.n)
	return t.x[i], t.y[i]
}

// kids returns the children of cluster number cn, its point count and id.
func (ix *Index) cluster(cn int) (kids []int32, count int32, id int64) {
	t, i := ix.table(cn)
	return t.kids[t.kidStart[i]:t.kidStart[i+1]], t.w[i], t.id(i)
}

// finish prepares the levels for queries.
func (ix *Index) finish(tm *team) {
	lvls := make([]*levelIndex, 0, len(ix.levels)+len(ix.iso))
	for i := range ix.levels {
		lvls = append(lvls, &ix.levels[i])
	}
	for i := range ix.iso {
		lvls = append(lvls, &ix.iso[i])
	}
	tm.forEach(len(lvls), func(k int) { lvls[k].buildSample(ix) })
}

// Options returns the options the index was built with, defaults filled in.
func (ix *Index) Options() Options { return ix.opts }

// Points returns the input points.
func (ix *Index) Points() *mapcluster.Points { return ix.pts }

// NumClusters returns the number of clusters over all zooms.
func (ix *Index) NumClusters() int { return ix.nClusters }

// Feature is one item of a query result: a cluster or an input point.
type Feature struct {
	// ID is the cluster id for a cluster and the point's index in the input
	// for a point.
	ID int64
	// Count is the number of input points: 1 for a point.
	Count int
	// Lng and Lat are the position: the weighted centre of a cluster, the
	// input coordinates of a point.
	Lng, Lat float64
	item     int32
}

// IsCluster reports whether f is a cluster.
func (f Feature) IsCluster() bool { return f.Count > 1 }

// Point returns the input index of a point feature, or -1 for a cluster.
func (f Feature) Point() int {
	if f.IsCluster() {
		return -1
	}
	return int(f.item)
}

func (ix *Index) feature(item int32) Feature {
	if int(item) < ix.n {
		return Feature{ID: int64(item), Count: 1, Lng: ix.pts.Lng[item], Lat: ix.pts.Lat[item], item: item}
	}
	t, i := ix.table(int(item) - ix.n)
	return Feature{
		ID: t.id(i), Count: int(t.w[i]), item: item,
		Lng: xLng(decode(t.x[i])), Lat: yLat(decode(t.y[i])),
	}
}

func (ix *Index) limitZoom(z int) int {
	return max(ix.opts.MinZoom, min(z, ix.opts.MaxZoom+1))
}

// Clusters returns the clusters and points at zoom within bbox (west, south,
// east, north in degrees), as supercluster's getClusters: a bbox that crosses
// the antimeridian (west > east) is split in two, one 360° wide or more is
// the whole world, and a zoom past MaxZoom gives the input points.
func (ix *Index) Clusters(bbox [4]float64, zoom int) []Feature {
	return ix.AppendClusters(nil, bbox, zoom)
}

// AppendClusters is Clusters appending to dst.
func (ix *Index) AppendClusters(dst []Feature, bbox [4]float64, zoom int) []Feature {
	minLng := math.Mod(math.Mod(bbox[0]+180, 360)+360, 360) - 180
	minLat := max(-90, min(90, bbox[1]))
	maxLng := 180.0
	if bbox[2] != 180 {
		maxLng = math.Mod(math.Mod(bbox[2]+180, 360)+360, 360) - 180
	}
	maxLat := max(-90, min(90, bbox[3]))
	if bbox[2]-bbox[0] >= 360 {
		minLng, maxLng = -180, 180
	} else if minLng > maxLng {
		dst = ix.AppendClusters(dst, [4]float64{minLng, minLat, 180, maxLat}, zoom)
		return ix.AppendClusters(dst, [4]float64{-180, minLat, maxLng, maxLat}, zoom)
	}
	ix.zoomQuery(zoom, queryLo(lngX(minLng)), queryLo(latY(maxLat)), queryHi(lngX(maxLng)), queryHi(latY(minLat)), func(item, _, _ int32) {
		dst = append(dst, ix.feature(item))
	})
	return dst
}

// zoomQuery calls fn for every item of zoom z within the fixed-point box,
// with its position: the items of its level, and the isolated points of the
// lists below it.
func (ix *Index) zoomQuery(z int, minX, minY, maxX, maxY int32, fn func(item, x, y int32)) {
	k := ix.limitZoom(z) - ix.opts.MinZoom
	ix.rangeQuery(&ix.levels[k], minX, minY, maxX, maxY, fn)
	for v := range min(k, len(ix.iso)) {
		if len(ix.iso[v].items) > 0 {
			ix.rangeQuery(&ix.iso[v], minX, minY, maxX, maxY, fn)
		}
	}
}

// rangeQuery calls fn for every item of the level within the fixed-point box
// (inclusive), with its position. It walks the grid rows the box covers, or
// the whole level when that is cheaper.
func (ix *Index) rangeQuery(lvl *levelIndex, minX, minY, maxX, maxY int32, fn func(item, x, y int32)) {
	items := lvl.items
	visit := func(it int32) {
		if x, y := ix.pos(it); x >= minX && x <= maxX && y >= minY && y <= maxY {
			fn(it, x, y)
		}
	}
	// Every item lies within the world, ±2^29: a box reaching past it (a
	// tile's buffer at the edge) is cut to it, as cells are counted from
	// its corner.
	minX, minY = max(minX, -coordOffset), max(minY, -coordOffset)
	maxX, maxY = min(maxX, coordOffset), min(maxY, coordOffset)
	if minX > maxX || minY > maxY {
		return
	}
	r0, c0 := lvl.cell(minX, minY)
	r1, c1 := lvl.cell(maxX, maxY)
	rows := int(r1 - r0 + 1)
	if rows*(bitsLen(len(items))+1)*2 >= len(items) {
		for _, it := range items {
			visit(it)
		}
		return
	}
	// The items of the cells from (r0, c0) to (r1, c1) in grid order: when
	// they are few (the level is sparse there, or the box spans few rows),
	// scan them all; otherwise take each row's run of cells.
	lo, hi := lvl.search(ix, cellKey(r0, c0)), lvl.search(ix, cellKey(r1, c1)+1)
	if hi-lo <= 8*rows {
		for _, it := range items[lo:hi] {
			visit(it)
		}
		return
	}
	for row := r0; row <= r1; row++ {
		j := lo
		if row > r0 {
			j = lvl.search(ix, cellKey(row, c0))
		}
		for _, it := range items[j:hi] {
			x, y := ix.pos(it)
			if ry, rx := lvl.cell(x, y); ry != row || rx > c1 {
				break
			}
			if x >= minX && x <= maxX && y >= minY && y <= maxY {
				fn(it, x, y)
			}
		}
	}
}

// search returns the index of the first item whose cell key is at least
// key: after the last sampled item below it and at or before the first
// sampled item at or above it.
func (l *levelIndex) search(ix *Index, key uint64) int {
	s, _ := slices.BinarySearch(l.sample, key)
	lo, hi := max(0, (s-1)*sampleStep+1), min(len(l.items), s*sampleStep)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if cellKey(l.cell(ix.pos(l.items[m]))) < key {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func bitsLen(n int) int {
	b := 0
	for n > 0 {
		b++
		n >>= 1
	}
	return b
}

// TileFeature is a feature of a tile, with its position in tile pixels.
type TileFeature struct {
	Feature
	X, Y int // position in tile coordinates, 0..Extent (may lie in the buffer)
}

// Tile returns the features of tile z/x/y, with a buffer of Radius pixels on
// every side, wrapping across the antimeridian, as supercluster's getTile.
// It returns nil for an empty tile.
func (ix *Index) Tile(z, x, y int) []TileFeature {
	return ix.AppendTile(nil, z, x, y)
}

// AppendTile is Tile appending to dst, so that a tile server can reuse one
// buffer.
func (ix *Index) AppendTile(dst []TileFeature, z, x, y int) []TileFeature {
	z2 := math.Ldexp(1, z)
	extent, radius := ix.opts.Extent, ix.opts.Radius
	p := radius / extent
	top := queryLo(float64(float64(y)-p) / z2)
	bottom := queryHi(float64(float64(y+1)+p) / z2)
	out := dst
	add := func(tx float64) func(item, fx, fy int32) {
		return func(item, fx, fy int32) {
			f := ix.feature(item)
			var px, py float64
			if f.IsCluster() {
				px, py = decode(fx), decode(fy)
			} else {
				px, py = lngX(f.Lng), latY(f.Lat)
			}
			out = append(out, TileFeature{
				Feature: f,
				X:       int(jsRound(extent * float64(float64(px*z2)-tx))),
				Y:       int(jsRound(extent * float64(float64(py*z2)-float64(y)))),
			})
		}
	}
	ix.zoomQuery(z, queryLo(float64(float64(x)-p)/z2), top, queryHi(float64(float64(x+1)+p)/z2), bottom, add(float64(x)))
	if x == 0 {
		ix.zoomQuery(z, queryLo(1-p/z2), top, queryHi(1), bottom, add(z2))
	}
	if x == int(z2)-1 {
		ix.zoomQuery(z, queryLo(0), top, queryHi(p/z2), bottom, add(-1))
	}
	return out
}

// jsRound rounds as JavaScript's Math.round: halves toward +Inf.
func jsRound(v float64) float64 { return math.Floor(v + 0.5) }

// cluster returns the cluster number of id, or -1.
func (ix *Index) clusterNumber(id int64) int {
	rel := id - int64(ix.n)
	if rel <= 0 {
		return -1
	}
	zoom := int(rel&(1<<ix.zoomBits-1)) - 1
	k := ix.opts.MaxZoom - zoom // tables run from maxZoom down, one per zoom with clusters
	for k = min(k, len(ix.zc)-1); k >= 0 && ix.zc[k].zoom < zoom; k-- {
	}
	if k < 0 || ix.zc[k].zoom != zoom {
		return -1
	}
	t := &ix.zc[k]
	i, found := slices.BinarySearchFunc(t.byID, id, func(c int32, id int64) int { return cmp.Compare(t.id(int(c)), id) })
	if !found {
		return -1
	}
	return t.first + int(t.byID[i])
}

func errNoCluster(id int64) error {
	return &mapcluster.Error{Code: mapcluster.ENotFound, Field: "cluster_id", Message: "no cluster with id " + itoa(id)}
}

// Children returns the children of cluster id at the zoom where it splits:
// the clusters and points it was made of.
func (ix *Index) Children(id int64) ([]Feature, error) {
	c := ix.clusterNumber(id)
	if c < 0 {
		return nil, errNoCluster(id)
	}
	kids, _, _ := ix.cluster(c)
	out := make([]Feature, len(kids))
	for i, it := range kids {
		out[i] = ix.feature(it)
	}
	return out, nil
}

// Leaves returns up to limit input points of cluster id, skipping the
// first offset, in a fixed depth-first order of the hierarchy. limit <= 0
// means 10, as in supercluster.
func (ix *Index) Leaves(id int64, limit, offset int) ([]Feature, error) {
	c := ix.clusterNumber(id)
	if c < 0 {
		return nil, errNoCluster(id)
	}
	if limit <= 0 {
		limit = 10
	}
	offset = max(offset, 0)
	var out []Feature
	skipped := 0
	var walk func(c int) bool
	walk = func(c int) bool {
		kids, _, _ := ix.cluster(c)
		for _, it := range kids {
			if int(it) >= ix.n {
				cc := int(it) - ix.n
				if _, w, _ := ix.cluster(cc); skipped+int(w) <= offset {
					skipped += int(w)
				} else if walk(cc) {
					return true
				}
			} else if skipped < offset {
				skipped++
			} else {
				out = append(out, ix.feature(it))
				if len(out) == limit {
					return true
				}
			}
		}
		return false
	}
	walk(c)
	return out, nil
}

// ExpansionZoom returns the zoom at which cluster id splits into more than
// one child: the zoom to zoom the map to when the cluster is clicked.
func (ix *Index) ExpansionZoom(id int64) (int, error) {
	c := ix.clusterNumber(id)
	if c < 0 {
		return 0, errNoCluster(id)
	}
	z := int((id-int64(ix.n))&(1<<ix.zoomBits-1)) - 1
	for z <= ix.opts.MaxZoom {
		kids, _, _ := ix.cluster(c)
		z++
		if len(kids) != 1 || int(kids[0]) < ix.n {
			break
		}
		c = int(kids[0]) - ix.n
	}
	return z, nil
}

// Bounds returns the bounding box of the input points of cluster id, as
// west, south, east, north in degrees. supercluster has no such query.
func (ix *Index) Bounds(id int64) ([4]float64, error) {
	c := ix.clusterNumber(id)
	if c < 0 {
		return [4]float64{}, errNoCluster(id)
	}
	b := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	stack := []int32{int32(c)}
	for len(stack) > 0 {
		cc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		kids, _, _ := ix.cluster(int(cc))
		for _, it := range kids {
			if int(it) >= ix.n {
				stack = append(stack, it-int32(ix.n))
				continue
			}
			lng, lat := ix.pts.Lng[it], ix.pts.Lat[it]
			b[0], b[1] = min(b[0], lng), min(b[1], lat)
			b[2], b[3] = max(b[2], lng), max(b[3], lat)
		}
	}
	return b, nil
}

// CountsPerZoom returns the number of features (clusters and points) at
// every zoom from MinZoom to MaxZoom+1, keyed by zoom.
func (ix *Index) CountsPerZoom() map[int]int {
	out := make(map[int]int, len(ix.levels))
	for i, l := range ix.levels {
		n := len(l.items)
		for _, iso := range ix.iso[:min(i, len(ix.iso))] {
			n += len(iso.items)
		}
		out[ix.opts.MinZoom+i] = n
	}
	return out
}
