package pmtiles

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/paulmach/orb"
)

// WriterConfig configures a Writer. The zero value writes gzipped MVT tiles
// with the tile data buffered in os.TempDir().
type WriterConfig struct {
	// TempDir is where tile data is buffered until Finish; "" means
	// os.TempDir(). The file is unlinked at once where the system allows,
	// so a crash leaves nothing behind.
	TempDir string
	// TileType is the format of the tiles; 0 means TileTypeMVT.
	TileType TileType
	// TileCompression is how the tiles given to Add are already
	// compressed; 0 means CompressionGzip. Writer does not compress tiles.
	TileCompression Compression
}

// Writer builds a PMTiles v3 archive. Tiles may be added in any order and
// from several goroutines; identical tiles are stored once and consecutive
// identical tiles share one directory entry. Finish writes the archive in
// clustered order; its bytes depend only on the set of tiles added and the
// metadata, not on the order of Add calls. Close releases the temporary
// file; it is safe to call after Finish.
type Writer struct {
	cfg WriterConfig

	mu       sync.Mutex
	closed   bool
	tmp      *os.File
	tmpName  string // set when the temp file could not be unlinked early
	tmpBuf   *bufio.Writer
	tmpSize  uint64
	contents []content
	byHash   map[[sha256.Size]byte]uint32
	entries  []run
	last     []byte // copy of the data of the last Add, for a fast path
	lastC    uint32
	haveLast bool
}

// content is one distinct tile content in the temp file.
type content struct {
	off    uint64
	length uint32
}

// run is a run of consecutive tile ids that share one content.
type run struct {
	id      uint64
	n       uint32
	content uint32
}

// NewWriter returns a Writer that buffers tile data in a new temporary file.
func NewWriter(cfg WriterConfig) (*Writer, error) {
	if cfg.TileType == TileTypeUnknown {
		cfg.TileType = TileTypeMVT
	}
	if cfg.TileCompression == CompressionUnknown {
		cfg.TileCompression = CompressionGzip
	}
	f, err := os.CreateTemp(cfg.TempDir, "mapcluster-pmtiles-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create temp file: %w", err)
	}
	w := &Writer{
		cfg:    cfg,
		tmp:    f,
		tmpBuf: bufio.NewWriterSize(f, 1<<20),
		byHash: make(map[[sha256.Size]byte]uint32),
	}
	if os.Remove(f.Name()) != nil {
		w.tmpName = f.Name()
	}
	return w, nil
}

// Add adds the tile z/x/y with the given data, which must already be in the
// configured type and compression. data is copied; empty data is ignored.
// Adding the same tile twice makes Finish fail with ErrDuplicateTile.
func (w *Writer) Add(ctx context.Context, z, x, y int, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(data) == 0 {
		return nil
	}
	if len(data) > math.MaxUint32 {
		return fmt.Errorf("add tile %d/%d/%d: tile larger than 4 GiB", z, x, y)
	}
	id, err := TileID(z, x, y)
	if err != nil {
		return fmt.Errorf("add tile: %w", err)
	}
	if err := w.addRun(id, 1, data); err != nil {
		return fmt.Errorf("add tile %d/%d/%d: %w", z, x, y, err)
	}
	return nil
}

// AddSubtree adds data as every tile at zoom leafZoom under tile z/x/y
// (4^(leafZoom-z) tiles; leafZoom >= z). Those tiles are consecutive on the
// Hilbert curve, so this costs one directory run however many tiles it
// covers: it is how a tileset builder stores the interior of a polygon that
// covers a whole quadtree node.
func (w *Writer) AddSubtree(ctx context.Context, z, x, y, leafZoom int, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(data) == 0 {
		return nil
	}
	if leafZoom < z || leafZoom > MaxZoom {
		return fmt.Errorf("add subtree %d/%d/%d to zoom %d: %w", z, x, y, leafZoom, errZoom)
	}
	if len(data) > math.MaxUint32 {
		return fmt.Errorf("add subtree %d/%d/%d: tile larger than 4 GiB", z, x, y)
	}
	id, err := TileID(z, x, y)
	if err != nil {
		return fmt.Errorf("add subtree: %w", err)
	}
	// The Hilbert curve of zoom leafZoom coarsens to the curve of zoom z:
	// the tiles under z/x/y are the 4^d ids whose top bits are its index.
	d := uint(leafZoom - z)
	start := zoomBase(leafZoom) + (id-zoomBase(z))<<(2*d)
	total := uint64(1) << (2 * d)
	if err := w.addRun(start, total, data); err != nil {
		return fmt.Errorf("add subtree %d/%d/%d: %w", z, x, y, err)
	}
	return nil
}

