package simplify

import (
	"context"
	"math"
	"slices"
	"sync/atomic"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"golang.org/x/sync/errgroup"

	"github.com/mapcluster/mapcluster"
	"github.com/mapcluster/mapcluster/simplify/internal/geom"
)

// pathKind tells a ring from a line.
type pathKind uint8

const (
	kindShell pathKind = iota
	kindHole
	kindLine
)

// ring is one repaired ring or line in lon/lat. Rings do not repeat their
// first point; shells run counter-clockwise and holes clockwise.
type ring struct {
	pts  []geom.Point
	kind pathKind
	area float64 // absolute area in square Web Mercator metres, for rings
	// merc is pts in Web Mercator metres, for rings: made for the area and
	// kept for the importance of the arcs cut from the ring.
	merc []geom.Point
}

// part is a polygon (shell then holes) or a single line.
type part struct {
	rings []ring
}

// feat is one prepared feature.
type feat struct {
	lineal bool
	parts  []part
	repair []Repair
	inPts  int
}

// prepare checks and repairs every feature, in parallel, and returns them in
// input order.
func prepare(ctx context.Context, features []*geojson.Feature, opts *Options) ([]feat, error) {
	out := make([]feat, len(features))
	polygonal := -1 // unknown
	for i, f := range features {
		if f == nil || f.Geometry == nil {
			return nil, mapcluster.InvalidField(featureField(i), "feature %s has no geometry", featureName(i, f))
		}
		p := 0
		switch f.Geometry.(type) {
		case orb.Polygon, orb.MultiPolygon:
			p = 1
		case orb.LineString, orb.MultiLineString:
			p = 0
		default:
			return nil, mapcluster.InvalidField(featureField(i), "feature %s is a %s: only Polygon, MultiPolygon, LineString and MultiLineString can be simplified", featureName(i, f), f.Geometry.GeoJSONType())
		}
		if polygonal < 0 {
			polygonal = p
		} else if p != polygonal {
			want := "polygons"
			if polygonal == 0 {
				want = "lines"
			}
			return nil, mapcluster.InvalidField(featureField(i), "feature %s is a %s in a job of %s: polygons and lines cannot be mixed", featureName(i, f), f.Geometry.GeoJSONType(), want)
		}
	}
	// The largest features first, one a task, so that the workers finish
	// together: on countries-10m one feature takes a quarter of the work,
	// and chunks of 8 in input order put it with the third largest, which
	// left one worker idle for a fifth of the step.
	order := make([]int, len(features))
	size := make([]int, len(features))
	for i, f := range features {
		order[i], size[i] = i, vertexCount(f.Geometry)
	}
	slices.SortStableFunc(order, func(a, b int) int { return size[b] - size[a] })
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(opts.Workers)
	var doneF atomic.Int64
	for _, i := range order {
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			f, err := prepareFeature(i, features[i], opts.Strict)
			if err != nil {
				return err
			}
			out[i] = f
			opts.Progress.Report("repair", doneF.Add(1), int64(len(features)))
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// vertexCount is the number of points of a polygonal or lineal geometry,
// the measure of its cost in prepare.
func vertexCount(g orb.Geometry) int {
	n := 0
	switch g := g.(type) {
	case orb.Polygon:
		for _, r := range g {
			n += len(r)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				n += len(r)
			}
		}
	case orb.LineString:
		n = len(g)
	case orb.MultiLineString:
		for _, l := range g {
			n += len(l)
		}
	}
	return n
}

func featureName(i int, f *geojson.Feature) string {
	if f != nil && f.ID != nil {
		return mapclusterID(f.ID) + " (#" + itoa(i) + ")"
	}
	return "#" + itoa(i)
}

func mapclusterID(id any) string {
	switch v := id.(type) {
	case string:
		return `"` + v + `"`
	case float64:
		return formatFloat(v)
	}
	return "?"
}

func itoa(i int) string { return formatFloat(float64(i)) }

func prepareFeature(i int, f *geojson.Feature, strict bool) (feat, error) {
	var out feat
	rep := func(poly, ring int, kind string) error {
		if strict {
			return mapcluster.InvalidField(featureField(i), "feature %s, polygon %d, ring %d: %s (repair it or drop --strict)", featureName(i, f), poly, ring, strictText[kind])
		}
		out.repair = append(out.repair, Repair{Feature: i, ID: f.ID, Polygon: poly, Ring: ring, Kind: kind})
		return nil
	}
	switch g := f.Geometry.(type) {
	case orb.LineString:
		out.lineal = true
		if err := prepareLine(i, f, 0, g, &out); err != nil {
			return out, err
		}
	case orb.MultiLineString:
		out.lineal = true
		for k, l := range g {
			if err := prepareLine(i, f, k, l, &out); err != nil {
				return out, err
			}
		}
	case orb.Polygon:
		if err := preparePolygon(i, f, 0, g, &out, rep); err != nil {
			return out, err
		}
	case orb.MultiPolygon:
		for k, p := range g {
			if err := preparePolygon(i, f, k, p, &out, rep); err != nil {
				return out, err
			}
		}
	}
	if !out.lineal && len(out.parts) > 1 {
		if err := dropNested(&out, rep); err != nil {
			return out, err
		}
		changed, err := checkPartConflicts(&out, rep)
		if err != nil {
			return out, err
		}
		if changed {
			// Dissolving can leave a polygon inside another.
			if err := dropNested(&out, rep); err != nil {
				return out, err
			}
		}
	}
	for pi := range out.parts {
		for ri := range out.parts[pi].rings {
			r := &out.parts[pi].rings[ri]
			if r.kind != kindLine {
				r.merc = project(r.pts)
				r.area = mercatorArea(r.merc)
			}
		}
	}
	return out, nil
}

var strictText = map[string]string{
	RepairOpen:             "the ring is not closed",
	RepairDegenerate:       "the ring has fewer than 3 distinct points or no area",
	RepairSelfIntersection: "the ring touches or crosses itself",
	RepairAntimeridian:     "an edge spans more than 180° of longitude",
	RepairOverlap:          "rings of the feature cross or overlap",
	RepairUnrepaired:       "rings of the feature cross or overlap",
}

func checkCoord(i int, f *geojson.Feature, p orb.Point) error {
	if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) ||
		p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
		return mapcluster.InvalidField(featureField(i), "feature %s: coordinate [%v, %v] is out of range (longitude -180..180, latitude -90..90)", featureName(i, f), p[0], p[1])
	}
	return nil
}

