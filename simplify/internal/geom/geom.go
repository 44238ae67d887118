// Package geom holds the planar primitives that the simplifier and its
// validators share: a robust orientation test, segment intersection, ring
// area and point-in-ring.
package geom

import (
	"math"
	"math/big"
)

// Point is a planar point.
type Point struct{ X, Y float64 }

// Orient returns +1 when c lies left of the directed line a→b, -1 when it
// lies right and 0 when the three points are collinear. It is exact: a fast
// float64 test with Shewchuk's error bound falls back to rational arithmetic
// when the sign is uncertain.
func Orient(a, b, c Point) int {
	l := (b.X - a.X) * (c.Y - a.Y)
	r := (b.Y - a.Y) * (c.X - a.X)
	det := l - r
	bound := 3.3306690738754716e-16 * (math.Abs(l) + math.Abs(r))
	if det > bound {
		return 1
	}
	if det < -bound {
		return -1
	}
	if l == 0 && r == 0 {
		return 0
	}
	return orientExact(a, b, c)
}

func orientExact(a, b, c Point) int {
	rat := func(f float64) *big.Rat { return new(big.Rat).SetFloat64(f) }
	bx := new(big.Rat).Sub(rat(b.X), rat(a.X))
	by := new(big.Rat).Sub(rat(b.Y), rat(a.Y))
	cx := new(big.Rat).Sub(rat(c.X), rat(a.X))
	cy := new(big.Rat).Sub(rat(c.Y), rat(a.Y))
	l := new(big.Rat).Mul(bx, cy)
	r := new(big.Rat).Mul(by, cx)
	return l.Cmp(r)
}

// onSegment reports whether p, known to be collinear with a-b, lies within
// the closed segment a-b.
func onSegment(a, b, p Point) bool {
	return min(a.X, b.X) <= p.X && p.X <= max(a.X, b.X) &&
		min(a.Y, b.Y) <= p.Y && p.Y <= max(a.Y, b.Y)
}

// Intersects reports whether the closed segments a-b and c-d share any point.
//
// The bounds are taken by the min and max builtins, which the compiler
// inlines, rather than math.Min and math.Max, which are calls to assembly
// on amd64 (eight a test: a million calls at z3 and z4 of countries-10m);
// both give NaN for a NaN and order -0 below +0, so the result is the same.
func Intersects(a, b, c, d Point) bool {
	if max(a.X, b.X) < min(c.X, d.X) || max(c.X, d.X) < min(a.X, b.X) ||
		max(a.Y, b.Y) < min(c.Y, d.Y) || max(c.Y, d.Y) < min(a.Y, b.Y) {
		return false
	}
	o1, o2 := Orient(a, b, c), Orient(a, b, d)
	o3, o4 := Orient(c, d, a), Orient(c, d, b)
	if o1*o2 < 0 && o3*o4 < 0 {
		return true
	}
	return (o1 == 0 && onSegment(a, b, c)) || (o2 == 0 && onSegment(a, b, d)) ||
		(o3 == 0 && onSegment(c, d, a)) || (o4 == 0 && onSegment(c, d, b))
}

// Conflict reports whether segments a-b and c-d meet anywhere other than at a
// single endpoint they share. Two segments with the same endpoints conflict;
// so do two collinear segments that overlap beyond a shared endpoint.
func Conflict(a, b, c, d Point) bool {
	var p, q1, q2 Point
	switch {
	case a == c:
		p, q1, q2 = a, b, d
	case a == d:
		p, q1, q2 = a, b, c
	case b == c:
		p, q1, q2 = b, a, d
	case b == d:
		p, q1, q2 = b, a, c
	default:
		return Intersects(a, b, c, d)
	}
	if q1 == q2 {
		return true // same segment
	}
	if Orient(p, q1, q2) != 0 {
		return false
	}
	// Collinear: they overlap when q1 and q2 lie on the same side of p.
	return (q1.X-p.X)*(q2.X-p.X)+(q1.Y-p.Y)*(q2.Y-p.Y) > 0
}

// IntersectionPoint returns the crossing point of lines a-b and c-d. The
// result does not depend on the order of the segments nor on the direction
// of each, so two rings that share a pair of segments compute the same
// point.
func IntersectionPoint(a, b, c, d Point) Point {
	if less(b, a) {
		a, b = b, a
	}
	if less(d, c) {
		c, d = d, c
	}
	if less(c, a) || (c == a && less(d, b)) {
		a, b, c, d = c, d, a, b
	}
	rx, ry := b.X-a.X, b.Y-a.Y
	sx, sy := d.X-c.X, d.Y-c.Y
	den := rx*sy - ry*sx
	if den == 0 {
		return a
	}
	t := ((c.X-a.X)*sy - (c.Y-a.Y)*sx) / den
	if t < 0 {
		t = 0
	} else if t > 1 {
		t = 1
	}
	return Point{a.X + t*rx, a.Y + t*ry}
}

