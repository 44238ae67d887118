// Package simplify simplifies polygons and lines for every zoom level of a
// web map while keeping their topology.
//
// Build takes features (orb geometries with their ids and properties), finds
// the arcs that neighbouring features share, computes every vertex's
// importance once, and then derives each zoom level as a threshold filter
// over that importance: a vertex is kept at zoom z when its importance is at
// least Tolerance(z). Where a threshold would make a ring self-intersect,
// cross another ring or swallow a vertex of another arc, the most important
// removed vertices are restored until the level is valid again, and every
// ring keeps at least four points. Shared arcs are filtered once, so the two
// sides of a border stay identical and no gaps or overlaps appear.
//
// The engine does no I/O: readers live in package input and writers in the
// command. Work is spread over features, arcs and zoom levels with a bounded
// number of goroutines, and the output does not depend on how many run.
//
// Package validate checks the guarantees: OGC validity of every polygon,
// identical shared borders, no overlaps and no new gaps.
package simplify

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"time"

	"github.com/paulmach/orb/geojson"

	"github.com/mapcluster/mapcluster"
)

// Method selects how vertex importance is computed.
type Method int

// The simplification methods.
const (
	// Weighted is Weighted Visvalingam, mapshaper's default: the effective
	// triangle area is weighted by the vertex angle, so that sharp spikes
	// go first and rounded curves stay smooth.
	Weighted Method = iota
	// Visvalingam is Visvalingam-Whyatt: effective triangle area.
	Visvalingam
	// DouglasPeucker is Douglas-Peucker: distance from the simplified line.
	DouglasPeucker
)

// ParseMethod parses "weighted", "visvalingam" or "dp".
func ParseMethod(s string) (Method, error) {
	switch strings.ToLower(s) {
	case "", "weighted", "weighted-visvalingam", "weighted_visvalingam":
		return Weighted, nil
	case "visvalingam", "vw":
		return Visvalingam, nil
	case "dp", "douglas-peucker":
		return DouglasPeucker, nil
	}
	return 0, mapcluster.InvalidField("method", "%q is not a method: use dp, visvalingam or weighted", s)
}

// String returns the method's name as ParseMethod accepts it.
func (m Method) String() string {
	switch m {
	case Visvalingam:
		return "visvalingam"
	case DouglasPeucker:
		return "dp"
	}
	return "weighted"
}

// Options configures Build. The zero value (plus a zoom range) gives
// Weighted Visvalingam at one tile unit of a 4096 tile per zoom.
type Options struct {
	// MinZoom and MaxZoom bound the zoom levels built, 0 to 24.
	MinZoom, MaxZoom int
	// Method is the importance metric.
	Method Method
	// Weighting is the angle weighting of Weighted Visvalingam; 0 means
	// mapshaper's 0.7.
	Weighting float64
	// Detail is log2 of the tile extent whose unit is the tolerance: 12
	// (4096) when 0. ToleranceScale multiplies the tolerance; 1 when 0.
	Detail         int
	ToleranceScale float64
	// MinArea is the area, in square tile units at each zoom, below which a
	// ring that shares no border (an island, or a lake with its island) is
	// dropped: 16 when 0, never when negative. Holes are always kept.
	MinArea float64
	// KeepShapes keeps at least the largest ring of every feature at every
	// zoom, however small.
	KeepShapes bool
	// Strict rejects invalid input (self-touching or self-crossing rings,
	// rings with too few points, open rings, rings crossing the antimeridian)
	// with an error naming the feature and ring, instead of repairing it.
	Strict bool
	// Workers bounds the goroutines; GOMAXPROCS when 0.
	Workers int
	// Progress, when set, receives the progress of each stage.
	Progress mapcluster.Progress
}

