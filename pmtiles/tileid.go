package pmtiles

import "fmt"

// MaxZoom is the highest zoom level a PMTiles v3 archive can address here:
// tile ids of zoom 31 still fit in a uint64 and the header stores zooms in
// one byte.
const MaxZoom = 31

// TileID returns the PMTiles tile id of tile z/x/y: the number of tiles of all
// lower zooms plus the position of (x, y) on the Hilbert curve of zoom z.
// It returns an error when z exceeds MaxZoom or x, y fall outside the zoom.
func TileID(z, x, y int) (uint64, error) {
	if z < 0 || z > MaxZoom {
		return 0, fmt.Errorf("tile %d/%d/%d: %w", z, x, y, errZoom)
	}
	n := uint64(1) << uint(z)
	if x < 0 || y < 0 || uint64(x) >= n || uint64(y) >= n {
		return 0, fmt.Errorf("tile %d/%d/%d: %w", z, x, y, errOutside)
	}
	return zoomBase(z) + hilbertIndex(n, uint64(x), uint64(y)), nil
}

// TileZXY returns the tile z/x/y of a PMTiles tile id; it is TileID's inverse.
func TileZXY(id uint64) (z, x, y int) {
	for z = 0; z < MaxZoom; z++ {
		if id < zoomBase(z+1) {
			break
		}
	}
	px, py := hilbertPoint(uint64(1)<<uint(z), id-zoomBase(z))
	return z, int(px), int(py)
}

// zoomBase is the number of tiles at zooms 0..z-1, (4^z - 1) / 3.
func zoomBase(z int) uint64 {
	return ((uint64(1) << (2 * uint(z))) - 1) / 3
}

// hilbertIndex maps (x, y) on an n×n grid (n a power of two) to its distance
// along the Hilbert curve that starts at (0,0) and ends at (n-1,0).
func hilbertIndex(n, x, y uint64) uint64 {
	var d uint64
	for s := n / 2; s > 0; s /= 2 {
		var rx, ry uint64
		if x&s != 0 {
			rx = 1
		}
		if y&s != 0 {
			ry = 1
		}
		d += s * s * ((3 * rx) ^ ry)
		x, y = hilbertRotate(n, x, y, rx, ry)
	}
	return d
}

// hilbertPoint is hilbertIndex's inverse.
func hilbertPoint(n, d uint64) (x, y uint64) {
	for s := uint64(1); s < n; s *= 2 {
		rx := 1 & (d / 2)
		ry := 1 & (d ^ rx)
		x, y = hilbertRotate(s, x, y, rx, ry)
		x += s * rx
		y += s * ry
		d /= 4
	}
	return x, y
}

// hilbertRotate rotates and flips a quadrant as the Hilbert curve requires.
func hilbertRotate(n, x, y, rx, ry uint64) (uint64, uint64) {
	if ry == 0 {
		if rx == 1 {
			x = n - 1 - x
			y = n - 1 - y
		}
		x, y = y, x
	}
	return x, y
}
