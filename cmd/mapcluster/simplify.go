package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"golang.org/x/sync/errgroup"

	"github.com/mapcluster/mapcluster"
	"github.com/mapcluster/mapcluster/input"
	"github.com/mapcluster/mapcluster/internal/hugepage"
	"github.com/mapcluster/mapcluster/simplify"
	"github.com/mapcluster/mapcluster/tile"
)

// SimplifyCmd is `mapcluster simplify`.
type SimplifyCmd struct {
	Input          string  `short:"i" required:"" help:"Polygons or lines: a GeoJSON FeatureCollection or newline-delimited Features, optionally .gz." type:"existingfile"`
	MinZoom        int     `default:"0" help:"Lowest zoom to build."`
	MaxZoom        int     `default:"12" help:"Highest zoom to build (up to 24)."`
	Method         string  `default:"weighted" enum:"dp,visvalingam,weighted" help:"Vertex importance: dp (Douglas-Peucker), visvalingam or weighted (Weighted Visvalingam, as mapshaper)."`
	Weighting      float64 `default:"0.7" help:"Angle weighting of the weighted method."`
	Detail         int     `default:"12" help:"log2 of the tile extent whose unit is the tolerance: 12 keeps detail to about one unit of a 4096 tile."`
	ToleranceScale float64 `default:"1" help:"Multiplies the tolerance: 2 simplifies twice as much."`
	MinArea        float64 `default:"16" help:"Islands and other rings that share no border are dropped below this area, in square tile units at each zoom; 0 keeps them all."`
	KeepShapes     bool    `help:"Keep at least the largest ring of every feature at every zoom."`
	Strict         bool    `help:"Reject invalid rings (self-intersecting, too few points, open, crossing the antimeridian) with an error naming the feature and ring, instead of repairing them."`
	Out            string  `short:"o" required:"" help:"Output: a directory for z{zoom}.geojson files, or a FILE.pmtiles archive of MVT tiles." type:"path"`
	Layer          string  `help:"MVT layer name for .pmtiles output; default: the input file's name without extensions."`
	Buffer         int     `default:"64" help:"Tile buffer for .pmtiles output, in units of the 4096 extent."`
	Stats          bool    `help:"Print statistics as JSON on stdout."`
	Workers        int     `default:"0" help:"Goroutines; 0 means every core. The output is the same for any value."`
}

// simplifyStats is what --stats prints.
type simplifyStats struct {
	Features        int            `json:"features"`
	VerticesIn      int            `json:"vertices_in"`
	VerticesPerZoom map[string]int `json:"vertices_per_zoom"`
	FeaturesPerZoom map[string]int `json:"features_per_zoom"`
	RestoredPerZoom map[string]int `json:"restored_per_zoom"`
	Arcs            int            `json:"arcs"`
	SharedArcs      int            `json:"shared_arcs"`
	ReadMS          float64        `json:"read_ms"`
	PrepareMS       float64        `json:"prepare_ms"`
	TopologyMS      float64        `json:"topology_ms"`
	SimplifyMS      float64        `json:"simplify_ms"`
	WriteMS         float64        `json:"write_ms"`
	Workers         int            `json:"workers"`
	PeakRSSMB       float64        `json:"peak_rss_mb"`
	Repairs         repairStats    `json:"repairs"`
	Output          string         `json:"output"`
	Tiles           int64          `json:"tiles,omitempty"`
}

type repairStats struct {
	Count    int               `json:"count"`
	Features int               `json:"features"`
	ByKind   map[string]int    `json:"by_kind"`
	List     []simplify.Repair `json:"list"`
}

// simplifyReserveBytes is the heap the simplify command reserves for huge
// pages: countries-10m (545k vertices) peaks at about 350 MB. Reserving
// touches nothing, so a smaller job costs no memory for it.
const simplifyReserveBytes = 1 << 30

