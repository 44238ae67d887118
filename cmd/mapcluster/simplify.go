package main

import (
	"context"

	"github.com/mapcluster/mapcluster"
)

// SimplifyCmd is `mapcluster simplify`. (Placeholder: being built for issue 3.)
type SimplifyCmd struct {
	Input string `required:"" help:"Input GeoJSON file (.gz accepted)." type:"existingfile"`
}

// Run runs the command.
func (c *SimplifyCmd) Run(ctx context.Context) error {
	return mapcluster.Errorf(mapcluster.EUnavailable, "simplify is not built yet")
}
