// Command mapcluster clusters markers and simplifies polygons for every zoom
// level of a web map. It is the only package that wires mapcluster's
// packages together.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"

	"github.com/alecthomas/kong"
	"strconv"

	"github.com/mapcluster/mapcluster/cluster"

	"github.com/mapcluster/mapcluster"
)

// CLI is the command line: one field per subcommand.
type CLI struct {
	Build    BuildCmd    `cmd:"" help:"Cluster markers for every zoom level and report statistics."`
	Clusters ClustersCmd `cmd:"" help:"Print the clusters and points at one zoom as GeoJSON."`
	Simplify SimplifyCmd `cmd:"" help:"Simplify polygons and lines for every zoom level, keeping topology."`
}

func main() {
	os.Exit(run(os.Args[1:]))
}

// run parses args, runs the command and returns the process exit code.
func run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var cli CLI
	parser, err := kong.New(&cli,
		kong.Name("mapcluster"),
		kong.Description("Marker clustering and polygon simplification for every zoom level of a web map."),
		kong.UsageOnError(),
		kong.BindTo(ctx, (*context.Context)(nil)),
		kong.Vars{"maxzoom": strconv.Itoa(cluster.MaxZoomLimit)},
	)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mapcluster:", err)
		return 2
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mapcluster:", err)
		return 2
	}
	if err := kctx.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "mapcluster:", err)
		if mapcluster.ErrorCodeOf(err) == mapcluster.EInvalid || errors.Is(err, context.Canceled) {
			return 2
		}
		return 1
	}
	return 0
}
