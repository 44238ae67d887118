//go:build race

package tile

// raceEnabled skips the slowest real-data tests under the race detector,
// where decoding countries-10m alone takes half a minute.
const raceEnabled = true