// addRun stores data as the total consecutive tile ids from start, extending
// the previous run when it ends at start with the same content.
func (w *Writer) addRun(start, total uint64, data []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	c, err := w.contentOf(data)
	if err != nil {
		return err
	}
	for total > 0 {
		if n := len(w.entries); n > 0 {
			if l := &w.entries[n-1]; l.content == c && l.id+uint64(l.n) == start && l.n < math.MaxUint32 {
				k := min(total, uint64(math.MaxUint32-l.n))
				l.n += uint32(k)
				start += k
				total -= k
				continue
			}
		}
		k := min(total, math.MaxUint32)
		w.entries = append(w.entries, run{id: start, n: uint32(k), content: c})
		start += k
		total -= k
	}
	return nil
}

// contentOf returns the index of data's content, storing it when new.
func (w *Writer) contentOf(data []byte) (uint32, error) {
	if w.haveLast && bytes.Equal(w.last, data) {
		return w.lastC, nil
	}
	sum := sha256.Sum256(data)
	c, ok := w.byHash[sum]
	if !ok {
		if len(w.contents) == math.MaxUint32 {
			return 0, errors.New("too many distinct tiles")
		}
		if _, err := w.tmpBuf.Write(data); err != nil {
			return 0, fmt.Errorf("write temp file: %w", err)
		}
		c = uint32(len(w.contents))
		w.contents = append(w.contents, content{off: w.tmpSize, length: uint32(len(data))})
		w.tmpSize += uint64(len(data))
		w.byHash[sum] = c
	}
	w.last = append(w.last[:0], data...)
	w.lastC, w.haveLast = c, true
	return c, nil
}

// FinishFile writes the archive to path atomically: it writes a temporary
// file in the same directory and renames it over path only on success, so
// no half-written archive is ever left at path. The Writer is closed
// afterwards.
func (w *Writer) FinishFile(ctx context.Context, path string, meta Metadata) (h Header, err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		w.Close()
		return h, fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if h, err = w.Finish(ctx, f, meta); err != nil {
		return h, fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return h, fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return h, fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return h, fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return h, fmt.Errorf("write %s: %w", path, err)
	}
	return h, nil
}

// Finish writes the archive to dst and closes the Writer. It returns the
// header it wrote. It fails with ErrDuplicateTile when a tile was added
// twice, and with ErrNoTiles when no tile was added.
func (w *Writer) Finish(ctx context.Context, dst io.Writer, meta Metadata) (Header, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return Header{}, ErrClosed
	}
	defer w.closeLocked()
	if len(w.entries) == 0 {
		return Header{}, ErrNoTiles
	}
	if err := w.tmpBuf.Flush(); err != nil {
		return Header{}, fmt.Errorf("write temp file: %w", err)
	}
	runs, err := sortRuns(w.entries)
	if err != nil {
		return Header{}, err
	}
	w.entries = nil

	// Place each content at its first use in tile id order (clustered).
	placed := make([]uint64, len(w.contents))
	for i := range placed {
		placed[i] = math.MaxUint64
	}
	order := make([]uint32, 0, len(w.contents))
	dir := make([]entry, len(runs))
	var dataLen, addressed uint64
	for i, r := range runs {
		if placed[r.content] == math.MaxUint64 {
			placed[r.content] = dataLen
			dataLen += uint64(w.contents[r.content].length)
			order = append(order, r.content)
		}
		dir[i] = entry{TileID: r.id, Offset: placed[r.content], Length: w.contents[r.content].length, RunLength: r.n}
		addressed += uint64(r.n)
	}

	var gz gzipper
	root, leaves, err := buildDirectories(&gz, dir)
	if err != nil {
		return Header{}, fmt.Errorf("directories: %w", err)
	}
	dir = nil
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return Header{}, fmt.Errorf("metadata: %w", err)
	}
	metaGz, err := gz.compress(metaJSON)
	if err != nil {
		return Header{}, fmt.Errorf("metadata: %w", err)
	}

	minZ, _, _ := TileZXY(runs[0].id)
	maxZ, _, _ := TileZXY(runs[len(runs)-1].id + uint64(runs[len(runs)-1].n) - 1)
	h := Header{
		RootOffset:          HeaderLen,
		RootLength:          uint64(len(root)),
		MetadataOffset:      HeaderLen + uint64(len(root)),
		MetadataLength:      uint64(len(metaGz)),
		TileDataLength:      dataLen,
		AddressedTiles:      addressed,
		TileEntries:         uint64(len(runs)),
		TileContents:        uint64(len(order)),
		Clustered:           true,
		InternalCompression: CompressionGzip,
		TileCompression:     w.cfg.TileCompression,
		TileType:            w.cfg.TileType,
		MinZoom:             uint8(minZ),
		MaxZoom:             uint8(maxZ),
		Bounds:              meta.Bounds,
		Center:              meta.Center,
		CenterZoom:          uint8(max(0, min(meta.CenterZoom, MaxZoom))),
	}
	h.LeafOffset = h.MetadataOffset + h.MetadataLength
	h.LeafLength = uint64(len(leaves))
	h.TileDataOffset = h.LeafOffset + h.LeafLength
	if h.Bounds == (orb.Bound{}) {
		h.Bounds = runsBound(runs, maxZ)
	}
	if h.Center == (orb.Point{}) && meta.CenterZoom == 0 {
		h.Center = h.Bounds.Center()
		h.CenterZoom = h.MinZoom
	}

	bw := bufio.NewWriterSize(dst, 1<<20)
	for _, b := range [][]byte{encodeHeader(&h), root, metaGz, leaves} {
		if _, err := bw.Write(b); err != nil {
			return Header{}, fmt.Errorf("write archive: %w", err)
		}
	}
	var buf []byte
	for i, c := range order {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return Header{}, err
			}
		}
		ct := w.contents[c]
		buf = slices.Grow(buf[:0], int(ct.length))[:ct.length]
		if _, err := w.tmp.ReadAt(buf, int64(ct.off)); err != nil {
			return Header{}, fmt.Errorf("read temp file: %w", err)
		}
		if _, err := bw.Write(buf); err != nil {
			return Header{}, fmt.Errorf("write archive: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return Header{}, fmt.Errorf("write archive: %w", err)
	}
	return h, nil
}

