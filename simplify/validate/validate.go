// Package validate checks the guarantees of package simplify on any set of
// polygon features, so that tests, benchmarks and users can verify output:
//
//   - Features: every polygon is valid by the OGC rules that PostGIS
//     ST_IsValid applies (closed rings of at least 4 points with area, no
//     self-intersection or self-touching ring, rings of a feature meeting
//     at points only, holes inside their shell and not nested, polygons of
//     a multipolygon not nested). Whether holes cut the interior in two is
//     not checked.
//   - CheckCoverage: features do not cross or overlap each other, and the
//     sum of their areas equals the area of their union.
//   - SharedBorders: a border that two features share in the input is
//     identical on both sides in the output.
//   - NewGaps: no gap opens between features that were neighbours.
//
// Coordinates are taken as planar (longitude, latitude), like PostGIS
// geometry, and areas are in square degrees.
package validate

import (
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/mapcluster/mapcluster/simplify/internal/geom"
)

// Problem is one violation.
type Problem struct {
	// Feature is the feature's index in the slice checked; ID its id.
	Feature int
	ID      any
	// Polygon and Ring locate the ring within the feature, when known.
	Polygon, Ring int
	// Kind names the rule broken.
	Kind string
	// Point is where, approximately.
	Point orb.Point
	// Other is the index of the other feature involved, or -1.
	Other int
}

// Kinds of problem.
const (
	TooFewPoints     = "too-few-points"
	NotClosed        = "not-closed"
	ZeroArea         = "zero-area"
	SelfIntersection = "self-intersection"
	RingCrossing     = "ring-crossing"
	HoleOutside      = "hole-outside-shell"
	NestedHoles      = "nested-holes"
	NestedPolygons   = "nested-polygons"
	NotPolygonal     = "not-polygonal"
	FeatureCrossing  = "features-cross"
	FeatureOverlap   = "features-overlap"
	BorderMismatch   = "shared-border-differs"
	NewGap           = "new-gap"
)

// String formats the problem for test output.
func (p Problem) String() string {
	s := fmt.Sprintf("feature %d", p.Feature)
	if p.ID != nil {
		s += fmt.Sprintf(" (id %v)", p.ID)
	}
	s += fmt.Sprintf(" polygon %d ring %d: %s at [%v, %v]", p.Polygon, p.Ring, p.Kind, p.Point[0], p.Point[1])
	if p.Other >= 0 {
		s += fmt.Sprintf(" with feature %d", p.Other)
	}
	return s
}

func pt(p orb.Point) geom.Point { return geom.Point{X: p[0], Y: p[1]} }
func op(p geom.Point) orb.Point { return orb.Point{p.X, p.Y} }

// polygons returns the polygons of a polygonal geometry.
func polygons(g orb.Geometry) (orb.MultiPolygon, bool) {
	switch g := g.(type) {
	case orb.Polygon:
		return orb.MultiPolygon{g}, true
	case orb.MultiPolygon:
		return g, true
	}
	return nil, false
}

// Polygonal checks one Polygon or MultiPolygon and returns its problems,
// with Feature set to -1.
func Polygonal(g orb.Geometry) []Problem {
	mp, ok := polygons(g)
	if !ok {
		return []Problem{{Feature: -1, Kind: NotPolygonal, Other: -1}}
	}
	return checkPolygons(mp, -1, nil)
}

// Features checks every feature's geometry with Polygonal.
func Features(fs []*geojson.Feature) []Problem {
	var out []Problem
	for i, f := range fs {
		mp, ok := polygons(f.Geometry)
		if !ok {
			out = append(out, Problem{Feature: i, ID: f.ID, Kind: NotPolygonal, Other: -1})
			continue
		}
		out = append(out, checkPolygons(mp, i, f.ID)...)
	}
	return out
}

type rseg struct {
	poly, ring, k int
	a, b          geom.Point
	n             int // points in ring (without closing point)
}

