//go:build race

package simplify_test

const raceEnabled = true