func prepareLine(i int, f *geojson.Feature, k int, l orb.LineString, out *feat) error {
	pts := make([]geom.Point, 0, len(l))
	for _, p := range l {
		if err := checkCoord(i, f, p); err != nil {
			return err
		}
		q := geom.Point{X: p[0] + 0, Y: p[1] + 0}
		if len(pts) > 0 && pts[len(pts)-1] == q {
			continue
		}
		pts = append(pts, q)
	}
	out.inPts += len(l)
	if len(pts) < 2 {
		return mapcluster.InvalidField(featureField(i), "feature %s, line %d has fewer than 2 distinct points", featureName(i, f), k)
	}
	out.parts = append(out.parts, part{rings: []ring{{pts: pts, kind: kindLine}}})
	return nil
}

// preparePolygon repairs one polygon into one or more valid polygons.
func preparePolygon(i int, f *geojson.Feature, k int, p orb.Polygon, out *feat, rep func(int, int, string) error) error {
	var shells, holes [][]geom.Point
	for r, rg := range p {
		for _, q := range rg {
			if err := checkCoord(i, f, q); err != nil {
				return err
			}
		}
		out.inPts += len(rg)
		pts := make([]geom.Point, 0, len(rg))
		for _, q := range rg {
			pts = append(pts, geom.Point{X: q[0] + 0, Y: q[1] + 0})
		}
		if len(pts) > 1 && pts[0] != pts[len(pts)-1] {
			if err := rep(k, r, RepairOpen); err != nil {
				return err
			}
		} else if len(pts) > 1 {
			pts = pts[:len(pts)-1]
		}
		pts = dedupe(pts)
		pieces := [][]geom.Point{pts}
		if crossesAntimeridian(pts) {
			if err := rep(k, r, RepairAntimeridian); err != nil {
				return err
			}
			pieces = cutAntimeridian(pts)
		}
		hole := r > 0
		var same, flipped [][]geom.Point
		anyFix, anyDrop := false, false
		for _, pc := range pieces {
			s, fl, fixed, dropped := splitRing(pc)
			same = append(same, s...)
			flipped = append(flipped, fl...)
			anyFix = anyFix || fixed
			anyDrop = anyDrop || dropped
		}
		if anyFix {
			if err := rep(k, r, RepairSelfIntersection); err != nil {
				return err
			}
		} else if anyDrop || len(same)+len(flipped) == 0 {
			if err := rep(k, r, RepairDegenerate); err != nil {
				return err
			}
		}
		if hole {
			holes = append(holes, same...)
			shells = append(shells, flipped...)
		} else {
			shells = append(shells, same...)
			holes = append(holes, flipped...)
		}
	}
	return assemble(shells, holes, out)
}