// sortRuns sorts runs by tile id, merges adjacent runs of one content and
// reports tiles added twice.
func sortRuns(runs []run) ([]run, error) {
	slices.SortFunc(runs, func(a, b run) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	out := runs[:1]
	for _, r := range runs[1:] {
		l := &out[len(out)-1]
		end := l.id + uint64(l.n)
		if r.id < end {
			z, x, y := TileZXY(r.id)
			return nil, fmt.Errorf("tile %d/%d/%d: %w", z, x, y, ErrDuplicateTile)
		}
		if r.id == end && r.content == l.content && uint64(l.n)+uint64(r.n) <= math.MaxUint32 {
			l.n += r.n
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// runsBound returns the lng/lat bound of the tiles at zoom z.
func runsBound(runs []run, z int) orb.Bound {
	minX, minY, maxX, maxY := math.MaxInt, math.MaxInt, -1, -1
	base := zoomBase(z)
	for _, r := range runs {
		for i := uint64(0); i < uint64(r.n); i++ {
			id := r.id + i
			if id < base || id >= zoomBase(z+1) {
				continue
			}
			x64, y64 := hilbertPoint(uint64(1)<<uint(z), id-base)
			x, y := int(x64), int(y64)
			minX, minY = min(minX, x), min(minY, y)
			maxX, maxY = max(maxX, x), max(maxY, y)
		}
	}
	if maxX < 0 {
		return orb.Bound{Min: orb.Point{-180, -85.0511287798066}, Max: orb.Point{180, 85.0511287798066}}
	}
	n := float64(uint64(1) << uint(z))
	lng := func(x int) float64 { return float64(x)/n*360 - 180 }
	lat := func(y int) float64 { return math.Atan(math.Sinh(math.Pi*(1-2*float64(y)/n))) * 180 / math.Pi }
	return orb.Bound{Min: orb.Point{lng(minX), lat(maxY + 1)}, Max: orb.Point{lng(maxX + 1), lat(minY)}}
}

// Close releases the temporary file. It is safe to call more than once and
// after Finish.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closeLocked()
}

func (w *Writer) closeLocked() error {
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.tmp.Close()
	if w.tmpName != "" {
		if rerr := os.Remove(w.tmpName); err == nil {
			err = rerr
		}
	}
	w.contents, w.byHash, w.entries, w.last = nil, nil, nil, nil
	if err != nil {
		return fmt.Errorf("close temp file: %w", err)
	}
	return nil
}
