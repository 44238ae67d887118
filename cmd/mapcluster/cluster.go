package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mapcluster/mapcluster"
	"github.com/mapcluster/mapcluster/cluster"
	"github.com/mapcluster/mapcluster/input"
	"github.com/mapcluster/mapcluster/internal/hugepage"
	"github.com/mapcluster/mapcluster/sample"
)

// clusterFlags are the options shared by build and clusters.
type clusterFlags struct {
	Input       string   `short:"i" help:"Markers: CSV, GeoJSON or NDJSON, optionally .gz. Default: the bundled world-cities sample." type:"path"`
	SkipInvalid bool     `help:"Skip invalid rows and features, count them and report the count, instead of stopping at the first."`
	Radius      float64  `default:"40" help:"Cluster radius in pixels."`
	Extent      float64  `default:"512" help:"Tile extent the radius is relative to."`
	MinZoom     int      `default:"0" help:"Lowest zoom to cluster on."`
	MaxZoom     int      `default:"16" help:"Highest zoom to cluster on (up to ${maxzoom})."`
	MinPoints   int      `default:"2" help:"Minimum points to form a cluster."`
	Aggregate   []string `help:"Cluster property computed from its points: count, sum:FIELD, min:FIELD, max:FIELD or mean:FIELD, optionally :NAME. Repeatable." placeholder:"OP:FIELD[:NAME]"`
	Category    []string `help:"String property whose values are counted per cluster, as FIELD_counts. Repeatable." placeholder:"FIELD"`
	Workers     int      `default:"0" help:"Goroutines for the build; 0 means every core. The result is the same for any value."`
	SampleSize  int      `help:"Instead of --input, generate this many points from the bundled cities, jittered by up to ±0.25° (deterministic; the benchmark set)." placeholder:"N"`
}

func (f *clusterFlags) options(progress mapcluster.Progress) (cluster.Options, error) {
	o := cluster.Options{
		MinZoom: f.MinZoom, MaxZoom: f.MaxZoom, MinPoints: f.MinPoints,
		Radius: f.Radius, Extent: f.Extent, Workers: f.Workers, Progress: progress,
	}
	if f.MinPoints == 0 {
		return o, mapcluster.InvalidField("min-points", "must be 2 or more, got 0")
	}
	if f.Radius == 0 {
		return o, mapcluster.InvalidField("radius", "must be a positive number of pixels, got 0")
	}
	if f.Extent == 0 {
		return o, mapcluster.InvalidField("extent", "must be a positive number of pixels, got 0")
	}
	for _, spec := range f.Aggregate {
		a, err := cluster.ParseAggregate(spec)
		if err != nil {
			return o, err
		}
		o.Aggregates = append(o.Aggregates, a)
	}
	for _, c := range f.Category {
		o.Aggregates = append(o.Aggregates, cluster.CategoryAggregate(c))
	}
	return o, o.Validate()
}

// load reads the markers, from --input or the bundled sample.
func (f *clusterFlags) load(ctx context.Context, progress mapcluster.Progress) (*mapcluster.Points, *input.Report, error) {
	opts := input.Options{SkipInvalid: f.SkipInvalid, Progress: progress}
	if f.SampleSize != 0 {
		if f.Input != "" {
			return nil, nil, mapcluster.InvalidField("sample-size", "give either --input or --sample-size, not both")
		}
		// The generator's arrays are the first large allocation of the
		// process: reserved, they get huge pages too (see prepareHeap).
		hugepage.Reserve(16 * f.SampleSize)
		pts, err := sample.Jittered(ctx, f.SampleSize, 1)
		if err != nil {
			return nil, nil, err
		}
		return pts, &input.Report{Read: pts.Len()}, nil
	}
	if f.Input == "" {
		return input.Decode(ctx, bytes.NewReader(sample.WorldCities), input.CSV, sample.WorldCitiesName, opts)
	}
	return input.ReadPoints(ctx, f.Input, opts)
}

