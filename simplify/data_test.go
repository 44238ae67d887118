package simplify_test

import (
	"compress/gzip"
	"context"
	"io"
	"os"
	"testing"

	"github.com/paulmach/orb/geojson"

	"github.com/mapcluster/mapcluster/simplify"
	"github.com/mapcluster/mapcluster/simplify/validate"
)

const (
	path50m = "testdata/countries-50m.geojson.gz"
	// countries-10m is 6 MB compressed; it is read from the shared data
	// folder beside the repository when present.
	path10m = "../../shared/data/countries-10m.geojson.gz"
)

func load(t testing.TB, path string) []*geojson.Feature {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("%s is not available (%v): skipping", path, err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		t.Fatal(err)
	}
	return fc.Features
}

type problemKey struct {
	kind           string
	feature, other int
}

func keyOf(p validate.Problem) problemKey {
	return problemKey{p.Kind, p.Feature, p.Other}
}

// baseline returns the problems of the repaired input at full resolution:
// defects of the input that repair does not remove (features of the input
// that cross each other; borders where one neighbour's ring was repaired
// and the other's was not). Levels may repeat them but add none.
func baseline(t *testing.T, in []*geojson.Feature, res *simplify.Result, borders *validate.Borders) map[problemKey]bool {
	t.Helper()
	base := map[problemKey]bool{}
	for _, p := range validate.Features(res.Repaired) {
		t.Errorf("repaired input is invalid: %v", p)
	}
	for _, p := range validate.CheckCoverage(res.Repaired).Problems {
		t.Logf("input defect (coverage): %v", p)
		base[keyOf(p)] = true
	}
	for _, p := range borders.Check(res.Repaired, nil) {
		t.Logf("input defect (borders): %v", p)
		base[keyOf(p)] = true
	}
	return base
}

// checkLevels runs every validator on every level of res.
func checkLevels(t *testing.T, in []*geojson.Feature, res *simplify.Result, zooms map[int]bool) {
	t.Helper()
	borders := validate.NewBorders(in)
	base := baseline(t, in, res, borders)
	for _, lv := range res.Levels {
		if zooms != nil && !zooms[lv.Zoom] {
			continue
		}
		probs := validate.Features(lv.Features())
		for i, p := range probs {
			if i < 5 {
				t.Errorf("z%d invalid polygon: %v", lv.Zoom, p)
			}
		}
		cov := validate.CheckCoverage(lv.Features())
		for _, p := range cov.Problems {
			p.Feature = lv.Index[p.Feature] // CheckCoverage numbers features in its slice
			if p.Other >= 0 {
				p.Other = lv.Index[p.Other]
			}
			if !base[keyOf(p)] {
				t.Errorf("z%d coverage: %v", lv.Zoom, p)
			}
		}
		if r := cov.RelativeOverlap(); r > 1e-9 || r < -1e-9 {
			t.Errorf("z%d: sum of areas %.9f != area of union %.9f (relative %.3g)", lv.Zoom, cov.SumArea, cov.UnionArea, r)
		}
		for _, p := range borders.Check(lv.Features(), lv.Index) {
			if !base[keyOf(p)] {
				t.Errorf("z%d: %v", lv.Zoom, p)
			}
		}
		t.Logf("z%d: %d features, %d vertices, %d restored, %d rings dropped; union %.6f, sum %.6f square degrees",
			lv.Zoom, len(lv.Features()), lv.Vertices, lv.Restored, lv.Dropped, cov.UnionArea, cov.SumArea)
	}
}

func testCountries(t *testing.T, path string, zooms map[int]bool) {
	in := load(t, path)
	res, err := simplify.Build(context.Background(), in, simplify.Options{MinZoom: 0, MaxZoom: 12})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d repairs", len(res.Repairs))
	checkLevels(t, in, res, zooms)
}

func TestCountries50m(t *testing.T) {
	var zooms map[int]bool
	if raceEnabled || testing.Short() {
		zooms = map[int]bool{0: true, 4: true, 8: true, 12: true}
	}
	testCountries(t, path50m, zooms)
}

func TestCountries10m(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("countries-10m takes minutes with -race or -short; run go test without them")
	}
	testCountries(t, path10m, nil)
}
