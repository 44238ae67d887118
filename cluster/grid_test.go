package cluster

import (
	"context"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/mapcluster/mapcluster/sample"
)

// TestRadixSortPermIsStableForAnyWorkers compares the radix sort with a
// stable comparison sort on (key, index), for 1, 2, 3 and 8 workers: empty
// and one-key inputs, sizes on both sides of radixMSDMin and of the 2^15
// where the team takes over, and key shapes that reach each path of the
// MSD sort: few distinct keys (stability), every key equal, only high or
// only low bits varying, isolation-like row<<19|col keys, half the keys
// equal and the others not, and skewed keys whose top digit puts most of
// them in one bucket larger than radixBucketMax (another MSD pass), with
// buckets of every size below it. Each sort reuses a scratch that sorted
// other keys first, as builds do.
func TestRadixSortPermIsStableForAnyWorkers(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := []struct {
		name string
		key  func() uint64
	}{
		{"few", func() uint64 { return uint64(rng.IntN(5000))<<33 | uint64(rng.IntN(3)) }},
		{"equal", func() uint64 { return 0x1234_5678_9abc }},
		{"high", func() uint64 { return uint64(rng.IntN(1<<20)) << 44 }},
		{"top", func() uint64 { return uint64(rng.IntN(4)) << 62 }},
		{"low", func() uint64 { return uint64(rng.IntN(1 << 9)) }},
		{"iso", func() uint64 { return rng.Uint64N(1<<18)<<19 | rng.Uint64N(1<<18) }},
		{"full", func() uint64 { return rng.Uint64() }},
		{"half-equal", func() uint64 {
			if rng.IntN(2) == 0 {
				return 1 << 36 // a bucket of its own, of equal keys
			}
			return rng.Uint64N(1 << 36)
		}},
		{"skewed", func() uint64 {
			// Half the keys share their top digit, and the rest fall into
			// buckets of sizes 1, 2, 4, ... .
			if rng.IntN(2) == 0 {
				return 1<<40 | rng.Uint64N(1<<29)
			}
			return uint64(bits.Len64(rng.Uint64()|1))<<29 | rng.Uint64N(1<<29)
		}},
	}
	for _, n := range []int{0, 1, 2, 17, 1000, 1<<15 - 1, 1 << 15, radixMSDMin - 1, radixMSDMin, 1<<18 + 17, 1 << 20} {
		for _, sh := range shapes {
			if n > 1<<18 && sh.name != "skewed" && sh.name != "half-equal" && sh.name != "iso" && sh.name != "few" {
				continue // the large sizes are for the MSD sort's recursion
			}
			orig := make([]uint64, n)
			for i := range orig {
				orig[i] = sh.key()
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
				tm := newTeam(w)
				var sc sortScratch
				// The buffers left by another sort must not matter.
				other := slices.Clone(orig)
				slices.Reverse(other)
				radixSortPerm(other, &sc, tm)
				keys := slices.Clone(orig)
				perm := radixSortPerm(keys, &sc, tm)
				tm.stop()
				if !slices.Equal(perm, want) {
					t.Fatalf("n=%d %s workers=%d: permutation differs from a stable sort", n, sh.name, w)
				}
				for j, i := range perm {
					if keys[j] != orig[i] {
						t.Fatalf("n=%d %s workers=%d: keys[%d] = %d, want %d", n, sh.name, w, j, keys[j], orig[i])
					}
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
