package sample

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/mapcluster/mapcluster"
	"github.com/mapcluster/mapcluster/input"
)

// Jittered returns n points made from the world cities: point k is city
// k mod 135,233 moved by up to ±0.25° in longitude and latitude (uniformly,
// latitude kept within ±85°), from a PCG stream seeded with seed. The same n
// and seed give the same points on every machine. Points carry no
// properties. It is the benchmark set for large inputs: real density
// contrasts, at any size.
func Jittered(ctx context.Context, n int, seed uint64) (*mapcluster.Points, error) {
	if n < 0 {
		return nil, mapcluster.InvalidField("sample-size", "must be 0 or more, got %d", n)
	}
	cities, _, err := input.Decode(ctx, bytes.NewReader(WorldCities), input.CSV, WorldCitiesName, input.Options{})
	if err != nil {
		return nil, fmt.Errorf("read sample: %w", err)
	}
	rng := rand.New(rand.NewPCG(seed, 0x6d6170636c7573))
	pts := &mapcluster.Points{Lng: make([]float64, n), Lat: make([]float64, n)}
	m := cities.Len()
	for k := range n {
		c := k % m
		lng := cities.Lng[c] + (rng.Float64()-0.5)*0.5
		lat := cities.Lat[c] + (rng.Float64()-0.5)*0.5
		if lng > 180 {
			lng -= 360
		} else if lng < -180 {
			lng += 360
		}
		pts.Lng[k] = lng
		pts.Lat[k] = math.Max(-85, math.Min(85, lat))
		if k%(1<<20) == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
	}
	return pts, nil
}
