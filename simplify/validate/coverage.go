package validate

import (
	"math"

	"github.com/paulmach/orb/geojson"

	"github.com/mapcluster/mapcluster/simplify/internal/geom"
)

// Coverage is the result of CheckCoverage.
type Coverage struct {
	// SumArea is the sum of the features' areas; UnionArea the area of
	// their union. Both are planar, in square degrees.
	SumArea, UnionArea float64
	// Problems lists crossing and overlapping features.
	Problems []Problem
}

// RelativeOverlap returns (SumArea − UnionArea) / SumArea.
func (c Coverage) RelativeOverlap() float64 {
	if c.SumArea == 0 {
		return 0
	}
	return (c.SumArea - c.UnionArea) / c.SumArea
}

type edgeKey struct{ a, b geom.Point }

func keyOf(a, b geom.Point) (edgeKey, bool) {
	if geom.Less(b, a) {
		return edgeKey{b, a}, true
	}
	return edgeKey{a, b}, false
}

type use struct {
	feature int
	// left reports that the feature's interior lies left of the edge
	// directed from key.a to key.b.
	left bool
}

// featRings returns a feature's rings, oriented with the interior on the
// left (shells counter-clockwise, holes clockwise), without closing points.
func featRings(f *geojson.Feature) [][]geom.Point {
	mp, ok := polygons(f.Geometry)
	if !ok {
		return nil
	}
	var out [][]geom.Point
	for _, poly := range mp {
		for ri, r := range poly {
			pts := make([]geom.Point, 0, len(r))
			for _, p := range r {
				q := pt(p)
				if len(pts) > 0 && pts[len(pts)-1] == q {
					continue
				}
				pts = append(pts, q)
			}
			for len(pts) > 1 && pts[0] == pts[len(pts)-1] {
				pts = pts[:len(pts)-1]
			}
			if len(pts) < 3 {
				continue
			}
			a := geom.SignedArea(pts)
			if (ri == 0) != (a > 0) {
				for i, j := 0, len(pts)-1; i < j; i, j = i+1, j-1 {
					pts[i], pts[j] = pts[j], pts[i]
				}
			}
			out = append(out, pts)
		}
	}
	return out
}

// pipIndex answers point-in-feature queries with horizontal bands of edges.
type pipIndex struct {
	bb       geom.BBox
	minY, h  float64
	start    []int32
	edges    [][2]geom.Point
	bandEdge []int32
}

func newPIP(rings [][]geom.Point) *pipIndex {
	x := &pipIndex{bb: geom.EmptyBBox()}
	for _, r := range rings {
		n := len(r)
		for k := range n {
			x.edges = append(x.edges, [2]geom.Point{r[k], r[(k+1)%n]})
			x.bb.Extend(r[k])
		}
	}
	nb := max(1, len(x.edges)/4)
	x.minY = x.bb.MinY
	x.h = (x.bb.MaxY - x.bb.MinY) / float64(nb)
	if !(x.h > 0) {
		x.h = 1
	}
	band := func(y float64) int {
		b := int((y - x.minY) / x.h)
		return max(0, min(nb-1, b))
	}
	x.start = make([]int32, nb+1)
	for _, e := range x.edges {
		for b := band(math.Min(e[0].Y, e[1].Y)); b <= band(math.Max(e[0].Y, e[1].Y)); b++ {
			x.start[b+1]++
		}
	}
	for i := 1; i <= nb; i++ {
		x.start[i] += x.start[i-1]
	}
	x.bandEdge = make([]int32, x.start[nb])
	fill := append([]int32(nil), x.start[:nb]...)
	for i, e := range x.edges {
		for b := band(math.Min(e[0].Y, e[1].Y)); b <= band(math.Max(e[0].Y, e[1].Y)); b++ {
			x.bandEdge[fill[b]] = int32(i)
			fill[b]++
		}
	}
	return x
}

// contains returns 1 inside, -1 outside, 0 on the boundary (even-odd over
// all rings, which is the polygon's interior when it is valid).
func (x *pipIndex) contains(p geom.Point) int {
	if !x.bb.Contains(p) {
		return -1
	}
	nb := len(x.start) - 1
	b := max(0, min(nb-1, int((p.Y-x.minY)/x.h)))
	in := false
	for _, ei := range x.bandEdge[x.start[b]:x.start[b+1]] {
		a, c := x.edges[ei][0], x.edges[ei][1]
		if (a.Y > p.Y) != (c.Y > p.Y) {
			o := geom.Orient(a, c, p)
			if o == 0 {
				return 0
			}
			if (o > 0) == (c.Y > a.Y) {
				in = !in
			}
		} else if a.Y == p.Y && c.Y == p.Y && math.Min(a.X, c.X) <= p.X && p.X <= math.Max(a.X, c.X) {
			return 0
		}
	}
	if in {
		return 1
	}
	return -1
}

