package pmtiles

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// maxLeafCache bounds the number of decoded leaf directories a Reader keeps.
const maxLeafCache = 256

// maxSection bounds the size of a directory or the metadata read into
// memory, so a corrupt header cannot ask for an absurd allocation.
const maxSection = 1 << 30

// Reader reads tiles from a PMTiles v3 archive. It is safe for concurrent
// use. Tile returns tiles as stored, compressed as Header().TileCompression
// says.
type Reader struct {
	r        io.ReaderAt
	size     int64
	closer   io.Closer
	header   Header
	root     []entry
	meta     Metadata
	metaJSON []byte

	mu     sync.Mutex
	leaves map[uint64][]entry // by offset in the leaf section
}

// Open opens the archive at path.
func Open(ctx context.Context, path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open archive: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open archive: %w", err)
	}
	r, err := NewReader(ctx, f, fi.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r.closer = f
	return r, nil
}

// NewReader reads the header, root directory and metadata of the archive
// of the given size held by ra.
func NewReader(ctx context.Context, ra io.ReaderAt, size int64) (*Reader, error) {
	r := &Reader{r: ra, size: size, leaves: make(map[uint64][]entry)}
	b, err := r.read(ctx, 0, HeaderLen)
	if err != nil {
		if errors.Is(err, ErrCorrupt) {
			return nil, ErrInvalidHeader
		}
		return nil, fmt.Errorf("read header: %w", err)
	}
	if r.header, err = decodeHeader(b); err != nil {
		return nil, err
	}
	h := &r.header
	for _, sec := range [][2]uint64{{h.RootOffset, h.RootLength}, {h.MetadataOffset, h.MetadataLength}, {h.LeafOffset, h.LeafLength}, {h.TileDataOffset, h.TileDataLength}} {
		if sec[0] > uint64(size) || sec[1] > uint64(size)-sec[0] {
			return nil, fmt.Errorf("section %d+%d beyond the archive's %d bytes: %w", sec[0], sec[1], size, ErrCorrupt)
		}
	}
	if r.root, err = r.directory(ctx, r.header.RootOffset, r.header.RootLength); err != nil {
		return nil, fmt.Errorf("read root directory: %w", err)
	}
	if r.header.MetadataLength > 0 {
		raw, err := r.read(ctx, r.header.MetadataOffset, r.header.MetadataLength)
		if err != nil {
			return nil, fmt.Errorf("read metadata: %w", err)
		}
		if r.metaJSON, err = decompress(r.header.InternalCompression, raw); err != nil {
			return nil, fmt.Errorf("read metadata: %w", err)
		}
		if err := json.Unmarshal(r.metaJSON, &r.meta); err != nil {
			return nil, fmt.Errorf("read metadata: %w: %w", ErrCorrupt, err)
		}
	}
	r.meta.Bounds = r.header.Bounds
	r.meta.Center = r.header.Center
	r.meta.CenterZoom = int(r.header.CenterZoom)
	return r, nil
}

// Header returns the archive's header.
func (r *Reader) Header() Header { return r.header }

// Metadata returns the archive's metadata, with Bounds, Center and
// CenterZoom taken from the header.
func (r *Reader) Metadata() Metadata { return r.meta }

// MetadataJSON returns the archive's metadata as the JSON it holds; the
// caller must not modify it.
func (r *Reader) MetadataJSON() []byte { return r.metaJSON }

// Tile returns the stored bytes of tile z/x/y. A tile the archive does not
// hold gives an error wrapping ErrTileNotFound; coordinates outside the
// zoom give a mapcluster EInvalid error.
func (r *Reader) Tile(ctx context.Context, z, x, y int) ([]byte, error) {
	id, err := TileID(z, x, y)
	if err != nil {
		return nil, err
	}
	dir := r.root
	for depth := 0; depth < 4; depth++ {
		e, ok := findEntry(dir, id)
		if !ok {
			return nil, fmt.Errorf("tile %d/%d/%d: %w", z, x, y, ErrTileNotFound)
		}
		if e.RunLength > 0 {
			data, err := r.read(ctx, r.header.TileDataOffset+e.Offset, uint64(e.Length))
			if err != nil {
				return nil, fmt.Errorf("read tile %d/%d/%d: %w", z, x, y, err)
			}
			return data, nil
		}
		if dir, err = r.leaf(ctx, e); err != nil {
			return nil, fmt.Errorf("read tile %d/%d/%d: %w", z, x, y, err)
		}
	}
	return nil, fmt.Errorf("read tile %d/%d/%d: directories nested too deep: %w", z, x, y, ErrCorrupt)
}

// leaf returns the decoded leaf directory that e points to.
func (r *Reader) leaf(ctx context.Context, e entry) ([]entry, error) {
	r.mu.Lock()
	dir, ok := r.leaves[e.Offset]
	r.mu.Unlock()
	if ok {
		return dir, nil
	}
	if e.Offset+uint64(e.Length) > r.header.LeafLength {
		return nil, fmt.Errorf("leaf directory outside its section: %w", ErrCorrupt)
	}
	dir, err := r.directory(ctx, r.header.LeafOffset+e.Offset, uint64(e.Length))
	if err != nil {
		return nil, fmt.Errorf("leaf directory: %w", err)
	}
	r.mu.Lock()
	if len(r.leaves) >= maxLeafCache {
		clear(r.leaves)
	}
	r.leaves[e.Offset] = dir
	r.mu.Unlock()
	return dir, nil
}

// directory reads and decodes the directory at off.
func (r *Reader) directory(ctx context.Context, off, n uint64) ([]entry, error) {
	raw, err := r.read(ctx, off, n)
	if err != nil {
		return nil, err
	}
	b, err := decompress(r.header.InternalCompression, raw)
	if err != nil {
		return nil, err
	}
	return decodeDirectory(b)
}

// read reads n bytes at off.
func (r *Reader) read(ctx context.Context, off, n uint64) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if n > maxSection || off > uint64(r.size) || n > uint64(r.size)-off {
		return nil, fmt.Errorf("range %d+%d beyond the archive's %d bytes: %w", off, n, r.size, ErrCorrupt)
	}
	b := make([]byte, n)
	got, err := r.r.ReadAt(b, int64(off))
	if err != nil && !(errors.Is(err, io.EOF) && uint64(got) == n) {
		return nil, err
	}
	return b, nil
}

// Close closes the file that Open opened; it does nothing for a Reader
// made by NewReader.
func (r *Reader) Close() error {
	if r.closer == nil {
		return nil
	}
	return r.closer.Close()
}
