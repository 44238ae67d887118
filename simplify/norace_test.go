//go:build !race

package simplify_test

const raceEnabled = false
