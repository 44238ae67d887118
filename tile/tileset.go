package tile

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"golang.org/x/sync/errgroup"

	"github.com/mapcluster/mapcluster"
	"github.com/mapcluster/mapcluster/pmtiles"
)

// MaxTilesetZoom is the highest zoom BuildTileset accepts.
const MaxTilesetZoom = 24

// maxFullCache bounds each worker's cache of encoded fully covered tiles.
const maxFullCache = 4096

// splitLevel is the quadtree level at which a zoom's work is cut into
// parallel subtrees: 4^4 = 256 of them keeps both cores busy when the land
// is unevenly spread.
const splitLevel = 4

// TilesetParams describes a tileset of one MVT layer for BuildTileset and
// WriteFile.
type TilesetParams struct {
	// Layer is the MVT layer name; required.
	Layer string
	// MinZoom and MaxZoom bound the zooms tiled (0 <= MinZoom <= MaxZoom
	// <= MaxTilesetZoom).
	MinZoom, MaxZoom int
	// Levels returns the WGS84 features to tile at zoom z. It is called
	// once per zoom, in order from MinZoom to MaxZoom, never concurrently.
	// The features are only read.
	Levels func(ctx context.Context, z int) ([]*geojson.Feature, error)
	// Extent is the tile grid size; 0 means DefaultExtent.
	Extent uint32
	// Buffer is how far features reach past tile edges, in pixels of
	// Extent; 0 means DefaultBuffer and a negative value means none.
	Buffer int
	// Workers bounds the tiles encoded at once; 0 means GOMAXPROCS. The
	// archive is the same whatever the number.
	Workers int
	// Progress, when set, is called with stage "tile z<N>" and the number
	// of that zoom's subtrees done out of their total.
	Progress mapcluster.Progress

	// Name, Description and Attribution go to the archive's metadata;
	// Name defaults to Layer.
	Name, Description, Attribution string
	// TempDir is where WriteFile buffers tile data; "" means the directory
	// of the output file.
	TempDir string
}

// Stats reports what BuildTileset did.
type Stats struct {
	// Tiles is the number of tiles added, Encoded the number of tiles
	// actually encoded: a quadtree node wholly inside one polygon is
	// encoded once and stored as a run for all the tiles under it, and
	// tiles covered by the same polygons are encoded once per worker.
	Tiles, Encoded int64
	// Metadata is ready for pmtiles.Writer.Finish: name, description and
	// attribution from the params, vector_layers with the property types
	// seen, bounds of the features and a centre.
	Metadata pmtiles.Metadata
	// Header is the header WriteFile wrote; BuildTileset leaves it zero.
	Header pmtiles.Header
}

// WriteFile builds the tileset and writes it atomically to path as a
// PMTiles archive (a temporary file renamed over path on success). A
// tileset with no tile at all fails with an error whose code is EInvalid.
func WriteFile(ctx context.Context, path string, p TilesetParams) (*Stats, error) {
	dir := p.TempDir
	if dir == "" {
		dir = filepath.Dir(path)
	}
	w, err := pmtiles.NewWriter(pmtiles.WriterConfig{TempDir: dir})
	if err != nil {
		return nil, fmt.Errorf("write tileset: %w", err)
	}
	defer w.Close()
	st, err := BuildTileset(ctx, w, p)
	if err != nil {
		return nil, err
	}
	if st.Header, err = w.FinishFile(ctx, path, st.Metadata); err != nil {
		return nil, fmt.Errorf("write tileset: %w", err)
	}
	return st, nil
}

