package cluster

import (
	"context"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/mapcluster/mapcluster/sample"
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

// BenchmarkRadixSortPerm sorts keys shaped like those of isolationZooms'
// first sort (row<<colBits | col, about 36 significant bits): uniform rows
// and columns in 2^18 × 2^18, and the cells of the jittered world cities
// (sample.Jittered, the 10M benchmark set, in its order: point k is near
// city k mod 135,233); then a million uniform keys, as joinIsolated and
// sortInserts sort a few million, and a batch of 4096. Each round copies
// the keys back first (included in the time: 2-3% at 10M); the scratch is
// sized before the timer starts.
func BenchmarkRadixSortPerm(b *testing.B) {
	benchmarkRadixSortPerm(b, func() func([]uint64, *team) []int32 {
		var sc sortScratch
		return func(keys []uint64, tm *team) []int32 { return radixSortPerm(keys, &sc, tm) }
	})
}

func benchmarkRadixSortPerm(b *testing.B, newSort func() func([]uint64, *team) []int32) {
	uniform := func(n int) []uint64 {
		rng := rand.New(rand.NewPCG(3, 4))
		keys := make([]uint64, n)
		for i := range keys {
			keys[i] = rng.Uint64N(1<<18)<<18 | rng.Uint64N(1<<18)
		}
		return keys
	}
	cities := func(n int) []uint64 {
		pts, err := sample.Jittered(context.Background(), n, 1)
		if err != nil {
			b.Fatal(err)
		}
		// k0 = 12 is the cell side isolationZooms picks for DefaultOptions.
		const k0, colBits = 12, 31 - 12
		keys := make([]uint64, n)
		for i := range keys {
			x, y := encode(lngX(pts.Lng[i])), encode(latY(pts.Lat[i]))
			keys[i] = uint64(uint32(y+coordOffset)>>k0)<<colBits | uint64(uint32(x+coordOffset)>>k0)
		}
		return keys
	}
	for _, c := range []struct {
		name string
		keys func(int) []uint64
		n    int
	}{
		{"uniform-10M", uniform, 10_000_000},
		{"cities-10M", cities, 10_000_000},
		{"uniform-1M", uniform, 1_000_000},
		{"uniform-4096", uniform, 4096},
	} {
		b.Run(c.name, func(b *testing.B) {
			orig := c.keys(c.n)
			keys := make([]uint64, len(orig))
			sort := newSort()
			tm := newTeam(runtime.GOMAXPROCS(0))
			defer tm.stop()
			copy(keys, orig)
			sort(keys, tm) // sizes the scratch, as the build's first sort does
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				copy(keys, orig)
				sort(keys, tm)
			}
		})
	}
}
