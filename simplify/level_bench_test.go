package simplify

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/paulmach/orb/geojson"
)

// loadBuilder prepares countries-10m up to the levels: topology, block
// tree and importance, on one worker.
func loadBuilder(b *testing.B) *builder {
	return prepareLevels(b, loadCountries10m(b), Options{MinZoom: 0, MaxZoom: 12, Workers: 1})
}

// prepareLevels runs the steps before the levels (prepare, topology, block
// tree, importance, the schedule's sample) on fc and returns a builder
// ready to build any level.
func prepareLevels(tb testing.TB, fc *geojson.FeatureCollection, opts Options) *builder {
	tb.Helper()
	if err := opts.normalize(); err != nil {
		tb.Fatal(err)
	}
	feats, err := prepare(context.Background(), fc.Features, &opts)
	if err != nil {
		tb.Fatal(err)
	}
	t := buildTopology(feats, opts.Workers)
	t.buildBlockTree()
	imp, err := computeImportance(context.Background(), t, &opts)
	if err != nil {
		tb.Fatal(err)
	}
	bl := &builder{opts: &opts, features: fc.Features, t: t, imp: imp}
	bl.pool.New = func() any { return new(levelWork) }
	// As Build: the sample of importances it takes sizes the shortcut
	// lists (shortcutRoom) and decides which levels are made from the
	// level above (fewChanges).
	bl.schedule(opts.MaxZoom - opts.MinZoom + 1)
	return bl
}

// BenchmarkLevels10m times each zoom level of countries-10m (one
// goroutine, its scratch space warm), fastest of b.N, each but z12 built
// right after the level above on the same scratch space, which it reuses
// where it can, as Build does within a task (the time is that of the
// level alone); z12 to z6 in a row (top), and all 13 levels in a row.
func BenchmarkLevels10m(b *testing.B) {
	bl := loadBuilder(b)
	for z := 0; z <= 12; z++ {
		b.Run(fmt.Sprintf("z%d", z), func(b *testing.B) {
			w := new(levelWork)
			if z == 12 {
				minTime(b, func() { bl.buildLevelOn(w, z, 0) })
				return
			}
			above := Tolerance(z+1, bl.opts.Detail, bl.opts.ToleranceScale)
			best := time.Duration(1<<63 - 1)
			for b.Loop() {
				bl.buildLevelOn(w, z+1, 0)
				t0 := time.Now()
				bl.buildLevelOn(w, z, above)
				best = min(best, time.Since(t0))
			}
			b.ReportMetric(float64(best.Microseconds())/1000, "min_ms")
		})
	}
	// The top levels as Build runs them: in a row on one levelWork, each
	// reusing the level above (buildLevelOn).
	b.Run("top", func(b *testing.B) {
		w := new(levelWork)
		minTime(b, func() {
			above := 0.0
			for z := 12; z >= 6; z-- {
				lv := bl.buildLevelOn(w, z, above)
				above = lv.Tolerance
			}
		})
	})
	b.Run("all", func(b *testing.B) {
		for b.Loop() {
			above := 0.0
			for z := 12; z >= 0; z-- {
				lv := bl.buildLevel(z, above)
				above = lv.Tolerance
			}
		}
	})
}
