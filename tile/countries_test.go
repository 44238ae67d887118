package tile

import (
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/paulmach/orb/geojson"
)

// countriesPath is the shared Natural Earth 1:10m countries file, present
// beside the repository on project machines.
var countriesPath = filepath.Join("..", "..", "shared", "data", "countries-10m.geojson.gz")

func loadCountries(tb testing.TB) []*geojson.Feature {
	tb.Helper()
	f, err := os.Open(countriesPath)
	if err != nil {
		tb.Skipf("countries data not available (%v); it lives in shared/data beside the repository", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		tb.Fatal(err)
	}
	return fc.Features
}

// TestCountriesTiming tiles the unsimplified countries-10m at z0..MAXZOOM
// and logs the time. It runs only when MAPCLUSTER_TILE_TIMING=MAXZOOM is
// set, e.g.
//
//	MAPCLUSTER_TILE_TIMING=8 go test ./tile/ -run CountriesTiming -v
func TestCountriesTiming(t *testing.T) {
	maxZoom, err := strconv.Atoi(os.Getenv("MAPCLUSTER_TILE_TIMING"))
	if err != nil {
		t.Skip("set MAPCLUSTER_TILE_TIMING=MAXZOOM to time tiling countries-10m")
	}
	feats := loadCountries(t)
	path := filepath.Join(t.TempDir(), "countries.pmtiles")
	cpu0 := cpuTime()
	start := time.Now()
	st, err := WriteFile(context.Background(), path, TilesetParams{
		Layer: "countries", MinZoom: 0, MaxZoom: maxZoom,
		Levels: func(context.Context, int) ([]*geojson.Feature, error) { return feats, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	fi, _ := os.Stat(path)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("z0..%d: %v wall, %v CPU, %d tiles (%d encoded, %d entries, %d contents), %d bytes, peak heap sys %d MiB",
		maxZoom, elapsed.Round(time.Millisecond), cpu.Round(time.Millisecond), st.Tiles, st.Encoded, st.Header.TileEntries, st.Header.TileContents, fi.Size(), ms.HeapSys>>20)
}
