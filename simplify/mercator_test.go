package simplify

import (
	"context"
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/mapcluster/mapcluster/simplify/internal/geom"
)

// TestMercatorBeyondLimit checks that y keeps growing, continuously and
// finitely, beyond the latitudes of the square web map, and that an
// island up there keeps its shape at a high zoom instead of losing every
// vertex but the three that keep it a ring.
func TestMercatorBeyondLimit(t *testing.T) {
	const maxLat = 85.0511287798066
	prev := math.Inf(-1)
	for lat := 84.0; lat <= 90; lat += 1.0 / 64 {
		y := mercator(geom.Point{X: 0, Y: lat}).Y
		if !(y > prev) || math.IsInf(y, 0) || math.Abs(y+mercator(geom.Point{X: 0, Y: -lat}).Y) > 1e-6 {
			t.Fatalf("lat %v: y %v after %v", lat, y, prev)
		}
		prev = y
	}
	below, above := mercator(geom.Point{X: 0, Y: math.Nextafter(maxLat, 0)}).Y, mercator(geom.Point{X: 0, Y: math.Nextafter(maxLat, 90)}).Y
	if d := above - below; d < 0 || d > 1e-6 {
		t.Errorf("y jumps by %v m at the limit", d)
	}

	r := make(orb.Ring, 0, 101)
	for k := range 100 {
		a := 2 * math.Pi * float64(k) / 100
		rad := 0.5 + 0.1*math.Sin(7*a)
		r = append(r, orb.Point{10 + rad*math.Cos(a), 87.5 + rad*math.Sin(a)/4})
	}
	r = append(r, r[0])
	res, err := Build(context.Background(), []*geojson.Feature{geojson.NewFeature(orb.Polygon{r})}, Options{MinZoom: 12, MaxZoom: 12, KeepShapes: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := res.Levels[0].Vertices; n < 50 {
		t.Errorf("the island at 87.5° keeps %d of its 101 points at z12", n)
	}
}