func checkPolygons(mp orb.MultiPolygon, fi int, id any) []Problem {
	var out []Problem
	add := func(p, r int, kind string, at geom.Point) {
		out = append(out, Problem{Feature: fi, ID: id, Polygon: p, Ring: r, Kind: kind, Point: op(at), Other: -1})
	}
	var segs []rseg
	var boxes []geom.BBox
	ext := geom.EmptyBBox()
	rings := make([][][]geom.Point, len(mp))
	for pi, poly := range mp {
		rings[pi] = make([][]geom.Point, len(poly))
		for ri, r := range poly {
			if len(r) == 0 {
				add(pi, ri, TooFewPoints, geom.Point{})
				continue
			}
			if r[0] != r[len(r)-1] {
				add(pi, ri, NotClosed, pt(r[0]))
				continue
			}
			pts := make([]geom.Point, 0, len(r)-1)
			for _, p := range r[:len(r)-1] {
				q := pt(p)
				if len(pts) > 0 && pts[len(pts)-1] == q {
					continue // repeated points are allowed
				}
				pts = append(pts, q)
			}
			for len(pts) > 1 && pts[0] == pts[len(pts)-1] {
				pts = pts[:len(pts)-1]
			}
			if len(pts) < 3 {
				add(pi, ri, TooFewPoints, pt(r[0]))
				continue
			}
			if geom.SignedArea(pts) == 0 {
				add(pi, ri, ZeroArea, pts[0])
			}
			rings[pi][ri] = pts
			n := len(pts)
			for k := range n {
				a, b := pts[k], pts[(k+1)%n]
				segs = append(segs, rseg{pi, ri, k, a, b, n})
				bb := geom.EmptyBBox()
				bb.Extend(a)
				bb.Extend(b)
				boxes = append(boxes, bb)
				ext.Union(bb)
			}
		}
	}
	for _, p := range out {
		if p.Kind != ZeroArea {
			return out // rings that cannot be checked further
		}
	}
	// Intersections.
	g := geom.NewGrid(boxes, ext, 2)
	seen := map[[2]int]bool{}
	g.Pairs(boxes, func(i, j int32) {
		s, t := segs[i], segs[j]
		if s.poly == t.poly && s.ring == t.ring {
			adj := t.k == (s.k+1)%s.n || s.k == (t.k+1)%s.n
			bad := false
			if adj {
				bad = geom.Conflict(s.a, s.b, t.a, t.b)
			} else {
				bad = geom.Intersects(s.a, s.b, t.a, t.b)
			}
			if bad && !seen[[2]int{s.poly, s.ring}] {
				seen[[2]int{s.poly, s.ring}] = true
				add(s.poly, s.ring, SelfIntersection, s.b)
			}
			return
		}
		if crossOrOverlap(s.a, s.b, t.a, t.b) {
			key := [2]int{-1 - (s.poly<<20 + s.ring), -1 - (t.poly<<20 + t.ring)}
			if !seen[key] {
				seen[key] = true
				add(s.poly, s.ring, RingCrossing, s.a)
			}
		}
	})
	if len(out) > 0 {
		return out
	}
	// Containment.
	bbs := make([]geom.BBox, len(mp))
	for pi := range mp {
		bbs[pi] = geom.RingBBox(rings[pi][0])
		for hi := 1; hi < len(rings[pi]); hi++ {
			h := rings[pi][hi]
			if inside(h, rings[pi][0]) != 1 {
				add(pi, hi, HoleOutside, h[0])
				continue
			}
			for hj := 1; hj < len(rings[pi]); hj++ {
				if hj != hi && insideAny(h, rings[pi][hj]) {
					add(pi, hi, NestedHoles, h[0])
					break
				}
			}
		}
	}
	for pi := range mp {
		for pj := range mp {
			if pi == pj || !bbs[pi].Overlaps(bbs[pj]) {
				continue
			}
			if inPolygon(rings[pi][0], rings[pj]) {
				add(pi, 0, NestedPolygons, rings[pi][0][0])
			}
		}
	}
	return out
}

// crossOrOverlap reports a proper crossing or a collinear overlap of
// positive length: the ways two different rings may not meet.
func crossOrOverlap(a, b, c, d geom.Point) bool {
	o1, o2 := geom.Orient(a, b, c), geom.Orient(a, b, d)
	o3, o4 := geom.Orient(c, d, a), geom.Orient(c, d, b)
	if o1*o2 < 0 && o3*o4 < 0 {
		return true
	}
	if o1 == 0 && o2 == 0 {
		// Collinear: overlap of positive length along the line.
		proj := func(p geom.Point) float64 {
			if math.Abs(b.X-a.X) >= math.Abs(b.Y-a.Y) {
				return p.X
			}
			return p.Y
		}
		lo1, hi1 := math.Min(proj(a), proj(b)), math.Max(proj(a), proj(b))
		lo2, hi2 := math.Min(proj(c), proj(d)), math.Max(proj(c), proj(d))
		return math.Min(hi1, hi2) > math.Max(lo1, lo2)
	}
	return false
}

// inside returns 1 when ring a lies inside ring b, -1 when it lies (partly)
// outside, and 0 when all its vertices are on b. It tests up to 16
// vertices spread along a, so that a ring touching b and leaving it is
// caught.
func inside(a, b []geom.Point) int {
	res := 0
	for _, p := range geom.SampleRing(a) {
		switch geom.PointInRing(p, b) {
		case -1:
			return -1
		case 1:
			res = 1
		}
	}
	if res == 0 {
		for _, p := range a {
			if r := geom.PointInRing(p, b); r != 0 {
				return r
			}
		}
	}
	return res
}

// insideAny reports whether a sampled vertex of a lies strictly inside b.
func insideAny(a, b []geom.Point) bool {
	for _, p := range geom.SampleRing(a) {
		if geom.PointInRing(p, b) == 1 {
			return true
		}
	}
	return false
}

// inPolygon reports whether ring a lies in the interior of the polygon
// (shell and holes), judged by its first vertex not on the polygon's
// boundary.
func inPolygon(a []geom.Point, poly [][]geom.Point) bool {
	for _, p := range geom.SampleRing(a) {
		r := geom.PointInRing(p, poly[0])
		if r == 0 {
			continue
		}
		if r < 0 {
			return false
		}
		onHole := false
		for _, h := range poly[1:] {
			switch geom.PointInRing(p, h) {
			case 1:
				return false
			case 0:
				onHole = true
			}
		}
		if !onHole {
			return true
		}
	}
	return false
}

// sortProblems orders problems by feature, polygon, ring.
func sortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if a.Feature != b.Feature {
			return a.Feature - b.Feature
		}
		if a.Polygon != b.Polygon {
			return a.Polygon - b.Polygon
		}
		return a.Ring - b.Ring
	})
}
