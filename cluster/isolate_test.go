package cluster

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mapcluster/mapcluster"
	"github.com/mapcluster/mapcluster/sample"
)

func TestIsolationChangesNothing(t *testing.T) {
	t.Parallel()
	cities := loadLngLatCSV(t, worldCitiesPath)
	synth := syntheticPoints(30000, 5)
	synthPts := func(n int) *mapcluster.Points {
		return &mapcluster.Points{Lng: synth.Lng[:n], Lat: synth.Lat[:n]}
	}
	cases := []struct {
		name string
		opts Options
	}{
		{"defaults", DefaultOptions()},
		{"r60 z20", Options{MaxZoom: 20, Radius: 60}},
		{"minzoom 3 extent 256", Options{MinZoom: 3, MaxZoom: 16, Extent: 256}},
		{"maxzoom 30", Options{MaxZoom: 30, Radius: 10}},
		{"one zoom", Options{MinZoom: 9, MaxZoom: 9}},
		{"minpoints 5 r60", Options{MaxZoom: 16, MinPoints: 5, Radius: 60}},
		{"minpoints 3 z20", Options{MaxZoom: 20, MinPoints: 3, Radius: 30}},
	}
	nCities, nSynth := 40000, 30000
	if testing.Short() {
		// -short is the race-detector run: smaller sets, same paths.
		nCities, nSynth = 6000, 4000
		cases = append(cases[:2], cases[5]) // and one with leftovers
	}
	for _, c := range cases {
		for _, data := range []struct {
			name string
			n    int
		}{{"cities", nCities}, {"synthetic", nSynth}} {
			t.Run(c.name+"/"+data.name, func(t *testing.T) {
				t.Parallel()
				var pts *mapcluster.Points
				if data.name == "cities" {
					pts = &mapcluster.Points{Lng: cities.Lng[:data.n], Lat: cities.Lat[:data.n]}
				} else {
					pts = synthPts(data.n)
				}
				on, err := Build(context.Background(), pts, c.opts)
				if err != nil {
					t.Fatal(err)
				}
				off := c.opts
				off.noIsolation = true
				ref, err := Build(context.Background(), pts, off)
				if err != nil {
					t.Fatal(err)
				}
				isolated := 0
				for _, l := range on.iso {
					isolated += len(l.items)
				}
				if isolated == 0 && c.name == "defaults" {
					t.Fatal("no point was isolated: the test would not exercise isolation")
				}
				if got, want := snapshotOf(t, on, true), snapshotOf(t, ref, true); got != want {
					t.Fatalf("isolating %d points changed the output", isolated)
				}
			})
		}
	}
}

// TestIsolationZoomsAreSound checks the bound by brute force: a point
// isolated from zoom v has no other point within 3r(v).
func TestIsolationZoomsAreSound(t *testing.T) {
	t.Parallel()
	pts := syntheticPoints(4000, 9)
	n := pts.Len()
	x, y := make([]int32, n), make([]int32, n)
	for i := range n {
		x[i], y[i] = encode(lngX(pts.Lng[i])), encode(latY(pts.Lat[i]))
	}
	for _, o := range []Options{DefaultOptions(), {MaxZoom: 12, Radius: 80, Extent: 512}, {MinZoom: 2, MaxZoom: 24, Radius: 40, Extent: 256}} {
		o = o.withDefaults()
		ziso, err := isolationZooms(context.Background(), x, y, o, nil, &sortScratch{})
		if err != nil {
			t.Fatal(err)
		}
		counted := 0
		for p, v := range ziso {
			if int(v) > o.MaxZoom {
				continue
			}
			counted++
			if int(v) < o.MinZoom {
				t.Fatalf("point %d: isolation zoom %d below min zoom %d", p, v, o.MinZoom)
			}
			r3 := 3 * zoomRadius(o.Radius, o.Extent, int(v))
			for q := range n {
				if q != p && math.Sqrt(sqDist(x[p], y[p], x[q], y[q])) <= r3 {
					t.Fatalf("options %+v: point %d is isolated from zoom %d but point %d is %.0f units away (3r = %.0f)",
						o, p, v, q, math.Sqrt(sqDist(x[p], y[p], x[q], y[q])), r3)
				}
			}
		}
		if counted == 0 {
			t.Fatalf("options %+v: no point isolated", o)
		}
	}
}

