package simplify

import (
	"math/rand/v2"
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
