package simplify

import (
	"compress/gzip"
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/paulmach/orb/geojson"
)

// minTime runs f b.N times and reports the fastest run, which is steadier
// than the mean on a shared machine.
func minTime(b *testing.B, f func()) {
	best := time.Duration(1<<63 - 1)
	for b.Loop() {
		t0 := time.Now()
		f()
		best = min(best, time.Since(t0))
	}
	b.ReportMetric(float64(best.Microseconds())/1000, "min_ms")
}

// BenchmarkTopology10m times the topology stage of countries-10m step by
// step, on one worker and on GOMAXPROCS: buildTopology, buildBlockTree and
// computeImportance.
func BenchmarkTopology10m(b *testing.B) {
	fc := loadCountries10m(b)
	for _, workers := range []int{1, 0} {
		opts := Options{MinZoom: 0, MaxZoom: 12, Workers: workers}
		if err := opts.normalize(); err != nil {
			b.Fatal(err)
		}
		feats, err := prepare(context.Background(), fc.Features, &opts)
		if err != nil {
			b.Fatal(err)
		}
		name := "workers=1"
		if workers == 0 {
			name = "workers=max"
		}
		b.Run(name+"/topology", func(b *testing.B) {
			minTime(b, func() { buildTopology(feats, opts.Workers) })
		})
		t := buildTopology(feats, opts.Workers)
		b.Run(name+"/blocktree", func(b *testing.B) {
			minTime(b, t.buildBlockTree)
		})
		b.Run(name+"/importance", func(b *testing.B) {
			minTime(b, func() {
				if _, err := computeImportance(context.Background(), t, &opts); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}

// loadCountries10m reads countries-10m from the shared data folder beside
// the repository, or skips the benchmark when it is not there.
func loadCountries10m(b *testing.B) *geojson.FeatureCollection {
	return loadGz(b, "../../shared/data/countries-10m.geojson.gz")
}

// loadGz reads a gzipped GeoJSON FeatureCollection, or skips the test or
// benchmark, saying why, when the file is not there.
func loadGz(tb testing.TB, path string) *geojson.FeatureCollection {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Skipf("%s is not available (%v): skipping", path, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(raw)
	if err != nil {
		tb.Fatal(err)
	}
	return fc
}