func less(a, b Point) bool { return a.X < b.X || (a.X == b.X && a.Y < b.Y) }

// Less orders points by x, then y.
func Less(a, b Point) bool { return less(a, b) }

// SignedArea returns the shoelace area of a ring, positive when counter-
// clockwise. The ring may or may not repeat its first point at the end.
func SignedArea(r []Point) float64 {
	n := len(r)
	if n < 3 {
		return 0
	}
	var s float64
	x0, y0 := r[0].X, r[0].Y
	for i := 1; i+1 < n; i++ {
		s += (r[i].X-x0)*(r[i+1].Y-y0) - (r[i+1].X-x0)*(r[i].Y-y0)
	}
	return s / 2
}

// PointInRing returns 1 when p lies strictly inside the ring, -1 when it lies
// strictly outside and 0 when it lies on the boundary. The ring may or may
// not repeat its first point.
func PointInRing(p Point, r []Point) int {
	n := len(r)
	if n == 0 {
		return -1
	}
	inside := false
	j := n - 1
	for i := 0; i < n; i++ {
		a, b := r[j], r[i]
		j = i
		if a == b {
			continue
		}
		if (a.Y > p.Y) != (b.Y > p.Y) {
			o := Orient(a, b, p)
			if o == 0 {
				return 0
			}
			// The edge crosses the horizontal line through p; count it when
			// the crossing is right of p.
			if (o > 0) == (b.Y > a.Y) {
				inside = !inside
			}
		} else if (a.Y == p.Y || b.Y == p.Y) && Orient(a, b, p) == 0 && onSegment(a, b, p) {
			return 0
		}
	}
	if inside {
		return 1
	}
	return -1
}

// BBox is an axis-aligned box.
type BBox struct{ MinX, MinY, MaxX, MaxY float64 }

// EmptyBBox returns a box that any Extend makes valid.
func EmptyBBox() BBox {
	return BBox{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
}

// Extend grows b to cover p.
func (b *BBox) Extend(p Point) {
	if p.X < b.MinX {
		b.MinX = p.X
	}
	if p.Y < b.MinY {
		b.MinY = p.Y
	}
	if p.X > b.MaxX {
		b.MaxX = p.X
	}
	if p.Y > b.MaxY {
		b.MaxY = p.Y
	}
}

// Union grows b to cover o.
func (b *BBox) Union(o BBox) {
	if o.MinX < b.MinX {
		b.MinX = o.MinX
	}
	if o.MinY < b.MinY {
		b.MinY = o.MinY
	}
	if o.MaxX > b.MaxX {
		b.MaxX = o.MaxX
	}
	if o.MaxY > b.MaxY {
		b.MaxY = o.MaxY
	}
}

// SegBBox returns the box of segment a-b.
func SegBBox(a, b Point) BBox {
	// min and max compile without branches (they may differ from
	// comparisons only in the sign of a zero bound, which no comparison
	// sees).
	return BBox{min(a.X, b.X), min(a.Y, b.Y), max(a.X, b.X), max(a.Y, b.Y)}
}

// Contains reports whether p lies in the closed box.
func (b BBox) Contains(p Point) bool {
	return p.X >= b.MinX && p.X <= b.MaxX && p.Y >= b.MinY && p.Y <= b.MaxY
}

// Overlaps reports whether the closed boxes share a point.
func (b BBox) Overlaps(o BBox) bool {
	// The four comparisons without short-circuit branches, which are
	// mispredicted when about half of the boxes overlap.
	return bit(b.MinX <= o.MaxX)&bit(o.MinX <= b.MaxX)&bit(b.MinY <= o.MaxY)&bit(o.MinY <= b.MaxY) != 0
}

// bit returns 1 for true and 0 for false, without a branch.
func bit(c bool) uint8 {
	var i uint8
	if c {
		i = 1
	}
	return i
}

// RingBBox returns the bounding box of a ring.
func RingBBox(r []Point) BBox {
	bb := EmptyBBox()
	for _, p := range r {
		bb.Extend(p)
	}
	return bb
}

// SampleRing returns up to 16 vertices spread along a ring: enough to decide
// on which side of another ring a ring lies when the rings do not cross.
func SampleRing(a []Point) []Point {
	if len(a) <= 16 {
		return a
	}
	out := make([]Point, 16)
	for i := range out {
		out[i] = a[i*len(a)/16]
	}
	return out
}