func (o *Options) normalize() error {
	if o.MinZoom < 0 || o.MinZoom > 24 {
		return mapcluster.InvalidField("min-zoom", "must be within 0..24, got %d", o.MinZoom)
	}
	if o.MaxZoom < o.MinZoom || o.MaxZoom > 24 {
		return mapcluster.InvalidField("max-zoom", "must be within min-zoom..24, got %d", o.MaxZoom)
	}
	if o.Weighting == 0 {
		o.Weighting = 0.7
	}
	if o.Weighting < 0 || math.IsNaN(o.Weighting) {
		return mapcluster.InvalidField("weighting", "must be positive, got %v", o.Weighting)
	}
	if o.Detail == 0 {
		o.Detail = 12
	}
	if o.Detail < 1 || o.Detail > 20 {
		return mapcluster.InvalidField("detail", "must be within 1..20, got %d", o.Detail)
	}
	if o.ToleranceScale == 0 {
		o.ToleranceScale = 1
	}
	if !(o.ToleranceScale > 0) || math.IsInf(o.ToleranceScale, 0) {
		return mapcluster.InvalidField("tolerance-scale", "must be positive, got %v", o.ToleranceScale)
	}
	if o.MinArea == 0 {
		o.MinArea = 16
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Method < Weighted || o.Method > DouglasPeucker {
		return mapcluster.InvalidField("method", "unknown method %d", int(o.Method))
	}
	return nil
}

// WorldSize is the circumference of the Web Mercator world in metres.
const WorldSize = 2 * math.Pi * 6378137

// Tolerance returns the tolerance at zoom z in Web Mercator metres: scale
// times the size of one unit of a tile with 2^detail units a side,
//
//	tolerance(z) = scale × WorldSize / (2^detail × 2^z),
//
// about 2.4 m at z12 and 9.8 km at z0 for detail 12 and scale 1. A vertex is
// kept at zoom z when its importance is at least tolerance(z).
func Tolerance(z int, detail int, scale float64) float64 {
	return scale * WorldSize / math.Ldexp(1, detail+z)
}

// Level is the output of one zoom level.
type Level struct {
	Zoom int
	// Tolerance is Tolerance(Zoom) in Web Mercator metres.
	Tolerance float64
	// Index holds the input index of each feature of Features, in input
	// order. Features whose rings were all dropped as too small are left
	// out.
	Index []int
	// Vertices counts the points written, closing points of rings included.
	Vertices int
	// Restored counts the vertices put back to keep the level valid.
	Restored int
	// Dropped counts the rings dropped as smaller than MinArea.
	Dropped int

	out *levelOutput
}

// Features returns the simplified features, in input order, sharing the
// input's ids and properties. They are built from the level's kept
// vertices on the first call (so that Build does not hold every level's
// geometry twice) and cached; Features is safe for concurrent use.
func (l *Level) Features() []*geojson.Feature {
	if l.out == nil {
		return nil
	}
	return l.out.get()
}

// Repair records one repair made to invalid input.
type Repair struct {
	// Feature is the feature's index in the input; ID is its id.
	Feature int `json:"feature"`
	ID      any `json:"id,omitempty"`
	// Polygon and Ring locate the ring: polygon index within a
	// MultiPolygon (0 for a Polygon) and ring index (0 for the shell) in
	// the input. For RepairOverlap and RepairUnrepaired, which are found
	// after the rings are repaired, Polygon indexes the feature's polygons
	// as repaired.
	Polygon int `json:"polygon"`
	Ring    int `json:"ring"`
	// Kind is one of RepairOpen, RepairDegenerate, RepairSelfIntersection,
	// RepairAntimeridian, RepairOverlap.
	Kind string `json:"kind"`
}

// Kinds of repair.
const (
	RepairOpen             = "open-ring"           // the ring did not end on its first point; closed
	RepairDegenerate       = "degenerate-ring"     // fewer than 3 distinct points or no area; dropped
	RepairSelfIntersection = "self-intersection"   // the ring touched or crossed itself; split
	RepairAntimeridian     = "antimeridian"        // an edge spanned more than 180°; cut at ±180
	RepairOverlap          = "overlapping-rings"   // rings of one feature crossed or overlapped; merged
	RepairUnrepaired       = "unrepaired-conflict" // rings of one feature still cross; left as is
)

// Stats reports sizes and timings of a Build.
type Stats struct {
	// VerticesIn counts the input points, closing points included.
	VerticesIn int
	// Arcs counts the distinct arcs; SharedArcs those used by two or more
	// rings.
	Arcs, SharedArcs int
	// PrepareTime covers validation and repair of the input; TopologyTime
	// arc detection and vertex importance; SimplifyTime the per-zoom
	// filtering, topology repair and the building of output geometries.
	PrepareTime, TopologyTime, SimplifyTime time.Duration
}

// Result is the output of Build.
type Result struct {
	// Levels holds one Level per zoom, MinZoom first.
	Levels []Level
	// Repairs lists the repairs made to the input, by feature and ring.
	Repairs []Repair
	// Repaired holds the input after repair, unsimplified, in input order:
	// the reference that validators compare levels with.
	Repaired []*geojson.Feature
	Stats    Stats
}

// Level returns the level for zoom z, or nil.
func (r *Result) Level(z int) *Level {
	for i := range r.Levels {
		if r.Levels[i].Zoom == z {
			return &r.Levels[i]
		}
	}
	return nil
}

func featureField(i int) string { return fmt.Sprintf("features[%d].geometry", i) }
