// Package pmtilesjs runs the real pmtiles npm reader (script.mjs beside this
// file, with pmtiles, @mapbox/vector-tile and pbf pinned in package.json) on
// an archive, so that tests check archives against an independent reader.
// Install it with: npm ci --prefix internal/pmtilesjs
package pmtilesjs

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Dir is the directory of the node project.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// Read runs script.mjs on archive for the tiles z/x/y and returns the JSON it
// prints: {header, metadata, tiles: [{z, x, y, tileId, found, bytes, layers}]}.
// It skips t, saying what to install, when node or the packages are missing.
func Read(t testing.TB, archive string, tiles ...[3]int) []byte {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found: install Node.js, then npm ci --prefix internal/pmtilesjs")
	}
	if _, err := os.Stat(filepath.Join(Dir(), "node_modules", "pmtiles")); err != nil {
		t.Skip("pmtiles npm reader not installed: run npm ci --prefix internal/pmtilesjs")
	}
	args := []string{filepath.Join(Dir(), "script.mjs"), archive}
	for _, p := range tiles {
		args = append(args, fmt.Sprintf("%d/%d/%d", p[0], p[1], p[2]))
	}
	cmd := exec.Command(node, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pmtiles npm reader: %v\n%s", err, stderr.String())
	}
	return out
}
