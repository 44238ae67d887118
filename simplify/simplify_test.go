package simplify_test

import (
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/mapcluster/mapcluster"
	"github.com/mapcluster/mapcluster/simplify"
	"github.com/mapcluster/mapcluster/simplify/validate"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// wiggle returns the points from a to b (excluded) with n-1 points between,
// displaced sideways by amp·sin: a border with detail to simplify.
func wiggle(a, b orb.Point, n int, amp float64, seed float64) []orb.Point {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l := math.Hypot(dx, dy)
	nx, ny := -dy/l, dx/l
	var out []orb.Point
	for i := 0; i < n; i++ {
		t := float64(i) / float64(n)
		off := 0.0
		if i > 0 {
			off = amp * (math.Sin(t*17+seed) + 0.5*math.Sin(t*53+2*seed) + 0.25*math.Sin(t*131+seed))
		}
		out = append(out, orb.Point{a[0] + t*dx + off*nx, a[1] + t*dy + off*ny})
	}
	return out
}

// ring closes a path of corners, each side wiggled.
func ring(corners []orb.Point, n int, amp float64, seed float64) orb.Ring {
	var r orb.Ring
	for i := range corners {
		r = append(r, wiggle(corners[i], corners[(i+1)%len(corners)], n, amp, seed+float64(i))...)
	}
	return append(r, r[0])
}

func reverse(r orb.Ring) orb.Ring {
	out := make(orb.Ring, len(r))
	for i := range r {
		out[i] = r[len(r)-1-i]
	}
	return out
}

func feature(id string, g orb.Geometry) *geojson.Feature {
	f := geojson.NewFeature(g)
	f.ID = id
	f.Properties = geojson.Properties{"name": id}
	return f
}

// goldenCases are the hand-made cases whose output is kept in
// testdata/golden.
func goldenCases() map[string][]*geojson.Feature {
	cases := map[string][]*geojson.Feature{}

	// Two squares sharing a wiggly edge.
	shared := wiggle(orb.Point{1, 0}, orb.Point{1, 1}, 40, 0.01, 1)
	shared = append(shared, orb.Point{1, 1})
	left := orb.Ring{}
	left = append(left, wiggle(orb.Point{0, 0}, orb.Point{1, 0}, 20, 0.01, 2)...)
	left = append(left, shared[:len(shared)-1]...)
	left = append(left, wiggle(orb.Point{1, 1}, orb.Point{0, 1}, 20, 0.01, 3)...)
	left = append(left, wiggle(orb.Point{0, 1}, orb.Point{0, 0}, 20, 0.01, 4)...)
	left = append(left, left[0])
	right := orb.Ring{}
	right = append(right, wiggle(orb.Point{1, 0}, orb.Point{2, 0}, 20, 0.01, 5)...)
	right = append(right, wiggle(orb.Point{2, 0}, orb.Point{2, 1}, 20, 0.01, 6)...)
	right = append(right, wiggle(orb.Point{2, 1}, orb.Point{1, 1}, 20, 0.01, 7)...)
	for i := len(shared) - 1; i > 0; i-- {
		right = append(right, shared[i])
	}
	right = append(right, right[0])
	cases["shared-edge"] = []*geojson.Feature{
		feature("left", orb.Polygon{left}),
		feature("right", orb.Polygon{right}),
	}

	// An island chain: islands from 0.2° down to 0.005° across.
	var chain orb.MultiPolygon
	for i := 0; i < 6; i++ {
		s := 0.2 / math.Pow(2.2, float64(i))
		x := float64(i) * 0.3
		chain = append(chain, orb.Polygon{ring([]orb.Point{{x, 0}, {x + s, 0}, {x + s, s}, {x, s}}, 8, s/30, float64(i))})
	}
	cases["island-chain"] = []*geojson.Feature{feature("chain", chain)}

	// A lake inside a country, with an island country in the lake.
	outer := ring([]orb.Point{{0, 0}, {2, 0}, {2, 2}, {0, 2}}, 30, 0.01, 1)
	lake := reverse(ring([]orb.Point{{0.5, 0.5}, {1.5, 0.5}, {1.5, 1.5}, {0.5, 1.5}}, 20, 0.01, 2))
	island := ring([]orb.Point{{0.9, 0.9}, {1.1, 0.9}, {1.1, 1.1}, {0.9, 1.1}}, 10, 0.004, 3)
	cases["lake"] = []*geojson.Feature{
		feature("country", orb.Polygon{outer, lake}),
		feature("island", orb.Polygon{island}),
	}

	// A narrow inlet: its left side has a thin spike whose tip (x 0.62)
	// reaches past the chord (x 0.575) of the right side's bulge (x 0.625). Flattening the bulge alone
	// would cross the tooth, so vertices of the bulge must come back.
	spike := orb.Ring{{0, 0}, {1, 0}, {1, 2}, {0.575, 2}, {0.575, 1.7}}
	for i := 1; i < 10; i++ {
		y := 1.7 - 0.04*float64(i)
		u := (y - 1.5) / 0.2
		spike = append(spike, orb.Point{0.575 + 0.05*(1-u*u), y})
	}
	spike = append(spike, orb.Point{0.575, 1.3}, orb.Point{0.575, 1.0}, orb.Point{0.5, 1.0},
		orb.Point{0.5, 1.2}, orb.Point{0.62, 1.5}, orb.Point{0.5, 1.8}, orb.Point{0.5, 2}, orb.Point{0, 2}, orb.Point{0, 0})
	cases["spike"] = []*geojson.Feature{feature("spike", orb.Polygon{spike})}
	return cases
}

type goldenLevel struct {
	Zoom     int                        `json:"zoom"`
	Vertices int                        `json:"vertices"`
	Restored int                        `json:"restored"`
	Features *geojson.FeatureCollection `json:"features"`
}

func TestGolden(t *testing.T) {
	for name, in := range goldenCases() {
		t.Run(name, func(t *testing.T) {
			opts := simplify.Options{MinZoom: 0, MaxZoom: 8}
			res, err := simplify.Build(context.Background(), in, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Repairs) > 0 {
				t.Errorf("repairs on clean input: %v", res.Repairs)
			}
			checkLevels(t, in, res, nil)
			var out []goldenLevel
			for _, lv := range res.Levels {
				fc := geojson.NewFeatureCollection()
				fc.Features = lv.Features()
				out = append(out, goldenLevel{lv.Zoom, lv.Vertices, lv.Restored, fc})
			}
			got, err := json.MarshalIndent(out, "", " ")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", name+".json")
			if *update {
				if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
			}
			if strings.TrimSpace(string(want)) != strings.TrimSpace(string(got)) {
				t.Errorf("%s differs from the golden file; inspect and rerun with -update if the change is intended", path)
			}
		})
	}
}

// TestSpikeRestored checks that the spike case needs restored vertices
// and stays valid.
func TestSpikeRestored(t *testing.T) {
	in := goldenCases()["spike"]
	res, err := simplify.Build(context.Background(), in, simplify.Options{MinZoom: 0, MaxZoom: 8})
	if err != nil {
		t.Fatal(err)
	}
	restored := 0
	for _, lv := range res.Levels {
		restored += lv.Restored
		for _, p := range validate.Features(lv.Features()) {
			t.Errorf("z%d: %v", lv.Zoom, p)
		}
	}
	if restored == 0 {
		t.Error("no vertex restored: the case no longer exercises the repair")
	}
}

// TestIslandChain checks that small islands are dropped at low zoom, and
// kept with KeepShapes (the largest ring at least).
func TestIslandChain(t *testing.T) {
	in := goldenCases()["island-chain"]
	res, err := simplify.Build(context.Background(), in, simplify.Options{MinZoom: 0, MaxZoom: 8})
	if err != nil {
		t.Fatal(err)
	}
	n0 := 0
	if lv := res.Level(0); len(lv.Features()) > 0 {
		n0 = len(lv.Features()[0].Geometry.(orb.MultiPolygon))
	}
	n8 := len(res.Level(8).Features()[0].Geometry.(orb.MultiPolygon))
	if n0 >= n8 || n8 != 6 {
		t.Errorf("islands at z0: %d, at z8: %d; want fewer at z0 and all 6 at z8", n0, n8)
	}
	res, err = simplify.Build(context.Background(), in, simplify.Options{MinZoom: 0, MaxZoom: 0, MinArea: 1e9, KeepShapes: true})
	if err != nil {
		t.Fatal(err)
	}
	if lv := res.Level(0); len(lv.Features()) != 1 || len(lv.Features()[0].Geometry.(orb.MultiPolygon)) != 1 {
		t.Errorf("keep-shapes: want the largest island kept, got %v", lv.Features())
	}
	res, err = simplify.Build(context.Background(), in, simplify.Options{MinZoom: 0, MaxZoom: 0, MinArea: 1e9})
	if err != nil {
		t.Fatal(err)
	}
	if lv := res.Level(0); len(lv.Features()) != 0 {
		t.Errorf("without keep-shapes every island is below the minimum area; got %d features", len(lv.Features()))
	}
}

// TestLakeKept checks that the lake (a hole) is kept at every zoom.
func TestLakeKept(t *testing.T) {
	in := goldenCases()["lake"]
	// The lake (about 130 square units at z0) is below MinArea; the country
	// (about 520) is not. Holes are kept whatever their size.
	res, err := simplify.Build(context.Background(), in, simplify.Options{MinZoom: 0, MaxZoom: 8, MinArea: 300})
	if err != nil {
		t.Fatal(err)
	}
	for _, lv := range res.Levels {
		p := lv.Features()[0].Geometry.(orb.Polygon)
		if len(p) != 2 || len(p[1]) < 4 {
			t.Errorf("z%d: country has %d rings, want shell and lake", lv.Zoom, len(p))
		}
	}
}

func TestDeterministicAcrossWorkers(t *testing.T) {
	in := load(t, path50m)
	var first *simplify.Result
	for _, w := range []int{1, 2, 5} {
		res, err := simplify.Build(context.Background(), in, simplify.Options{MinZoom: 0, MaxZoom: 8, Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = res
			continue
		}
		for i := range res.Levels {
			if !reflect.DeepEqual(res.Levels[i].Features(), first.Levels[i].Features()) {
				t.Fatalf("workers=%d: zoom %d differs from workers=1", w, res.Levels[i].Zoom)
			}
		}
		if !reflect.DeepEqual(res.Repairs, first.Repairs) {
			t.Fatalf("workers=%d: repairs differ", w)
		}
	}
}

func TestMethods(t *testing.T) {
	in := goldenCases()["shared-edge"]
	counts := map[simplify.Method]int{}
	for _, m := range []simplify.Method{simplify.DouglasPeucker, simplify.Visvalingam, simplify.Weighted} {
		res, err := simplify.Build(context.Background(), in, simplify.Options{MinZoom: 2, MaxZoom: 6, Method: m})
		if err != nil {
			t.Fatal(err)
		}
		checkLevels(t, in, res, nil)
		prev := 0
		for _, lv := range res.Levels {
			if lv.Vertices < prev {
				t.Errorf("%v: z%d has %d vertices, fewer than the zoom before (%d)", m, lv.Zoom, lv.Vertices, prev)
			}
			prev = lv.Vertices
		}
		counts[m] = res.Level(4).Vertices
	}
	t.Logf("vertices at z4 by method: %v", counts)
	for _, s := range []string{"dp", "visvalingam", "weighted"} {
		m, err := simplify.ParseMethod(s)
		if err != nil || m.String() != s {
			t.Errorf("ParseMethod(%q) = %v, %v", s, m, err)
		}
	}
	if _, err := simplify.ParseMethod("nope"); mapcluster.ErrorCodeOf(err) != mapcluster.EInvalid {
		t.Errorf("ParseMethod(nope): %v", err)
	}
}

func TestLines(t *testing.T) {
	// Two lines share a wiggly middle section.
	mid := wiggle(orb.Point{1, 0}, orb.Point{2, 0}, 50, 0.01, 1)
	mid = append(mid, orb.Point{2, 0})
	a := append(orb.LineString(wiggle(orb.Point{0, 1}, orb.Point{1, 0}, 30, 0.01, 2)), mid...)
	b := orb.LineString(wiggle(orb.Point{0, -1}, orb.Point{1, 0}, 30, 0.01, 3))
	b = append(b, mid...)
	b = append(b, wiggle(orb.Point{2, 0}, orb.Point{3, -1}, 30, 0.01, 4)...)
	b = append(b, orb.Point{3, -1})
	in := []*geojson.Feature{feature("a", a), feature("b", orb.MultiLineString{b})}
	res, err := simplify.Build(context.Background(), in, simplify.Options{MinZoom: 0, MaxZoom: 6})
	if err != nil {
		t.Fatal(err)
	}
	for _, lv := range res.Levels {
		la := lv.Features()[0].Geometry.(orb.LineString)
		lb := lv.Features()[1].Geometry.(orb.MultiLineString)[0]
		if la[len(la)-1] != (orb.Point{2, 0}) || la[0] != (orb.Point{0, 1}) {
			t.Errorf("z%d: line a lost an end: %v .. %v", lv.Zoom, la[0], la[len(la)-1])
		}
		// The shared section is identical in both.
		var sa, sb []orb.Point
		for _, p := range la {
			if p[0] >= 1 {
				sa = append(sa, p)
			}
		}
		for _, p := range lb {
			if p[0] >= 1 && p[0] <= 2 {
				sb = append(sb, p)
			}
		}
		if !reflect.DeepEqual(sa, sb) {
			t.Errorf("z%d: shared section differs: %d vs %d points", lv.Zoom, len(sa), len(sb))
		}
	}
}

func TestBadInput(t *testing.T) {
	sq := func(x float64) orb.Ring { return orb.Ring{{x, 0}, {x + 1, 0}, {x + 1, 1}, {x, 1}, {x, 0}} }
	bowtie := orb.Ring{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}
	touch := orb.Ring{{0, 0}, {2, 0}, {2, 2}, {1, 2}, {1, 1}, {1.5, 1.5}, {1.5, 1}, {1, 1}, {0, 2}, {0, 0}}
	open := orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 1}}
	degenerate := orb.Ring{{5, 5}, {6, 6}, {5, 5}}
	cases := []struct {
		name   string
		g      orb.Geometry
		repair string // kind expected when repaired
	}{
		{"bowtie", orb.Polygon{bowtie}, simplify.RepairSelfIntersection},
		{"self-touch", orb.Polygon{touch}, simplify.RepairSelfIntersection},
		{"open", orb.Polygon{open}, simplify.RepairOpen},
		{"degenerate", orb.MultiPolygon{{sq(10)}, {degenerate}}, simplify.RepairDegenerate},
		{"antimeridian", orb.Polygon{{{179, 0}, {-179, 0}, {-179, 1}, {179, 1}, {179, 0}}}, simplify.RepairAntimeridian},
		{"shared-edge-parts", orb.MultiPolygon{{sq(0)}, {sq(1)}}, simplify.RepairOverlap},
	}
	for _, c := range cases {
		in := []*geojson.Feature{feature(c.name, c.g)}
		res, err := simplify.Build(context.Background(), in, simplify.Options{MinZoom: 0, MaxZoom: 4})
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		found := false
		for _, r := range res.Repairs {
			found = found || r.Kind == c.repair
		}
		if !found {
			t.Errorf("%s: repairs %v, want one of kind %s", c.name, res.Repairs, c.repair)
		}
		for _, p := range validate.Features(res.Repaired) {
			t.Errorf("%s: repaired input invalid: %v", c.name, p)
		}
		for _, lv := range res.Levels {
			for _, p := range validate.Features(lv.Features()) {
				t.Errorf("%s z%d: %v", c.name, lv.Zoom, p)
			}
		}
		_, err = simplify.Build(context.Background(), in, simplify.Options{MinZoom: 0, MaxZoom: 4, Strict: true})
		if mapcluster.ErrorCodeOf(err) != mapcluster.EInvalid || !strings.Contains(err.Error(), "ring") || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s strict: got %v, want an EInvalid error naming the feature and ring", c.name, err)
		}
	}
	errCases := []struct {
		name string
		fs   []*geojson.Feature
		want string
	}{
		{"point", []*geojson.Feature{feature("p", orb.Point{0, 0})}, "is a Point"},
		{"range", []*geojson.Feature{feature("r", orb.Polygon{{{0, 0}, {200, 0}, {1, 1}, {0, 0}}})}, "out of range"},
		{"nan", []*geojson.Feature{feature("n", orb.Polygon{{{0, 0}, {math.NaN(), 0}, {1, 1}, {0, 0}}})}, "out of range"},
		{"mixed", []*geojson.Feature{feature("a", orb.Polygon{sq(0)}), feature("b", orb.LineString{{0, 0}, {1, 1}})}, "cannot be mixed"},
		{"nil", []*geojson.Feature{{Type: "Feature"}}, "no geometry"},
	}
	for _, c := range errCases {
		_, err := simplify.Build(context.Background(), c.fs, simplify.Options{MaxZoom: 2})
		if mapcluster.ErrorCodeOf(err) != mapcluster.EInvalid || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want EInvalid containing %q", c.name, err, c.want)
		}
	}
	if _, err := simplify.Build(context.Background(), nil, simplify.Options{MinZoom: 3, MaxZoom: 2}); mapcluster.ErrorFieldOf(err) != "max-zoom" {
		t.Errorf("bad zoom range: %v", err)
	}
}

func TestTolerance(t *testing.T) {
	if got := simplify.Tolerance(0, 12, 1); math.Abs(got-simplify.WorldSize/4096) > 1e-9 {
		t.Errorf("Tolerance(0) = %v", got)
	}
	if got := simplify.Tolerance(12, 12, 2); math.Abs(got-2*simplify.WorldSize/(1<<24)) > 1e-12 {
		t.Errorf("Tolerance(12, scale 2) = %v", got)
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := simplify.Build(ctx, goldenCases()["lake"], simplify.Options{MaxZoom: 4})
	if err == nil {
		t.Error("Build on a canceled context succeeded")
	}
}