// reportSkipped tells the user how many rows were skipped, with examples.
func reportSkipped(w io.Writer, rep *input.Report) {
	if rep == nil || rep.Skipped == 0 {
		return
	}
	fmt.Fprintf(w, "mapcluster: skipped %d invalid rows or features; the first:\n", rep.Skipped)
	for _, err := range rep.FirstSkipped {
		fmt.Fprintf(w, "  %v\n", err)
	}
}

// BuildCmd is `mapcluster build`: cluster every zoom and report.
type BuildCmd struct {
	clusterFlags `embed:""`
	Stats        bool `help:"Print one JSON object with points, features_per_zoom, parse_ms, cluster_ms and peak_rss_mb."`
}

// buildStats is what --stats prints.
type buildStats struct {
	Points          int        `json:"points"`
	Skipped         int        `json:"skipped"`
	Clusters        int        `json:"clusters"`
	FeaturesPerZoom zoomCounts `json:"features_per_zoom"`
	ParseMS         float64    `json:"parse_ms"`
	ClusterMS       float64    `json:"cluster_ms"`
	Workers         int        `json:"workers"`
	PeakRSSMB       float64    `json:"peak_rss_mb"`
}

// prepareHeap readies the heap for a clustering build of points: it
// reserves heap for huge pages (hugepage.Reserve) and sets the collector's
// target (tightGC). It returns the function that restores the target.
func prepareHeap(points int) (restore func()) {
	hugepage.Reserve(buildBytesPerPoint * points)
	return tightGC(points)
}

// tightGC lowers the garbage collector's target for a clustering build,
// unless GOGC is set, and returns the function that restores it. A build's
// heap is a few large pointer-free arrays, which the collector marks at
// almost no cost, while every zoom leaves last zoom's arrays behind: with
// the default target (100%) they pile up to a peak RSS 30% above the live
// heap. Measured on 10M points (bin/mapcluster build --sample-size 10000000
// --stats), GOGC 100 → 25 → 10 gave 2,309 → 1,962 → 1,883 MB peak RSS at the
// same speed (BENCHMARKS.md, clustering, "Summary at session 3").
//
// Small builds are left alone: there a collection every tenth of a small
// heap costs more than it saves. Measured on the jittered sample (cluster_ms,
// GOGC 10 against 100): 135k points 198–241 against 168–189 ms, 500k
// 664–683 against 639–654 ms, 1M 1,096 against 1,258 ms.
func tightGC(points int) (restore func()) {
	if os.Getenv("GOGC") != "" || points < tightGCMinPoints {
		return func() {}
	}
	old := debug.SetGCPercent(buildGCPercent)
	return func() { debug.SetGCPercent(old) }
}

// buildGCPercent is the GC target during a clustering build (see tightGC).
const buildGCPercent = 10

// buildBytesPerPoint is the heap the commands reserve per point for huge
// pages before building (see hugepage.Reserve): above a build's peak, which
// at 10M points is 115 B/point with the defaults and 155 with minPoints 5
// (BENCHMARKS.md, clustering, "Summary at session 5"). The reserve is
// address space only; pages are touched as the build uses them.
const buildBytesPerPoint = 200

// tightGCMinPoints is the smallest build that gets buildGCPercent.
const tightGCMinPoints = 1_000_000