// Run runs the command.
func (c *SimplifyCmd) Run(ctx context.Context) error {
	method, err := simplify.ParseMethod(c.Method)
	if err != nil {
		return err
	}
	pmt := strings.HasSuffix(strings.ToLower(c.Out), ".pmtiles")
	if !pmt {
		if fi, err := os.Stat(c.Out); err == nil && !fi.IsDir() {
			return mapcluster.InvalidField("out", "%s is a file: give a directory for GeoJSON, or a name ending in .pmtiles", c.Out)
		}
	}
	minArea := c.MinArea
	if minArea == 0 {
		minArea = -1
	}
	if os.Getenv("GOGC") == "" {
		// Reading and simplifying grow the heap from nothing: collecting at
		// every doubling costs about a sixth of that time, every fourfold
		// little (about 350 MB for countries-10m). Writing, whose garbage
		// is mostly short-lived tiles, goes back to the default.
		old := debug.SetGCPercent(400)
		defer debug.SetGCPercent(old)
	}
	// Reading and simplifying allocate as they go, many small slices among
	// them; reserving the heap for huge pages first turns their 4 KiB page
	// faults into 2 MiB ones (countries-10m: 60,000 faults, then 3,000).
	hugepage.Reserve(simplifyReserveBytes)
	bars := newProgressBars(os.Stderr)
	opts := simplify.Options{
		MinZoom: c.MinZoom, MaxZoom: c.MaxZoom, Method: method, Weighting: c.Weighting,
		Detail: c.Detail, ToleranceScale: c.ToleranceScale, MinArea: minArea,
		KeepShapes: c.KeepShapes, Strict: c.Strict, Workers: c.Workers, Progress: bars.Progress(),
	}
	t0 := time.Now()
	bars.Progress().Report("read", 0, 1)
	fs, err := input.ReadPolygons(ctx, c.Input)
	if err != nil {
		bars.Wait()
		return err
	}
	bars.Progress().Report("read", 1, 1)
	readTime := time.Since(t0)
	res, err := simplify.Build(ctx, fs, opts)
	if err != nil {
		bars.Wait()
		return err
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(100)
	}
	t1 := time.Now()
	st := simplifyStats{
		Features: len(fs), VerticesIn: res.Stats.VerticesIn,
		VerticesPerZoom: map[string]int{}, FeaturesPerZoom: map[string]int{}, RestoredPerZoom: map[string]int{},
		Arcs: res.Stats.Arcs, SharedArcs: res.Stats.SharedArcs,
		ReadMS: ms(readTime), PrepareMS: ms(res.Stats.PrepareTime),
		TopologyMS: ms(res.Stats.TopologyTime), SimplifyMS: ms(res.Stats.SimplifyTime),
		Workers: c.Workers, Output: c.Out,
		Repairs: repairStats{Count: len(res.Repairs), ByKind: map[string]int{}, List: res.Repairs},
	}
	if st.Repairs.List == nil {
		st.Repairs.List = []simplify.Repair{}
	}
	seen := map[int]bool{}
	for _, r := range res.Repairs {
		st.Repairs.ByKind[r.Kind]++
		seen[r.Feature] = true
	}
	st.Repairs.Features = len(seen)
	for _, lv := range res.Levels {
		z := strconv.Itoa(lv.Zoom)
		st.VerticesPerZoom[z] = lv.Vertices
		st.FeaturesPerZoom[z] = len(lv.Index)
		st.RestoredPerZoom[z] = lv.Restored
	}
	if pmt {
		layer := c.Layer
		if layer == "" {
			layer = baseName(c.Input)
		}
		ts, err := tile.WriteFile(ctx, c.Out, tile.TilesetParams{
			Layer: layer, MinZoom: c.MinZoom, MaxZoom: c.MaxZoom,
			Levels: func(_ context.Context, z int) ([]*geojson.Feature, error) {
				return res.Level(z).Features(), nil
			},
			Buffer: c.Buffer, Workers: c.Workers, Progress: bars.Progress(),
			Description: fmt.Sprintf("%s simplified by mapcluster (%s) for zooms %d-%d", filepath.Base(c.Input), method, c.MinZoom, c.MaxZoom),
		})
		if err != nil {
			bars.Wait()
			return err
		}
		st.Tiles = ts.Tiles
	} else if err := writeLevels(ctx, c.Out, res.Levels, c.Workers, bars.Progress()); err != nil {
		bars.Wait()
		return err
	}
	st.WriteMS = ms(time.Since(t1))
	bars.Wait()
	st.PeakRSSMB = peakRSSMB()
	if c.Stats {
		return json.NewEncoder(os.Stdout).Encode(st)
	}
	if len(res.Repairs) > 0 {
		fmt.Fprintf(os.Stderr, "mapcluster: repaired %d rings in %d features (%s); --stats lists them, --strict rejects such input\n",
			len(res.Repairs), st.Repairs.Features, kindList(st.Repairs.ByKind))
	}
	var parts []string
	for z := c.MinZoom; z <= c.MaxZoom; z++ {
		parts = append(parts, fmt.Sprintf("z%d:%d", z, st.VerticesPerZoom[strconv.Itoa(z)]))
	}
	fmt.Printf("simplified %d features, %d vertices, over zooms %d-%d in %.0f ms (topology %.0f ms, read %.0f ms, write %.0f ms) to %s\nvertices per zoom: %s\n",
		st.Features, st.VerticesIn, c.MinZoom, c.MaxZoom, st.TopologyMS+st.SimplifyMS, st.TopologyMS, st.ReadMS, st.WriteMS, c.Out, strings.Join(parts, " "))
	return nil
}

