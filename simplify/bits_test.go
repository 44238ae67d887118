package simplify

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPackBits compares packBits with a bool-by-bool packing, for lengths
// around word and byte boundaries.
func TestPackBits(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 200 {
		b := make([]bool, n)
		for i := range b {
			b[i] = r.IntN(2) == 0
		}
		bits := packBits(b)
		if len(bits) != (n+63)/64 {
			t.Fatalf("n=%d: %d words", n, len(bits))
		}
		for v := range n {
			if keptBit(bits, int32(v)) != b[v] {
				t.Fatalf("n=%d: bit %d is %v, want %v", n, v, !b[v], b[v])
			}
		}
		for v := n; v < 64*len(bits); v++ {
			if bits[v/64]>>(v%64)&1 != 0 {
				t.Fatalf("n=%d: bit %d past the end is set", n, v)
			}
		}
	}
}

// TestAreaKey checks that areaKey orders areas as floats do, equal ones
// (+0 and -0) alike, and that keyArea inverts it.
func TestAreaKey(t *testing.T) {
	vals := []float64{math.Inf(-1), -1e300, -2.5, -1, -1e-300, -5e-324, math.Copysign(0, -1), 0, 5e-324, 1e-300, 0.5, 1, 2.5, 1e300, math.Inf(1)}
	for _, a := range vals {
		if got := keyArea(areaKey(a)); got != a {
			t.Errorf("keyArea(areaKey(%v)) = %v", a, got)
		}
		for _, b := range vals {
			if (areaKey(a) < areaKey(b)) != (a < b) || (areaKey(a) == areaKey(b)) != (a == b) {
				t.Errorf("areaKey orders %v and %v as %d and %d", a, b, areaKey(a), areaKey(b))
			}
		}
	}
}

// TestMedian compares median with the middle element of a sorted copy, on
// random slices with few or many repeated values.
func TestMedian(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := range 2000 {
		n := 1 + r.IntN(300)
		vals := 1 + r.IntN(2*n)
		xs := make([]float64, n)
		for k := range xs {
			xs[k] = float64(r.IntN(vals))
		}
		switch i % 4 {
		case 1:
			slices.Sort(xs)
		case 2:
			slices.Sort(xs)
			slices.Reverse(xs)
		}
		want := slices.Clone(xs)
		slices.Sort(want)
		if got := median(xs); got != want[n/2] {
			t.Fatalf("case %d: median %v, want %v", i, got, want[n/2])
		}
	}
}
