package simplify

import (
	"slices"
	"testing"
)

// TestLevelReuse builds every zoom of countries-50m in a row on one
// levelWork, from the top, each level reusing the one above when that one
// restored nothing (thresholdFrom, staticCheckChanged), and checks each
// against the same level built alone on fresh scratch space.
func TestLevelReuse(t *testing.T) {
	t.Parallel()
	fc := loadGz(t, "testdata/countries-50m.geojson.gz")
	for _, opts := range []Options{
		{MinZoom: 0, MaxZoom: 14},
		{MinZoom: 0, MaxZoom: 14, Method: DouglasPeucker, ToleranceScale: 0.5, KeepShapes: true},
	} {
		b := prepareLevels(t, fc, opts)
		opts := *b.opts                             // normalized
		b.schedule(opts.MaxZoom - opts.MinZoom + 1) // for shortcutRoom
		w := new(levelWork)
		above, reused := 0.0, 0
		for z := opts.MaxZoom; z >= opts.MinZoom; z-- {
			if above > 0 {
				reused++
			}
			got := b.buildLevelOn(w, z, above)
			alone := new(levelWork)
			want := b.buildLevelOn(alone, z, 0)
			if got.Restored != want.Restored || got.Vertices != want.Vertices || !slices.Equal(got.out.kept, want.out.kept) {
				t.Fatalf("%v z%d: reusing the level above gives %d restored, %d vertices; alone %d, %d (or other vertices)",
					opts.Method, z, got.Restored, got.Vertices, want.Restored, want.Vertices)
			}
			// The links the next level starts from.
			if w.prevTol != alone.prevTol || (w.prevTol > 0 && !slices.Equal(w.prevShorts, alone.prevShorts)) || !slices.Equal(w.loRun, alone.loRun) || w.nseg != alone.nseg {
				t.Fatalf("%v z%d: reusing the level above leaves other shortcuts, runs or counts", opts.Method, z)
			}
			for a, act := range w.active {
				if !act {
					continue
				}
				if w.arcKept[a] != alone.arcKept[a] {
					t.Fatalf("%v z%d: arc %d: %d kept segments, alone %d", opts.Method, z, a, w.arcKept[a], alone.arcKept[a])
				}
				for v := b.t.start[a]; v < b.t.start[a+1]-1; v++ {
					if w.kept[v] && w.next[v] != alone.next[v] {
						t.Fatalf("%v z%d: vertex %d links to %d, alone to %d", opts.Method, z, v, w.next[v], alone.next[v])
					}
				}
			}
			above = 0
			if got.Restored == 0 {
				above = got.Tolerance
			}
		}
		if reused == 0 {
			t.Errorf("%v: no level reused the one above", opts.Method)
		}
	}
}
