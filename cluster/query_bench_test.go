package cluster

import (
	"cmp"
	"context"
	"math"
	"slices"
	"testing"

	"github.com/mapcluster/mapcluster"
)

// The query workload that bench/queries.sh also gives supercluster
// (bench/queries.mjs computes the same lists from the same file):
//
//   - tiles: for every zoom 0-16, the distinct tiles holding every 97th
//     point (input order), sorted by x then y;
//   - views: for every zoom 0-16 and every 997th point, the bbox of a
//     1024×768-pixel map view (256-pixel tiles) centred on the point, its
//     latitudes clamped to ±85.
type queryTile struct{ z, x, y int }

type queryView struct {
	bbox [4]float64
	z    int
}

// queryWorkload returns the tiles and views of the workload for pts.
func queryWorkload(pts *mapcluster.Points) ([]queryTile, []queryView) {
	var tiles []queryTile
	var views []queryView
	for z := 0; z <= 16; z++ {
		z2 := math.Ldexp(1, z)
		seen := map[[2]int]bool{}
		var zt []queryTile
		for i := 0; i < pts.Len(); i += 97 {
			x := min(int(math.Floor(lngX(pts.Lng[i])*z2)), int(z2)-1)
			y := min(int(math.Floor(latY(pts.Lat[i])*z2)), int(z2)-1)
			if !seen[[2]int{x, y}] {
				seen[[2]int{x, y}] = true
				zt = append(zt, queryTile{z, x, y})
			}
		}
		slices.SortFunc(zt, func(a, b queryTile) int { return cmp.Or(cmp.Compare(a.x, b.x), cmp.Compare(a.y, b.y)) })
		tiles = append(tiles, zt...)
		w, h := 1024/256*360/z2, 768/256*180/z2 // degrees: h is a rough span in latitude
		for i := 0; i < pts.Len(); i += 997 {
			lng, lat := pts.Lng[i], pts.Lat[i]
			views = append(views, queryView{z: z, bbox: [4]float64{
				lng - w/2, max(-85, lat-h/2), lng + w/2, min(85, lat+h/2),
			}})
		}
	}
	return tiles, views
}

// BenchmarkQueriesWorldCities answers the query workload above on the
// world-cities index (zooms 0-16, radius 40): AppendTile for every tile of
// the list, and AppendClusters for every view, each reusing one buffer. It reports the features returned, which
// bench/queries.sh compares with supercluster's.
func BenchmarkQueriesWorldCities(b *testing.B) {
	pts := loadLngLatCSV(b, worldCitiesPath)
	ix, err := Build(context.Background(), pts, DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	tiles, views := queryWorkload(pts)
	b.Run("tiles", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		var buf []TileFeature
		for b.Loop() {
			n = 0
			for _, t := range tiles {
				buf = ix.AppendTile(buf[:0], t.z, t.x, t.y)
				n += len(buf)
			}
		}
		b.ReportMetric(float64(len(tiles)), "queries")
		b.ReportMetric(float64(n), "features")
	})
	b.Run("views", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		var buf []Feature
		for b.Loop() {
			n = 0
			for _, v := range views {
				buf = ix.AppendClusters(buf[:0], v.bbox, v.z)
				n += len(buf)
			}
		}
		b.ReportMetric(float64(len(views)), "queries")
		b.ReportMetric(float64(n), "features")
	})
}