// CheckCoverage checks that features neither cross nor overlap (edges of
// different features that cross, or run along each other without being the
// same edge; a vertex of one feature on an edge of another is allowed), and
// measures the sum of their areas and the area of their union. The union
// is measured from the boundary edges of the arrangement: once no two
// edges cross, the number of features covering each side of an edge is the
// number of features using the edge on that side plus the number that
// contain the edge's midpoint, and the union's boundary is made of the
// edges with cover on one side only. Non-polygonal features are skipped.
func CheckCoverage(fs []*geojson.Feature) Coverage {
	var cov Coverage
	rings := make([][][]geom.Point, len(fs))
	edges := map[edgeKey][]use{}
	owners := map[geom.Point]int{} // vertex -> feature, or -2 when several
	type seg struct {
		f    int
		a, b geom.Point
	}
	var segs []seg
	var boxes []geom.BBox
	ext := geom.EmptyBBox()
	for fi, f := range fs {
		rings[fi] = featRings(f)
		for _, r := range rings[fi] {
			cov.SumArea += geom.SignedArea(r)
			n := len(r)
			for k := range n {
				a, b := r[k], r[(k+1)%n]
				key, rev := keyOf(a, b)
				edges[key] = append(edges[key], use{fi, !rev})
				if o, ok := owners[a]; !ok {
					owners[a] = fi
				} else if o != fi {
					owners[a] = -2
				}
				segs = append(segs, seg{fi, a, b})
				bb := geom.EmptyBBox()
				bb.Extend(a)
				bb.Extend(b)
				boxes = append(boxes, bb)
				ext.Union(bb)
			}
		}
	}
	add := func(f, other int, kind string, at geom.Point) {
		cov.Problems = append(cov.Problems, Problem{Feature: f, ID: fs[f].ID, Kind: kind, Point: op(at), Other: other})
	}
	// Crossings between features.
	g := geom.NewGrid(boxes, ext, 2)
	seenPair := map[[2]int]bool{}
	g.Pairs(boxes, func(i, j int32) {
		s, t := segs[i], segs[j]
		if s.f == t.f || (s.a == t.a && s.b == t.b) || (s.a == t.b && s.b == t.a) {
			return // one feature, or a shared edge
		}
		if crossOrOverlap(s.a, s.b, t.a, t.b) {
			k := [2]int{min(s.f, t.f), max(s.f, t.f)}
			if !seenPair[k] {
				seenPair[k] = true
				add(k[0], k[1], FeatureCrossing, s.a)
			}
		}
	})
	// Cover of each edge by features that do not use it, one midpoint per
	// chain of edges between vertices that several features share.
	pips := make([]*pipIndex, len(fs))
	fbb := make([]geom.BBox, len(fs))
	for fi := range fs {
		fbb[fi] = geom.EmptyBBox()
		for _, r := range rings[fi] {
			for _, p := range r {
				fbb[fi].Extend(p)
			}
		}
	}
	containing := func(p geom.Point, users []use) []int {
		var out []int
		for fi := range fs {
			if !fbb[fi].Contains(p) {
				continue
			}
			skip := false
			for _, u := range users {
				if u.feature == fi {
					skip = true
				}
			}
			if skip {
				continue
			}
			if pips[fi] == nil {
				pips[fi] = newPIP(rings[fi])
			}
			if pips[fi].contains(p) == 1 {
				out = append(out, fi)
			}
		}
		return out
	}
	done := map[edgeKey]bool{}
	for fi := range fs {
		for _, r := range rings[fi] {
			n := len(r)
			var cover []int
			fresh := true
			for k := range n {
				a, b := r[k], r[(k+1)%n]
				if owners[a] == -2 {
					fresh = true
				}
				key, _ := keyOf(a, b)
				if done[key] {
					fresh = true
					continue
				}
				done[key] = true
				us := edges[key]
				if fresh || len(us) != 1 {
					cover = containing(geom.Point{X: (a.X + b.X) / 2, Y: (a.Y + b.Y) / 2}, us)
					fresh = len(us) != 1
				}
				left, right := len(cover), len(cover)
				for _, u := range us {
					if u.left {
						left++
					} else {
						right++
					}
				}
				if left > 1 || right > 1 {
					other := -1
					if len(cover) > 0 {
						other = cover[0]
					} else {
						for _, u := range us {
							if u.feature != fi {
								other = u.feature
							}
						}
					}
					if other >= 0 {
						pk := [2]int{min(fi, other), max(fi, other)}
						if !seenPair[pk] {
							seenPair[pk] = true
							add(pk[0], pk[1], FeatureOverlap, a)
						}
					}
				}
				cr := (key.a.X*key.b.Y - key.b.X*key.a.Y) / 2
				switch {
				case left > 0 && right == 0:
					cov.UnionArea += cr
				case right > 0 && left == 0:
					cov.UnionArea -= cr
				}
			}
		}
	}
	sortProblems(cov.Problems)
	return cov
}
