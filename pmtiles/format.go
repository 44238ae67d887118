package pmtiles

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/paulmach/orb"
)

// magic opens every archive; the byte after it is the spec version.
const magic = "PMTiles"

// encodeHeader serialises h into the 127-byte header.
func encodeHeader(h *Header) []byte {
	b := make([]byte, HeaderLen)
	copy(b, magic)
	b[7] = 3
	le := binary.LittleEndian
	le.PutUint64(b[8:], h.RootOffset)
	le.PutUint64(b[16:], h.RootLength)
	le.PutUint64(b[24:], h.MetadataOffset)
	le.PutUint64(b[32:], h.MetadataLength)
	le.PutUint64(b[40:], h.LeafOffset)
	le.PutUint64(b[48:], h.LeafLength)
	le.PutUint64(b[56:], h.TileDataOffset)
	le.PutUint64(b[64:], h.TileDataLength)
	le.PutUint64(b[72:], h.AddressedTiles)
	le.PutUint64(b[80:], h.TileEntries)
	le.PutUint64(b[88:], h.TileContents)
	if h.Clustered {
		b[96] = 1
	}
	b[97] = byte(h.InternalCompression)
	b[98] = byte(h.TileCompression)
	b[99] = byte(h.TileType)
	b[100] = h.MinZoom
	b[101] = h.MaxZoom
	le.PutUint32(b[102:], uint32(e7(h.Bounds.Min.Lon())))
	le.PutUint32(b[106:], uint32(e7(h.Bounds.Min.Lat())))
	le.PutUint32(b[110:], uint32(e7(h.Bounds.Max.Lon())))
	le.PutUint32(b[114:], uint32(e7(h.Bounds.Max.Lat())))
	b[118] = h.CenterZoom
	le.PutUint32(b[119:], uint32(e7(h.Center.Lon())))
	le.PutUint32(b[123:], uint32(e7(h.Center.Lat())))
	return b
}

// decodeHeader parses the 127-byte header.
func decodeHeader(b []byte) (Header, error) {
	var h Header
	if len(b) < HeaderLen || string(b[:7]) != magic {
		return h, ErrInvalidHeader
	}
	if b[7] != 3 {
		return h, fmt.Errorf("version %d: %w", b[7], ErrInvalidHeader)
	}
	le := binary.LittleEndian
	h.RootOffset = le.Uint64(b[8:])
	h.RootLength = le.Uint64(b[16:])
	h.MetadataOffset = le.Uint64(b[24:])
	h.MetadataLength = le.Uint64(b[32:])
	h.LeafOffset = le.Uint64(b[40:])
	h.LeafLength = le.Uint64(b[48:])
	h.TileDataOffset = le.Uint64(b[56:])
	h.TileDataLength = le.Uint64(b[64:])
	h.AddressedTiles = le.Uint64(b[72:])
	h.TileEntries = le.Uint64(b[80:])
	h.TileContents = le.Uint64(b[88:])
	h.Clustered = b[96] == 1
	h.InternalCompression = Compression(b[97])
	h.TileCompression = Compression(b[98])
	h.TileType = TileType(b[99])
	h.MinZoom = b[100]
	h.MaxZoom = b[101]
	h.Bounds = orb.Bound{
		Min: orb.Point{fromE7(le.Uint32(b[102:])), fromE7(le.Uint32(b[106:]))},
		Max: orb.Point{fromE7(le.Uint32(b[110:])), fromE7(le.Uint32(b[114:]))},
	}
	h.CenterZoom = b[118]
	h.Center = orb.Point{fromE7(le.Uint32(b[119:])), fromE7(le.Uint32(b[123:]))}
	return h, nil
}

func e7(deg float64) int32 { return int32(math.Round(deg * 1e7)) }

func fromE7(v uint32) float64 { return float64(int32(v)) / 1e7 }

// entry is one directory entry. RunLength 0 marks a pointer to a leaf
// directory, whose Offset is relative to the leaf section; otherwise Offset
// is relative to the tile data section and the entry covers RunLength
// consecutive tile ids sharing the same content.
type entry struct {
	TileID    uint64
	Offset    uint64
	Length    uint32
	RunLength uint32
}

// encodeDirectory serialises entries (sorted by TileID) as the spec's
// columnar varint layout, uncompressed.
func encodeDirectory(entries []entry) []byte {
	buf := make([]byte, 0, 1+len(entries)*6)
	buf = binary.AppendUvarint(buf, uint64(len(entries)))
	var last uint64
	for _, e := range entries {
		buf = binary.AppendUvarint(buf, e.TileID-last)
		last = e.TileID
	}
	for _, e := range entries {
		buf = binary.AppendUvarint(buf, uint64(e.RunLength))
	}
	for _, e := range entries {
		buf = binary.AppendUvarint(buf, uint64(e.Length))
	}
	for i, e := range entries {
		if i > 0 && e.Offset == entries[i-1].Offset+uint64(entries[i-1].Length) {
			buf = binary.AppendUvarint(buf, 0)
		} else {
			buf = binary.AppendUvarint(buf, e.Offset+1)
		}
	}
	return buf
}

