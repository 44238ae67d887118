package simplify_test

import (
	"context"
	"testing"

	"github.com/mapcluster/mapcluster/simplify"
)

func benchBuild(b *testing.B, path string) {
	fs := load(b, path)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := simplify.Build(context.Background(), fs, simplify.Options{MinZoom: 0, MaxZoom: 12})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.Stats.PrepareTime.Microseconds())/1000, "prepare_ms")
		b.ReportMetric(float64(res.Stats.TopologyTime.Microseconds())/1000, "topology_ms")
		b.ReportMetric(float64(res.Stats.SimplifyTime.Microseconds())/1000, "simplify_ms")
	}
}

// BenchmarkBuild50m builds zooms 0-12 of countries-50m (99,539 vertices).
func BenchmarkBuild50m(b *testing.B) { benchBuild(b, path50m) }

// BenchmarkBuild10m builds zooms 0-12 of countries-10m (544,898 vertices).
func BenchmarkBuild10m(b *testing.B) { benchBuild(b, path10m) }
