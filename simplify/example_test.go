package simplify_test

import (
	"context"
	"fmt"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/mapcluster/mapcluster/simplify"
	"github.com/mapcluster/mapcluster/simplify/validate"
)

// Two countries share a wavy border. Simplified for zooms 0-6, the border
// loses detail at low zoom but stays identical on both sides, so the union
// of the two has no gap and no overlap at any zoom.
func ExampleBuild() {
	border := []orb.Point{{1, 0}, {1.01, 0.2}, {0.99, 0.4}, {1.01, 0.6}, {0.99, 0.8}, {1, 1}}
	west := orb.Ring{{0, 0}}
	west = append(west, border...)
	west = append(west, orb.Point{0, 1}, orb.Point{0, 0})
	east := orb.Ring{{2, 0}, {2, 1}}
	for i := len(border) - 1; i >= 0; i-- {
		east = append(east, border[i])
	}
	east = append(east, orb.Point{2, 0})
	fs := []*geojson.Feature{geojson.NewFeature(orb.Polygon{west}), geojson.NewFeature(orb.Polygon{east})}

	res, err := simplify.Build(context.Background(), fs, simplify.Options{MinZoom: 0, MaxZoom: 6})
	if err != nil {
		panic(err)
	}
	for _, lv := range res.Levels {
		cov := validate.CheckCoverage(lv.Features())
		fmt.Printf("z%d: %2d vertices, %d problems, union %.4f = sum %.4f\n",
			lv.Zoom, lv.Vertices, len(validate.Features(lv.Features()))+len(cov.Problems), cov.UnionArea, cov.SumArea)
	}
	// Output:
	// z0: 10 vertices, 0 problems, union 2.0000 = sum 2.0000
	// z1: 18 vertices, 0 problems, union 2.0000 = sum 2.0000
	// z2: 18 vertices, 0 problems, union 2.0000 = sum 2.0000
	// z3: 18 vertices, 0 problems, union 2.0000 = sum 2.0000
	// z4: 18 vertices, 0 problems, union 2.0000 = sum 2.0000
	// z5: 18 vertices, 0 problems, union 2.0000 = sum 2.0000
	// z6: 18 vertices, 0 problems, union 2.0000 = sum 2.0000
}

// The tolerance of each zoom, in Web Mercator metres: one unit of a 4096
// tile.
func ExampleTolerance() {
	for _, z := range []int{0, 6, 12} {
		fmt.Printf("z%d: %.1f m\n", z, simplify.Tolerance(z, 12, 1))
	}
	// Output:
	// z0: 9783.9 m
	// z6: 152.9 m
	// z12: 2.4 m
}