// assemble orients rings (shells counter-clockwise, holes clockwise) and
// gives each hole to the smallest shell that contains it. A hole that no
// shell contains becomes a shell.
func assemble(shells, holes [][]geom.Point, out *feat) error {
	type sh struct {
		pts   []geom.Point
		area  float64
		holes [][]geom.Point
	}
	ss := make([]sh, 0, len(shells))
	for _, s := range shells {
		a := geom.SignedArea(s)
		if a < 0 {
			slices.Reverse(s)
			a = -a
		}
		ss = append(ss, sh{pts: s, area: a})
	}
	for _, h := range holes {
		best := -1
		for j := range ss {
			if ringInside(h, ss[j].pts) && (best < 0 || ss[j].area < ss[best].area) {
				best = j
			}
		}
		a := geom.SignedArea(h)
		if best < 0 {
			if a < 0 {
				slices.Reverse(h)
			}
			ss = append(ss, sh{pts: h, area: math.Abs(a)})
			continue
		}
		if a > 0 {
			slices.Reverse(h)
		}
		ss[best].holes = append(ss[best].holes, h)
	}
	for _, s := range ss {
		pt := part{rings: []ring{{pts: s.pts, kind: kindShell}}}
		for _, h := range s.holes {
			pt.rings = append(pt.rings, ring{pts: h, kind: kindHole})
		}
		out.parts = append(out.parts, pt)
	}
	return nil
}

// ringInside reports whether ring a lies inside ring b, judged by the first
// vertex of a that is not on b.
func ringInside(a, b []geom.Point) bool {
	for _, p := range a {
		switch geom.PointInRing(p, b) {
		case 1:
			return true
		case -1:
			return false
		}
	}
	return false
}

// dedupe drops consecutive repeated points, cyclically.
func dedupe(pts []geom.Point) []geom.Point {
	out := pts[:0]
	for _, p := range pts {
		if len(out) > 0 && out[len(out)-1] == p {
			continue
		}
		out = append(out, p)
	}
	for len(out) > 1 && out[0] == out[len(out)-1] {
		out = out[:len(out)-1]
	}
	return out
}

// removeSpikes drops vertices whose neighbours coincide (a→b→a), cyclically,
// and repeated points.
func removeSpikes(pts []geom.Point) []geom.Point {
	st := make([]geom.Point, 0, len(pts))
	push := func(p geom.Point) {
		if len(st) > 0 && st[len(st)-1] == p {
			return
		}
		if len(st) >= 2 && st[len(st)-2] == p {
			st = st[:len(st)-1]
			return
		}
		st = append(st, p)
	}
	for _, p := range pts {
		push(p)
	}
	// Wrap around: fold the seam until stable.
	for changed := true; changed && len(st) >= 3; {
		changed = false
		n := len(st)
		switch {
		case st[0] == st[n-1]:
			st = st[:n-1]
			changed = true
		case st[n-2] == st[0]:
			st = st[:n-1]
			changed = true
		case st[n-1] == st[1]:
			st = st[1:]
			changed = true
		}
	}
	return st
}