// TestIsolationZoomsAreTight checks that points are let through by their
// distances, not by empty blocks of cells: in pairs 7.5r(10) apart, each
// pair far from the others, every point is untouched from zoom 9 up (3r(9)
// = 6r(10) < 7.5r(10) < 3r(8)), though at zoom 9 most pairs fall into
// neighbouring cells. On a random set, where cells fill up, the answer may
// only be later than the exact one, never earlier.
func TestIsolationZoomsAreTight(t *testing.T) {
	t.Parallel()
	o := DefaultOptions().withDefaults()
	r10 := zoomRadius(o.Radius, o.Extent, 10)
	var x, y []int32
	const side = 40
	step := float64(1<<31) / (side + 2)
	for i := range side * side {
		cx := -float64(1<<30) + step*float64(1+i%side) + step*0.3*math.Sin(float64(i))
		cy := -float64(1<<30) + step*float64(1+i/side) + step*0.3*math.Cos(float64(i)*1.7)
		a := float64(i) * 0.618
		x = append(x, int32(cx), int32(cx+7.5*r10*math.Cos(a)))
		y = append(y, int32(cy), int32(cy+7.5*r10*math.Sin(a)))
	}
	tm := newTeam(2)
	defer tm.stop()
	ziso, err := isolationZooms(context.Background(), x, y, o, tm, &sortScratch{})
	if err != nil {
		t.Fatal(err)
	}
	for p, v := range ziso {
		if v != 9 {
			t.Fatalf("point %d of a pair 7.5r(10) apart: isolation zoom %d, want 9", p, v)
		}
	}

	pts := syntheticPoints(3000, 4)
	n := pts.Len()
	x, y = make([]int32, n), make([]int32, n)
	for i := range n {
		x[i], y[i] = encode(lngX(pts.Lng[i])), encode(latY(pts.Lat[i]))
	}
	ziso, err = isolationZooms(context.Background(), x, y, o, nil, &sortScratch{})
	if err != nil {
		t.Fatal(err)
	}
	exact := 0
	for p := range n {
		// the lowest zoom from which no other point lies within 3r
		want := o.MinZoom
		for q := range n {
			if q == p {
				continue
			}
			d := math.Sqrt(sqDist(x[p], y[p], x[q], y[q]))
			for want <= o.MaxZoom && d <= 3*zoomRadius(o.Radius, o.Extent, want) {
				want++
			}
		}
		switch got := int(ziso[p]); {
		case got < want:
			t.Fatalf("point %d: isolation zoom %d, but another point is within 3r(%d)", p, got, want-1)
		case got == want:
			exact++
		}
	}
	if exact < n*9/10 {
		t.Errorf("only %d of %d points have their exact isolation zoom", exact, n)
	}
}