// BuildTileset tiles every zoom of p and adds the non-empty tiles to w. For
// each zoom it walks the quadtree from the root, clipping each node's
// geometry to its four children, so the cost follows the geometry rather
// than the number of tiles its bounds touch; a node wholly inside a polygon
// is encoded once and added with pmtiles.Writer.AddSubtree. The caller
// finishes w, usually with the returned Stats.Metadata.
func BuildTileset(ctx context.Context, w *pmtiles.Writer, p TilesetParams) (*Stats, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	extent, buffer := layerGrid(p.Extent, p.Buffer)
	workers := p.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	b := &builder{
		w: w, p: &p, extent: extent, buffer: buffer,
		encoders: make(chan *Encoder, workers),
	}
	for range workers {
		b.encoders <- NewEncoder()
	}
	fields := make(map[string]string)
	bounds := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	for z := p.MinZoom; z <= p.MaxZoom; z++ {
		in, err := p.Levels(ctx, z)
		if err != nil {
			return nil, fmt.Errorf("tile z%d: levels: %w", z, err)
		}
		for _, f := range in {
			if f == nil || f.Geometry == nil {
				continue
			}
			bounds = bounds.Union(f.Geometry.Bound())
			for k, v := range f.Properties {
				addField(fields, k, v)
			}
		}
		if err := b.zoom(ctx, z, prepare(in, projector{scale: worldSize(z, extent)}), workers); err != nil {
			return nil, fmt.Errorf("tile z%d: %w", z, err)
		}
	}
	st := &Stats{Tiles: b.tiles.Load(), Encoded: b.encoded.Load()}
	name := p.Name
	if name == "" {
		name = p.Layer
	}
	st.Metadata = pmtiles.Metadata{
		Name: name, Description: p.Description, Attribution: p.Attribution, Type: "overlay",
		VectorLayers: []pmtiles.VectorLayer{{ID: p.Layer, Fields: fields, MinZoom: p.MinZoom, MaxZoom: p.MaxZoom}},
	}
	if !math.IsInf(bounds.Min[0], 0) {
		bounds.Min = orb.Point{max(-180, bounds.Min[0]), max(-MaxLat, bounds.Min[1])}
		bounds.Max = orb.Point{min(180, bounds.Max[0]), min(MaxLat, bounds.Max[1])}
		st.Metadata.Bounds = bounds
		st.Metadata.Center = bounds.Center()
		st.Metadata.CenterZoom = p.MinZoom
	}
	return st, nil
}

func (p *TilesetParams) validate() error {
	switch {
	case p.Layer == "":
		return mapcluster.InvalidField("layer", "layer name is empty")
	case p.Levels == nil:
		return mapcluster.InvalidField("levels", "no feature source")
	case p.MinZoom < 0 || p.MinZoom > p.MaxZoom:
		return mapcluster.InvalidField("minzoom", "min zoom %d must be in 0..max zoom %d", p.MinZoom, p.MaxZoom)
	case p.MaxZoom > MaxTilesetZoom:
		return mapcluster.InvalidField("maxzoom", "max zoom %d above %d", p.MaxZoom, MaxTilesetZoom)
	}
	return nil
}

// addField records the vector_layers type of property k.
func addField(fields map[string]string, k string, v any) {
	var t string
	switch v.(type) {
	case nil:
		return
	case bool:
		t = "Boolean"
	case float64, float32, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		t = "Number"
	default:
		t = "String"
	}
	if old, ok := fields[k]; ok && old != t {
		t = "Mixed"
	}
	fields[k] = t
}

// builder tiles one zoom at a time.
type builder struct {
	w        *pmtiles.Writer
	p        *TilesetParams
	extent   uint32
	buffer   float64
	encoders chan *Encoder

	tiles, encoded atomic.Int64

	scratch scratch // the producer's, for the levels above the split

	// Per zoom.
	z     int
	feats []feature
	stage string
	split int

	progressMu sync.Mutex // keeps reports in order
	done       int64
}