func kindList(m map[string]int) string {
	var ks []string
	for k, n := range m {
		ks = append(ks, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

// baseName returns the file name without directory and extensions.
func baseName(p string) string {
	b := filepath.Base(p)
	for _, ext := range []string{".gz", ".geojson", ".json", ".ndjson", ".geojsonl"} {
		b = strings.TrimSuffix(b, ext)
	}
	if b == "" {
		return "features"
	}
	return b
}

// writeLevels writes DIR/z{zoom}.geojson for every level, each atomically.
func writeLevels(ctx context.Context, dir string, levels []simplify.Level, workers int, progress mapcluster.Progress) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &mapcluster.Error{Code: mapcluster.EInvalid, Field: "out", Message: "cannot create the output directory", Err: err}
	}
	g, ctx := errgroup.WithContext(ctx)
	if workers <= 0 {
		workers = 2
	}
	g.SetLimit(workers)
	var done atomic.Int64
	for i := range levels {
		lv := &levels[i]
		g.Go(func() error {
			if err := ctx.Err(); err != nil {
				return err
			}
			path := filepath.Join(dir, fmt.Sprintf("z%d.geojson", lv.Zoom))
			if err := writeGeoJSON(path, lv.Features()); err != nil {
				return err
			}
			progress.Report("write", done.Add(1), int64(len(levels)))
			return nil
		})
	}
	return g.Wait()
}

func writeGeoJSON(path string, fs []*geojson.Feature) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".z*.geojson.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := bufio.NewWriterSize(tmp, 1<<20)
	buf := make([]byte, 0, 1<<16)
	buf = append(buf, `{"type":"FeatureCollection","features":[`...)
	for i, f := range fs {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, "\n"+`{"type":"Feature"`...)
		if f.ID != nil {
			id, err := json.Marshal(f.ID)
			if err != nil {
				return fmt.Errorf("write %s: feature %d: id: %w", path, i, err)
			}
			buf = append(append(buf, `,"id":`...), id...)
		}
		props := []byte("{}")
		if len(f.Properties) > 0 {
			if props, err = json.Marshal(f.Properties); err != nil {
				return fmt.Errorf("write %s: feature %d: properties: %w", path, i, err)
			}
		}
		buf = append(append(buf, `,"properties":`...), props...)
		buf = append(buf, `,"geometry":`...)
		buf = appendGeometry(buf, f.Geometry)
		buf = append(buf, '}')
		if len(buf) > 1<<16 {
			if _, err := w.Write(buf); err != nil {
				return fmt.Errorf("write %s: %w", path, err)
			}
			buf = buf[:0]
		}
	}
	buf = append(buf, "\n]}\n"...)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// appendList appends items as a JSON array, each written by fn.
func appendList[T any](b []byte, items []T, fn func([]byte, T) []byte) []byte {
	b = append(b, '[')
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = fn(b, it)
	}
	return append(b, ']')
}

func appendGeometry(b []byte, g orb.Geometry) []byte {
	point := func(b []byte, p orb.Point) []byte {
		b = append(b, '[')
		b = strconv.AppendFloat(b, p[0], 'f', -1, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, p[1], 'f', -1, 64)
		return append(b, ']')
	}
	line := func(b []byte, ps orb.LineString) []byte { return appendList(b, ps, point) }
	ring := func(b []byte, ps orb.Ring) []byte { return appendList(b, ps, point) }
	poly := func(b []byte, p orb.Polygon) []byte { return appendList(b, p, ring) }
	switch g := g.(type) {
	case orb.Polygon:
		b = append(b, `{"type":"Polygon","coordinates":`...)
		b = poly(b, g)
	case orb.MultiPolygon:
		b = append(b, `{"type":"MultiPolygon","coordinates":`...)
		b = appendList(b, g, poly)
	case orb.LineString:
		b = append(b, `{"type":"LineString","coordinates":`...)
		b = line(b, g)
	case orb.MultiLineString:
		b = append(b, `{"type":"MultiLineString","coordinates":`...)
		b = appendList(b, g, line)
	default:
		return append(b, "null"...)
	}
	return append(b, '}')
}
