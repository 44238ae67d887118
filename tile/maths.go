// Package tile does the tile maths of Web Mercator tiles and encodes
// features into Mapbox Vector Tiles: one tile at a time (EncodeTile, for the
// cluster engine and the server) or a whole tileset into a PMTiles archive
// (BuildTileset, WriteFile). It knows nothing of HTTP.
//
// Coordinates come in as WGS84 longitude/latitude. Internally they are
// projected to "world pixels": Web Mercator scaled so that the world at
// zoom z is extent·2^z pixels wide, with y pointing down, so that tile
// z/x/y spans [x·extent, (x+1)·extent) × [y·extent, (y+1)·extent).
package tile

import (
	"math"

	"github.com/paulmach/orb"
)

// Defaults for Layer and TilesetParams.
const (
	// DefaultExtent is the MVT grid size of a tile.
	DefaultExtent = 4096
	// DefaultBuffer is how far, in pixels of the extent, features reach
	// past the tile edge so that strokes and labels do not break at tile
	// seams.
	DefaultBuffer = 64
)

// MaxLat is the latitude at which Web Mercator tiles end (±85.0511°).
// Latitudes beyond it are clamped.
const MaxLat = 85.05112877980659

// WrapLng returns lng wrapped into [-180, 180).
func WrapLng(lng float64) float64 {
	if lng >= -180 && lng < 180 {
		return lng
	}
	lng = math.Mod(lng+180, 360)
	if lng < 0 {
		lng += 360
	}
	return lng - 180
}

// Project returns the world pixel coordinates of the WGS84 point p at zoom
// z for tiles of the given extent. Latitude is clamped to ±MaxLat;
// longitude is not wrapped, so 180 maps to the east edge of the world.
func Project(p orb.Point, z int, extent uint32) orb.Point {
	return projector{scale: worldSize(z, extent)}.project(p)
}

// Unproject is Project's inverse.
func Unproject(p orb.Point, z int, extent uint32) orb.Point {
	w := worldSize(z, extent)
	lng := p[0]/w*360 - 180
	lat := math.Atan(math.Sinh(math.Pi*(1-2*p[1]/w))) * 180 / math.Pi
	return orb.Point{lng, lat}
}

// Bound returns the WGS84 bound of tile z/x/y.
func Bound(z, x, y int) orb.Bound {
	min := Unproject(orb.Point{float64(x), float64(y + 1)}, z, 1)
	max := Unproject(orb.Point{float64(x + 1), float64(y)}, z, 1)
	return orb.Bound{Min: min, Max: max}
}

// Range is the rectangle of tiles MinX..MaxX × MinY..MaxY (inclusive) at
// zoom Z.
type Range struct {
	Z, MinX, MinY, MaxX, MaxY int
}

// Count returns the number of tiles in r.
func (r Range) Count() int64 {
	return int64(r.MaxX-r.MinX+1) * int64(r.MaxY-r.MinY+1)
}

// Cover returns the tile ranges at zoom z that the WGS84 bound b touches.
// A bound whose Min longitude exceeds its Max longitude crosses the
// antimeridian and yields two ranges, one each side; other longitudes are
// wrapped into [-180, 180] first, and a bound spanning 360° or more covers
// every column. A point on a tile edge belongs to the tile east/south of
// it, except on the east and south edges of the world.
func Cover(b orb.Bound, z int) []Range {
	n := 1 << z
	_, minY := tileXY(orb.Point{0, b.Max.Lat()}, z)
	_, maxY := tileXY(orb.Point{0, b.Min.Lat()}, z)
	if b.Max.Lon()-b.Min.Lon() >= 360 {
		return []Range{{z, 0, minY, n - 1, maxY}}
	}
	west, east := WrapLng(b.Min.Lon()), b.Max.Lon()
	if east != 180 {
		east = WrapLng(east)
	}
	if west == -180 && b.Min.Lon() == 180 { // a bound starting at 180 is at the east edge
		west = 180
	}
	minX, _ := tileXY(orb.Point{west, 0}, z)
	maxX, _ := tileXY(orb.Point{east, 0}, z)
	if west > east {
		return []Range{{z, minX, minY, n - 1, maxY}, {z, 0, minY, maxX, maxY}}
	}
	return []Range{{z, minX, minY, maxX, maxY}}
}

// tileXY returns the tile that holds p at zoom z, clamped to the world.
func tileXY(p orb.Point, z int) (int, int) {
	w := Project(p, z, 1)
	n := 1 << z
	return clampInt(int(math.Floor(w[0])), 0, n-1), clampInt(int(math.Floor(w[1])), 0, n-1)
}

func clampInt(v, lo, hi int) int {
	return max(lo, min(hi, v))
}

// worldSize is the width of the world in pixels at zoom z.
func worldSize(z int, extent uint32) float64 {
	return math.Ldexp(float64(extent), z)
}

// projector projects WGS84 to world pixels at one scale.
type projector struct{ scale float64 }

func (pr projector) project(p orb.Point) orb.Point {
	lat := max(-MaxLat, min(MaxLat, p[1]))
	sin := math.Sin(lat * math.Pi / 180)
	y := 0.5 - math.Log((1+sin)/(1-sin))/(4*math.Pi)
	return orb.Point{(p[0]/360 + 0.5) * pr.scale, y * pr.scale}
}
