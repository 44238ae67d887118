package cluster

import (
	"context"
	"testing"
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

// BenchmarkBuildJittered1M clusters a million jittered world cities (see
// sample.Jittered; generated here without the sample package to keep the
// engine's tests free of readers).
func BenchmarkBuildJittered1M(b *testing.B) {
	cities := loadLngLatCSV(b, worldCitiesPath)
	pts := jitter(cities, 1_000_000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Build(context.Background(), pts, DefaultOptions()); err != nil {
			b.Fatal(err)
		}
	}
}
