package cluster

import "math"

// Fixed-point coordinates, as in supercluster 9: Web Mercator x, y in [0, 1]
// are stored as int32 values (c - 0.5) * 2^30, truncated toward zero. Every
// float operation below is written out with explicit float64 conversions so
// the compiler cannot fuse a multiply-add: the results must round exactly as
// JavaScript's do, or a point on a fixed-point boundary would move by one unit.
const (
	scale    = 1 << 30
	invScale = 1.0 / scale
)

// encode converts a Mercator coordinate in [0, 1] to fixed point.
func encode(c float64) int32 { return int32(float64((c - 0.5)) * scale) }

// Query bounds. supercluster compares its int32 coordinates with the
// unrounded bound (c - 0.5) * 2^30, so a box selects the points at or above
// the ceiling of its lower bound and at or below the floor of its upper
// bound; truncating the bound instead would take in one more unit on one
// side. Bounds are kept within ±2^30: a tile's buffer reaches past the
// world's edges, and rangeQuery clamps them to the world.
func queryLo(c float64) int32 { return boundFixed(math.Ceil(float64(c-0.5) * scale)) }

// queryHi is the upper counterpart of queryLo.
func queryHi(c float64) int32 { return boundFixed(math.Floor(float64(c-0.5) * scale)) }

func boundFixed(v float64) int32 {
	switch {
	case v >= scale:
		return scale
	case v > -scale:
		return int32(v)
	}
	return -scale // and NaN
}

// decode converts fixed point back to a Mercator coordinate in [0, 1].
func decode(v int32) float64 { return float64(float64(v)*invScale) + 0.5 }

// lngX projects a longitude to Mercator x in [0, 1].
func lngX(lng float64) float64 { return float64(lng/360) + 0.5 }

// latY projects a latitude to Mercator y in [0, 1], clamped.
func latY(lat float64) float64 {
	s := math.Sin(float64(float64(lat*math.Pi) / 180))
	y := 0.5 - float64(float64(0.25*math.Log(float64((1+s)/(1-s))))/math.Pi)
	if y < 0 {
		return 0
	}
	if y > 1 {
		return 1
	}
	return y
}

// xLng is the inverse of lngX.
func xLng(x float64) float64 { return float64(x-0.5) * 360 }

// yLat is the inverse of latY.
func yLat(y float64) float64 {
	y2 := float64(float64(180-float64(y*360))*math.Pi) / 180
	return float64(360*math.Atan(math.Exp(y2)))/math.Pi - 90
}

// sqDist is supercluster's squared distance between two fixed-point points,
// computed in float64 as JavaScript computes it.
func sqDist(ax, ay, bx, by int32) float64 {
	dx := float64(ax) - float64(bx)
	dy := float64(ay) - float64(by)
	return float64(dx*dx) + float64(dy*dy)
}

// zoomRadius is the clustering radius at zoom z in fixed-point units:
// radius / (extent * 2^z) * 2^30, in supercluster's order of operations.
func zoomRadius(radius, extent float64, z int) float64 {
	return float64(radius/float64(extent*math.Ldexp(1, z))) * scale
}
