package cluster

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestRadixSortPermIsStableForAnyWorkers compares the radix sort with a
// stable comparison sort, on inputs large enough for the parallel passes,
// with few distinct keys so that stability matters.
func TestRadixSortPermIsStableForAnyWorkers(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 1000, 1<<18 + 17} {
		orig := make([]uint64, n)
		for i := range orig {
			orig[i] = uint64(rng.IntN(5000))<<33 | uint64(rng.IntN(3))
		}
		want := make([]int32, n)
		for i := range want {
			want[i] = int32(i)
		}
		slices.SortStableFunc(want, func(a, b int32) int {
			switch {
			case orig[a] < orig[b]:
				return -1
			case orig[a] > orig[b]:
				return 1
			}
			return 0
		})
		for _, w := range []int{1, 2, 3, 8} {
			keys := slices.Clone(orig)
			tm := newTeam(w)
			perm := radixSortPerm(keys, &sortScratch{}, tm)
			tm.stop()
			if !slices.Equal(perm, want) {
				t.Fatalf("n=%d workers=%d: permutation differs from a stable sort", n, w)
			}
			for j, i := range perm {
				if keys[j] != orig[i] {
					t.Fatalf("n=%d workers=%d: keys[%d] = %d, want %d", n, w, j, keys[j], orig[i])
				}
			}
		}
	}
}
