package cluster_test

import (
	"context"
	"fmt"

	"github.com/mapcluster/mapcluster"
	"github.com/mapcluster/mapcluster/cluster"
)

// Build clusters markers for zooms 0-16; Clusters lists what a map shows at
// one zoom, and ExpansionZoom tells how far to zoom in to split a cluster.
func Example() {
	pts := &mapcluster.Points{}
	pts.Append(2.3522, 48.8566)  // Paris
	pts.Append(2.2945, 48.8584)  // the Eiffel Tower
	pts.Append(-0.1276, 51.5072) // London

	ix, err := cluster.Build(context.Background(), pts, cluster.DefaultOptions())
	if err != nil {
		panic(err)
	}
	for _, f := range ix.Clusters([4]float64{-10, 40, 10, 60}, 8) {
		if f.IsCluster() {
			z, _ := ix.ExpansionZoom(f.ID)
			fmt.Printf("cluster of %d points, splits at zoom %d\n", f.Count, z)
		} else {
			fmt.Printf("point %d\n", f.Point())
		}
	}
	// Unordered output:
	// cluster of 2 points, splits at zoom 9
	// point 2
}
