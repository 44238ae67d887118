// Package cluster computes marker clusters for every zoom level of a web map,
// with exactly the results of supercluster 9.1.0, on every core.
//
// # What it computes
//
// Points are projected to Web Mercator in [0,1]² and stored, as supercluster
// 9 stores them, as int32 fixed point (c-0.5)·2^30, truncated. Each zoom z
// from MaxZoom down to MinZoom is built from the zoom above: items are visited
// in order, and each unvisited item takes the unvisited items within
// r = Radius/(Extent·2^z); a cluster forms when the taken items bring the count
// to MinPoints, at the count-weighted centroid (truncated to fixed point);
// otherwise the items stay as they are, the taken ones following their taker
// in the order of supercluster's k-d tree. Cluster ids are supercluster's
// (index<<5 + zoom+1 + n), as int64, with a sixth zoom bit when MaxZoom ≥ 31,
// so they do not overflow where supercluster's 32-bit ids do.
//
// # How (see build.go)
//
// The greedy pass looks sequential, but its result is a fixed function of the
// "within r" graph and the visiting order: the seeds are the greedy maximal
// independent set in that order, and every other item belongs to the seed of
// lowest rank within r of it. Build computes that with a grid whose cells are
// at most r/√2 wide (so a cell holds at most one seed), in parallel over
// chunks of cell rows: each pair of neighbouring cells is tested once, and
// the pairs within r become one short neighbour list per cell. One
// order-dependent step only visits the items near a lower-ranked item (run
// first in parallel parts, each giving up on chains that leave it, then in
// grid order for the rest). The grid of the next zoom is a 2×2 coarsening of
// the current one, made by a linear merge of row pairs, so no zoom sorts its
// items. Results do not depend on the number of workers.
//
// Points that no other point comes near are kept out of the grid while they
// cannot take part (isolate.go): a point with no other input point within
// 3r(z) is untouched at zoom z, whatever clusters form around it, and this
// holds from some zoom up to MaxZoom. One pass over power-of-two cells finds
// that zoom for every point before the build, testing distances to the
// points of neighbouring cells, so the sparse high zooms cost little. The index serves such points from one list per zoom. With
// MinPoints > 2, where leftovers renumber a zoom's items, the points out of
// the grid keep their order keys beside the lists and are renumbered too.
//
// # Memory
//
// On levels of more than 2^20 items, Build lets go of each scratch table as
// soon as its steps are done and runs a garbage collection at three points
// per level (runtime.GC; the heap is a few large pointer-free arrays, so
// each takes well under a millisecond), so that every step reuses the memory
// of the one before. At 10M points the peak is about 115 bytes per point,
// the input's 16 included.
//
// # Queries
//
// Index answers supercluster's queries: Clusters (a bbox at a zoom, across the
// antimeridian too), Tile (getTile, with the radius as buffer), Children,
// Leaves (limit and offset), ExpansionZoom, and Bounds, the bounding box of a
// cluster's points, which supercluster has no query for. Clusters carry
// Aggregates: count, sum, min, max, mean of numeric properties and per-value
// counts of a string property. AppendClusters and AppendTile reuse a buffer.
// A query reads a zoom's level and its lists of isolated points, each sorted
// by grid cell, through a sample of every 32nd item's cell key (index.go);
// Clusters and Tile answer as getClusters and getTile, to the pixel and the id
// (TestQueryConformance), and bench/queries.sh times both.
//
// # Known differences from supercluster
//
//   - Children and Leaves list a cluster's children in a fixed order of
//     ours (the seed first, then its members in grid order), not in k-d tree
//     order, so Leaves with an offset pages through the same points in a
//     different order.
//   - Aggregates are summed in that fixed order: float sums can differ from a
//     supercluster reduce in the last bits.
//   - Projection uses Go's math.Sin/Log/Atan, which can differ from V8's in
//     the last bit; a point exactly on a fixed-point boundary could land one
//     unit (3·10⁻⁷ degrees) away. The conformance tests have not seen it.
//   - Points are returned at their input coordinates; supercluster returns
//     them through a projection round trip (equal within 10⁻¹²; for
//     latitudes beyond ±85.05° supercluster returns the clamped value).
package cluster