// decodeDirectory parses an uncompressed directory.
func decodeDirectory(b []byte) ([]entry, error) {
	r := bytes.NewReader(b)
	n, err := binary.ReadUvarint(r)
	if err != nil || n > uint64(len(b)) {
		return nil, fmt.Errorf("directory length: %w", ErrCorrupt)
	}
	entries := make([]entry, n)
	var last uint64
	for i := range entries {
		v, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, fmt.Errorf("directory tile ids: %w", ErrCorrupt)
		}
		last += v
		entries[i].TileID = last
	}
	for i := range entries {
		v, err := binary.ReadUvarint(r)
		if err != nil || v > math.MaxUint32 {
			return nil, fmt.Errorf("directory run lengths: %w", ErrCorrupt)
		}
		entries[i].RunLength = uint32(v)
	}
	for i := range entries {
		v, err := binary.ReadUvarint(r)
		if err != nil || v > math.MaxUint32 {
			return nil, fmt.Errorf("directory lengths: %w", ErrCorrupt)
		}
		entries[i].Length = uint32(v)
	}
	for i := range entries {
		v, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, fmt.Errorf("directory offsets: %w", ErrCorrupt)
		}
		if v == 0 && i > 0 {
			entries[i].Offset = entries[i-1].Offset + uint64(entries[i-1].Length)
		} else if v == 0 {
			return nil, fmt.Errorf("directory first offset: %w", ErrCorrupt)
		} else {
			entries[i].Offset = v - 1
		}
	}
	return entries, nil
}

// findEntry returns the entry with the greatest TileID <= id that covers
// id (a tile run that contains it, or a leaf pointer), or false.
func findEntry(entries []entry, id uint64) (entry, bool) {
	lo, hi := 0, len(entries) // first index with TileID > id
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if entries[m].TileID <= id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return entry{}, false
	}
	e := entries[lo-1]
	if e.RunLength == 0 || id-e.TileID < uint64(e.RunLength) {
		return e, true
	}
	return entry{}, false
}

// buildDirectories encodes entries as a gzipped root directory that fits
// the first 16 KiB with the header, splitting them into leaf directories
// when they do not fit. leaves is the concatenated leaf section.
func buildDirectories(gz *gzipper, entries []entry) (root, leaves []byte, err error) {
	root, err = gz.compress(encodeDirectory(entries))
	if err != nil {
		return nil, nil, err
	}
	if HeaderLen+len(root) <= maxRootLen {
		return root, nil, nil
	}
	// Grow the leaf size until the root, one entry per leaf, fits.
	for leafSize := 4096; ; leafSize += leafSize / 2 {
		var rootEntries []entry
		leaves = leaves[:0]
		for i := 0; i < len(entries); i += leafSize {
			chunk := entries[i:min(i+leafSize, len(entries))]
			leaf, err := gz.compress(encodeDirectory(chunk))
			if err != nil {
				return nil, nil, err
			}
			rootEntries = append(rootEntries, entry{
				TileID: chunk[0].TileID,
				Offset: uint64(len(leaves)),
				Length: uint32(len(leaf)),
			})
			leaves = append(leaves, leaf...)
		}
		root, err = gz.compress(encodeDirectory(rootEntries))
		if err != nil {
			return nil, nil, err
		}
		if HeaderLen+len(root) <= maxRootLen {
			return root, leaves, nil
		}
	}
}

// gzipper compresses with one reusable gzip.Writer: a new one allocates
// about 800 KB.
type gzipper struct {
	buf bytes.Buffer
	w   *gzip.Writer
}

func (g *gzipper) compress(b []byte) ([]byte, error) {
	g.buf.Reset()
	if g.w == nil {
		g.w = gzip.NewWriter(&g.buf)
	} else {
		g.w.Reset(&g.buf)
	}
	if _, err := g.w.Write(b); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if err := g.w.Close(); err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	return bytes.Clone(g.buf.Bytes()), nil
}

// decompress undoes the archive's internal compression.
func decompress(c Compression, b []byte) ([]byte, error) {
	switch c {
	case CompressionNone:
		return b, nil
	case CompressionGzip:
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("gunzip: %w", err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("gunzip: %w", err)
		}
		return out, nil
	}
	return nil, fmt.Errorf("internal compression %d: %w", c, ErrUnsupported)
}
