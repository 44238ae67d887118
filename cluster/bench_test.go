package cluster

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/mapcluster/mapcluster/sample"
)

// BenchmarkBuildWorldCities clusters the 135,233 world cities over zooms
// 0-16 with supercluster's defaults: the figure BENCHMARKS.md compares with
// supercluster's load_ms_median.
func BenchmarkBuildWorldCities(b *testing.B) {
	pts := loadLngLatCSV(b, worldCitiesPath)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Build(context.Background(), pts, DefaultOptions()); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildJittered1M clusters a million jittered world cities
// (sample.Jittered, the benchmark set); MAPCLUSTER_BENCH_POINTS changes the
// count.
func BenchmarkBuildJittered1M(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("MAPCLUSTER_BENCH_POINTS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	pts, err := sample.Jittered(context.Background(), n, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Build(context.Background(), pts, DefaultOptions()); err != nil {
			b.Fatal(err)
		}
	}
}
