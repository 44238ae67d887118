package hugepage

import (
	"runtime"
	"testing"
)

// TestAdviseKeepsContents checks that Advise returns the same slice, with
// its contents, for sizes below, at and well above MinBytes, including a
// slice whose length is below its capacity.
func TestAdviseKeepsContents(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, MinBytes/8 - 1, MinBytes / 8, 3 * MinBytes / 8} {
		s := make([]uint64, n, n+n/2)
		for i := range s {
			s[i] = uint64(i) * 2654435761
		}
		got := Advise(s)
		if len(got) != len(s) || cap(got) != cap(s) || (n > 0 && &got[0] != &s[0]) {
			t.Fatalf("n=%d: Advise returned a different slice", n)
		}
		for i := range got {
			if got[i] != uint64(i)*2654435761 {
				t.Fatalf("n=%d: element %d changed", n, i)
			}
		}
		full := got[:cap(got)]
		for i := len(got); i < len(full); i++ {
			if full[i] != 0 {
				t.Fatalf("n=%d: spare capacity at %d is not zero", n, i)
			}
		}
	}
}

// TestReserveThenAllocate checks that memory allocated after Reserve works
// as any other (Reserve only changes how pages are backed).
func TestReserveThenAllocate(t *testing.T) {
	Reserve(64 << 20)
	s := make([]int32, 8<<20)
	for i := range s {
		s[i] = int32(i)
	}
	runtime.GC()
	for i := range s {
		if s[i] != int32(i) {
			t.Fatalf("element %d is %d", i, s[i])
		}
	}
}

func ExampleAdvise() {
	// Mark a large buffer before filling it.
	xs := Advise(make([]float64, 1<<20))
	xs[0] = 1
	_ = xs
	// Output:
}
