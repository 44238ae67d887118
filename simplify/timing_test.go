package simplify_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/mapcluster/mapcluster/simplify"
)

// TestTiming prints the fastest of N builds of countries-10m, stage by
// stage (MAPCLUSTER_SIMPLIFY_TIMING=N; skipped when unset).
func TestTiming(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("MAPCLUSTER_SIMPLIFY_TIMING"))
	if n <= 0 {
		t.Skip("set MAPCLUSTER_SIMPLIFY_TIMING=N to time N builds of countries-10m")
	}
	path := path10m
	if p := os.Getenv("MAPCLUSTER_SIMPLIFY_INPUT"); p != "" {
		path = p
	}
	in := load(t, path)
	best := [3]time.Duration{time.Hour, time.Hour, time.Hour}
	for i := 0; i < n; i++ {
		res, err := simplify.Build(context.Background(), in, simplify.Options{MinZoom: 0, MaxZoom: 12})
		if err != nil {
			t.Fatal(err)
		}
		s := res.Stats
		best[0] = min(best[0], s.PrepareTime)
		best[1] = min(best[1], s.TopologyTime)
		best[2] = min(best[2], s.SimplifyTime)
		if i == 0 {
			t.Logf("%s: %d vertices in", path, s.VerticesIn)
		}
	}
	t.Logf("best of %d: prepare %v, topology %v, simplify %v, topology+simplify %v", n, best[0], best[1], best[2], best[1]+best[2])
}