// BenchmarkIsolationZooms finds the isolation zooms of the 135,233 world
// cities with the default options, on a team of GOMAXPROCS workers
// (-test.cpu 1,2), as a build does: the phase alone, sort included, with
// a new sort scratch each time as a build has.
func BenchmarkIsolationZooms(b *testing.B) {
	pts := loadLngLatCSV(b, worldCitiesPath)
	n := pts.Len()
	x, y := make([]int32, n), make([]int32, n)
	for i := range n {
		x[i], y[i] = encode(lngX(pts.Lng[i])), encode(latY(pts.Lat[i]))
	}
	b.ReportAllocs()
	b.ResetTimer()
	// Not b.Loop: with a -test.cpu list, a b.Loop benchmark ran at the
	// GOMAXPROCS of another entry of the list (go1.26.8; BENCHMARKS.md,
	// session 9). One -test.cpu value per process is safe either way.
	o := DefaultOptions().withDefaults()
	tm := newTeam(o.Workers)
	defer tm.stop()
	for range b.N {
		if _, err := isolationZooms(context.Background(), x, y, o, tm, &sortScratch{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestIsolationZoomsMatchGolden pins every point's isolation zoom on real,
// jittered and synthetic sets (uniform, piles, tight blobs, lattices on the
// cells' edges), for several options, on 1 and 2 workers, to the hashes in
// testdata/isolation_zooms.golden.
func TestIsolationZoomsMatchGolden(t *testing.T) {
	t.Parallel()
	type set struct {
		name string
		x, y []int32
	}
	var sets []set
	project := func(name string, pts *mapcluster.Points) {
		n := pts.Len()
		x, y := make([]int32, n), make([]int32, n)
		for i := range n {
			x[i], y[i] = encode(lngX(pts.Lng[i])), encode(latY(pts.Lat[i]))
		}
		sets = append(sets, set{name, x, y})
	}
	nCities, nJitter, nSynth := 135233, 200000, 60000
	if testing.Short() {
		nCities, nJitter, nSynth = 20000, 20000, 8000
	}
	cities := loadLngLatCSV(t, worldCitiesPath)
	project("cities", &mapcluster.Points{Lng: cities.Lng[:min(nCities, cities.Len())], Lat: cities.Lat[:min(nCities, cities.Len())]})
	jit, err := sample.Jittered(context.Background(), nJitter, 7)
	if err != nil {
		t.Fatal(err)
	}
	project("jittered", jit)
	project("synthetic", syntheticPoints(nSynth, 11))
	project("piles", pilePoints(nSynth/4))
	rng := rand.New(rand.NewPCG(21, 22))
	var s set
	s.name = "uniform"
	for range nSynth {
		s.x = append(s.x, int32(rng.Uint32()))
		s.y = append(s.y, int32(rng.Uint32()))
	}
	sets = append(sets, s)
	s = set{name: "blobs"}
	for len(s.x) < nSynth {
		cx, cy := float64(int32(rng.Uint32())), float64(int32(rng.Uint32()))
		sd := math.Ldexp(1, 8+rng.IntN(14))
		for range 1 + rng.IntN(200) {
			s.x = append(s.x, int32(max(math.MinInt32, min(math.MaxInt32, cx+rng.NormFloat64()*sd))))
			s.y = append(s.y, int32(max(math.MinInt32, min(math.MaxInt32, cy+rng.NormFloat64()*sd))))
		}
	}
	sets = append(sets, s)
	s = set{name: "lattice"}
	for i := range nSynth / 2 {
		// points a power of two apart, off by one now and then, so that
		// neighbours sit on either side of cell edges at many zooms
		step := int32(1) << (10 + i%9)
		base := int32(rng.Uint32()) &^ (step - 1)
		s.x = append(s.x, base+int32(i%3)-1, base+step-int32(i%2))
		s.y = append(s.y, base/3*2, base/3*2+step*int32(i%3-1))
	}
	sets = append(sets, s)

	opts := []Options{
		DefaultOptions(),
		{MaxZoom: 20, Radius: 60},
		{MinZoom: 3, MaxZoom: 16, Extent: 256},
		{MaxZoom: 30, Radius: 10},
		{MinZoom: 9, MaxZoom: 9},
		{MinZoom: 2, MaxZoom: 24, Radius: 40, Extent: 256},
		{MaxZoom: 8, Radius: 120},
	}
	// One line per set and options: the sizes, the number of isolated
	// points and a hash of every point's zoom. The file was written by the
	// implementation before the single-walk rewrite of session 9, which
	// matched it point for point on all of these sets (checked against a
	// copy of the earlier code, since removed); -update rewrites it.
	mode := "full"
	if testing.Short() {
		mode = "short"
	}
	byOne := map[string]string{} // the lines of 1 worker, by set and options
	var lines []string
	for _, w := range []int{1, 2} {
		tm := newTeam(w)
		defer tm.stop()
		for _, s := range sets {
			for k, o := range opts {
				o = o.withDefaults()
				got, err := isolationZooms(context.Background(), s.x, s.y, o, tm, &sortScratch{})
				if err != nil {
					t.Fatal(err)
				}
				isolated := 0
				for _, v := range got {
					if int(v) <= o.MaxZoom {
						isolated++
					}
				}
				name := fmt.Sprintf("%s %s options%d", mode, s.name, k)
				line := fmt.Sprintf("%s points=%d isolated=%d sha256=%x", name, len(got), isolated, sha256.Sum256(got))
				if w == 1 {
					byOne[name] = line
					lines = append(lines, line)
				} else if line != byOne[name] {
					t.Errorf("2 workers: %s\n1 worker:  %s", line, byOne[name])
				}
			}
		}
	}
	path := filepath.Join("testdata", "isolation_zooms.golden")
	data, err := os.ReadFile(path)
	if err != nil && !*update {
		t.Fatalf("%v (run go test ./cluster -run IsolationZoomsMatchGolden -update to create it)", err)
	}
	// The file holds the lines of both modes; this run checks its own.
	var want, other []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		switch {
		case strings.HasPrefix(l, mode+" "):
			want = append(want, l)
		case l != "":
			other = append(other, l)
		}
	}
	slices.Sort(lines)
	if *update {
		all := append(other, lines...)
		slices.Sort(all)
		if err := os.WriteFile(path, []byte(strings.Join(all, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !slices.Equal(lines, want) {
		t.Errorf("isolation zooms differ from %s (run with -update if the change is intended)\ngot:\n%s\nwant:\n%s", path, strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
