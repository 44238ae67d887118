package cluster

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/mapcluster/mapcluster"
)

// MaxZoomLimit is the highest maxZoom Build accepts. Coordinates are 2^30
// fixed point, as in supercluster 9, so above zoom 30 only points at the same
// fixed-point position can merge; ids stay exact up to this zoom.
const MaxZoomLimit = 62

// Options configure Build. The zero value of a field means supercluster's
// default; use DefaultOptions to see them.
type Options struct {
	MinZoom   int     // lowest zoom to cluster on (default 0)
	MaxZoom   int     // highest zoom to cluster on (default 16)
	MinPoints int     // minimum points to form a cluster (default 2)
	Radius    float64 // cluster radius in pixels (default 40)
	Extent    float64 // tile extent the radius is relative to (default 512)
	// Workers bounds the goroutines of the build; 0 means GOMAXPROCS.
	// The result is identical for every value.
	Workers int
	// Aggregates are computed for every cluster (supercluster's map/reduce).
	Aggregates []Aggregate
	// Progress, when set, receives the build's progress.
	Progress mapcluster.Progress

	// noIsolation keeps every point in the grid at every zoom (see
	// isolate.go); tests use it to check that skipping isolated points never
	// changes a result.
	noIsolation bool
	// releaseMin is the level size from which the builder lets go of its
	// per-level tables before coarsening (see releaseScratch); 0 means 1<<20.
	// Tests set it low so that small builds take that path.
	releaseMin int
}

// DefaultOptions returns supercluster's defaults.
func DefaultOptions() Options {
	return Options{MinZoom: 0, MaxZoom: 16, MinPoints: 2, Radius: 40, Extent: 512}
}

// withDefaults fills unset fields. MinZoom and MaxZoom are taken as given.
func (o Options) withDefaults() Options {
	if o.MinPoints == 0 {
		o.MinPoints = 2
	}
	if o.Radius == 0 {
		o.Radius = 40
	}
	if o.Extent == 0 {
		o.Extent = 512
	}
	if o.Workers == 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o
}

// Validate reports the first invalid option as an EInvalid error that names it.
func (o Options) Validate() error {
	switch {
	case o.MinZoom < 0:
		return mapcluster.InvalidField("min-zoom", "must be 0 or more, got %d", o.MinZoom)
	case o.MaxZoom < o.MinZoom:
		return mapcluster.InvalidField("max-zoom", "must be at least min-zoom (%d), got %d", o.MinZoom, o.MaxZoom)
	case o.MaxZoom > MaxZoomLimit:
		return mapcluster.InvalidField("max-zoom", "must be %d or less, got %d", MaxZoomLimit, o.MaxZoom)
	case o.MinPoints < 2:
		return mapcluster.InvalidField("min-points", "must be 2 or more, got %d", o.MinPoints)
	case !(o.Radius > 0) || o.Radius > 1e9:
		return mapcluster.InvalidField("radius", "must be a positive number of pixels, got %v", o.Radius)
	case !(o.Extent > 0) || o.Extent > 1e9:
		return mapcluster.InvalidField("extent", "must be a positive number of pixels, got %v", o.Extent)
	case o.Workers < 0:
		return mapcluster.InvalidField("workers", "must be 0 (all cores) or more, got %d", o.Workers)
	}
	seen := map[string]bool{}
	for _, a := range o.Aggregates {
		if seen[a.Name] {
			return mapcluster.InvalidField("aggregate", "two aggregates are both named %q", a.Name)
		}
		seen[a.Name] = true
	}
	return nil
}

// AggregateOp is an accumulator over the points of a cluster.
type AggregateOp string

// The accumulators. Count needs no field. Sum, Min, Max and Mean read a
// numeric property; points where it is missing are left out. Categories
// counts the values of a string property.
const (
	OpCount      AggregateOp = "count"
	OpSum        AggregateOp = "sum"
	OpMin        AggregateOp = "min"
	OpMax        AggregateOp = "max"
	OpMean       AggregateOp = "mean"
	OpCategories AggregateOp = "categories"
)

// Aggregate is one cluster property computed from its points: Op over Field,
// written to the cluster's properties as Name.
type Aggregate struct {
	Op    AggregateOp
	Field string
	Name  string
}

// ParseAggregate parses "op:field" or "op:field:name" (for example
// "sum:population" or "mean:population:avg_pop"), and "count" or
// "count:name". The default name is "op_field".
func ParseAggregate(spec string) (Aggregate, error) {
	parts := strings.Split(spec, ":")
	op := AggregateOp(strings.ToLower(strings.TrimSpace(parts[0])))
	var a Aggregate
	switch op {
	case OpCount:
		a = Aggregate{Op: op, Name: "count"}
		if len(parts) == 2 {
			a.Name = parts[1]
		} else if len(parts) > 2 {
			return a, mapcluster.InvalidField("aggregate", "%q: count takes at most a name, as count:NAME", spec)
		}
	case OpSum, OpMin, OpMax, OpMean:
		if len(parts) < 2 || len(parts) > 3 || parts[1] == "" {
			return a, mapcluster.InvalidField("aggregate", "%q: want %s:FIELD or %s:FIELD:NAME", spec, op, op)
		}
		a = Aggregate{Op: op, Field: parts[1], Name: string(op) + "_" + parts[1]}
		if len(parts) == 3 {
			a.Name = parts[2]
		}
	default:
		return a, mapcluster.InvalidField("aggregate", "%q: unknown accumulator %q; use count, sum, min, max or mean", spec, parts[0])
	}
	if a.Name == "" {
		return a, mapcluster.InvalidField("aggregate", "%q: empty name", spec)
	}
	return a, nil
}

// CategoryAggregate returns the aggregate that counts the values of the
// string property field, written as "field_counts".
func CategoryAggregate(field string) Aggregate {
	return Aggregate{Op: OpCategories, Field: field, Name: field + "_counts"}
}

// String describes the aggregate, as "sum(population) as sum_population".
func (a Aggregate) String() string {
	if a.Field == "" {
		return fmt.Sprintf("%s as %s", a.Op, a.Name)
	}
	return fmt.Sprintf("%s(%s) as %s", a.Op, a.Field, a.Name)
}