// Run runs the command.
func (c *BuildCmd) Run(ctx context.Context) error {
	bars := newProgressBars(os.Stderr)
	opts, err := c.options(bars.Progress())
	if err != nil {
		bars.Wait()
		return err
	}
	t0 := time.Now()
	pts, rep, err := c.load(ctx, bars.Progress())
	if err != nil {
		bars.Wait()
		return err
	}
	parse := time.Since(t0)
	t1 := time.Now()
	restore := prepareHeap(pts.Len())
	ix, err := cluster.Build(ctx, pts, opts)
	restore()
	bars.Wait()
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	clusterTime := time.Since(t1)
	reportSkipped(os.Stderr, rep)
	st := buildStats{
		Points: pts.Len(), Skipped: rep.Skipped, Clusters: ix.NumClusters(),
		FeaturesPerZoom: zoomCounts{min: opts.MinZoom},
		ParseMS:         ms(parse), ClusterMS: ms(clusterTime),
		Workers: ix.Options().Workers, PeakRSSMB: peakRSSMB(),
	}
	counts := ix.CountsPerZoom()
	for z := opts.MinZoom; z <= opts.MaxZoom+1; z++ {
		st.FeaturesPerZoom.n = append(st.FeaturesPerZoom.n, counts[z])
	}
	if c.Stats {
		return json.NewEncoder(os.Stdout).Encode(st)
	}
	fmt.Printf("clustered %d points in %.0f ms (read in %.0f ms): %d clusters over zooms %d-%d\n",
		st.Points, st.ClusterMS, st.ParseMS, st.Clusters, opts.MinZoom, opts.MaxZoom)
	var parts []string
	for z := opts.MinZoom; z <= opts.MaxZoom+1; z++ {
		parts = append(parts, fmt.Sprintf("z%d:%d", z, counts[z]))
	}
	fmt.Println("features per zoom:", strings.Join(parts, " "))
	return nil
}

// zoomCounts are feature counts for consecutive zooms from min, written as a
// JSON object keyed by zoom in numeric order (a map would sort 10 before 2).
type zoomCounts struct {
	min int
	n   []int
}

// MarshalJSON implements json.Marshaler.
func (zc zoomCounts) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, n := range zc.n {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, strconv.Itoa(zc.min+i))
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return append(b, '}'), nil
}

// ClustersCmd is `mapcluster clusters`: the GeoJSON of one zoom.
type ClustersCmd struct {
	clusterFlags `embed:""`
	Zoom         int    `required:"" short:"z" help:"Zoom to print."`
	Bbox         string `default:"-180,-90,180,90" help:"Bounding box west,south,east,north in degrees; west > east crosses the antimeridian."`
}

// Run runs the command.
func (c *ClustersCmd) Run(ctx context.Context) error {
	bbox, err := parseBBox(c.Bbox)
	if err != nil {
		return err
	}
	if c.Zoom < 0 {
		return mapcluster.InvalidField("zoom", "must be 0 or more, got %d", c.Zoom)
	}
	opts, err := c.options(nil)
	if err != nil {
		return err
	}
	pts, rep, err := c.load(ctx, nil)
	if err != nil {
		return err
	}
	reportSkipped(os.Stderr, rep)
	restore := prepareHeap(pts.Len())
	ix, err := cluster.Build(ctx, pts, opts)
	restore()
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	fc := ix.GeoJSON(ix.Clusters(bbox, c.Zoom))
	out, err := fc.MarshalJSON()
	if err != nil {
		return fmt.Errorf("encode geojson: %w", err)
	}
	_, err = os.Stdout.Write(append(out, '\n'))
	return err
}

// parseBBox parses "west,south,east,north".
func parseBBox(s string) ([4]float64, error) {
	var b [4]float64
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return b, mapcluster.InvalidField("bbox", "want west,south,east,north, got %q", s)
	}
	names := [4]string{"west", "south", "east", "north"}
	for i, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || v != v {
			return b, mapcluster.InvalidField("bbox", "%s %q is not a number", names[i], p)
		}
		b[i] = v
	}
	if b[1] > b[3] {
		return b, mapcluster.InvalidField("bbox", "south (%v) is north of north (%v)", b[1], b[3])
	}
	if b[1] < -90 || b[3] > 90 {
		return b, mapcluster.InvalidField("bbox", "latitudes must lie within -90..90, got %v..%v", b[1], b[3])
	}
	return b, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// peakRSSMB is the process's peak resident set size in MiB.
func peakRSSMB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024 // kilobytes on Linux
}
