// Package pmtiles writes and reads PMTiles v3 archives: a single file holding
// a tileset, addressed by Hilbert tile ids through a root directory and
// optional leaf directories, with identical tiles stored once.
//
// Writer buffers tile data in a temporary file, so tilesets larger than
// memory can be written; only the directory entries (16 bytes per run of
// tiles) stay in memory. Reader opens an archive for tests and for serving.
//
// The format is specified at github.com/protomaps/PMTiles (spec/v3). This is
// an independent implementation.
package pmtiles

import (
	"errors"

	"github.com/mapcluster/mapcluster"
	"github.com/paulmach/orb"
)

// Sentinel errors. ErrTileNotFound and ErrNoTiles are *mapcluster.Error
// values (codes ENotFound and EInvalid), so the CLI and the HTTP layer map
// them without knowing this package.
var (
	ErrTileNotFound  error = &mapcluster.Error{Code: mapcluster.ENotFound, Message: "pmtiles: tile not found"}
	ErrNoTiles       error = &mapcluster.Error{Code: mapcluster.EInvalid, Message: "pmtiles: no tiles to write"}
	ErrInvalidHeader       = errors.New("pmtiles: not a PMTiles v3 archive")
	ErrCorrupt             = errors.New("pmtiles: corrupt archive")
	ErrDuplicateTile       = errors.New("pmtiles: tile added twice")
	ErrClosed              = errors.New("pmtiles: writer closed")
	ErrUnsupported         = errors.New("pmtiles: unsupported compression")

	errZoom    error = &mapcluster.Error{Code: mapcluster.EInvalid, Field: "z", Message: "pmtiles: zoom out of range 0..31"}
	errOutside error = &mapcluster.Error{Code: mapcluster.EInvalid, Message: "pmtiles: x or y outside the zoom level"}
)

// Compression is a compression method as numbered by the spec.
type Compression uint8

// The compression methods. Writer writes directories and metadata with
// Gzip; tiles are stored as they are given, and the header records the
// WriterConfig.TileCompression that describes them.
const (
	CompressionUnknown Compression = 0
	CompressionNone    Compression = 1
	CompressionGzip    Compression = 2
	CompressionBrotli  Compression = 3
	CompressionZstd    Compression = 4
)

// TileType is the format of the tiles as numbered by the spec.
type TileType uint8

// The tile types.
const (
	TileTypeUnknown TileType = 0
	TileTypeMVT     TileType = 1
	TileTypePNG     TileType = 2
	TileTypeJPEG    TileType = 3
	TileTypeWebP    TileType = 4
	TileTypeAVIF    TileType = 5
)

// HeaderLen is the length of the fixed header at the start of an archive.
const HeaderLen = 127

// maxRootLen bounds header plus root directory: the spec requires the root
// directory to lie within the first 16 KiB of the archive.
const maxRootLen = 16384

// Header is the decoded fixed-size header of an archive.
type Header struct {
	RootOffset, RootLength         uint64
	MetadataOffset, MetadataLength uint64
	LeafOffset, LeafLength         uint64
	TileDataOffset, TileDataLength uint64
	// AddressedTiles counts tiles (runs expanded), TileEntries directory
	// entries that point at tiles, TileContents distinct tile contents.
	AddressedTiles, TileEntries, TileContents uint64
	Clustered                                 bool
	InternalCompression, TileCompression      Compression
	TileType                                  TileType
	MinZoom, MaxZoom                          uint8
	// Bounds is in WGS84 degrees, stored with 1e-7 precision.
	Bounds     orb.Bound
	CenterZoom uint8
	Center     orb.Point
}

// Metadata is the JSON metadata of an archive. Bounds, Center and
// CenterZoom are not part of the JSON: they go to the header. A zero Bounds
// means "derive from the tiles"; a zero Center and CenterZoom mean "the
// centre of Bounds at MinZoom".
type Metadata struct {
	Name         string        `json:"name,omitempty"`
	Description  string        `json:"description,omitempty"`
	Attribution  string        `json:"attribution,omitempty"`
	Version      string        `json:"version,omitempty"`
	Type         string        `json:"type,omitempty"` // "overlay" or "baselayer"
	VectorLayers []VectorLayer `json:"vector_layers,omitempty"`

	Bounds     orb.Bound `json:"-"`
	Center     orb.Point `json:"-"`
	CenterZoom int       `json:"-"`
}

// VectorLayer describes one MVT layer, as TileJSON's vector_layers do.
// Fields maps each property name to "String", "Number", "Boolean" or
// "Mixed".
type VectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description,omitempty"`
	Fields      map[string]string `json:"fields"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
}