// zoom tiles zoom z. The calling goroutine walks the quadtree down to
// splitLevel and hands each subtree to a worker.
func (b *builder) zoom(ctx context.Context, z int, feats []feature, workers int) error {
	b.z, b.feats, b.split = z, feats, min(z, splitLevel)
	b.stage = fmt.Sprintf("tile z%d", z)
	b.done = 0
	b.progress(0)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	var roots []piece
	box := nodeBox(0, 0, 0, z, b.extent, b.buffer)
	for _, pc := range rootPieces(feats, worldSize(z, b.extent), b.buffer) {
		if c, ok := clipPiece(&pc, box, &b.scratch); ok {
			roots = append(roots, c)
		}
	}
	if len(roots) > 0 {
		b.produce(gctx, g, 0, 0, 0, roots)
	} else {
		b.progress(1 << (2 * b.split))
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// produce walks node l/x/y down to the split level and starts a worker per
// non-empty subtree there (or higher up, for a node wholly covered).
func (b *builder) produce(ctx context.Context, g *errgroup.Group, l, x, y int, pieces []piece) {
	if ctx.Err() != nil {
		return
	}
	if l == b.split || allFull(pieces) {
		g.Go(func() error {
			enc := <-b.encoders
			defer func() { b.encoders <- enc }()
			err := b.descend(ctx, enc, l, x, y, pieces)
			b.progress(1 << (2 * (b.split - l)))
			return err
		})
		return
	}
	for _, c := range b.children(l, x, y, pieces, &b.scratch) {
		if c.pieces == nil {
			b.progress(1 << (2 * (b.split - l - 1)))
			continue
		}
		b.produce(ctx, g, l+1, c.x, c.y, c.pieces)
	}
}

// descend encodes every tile of zoom b.z under node l/x/y.
func (b *builder) descend(ctx context.Context, enc *Encoder, l, x, y int, pieces []piece) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if l == b.z || allFull(pieces) {
		// Full pieces encode the same wherever they are, so a covered
		// node's tile is the tile of each of its descendants, and the
		// same as any other tile covered by the same features.
		var key []byte
		data, cached := []byte(nil), false
		if allFull(pieces) {
			key = binary.AppendUvarint(enc.key[:0], uint64(b.z))
			for i := range pieces {
				key = binary.AppendUvarint(key, uint64(pieces[i].f))
			}
			enc.key = key
			data, cached = enc.full[string(key)]
		}
		if !cached {
			ml := tileLayer(b.p.Layer, b.extent, b.buffer, x<<(b.z-l), y<<(b.z-l), b.feats, pieces)
			if ml == nil {
				return nil
			}
			var err error
			if data, err = enc.marshal(mvt.Layers{ml}); err != nil {
				return fmt.Errorf("encode tile %d/%d/%d: %w", l, x, y, err)
			}
			b.encoded.Add(1)
			if key != nil {
				if len(enc.full) >= maxFullCache || enc.full == nil {
					enc.full = make(map[string][]byte)
				}
				enc.full[string(key)] = data
			}
		}
		var err error
		if l == b.z {
			err = b.w.Add(ctx, l, x, y, data)
		} else {
			err = b.w.AddSubtree(ctx, l, x, y, b.z, data)
		}
		if err != nil {
			return err
		}
		b.tiles.Add(1 << (2 * (b.z - l)))
		return nil
	}
	for _, c := range b.children(l, x, y, pieces, &enc.scratch) {
		if c.pieces != nil {
			if err := b.descend(ctx, enc, l+1, c.x, c.y, c.pieces); err != nil {
				return err
			}
		}
	}
	return nil
}

// child is a quadtree child and its pieces (nil when empty).
type child struct {
	x, y   int
	pieces []piece
}

// children clips the pieces of node l/x/y to its four children.
func (b *builder) children(l, x, y int, pieces []piece, sc *scratch) [4]child {
	var out [4]child
	for i := range out {
		cx, cy := 2*x+(i&1), 2*y+(i>>1)
		box := nodeBox(l+1, cx, cy, b.z, b.extent, b.buffer)
		out[i] = child{x: cx, y: cy}
		for j := range pieces {
			if c, ok := clipPiece(&pieces[j], box, sc); ok {
				out[i].pieces = append(out[i].pieces, c)
			}
		}
	}
	return out
}

// allFull reports whether every piece covers its whole node.
func allFull(pieces []piece) bool {
	for i := range pieces {
		if !pieces[i].full {
			return false
		}
	}
	return len(pieces) > 0
}

// progress counts n more subtrees of the zoom done and reports it.
func (b *builder) progress(n int64) {
	if b.p.Progress == nil {
		return
	}
	b.progressMu.Lock()
	defer b.progressMu.Unlock()
	b.done += n
	b.p.Progress.Report(b.stage, b.done, 1<<(2*b.split))
}
