package cluster

import (
	"compress/gzip"
	"encoding/csv"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/mapcluster/mapcluster"
)

// repoRoot is the repository root, seen from this package's directory.
const repoRoot = ".."

// worldCitiesPath is the bundled sample: 135,233 GeoNames cities.
var worldCitiesPath = filepath.Join(repoRoot, "testdata", "world-cities.csv.gz")

// loadLngLatCSV reads the lng and lat columns of a CSV (optionally gzipped).
// The input package has the real reader; this one keeps the engine's tests
// independent of it.
func loadLngLatCSV(t testing.TB, path string) *mapcluster.Points {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open sample: %v", err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		r = gz
	}
	cr := csv.NewReader(r)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		t.Fatal(err)
	}
	ilng, ilat := -1, -1
	for i, h := range head {
		switch h {
		case "lng", "lon":
			ilng = i
		case "lat":
			ilat = i
		}
	}
	pts := &mapcluster.Points{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lng, _ := strconv.ParseFloat(rec[ilng], 64)
		lat, _ := strconv.ParseFloat(rec[ilat], 64)
		pts.Append(lng, lat)
	}
	return pts
}

// syntheticPoints makes a non-uniform deterministic set: dense Gaussian
// blobs of very different sizes, exact duplicates, a line of evenly spaced
// points, and a uniform background, in shuffled order.
func syntheticPoints(n int, seed uint64) *mapcluster.Points {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pts := &mapcluster.Points{}
	type blob struct{ lng, lat, sd float64 }
	var blobs []blob
	for range 40 {
		blobs = append(blobs, blob{rng.Float64()*340 - 170, rng.Float64()*140 - 70, 0.001 + rng.Float64()*rng.Float64()*3})
	}
	for len(pts.Lng) < n {
		switch k := rng.IntN(10); {
		case k < 6:
			b := blobs[rng.IntN(len(blobs))]
			lat := max(-85, min(85, b.lat+rng.NormFloat64()*b.sd))
			pts.Append(b.lng+rng.NormFloat64()*b.sd, lat)
		case k < 7 && len(pts.Lng) > 0:
			i := rng.IntN(len(pts.Lng))
			pts.Append(pts.Lng[i], pts.Lat[i])
		case k < 8:
			pts.Append(-100+float64(len(pts.Lng)%5000)*0.004, 40)
		default:
			pts.Append(rng.Float64()*360-180, rng.Float64()*170-85)
		}
	}
	return pts
}

// pilePoints makes n points on a few hundred positions, a pile each: the
// positions come in groups along short lines, 0.0001° to 0.05° apart, so
// that big cells of identical points lie next to each other at most zooms.
// The order of points is shuffled, so ranks interleave between piles.
func pilePoints(n int) *mapcluster.Points {
	rng := rand.New(rand.NewPCG(3, 5))
	type pos struct{ lng, lat float64 }
	var at []pos
	for g := range 40 {
		lng, lat := rng.Float64()*300-150, rng.Float64()*120-60
		step := []float64{0.0001, 0.001, 0.01, 0.05}[g%4]
		for k := range 8 {
			at = append(at, pos{lng + float64(k)*step, lat + float64(k%3)*step})
		}
	}
	pts := &mapcluster.Points{}
	for range n {
		p := at[rng.IntN(len(at))]
		pts.Append(p.lng, p.lat)
	}
	return pts
}

// writeCSV writes points as a lng,lat CSV for the reference harness.
func writeCSV(t testing.TB, path string, pts *mapcluster.Points) {
	t.Helper()
	var b strings.Builder
	b.WriteString("lng,lat\n")
	for i := range pts.Lng {
		b.WriteString(strconv.FormatFloat(pts.Lng[i], 'g', -1, 64))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(pts.Lat[i], 'g', -1, 64))
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func nanValue() float64 { return math.NaN() }
