package tile

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

func near(a, b orb.Point, eps float64) bool {
	return math.Abs(a[0]-b[0]) <= eps && math.Abs(a[1]-b[1]) <= eps
}

func TestWrapLng(t *testing.T) {
	for _, tt := range []struct{ in, want float64 }{
		{0, 0}, {-180, -180}, {180, -180}, {179.5, 179.5}, {181, -179}, {-181, 179}, {540, -180}, {-540, -180}, {725, 5},
	} {
		if got := WrapLng(tt.in); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("WrapLng(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestProject(t *testing.T) {
	for _, tt := range []struct {
		p      orb.Point
		z      int
		extent uint32
		want   orb.Point
	}{
		{orb.Point{0, 0}, 0, 256, orb.Point{128, 128}},
		{orb.Point{-180, MaxLat}, 0, 256, orb.Point{0, 0}},
		{orb.Point{180, -MaxLat}, 0, 256, orb.Point{256, 256}},
		{orb.Point{180, -90}, 1, 4096, orb.Point{8192, 8192}}, // clamped
		{orb.Point{-90, 0}, 2, 1, orb.Point{1, 2}},
		{orb.Point{0, 66.51326044311186}, 2, 1, orb.Point{2, 1}}, // the z2 row edge
	} {
		got := Project(tt.p, tt.z, tt.extent)
		if !near(got, tt.want, 1e-9) {
			t.Errorf("Project(%v, %d, %d) = %v, want %v", tt.p, tt.z, tt.extent, got, tt.want)
		}
		if math.Abs(tt.p[1]) <= MaxLat {
			if back := Unproject(got, tt.z, tt.extent); !near(back, tt.p, 1e-9) {
				t.Errorf("Unproject(Project(%v)) = %v", tt.p, back)
			}
		}
	}
}

func TestBound(t *testing.T) {
	for _, tt := range []struct {
		z, x, y int
		want    orb.Bound
	}{
		{0, 0, 0, orb.Bound{Min: orb.Point{-180, -MaxLat}, Max: orb.Point{180, MaxLat}}},
		{1, 0, 0, orb.Bound{Min: orb.Point{-180, 0}, Max: orb.Point{0, MaxLat}}},
		{1, 1, 1, orb.Bound{Min: orb.Point{0, -MaxLat}, Max: orb.Point{180, 0}}},
		{2, 1, 1, orb.Bound{Min: orb.Point{-90, 0}, Max: orb.Point{0, 66.51326044311186}}},
	} {
		got := Bound(tt.z, tt.x, tt.y)
		if !near(got.Min, tt.want.Min, 1e-9) || !near(got.Max, tt.want.Max, 1e-9) {
			t.Errorf("Bound(%d,%d,%d) = %v, want %v", tt.z, tt.x, tt.y, got, tt.want)
		}
	}
}

func TestCover(t *testing.T) {
	b := func(w, s, e, n float64) orb.Bound { return orb.Bound{Min: orb.Point{w, s}, Max: orb.Point{e, n}} }
	for _, tt := range []struct {
		name string
		b    orb.Bound
		z    int
		want []Range
	}{
		{"world z0", b(-180, -90, 180, 90), 0, []Range{{0, 0, 0, 0, 0}}},
		{"world z2", b(-180, -90, 180, 90), 2, []Range{{2, 0, 0, 3, 3}}},
		{"point", b(10, 10, 10, 10), 3, []Range{{3, 4, 3, 4, 3}}},
		{"inside one tile", b(1, 1, 2, 2), 1, []Range{{1, 1, 0, 1, 0}}},
		{"on the z1 edge", b(0, 0, 0, 0), 1, []Range{{1, 1, 1, 1, 1}}},
		{"touching the edge from the west", b(-10, 1, 0, 2), 1, []Range{{1, 0, 0, 1, 0}}},
		{"antimeridian", b(170, -10, -170, 10), 2, []Range{{2, 3, 1, 3, 2}, {2, 0, 1, 0, 2}}},
		{"unwrapped antimeridian", b(170, 1, 190, 2), 2, []Range{{2, 3, 1, 3, 1}, {2, 0, 1, 0, 1}}},
		{"east edge of the world", b(179, 1, 180, 2), 1, []Range{{1, 1, 0, 1, 0}}},
		{"more than the world", b(-200, -1, 200, 1), 1, []Range{{1, 0, 0, 1, 1}}},
		{"poles clamp", b(-1, -90, 1, 90), 3, []Range{{3, 3, 0, 4, 7}}},
	} {
		got := Cover(tt.b, tt.z)
		if len(got) != len(tt.want) {
			t.Errorf("%s: Cover = %v, want %v", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: Cover = %v, want %v", tt.name, got, tt.want)
			}
		}
	}
	if n := (Range{3, 1, 1, 2, 4}).Count(); n != 8 {
		t.Errorf("Count = %d, want 8", n)
	}
}
