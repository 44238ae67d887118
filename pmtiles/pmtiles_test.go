package pmtiles

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mapcluster/mapcluster"
	"github.com/mapcluster/mapcluster/internal/pmtilesjs"
	"github.com/paulmach/orb"
)

func TestTileID(t *testing.T) {
	tests := []struct {
		z, x, y int
		id      uint64
	}{
		{0, 0, 0, 0},
		{1, 0, 0, 1},
		{1, 0, 1, 2},
		{1, 1, 1, 3},
		{1, 1, 0, 4},
		{2, 0, 0, 5},
		{2, 1, 0, 6},  // Hilbert order at z2 starts (0,0),(1,0),(1,1),(0,1)
		{2, 1, 1, 7},  //
		{2, 0, 1, 8},  //
		{2, 3, 0, 20}, // last tile of z2
		{3, 0, 0, 21},
		{12, 3423, 1763, 19078479}, // cross-checked with pmtiles.js zxyToTileId
	}
	for _, tt := range tests {
		got, err := TileID(tt.z, tt.x, tt.y)
		if err != nil || got != tt.id {
			t.Errorf("TileID(%d,%d,%d) = %d, %v; want %d", tt.z, tt.x, tt.y, got, err, tt.id)
		}
		z, x, y := TileZXY(tt.id)
		if z != tt.z || x != tt.x || y != tt.y {
			t.Errorf("TileZXY(%d) = %d/%d/%d; want %d/%d/%d", tt.id, z, x, y, tt.z, tt.x, tt.y)
		}
	}
}

func TestTileIDRoundTrip(t *testing.T) {
	// Every tile of zooms 0..7 gets a distinct id, and ids are consecutive.
	var want uint64
	for z := 0; z <= 7; z++ {
		n := 1 << z
		seen := make([]bool, n*n)
		for x := 0; x < n; x++ {
			for y := 0; y < n; y++ {
				id, err := TileID(z, x, y)
				if err != nil {
					t.Fatal(err)
				}
				if id < zoomBase(z) || id >= zoomBase(z+1) || seen[id-zoomBase(z)] {
					t.Fatalf("TileID(%d,%d,%d) = %d: out of range or repeated", z, x, y, id)
				}
				seen[id-zoomBase(z)] = true
				if gz, gx, gy := TileZXY(id); gz != z || gx != x || gy != y {
					t.Fatalf("TileZXY(TileID(%d,%d,%d)) = %d/%d/%d", z, x, y, gz, gx, gy)
				}
			}
		}
		want += uint64(n * n)
		if zoomBase(z+1) != want {
			t.Fatalf("zoomBase(%d) = %d, want %d", z+1, zoomBase(z+1), want)
		}
	}
	// Neighbouring ids are neighbouring tiles (the Hilbert property).
	for id := zoomBase(9); id+1 < zoomBase(10); id++ {
		_, x1, y1 := TileZXY(id)
		_, x2, y2 := TileZXY(id + 1)
		if d := abs(x1-x2) + abs(y1-y2); d != 1 {
			t.Fatalf("ids %d and %d are tiles %d/%d and %d/%d", id, id+1, x1, y1, x2, y2)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		z := rng.IntN(MaxZoom + 1)
		x, y := rng.IntN(1<<z), rng.IntN(1<<z)
		id, err := TileID(z, x, y)
		if err != nil {
			t.Fatal(err)
		}
		if gz, gx, gy := TileZXY(id); gz != z || gx != x || gy != y {
			t.Fatalf("round trip %d/%d/%d gave %d/%d/%d", z, x, y, gz, gx, gy)
		}
	}
}

func TestTileIDInvalid(t *testing.T) {
	for _, c := range [][3]int{{-1, 0, 0}, {32, 0, 0}, {1, 2, 0}, {1, 0, 2}, {3, -1, 0}} {
		if _, err := TileID(c[0], c[1], c[2]); mapcluster.ErrorCodeOf(err) != mapcluster.EInvalid {
			t.Errorf("TileID(%v) error = %v, want an EInvalid error", c, err)
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// writeArchive adds the tiles in the given order and writes an archive.
func writeArchive(t testing.TB, tiles map[[3]int][]byte, order [][3]int, meta Metadata, cfg WriterConfig) ([]byte, Header) {
	t.Helper()
	ctx := context.Background()
	cfg.TempDir = t.TempDir()
	w, err := NewWriter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, k := range order {
		if err := w.Add(ctx, k[0], k[1], k[2], tiles[k]); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	h, err := w.Finish(ctx, &buf, meta)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), h
}

func openBytes(t testing.TB, b []byte) *Reader {
	t.Helper()
	r, err := NewReader(context.Background(), bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRoundTrip(t *testing.T) {
	tiles := map[[3]int][]byte{}
	var order [][3]int
	for z := 0; z <= 4; z++ {
		for x := 0; x < 1<<z; x++ {
			for y := 0; y < 1<<z; y += 2 {
				k := [3]int{z, x, y}
				tiles[k] = []byte(fmt.Sprintf("tile %d/%d/%d", z, x, y))
				order = append(order, k)
			}
		}
	}
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	meta := Metadata{
		Name: "test", Description: "a test", Attribution: "© nobody",
		VectorLayers: []VectorLayer{{ID: "l", Fields: map[string]string{"name": "String"}, MinZoom: 0, MaxZoom: 4}},
		Bounds:       orb.Bound{Min: orb.Point{-10.5, -20.25}, Max: orb.Point{30.125, 40}},
		Center:       orb.Point{1.5, 2.5}, CenterZoom: 3,
	}
	archive, h := writeArchive(t, tiles, order, meta, WriterConfig{TileType: rawType, TileCompression: CompressionNone})
	r := openBytes(t, archive)
	if r.Header() != h {
		t.Errorf("read header %+v\nwant %+v", r.Header(), h)
	}
	if h.MinZoom != 0 || h.MaxZoom != 4 || !h.Clustered || h.InternalCompression != CompressionGzip || h.TileCompression != CompressionNone || h.TileType != 99 {
		t.Errorf("header %+v", h)
	}
	if h.AddressedTiles != uint64(len(tiles)) || h.TileContents != uint64(len(tiles)) {
		t.Errorf("addressed %d contents %d, want %d", h.AddressedTiles, h.TileContents, len(tiles))
	}
	if h.Bounds != meta.Bounds || h.Center != meta.Center || h.CenterZoom != 3 {
		t.Errorf("bounds %v center %v %d", h.Bounds, h.Center, h.CenterZoom)
	}
	got := r.Metadata()
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(meta)
	if string(gotJSON) != string(wantJSON) || got.Bounds != meta.Bounds {
		t.Errorf("metadata %s, want %s", gotJSON, wantJSON)
	}
	ctx := context.Background()
	for k, want := range tiles {
		data, err := r.Tile(ctx, k[0], k[1], k[2])
		if err != nil || !bytes.Equal(data, want) {
			t.Fatalf("tile %v = %q, %v; want %q", k, data, err, want)
		}
	}
	// Odd rows were never added.
	_, err := r.Tile(ctx, 3, 1, 1)
	if !errors.Is(err, ErrTileNotFound) || mapcluster.ErrorCodeOf(err) != mapcluster.ENotFound {
		t.Errorf("missing tile error = %v", err)
	}
	if _, err := r.Tile(ctx, 3, 8, 0); mapcluster.ErrorCodeOf(err) != mapcluster.EInvalid {
		t.Errorf("out of range tile error = %v", err)
	}

	// The bytes do not depend on the order of Add calls.
	rand.New(rand.NewPCG(5, 6)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	again, _ := writeArchive(t, tiles, order, meta, WriterConfig{TileType: rawType, TileCompression: CompressionNone})
	if !bytes.Equal(archive, again) {
		t.Error("archive bytes depend on the order of Add")
	}
}

func TestDedupAndRunLength(t *testing.T) {
	land, sea := []byte("land"), []byte("sea")
	tiles := map[[3]int][]byte{}
	var order [][3]int
	// z3: every tile is sea except two land tiles; consecutive sea tiles
	// in Hilbert order must collapse into runs.
	for x := 0; x < 8; x++ {
		for y := 0; y < 8; y++ {
			k := [3]int{3, x, y}
			tiles[k] = sea
			order = append(order, k)
		}
	}
	tiles[[3]int{3, 5, 5}] = land
	tiles[[3]int{3, 0, 7}] = land
	archive, h := writeArchive(t, tiles, order, Metadata{}, WriterConfig{TileCompression: CompressionNone})
	if h.AddressedTiles != 64 || h.TileContents != 2 {
		t.Errorf("addressed %d contents %d, want 64 and 2", h.AddressedTiles, h.TileContents)
	}
	// Two land tiles split the sea run into at most three runs.
	if h.TileEntries > 5 {
		t.Errorf("tile entries = %d, want at most 5", h.TileEntries)
	}
	if h.TileDataLength != uint64(len(land)+len(sea)) {
		t.Errorf("tile data length = %d, want %d", h.TileDataLength, len(land)+len(sea))
	}
	r := openBytes(t, archive)
	for k, want := range tiles {
		got, err := r.Tile(context.Background(), k[0], k[1], k[2])
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("tile %v = %q, %v; want %q", k, got, err, want)
		}
	}
	if h.Bounds.Min.Lon() != -180 || h.Bounds.Max.Lon() != 180 {
		t.Errorf("derived bounds %v", h.Bounds)
	}
}

func TestDuplicateTile(t *testing.T) {
	ctx := context.Background()
	w, err := NewWriter(WriterConfig{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, d := range []string{"a", "b"} {
		if err := w.Add(ctx, 2, 1, 1, []byte(d)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(ctx, &bytes.Buffer{}, Metadata{}); !errors.Is(err, ErrDuplicateTile) {
		t.Errorf("Finish error = %v, want ErrDuplicateTile", err)
	}
	if err := w.Add(ctx, 0, 0, 0, []byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Add after Finish = %v, want ErrClosed", err)
	}
}

// manyTiles returns n distinct tiles scattered over zoom 12, in random
// order, so that the directory does not compress into the root.
func manyTiles(n int) (map[[3]int][]byte, [][3]int) {
	rng := rand.New(rand.NewPCG(7, 8))
	tiles := make(map[[3]int][]byte, n)
	order := make([][3]int, 0, n)
	for len(order) < n {
		k := [3]int{12, rng.IntN(4096), rng.IntN(4096)}
		if tiles[k] != nil {
			continue
		}
		tiles[k] = []byte(fmt.Sprintf("%d/%d/%d", k[0], k[1], k[2]))
		order = append(order, k)
	}
	return tiles, order
}

func TestLeafDirectories(t *testing.T) {
	tiles, order := manyTiles(100_000)
	archive, h := writeArchive(t, tiles, order, Metadata{Name: "many"}, WriterConfig{TileCompression: CompressionNone})
	if h.LeafLength == 0 {
		t.Fatal("100k distinct tiles did not make leaf directories")
	}
	if h.RootOffset+h.RootLength > maxRootLen {
		t.Errorf("root directory ends at %d, past 16 KiB", h.RootOffset+h.RootLength)
	}
	if h.TileEntries != 100_000 || h.TileContents != 100_000 {
		t.Errorf("entries %d contents %d", h.TileEntries, h.TileContents)
	}
	r := openBytes(t, archive)
	for _, k := range order {
		got, err := r.Tile(context.Background(), k[0], k[1], k[2])
		if err != nil || !bytes.Equal(got, tiles[k]) {
			t.Fatalf("tile %v = %q, %v", k, got, err)
		}
	}
	for _, k := range [][3]int{{12, 0, 0}, {12, 4095, 4095}, {11, 0, 0}, {13, 0, 0}} {
		if tiles[k] != nil {
			continue
		}
		if _, err := r.Tile(context.Background(), k[0], k[1], k[2]); !errors.Is(err, ErrTileNotFound) {
			t.Errorf("missing tile %v: %v", k, err)
		}
	}
}

func TestFinishFileAtomic(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "out.pmtiles")

	// A failing Finish leaves nothing behind.
	w, err := NewWriter(WriterConfig{TempDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.FinishFile(ctx, path, Metadata{}); !errors.Is(err, ErrNoTiles) {
		t.Errorf("FinishFile with no tiles = %v, want ErrNoTiles", err)
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("failed FinishFile left %v", names)
	}

	// A cancelled context fails too, and keeps an existing archive.
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, _ = NewWriter(WriterConfig{TempDir: dir})
	if err := w.Add(ctx, 0, 0, 0, []byte("x")); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := w.FinishFile(cctx, path, Metadata{}); !errors.Is(err, context.Canceled) {
		t.Errorf("FinishFile cancelled = %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("cancelled FinishFile replaced the archive")
	}

	w, _ = NewWriter(WriterConfig{TempDir: dir})
	if err := w.Add(ctx, 0, 0, 0, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.FinishFile(ctx, path, Metadata{Name: "n"}); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, dir); len(names) != 1 || names[0] != "out.pmtiles" {
		t.Errorf("directory holds %v, want only out.pmtiles", names)
	}
	r, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, err := r.Tile(ctx, 0, 0, 0); err != nil || string(got) != "x" {
		t.Errorf("tile = %q, %v", got, err)
	}
	if r.Metadata().Name != "n" {
		t.Errorf("metadata %+v", r.Metadata())
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func TestReaderRejectsGarbage(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("hello"), bytes.Repeat([]byte{0}, 200), append([]byte("PMTiles\x02"), make([]byte, 200)...)} {
		if _, err := NewReader(context.Background(), bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrInvalidHeader) {
			t.Errorf("NewReader(%q...) = %v, want ErrInvalidHeader", b[:min(len(b), 8)], err)
		}
	}
	// A header whose root directory points past the end of the file.
	tiles := map[[3]int][]byte{{0, 0, 0}: []byte("x")}
	archive, _ := writeArchive(t, tiles, [][3]int{{0, 0, 0}}, Metadata{}, WriterConfig{})
	cut := len(archive) - 1
	if _, err := NewReader(context.Background(), bytes.NewReader(archive[:cut]), int64(cut)); err == nil {
		t.Error("truncated archive opened without error")
	}
}

// TestPMTilesJS reads an archive with leaf directories and run-length
// entries with the pmtiles npm package (see internal/pmtilesjs).
func TestPMTilesJS(t *testing.T) {
	tiles, order := manyTiles(100_000)
	for x := 0; x < 4096; x++ { // a row of identical tiles that becomes runs
		k := [3]int{12, x, 500}
		if tiles[k] == nil {
			order = append(order, k)
		}
		tiles[k] = []byte("same")
	}
	tiles[[3]int{0, 0, 0}] = []byte("root")
	order = append(order, [3]int{0, 0, 0})
	dir := t.TempDir()
	path := filepath.Join(dir, "many.pmtiles")
	w, err := NewWriter(WriterConfig{TempDir: dir, TileType: rawType, TileCompression: CompressionNone})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, k := range order {
		if err := w.Add(ctx, k[0], k[1], k[2], tiles[k]); err != nil {
			t.Fatal(err)
		}
	}
	h, err := w.FinishFile(ctx, path, Metadata{Name: "many", Attribution: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if h.LeafLength == 0 {
		t.Fatal("no leaf directories")
	}
	probe := [][3]int{{0, 0, 0}, {12, 0, 500}, {12, 4095, 500}, {12, 2000, 500}, {12, 3423, 1763}, {1, 0, 0}}
	probe = append(probe, order[:20]...)
	out := pmtilesjs.Read(t, path, probe...)
	var res struct {
		Header struct {
			MinZoom, MaxZoom                         int
			NumAddressedTiles, NumTileEntries        int
			NumTileContents                          int
			Clustered                                bool
			LeafDirectoryLength, RootDirectoryLength int
			InternalCompression, TileCompression     int
			SpecVersion                              int
		}
		Metadata map[string]any
		Tiles    []struct {
			Z, X, Y int
			TileID  uint64
			Found   bool
			Text    string
		}
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("decode node output: %v\n%s", err, out)
	}
	hd := res.Header
	if hd.SpecVersion != 3 || hd.MinZoom != 0 || hd.MaxZoom != 12 || !hd.Clustered || hd.LeafDirectoryLength == 0 ||
		hd.NumAddressedTiles != int(h.AddressedTiles) || hd.NumTileEntries != int(h.TileEntries) || hd.NumTileContents != int(h.TileContents) {
		t.Errorf("pmtiles.js header %+v\nGo header %+v", hd, h)
	}
	if res.Metadata["name"] != "many" || res.Metadata["attribution"] != "test" {
		t.Errorf("pmtiles.js metadata %v", res.Metadata)
	}
	for i, tile := range res.Tiles {
		k := probe[i]
		want, ok := tiles[k]
		if tile.Found != ok || tile.Text != string(want) {
			t.Errorf("pmtiles.js tile %v: found %v %q, want %v %q", k, tile.Found, tile.Text, ok, want)
		}
		if id, _ := TileID(k[0], k[1], k[2]); id != tile.TileID {
			t.Errorf("tile id of %v: Go %d, pmtiles.js %d", k, id, tile.TileID)
		}
	}
	if t.Failed() {
		t.Logf("node output:\n%s", strings.TrimSpace(string(out)))
	}
}

// rawType is a tile type no reader interprets, for tests with text tiles.
const rawType TileType = 99

func TestAddSubtree(t *testing.T) {
	ctx := context.Background()
	w, err := NewWriter(WriterConfig{TempDir: t.TempDir(), TileCompression: CompressionNone})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	// Tile 2/1/2 filled down to zoom 5 (64 tiles), plus one other tile.
	if err := w.AddSubtree(ctx, 2, 1, 2, 5, []byte("fill")); err != nil {
		t.Fatal(err)
	}
	if err := w.Add(ctx, 5, 0, 0, []byte("other")); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	h, err := w.Finish(ctx, &buf, Metadata{})
	if err != nil {
		t.Fatal(err)
	}
	if h.AddressedTiles != 65 || h.TileEntries != 2 || h.TileContents != 2 {
		t.Errorf("header %+v", h)
	}
	r := openBytes(t, buf.Bytes())
	for x := 0; x < 32; x++ {
		for y := 0; y < 32; y++ {
			got, err := r.Tile(ctx, 5, x, y)
			inside := x>>3 == 1 && y>>3 == 2
			switch {
			case inside && string(got) != "fill", x == 0 && y == 0 && string(got) != "other":
				t.Errorf("tile 5/%d/%d = %q, %v", x, y, got, err)
			case !inside && !(x == 0 && y == 0) && !errors.Is(err, ErrTileNotFound):
				t.Errorf("tile 5/%d/%d = %q, %v; want not found", x, y, got, err)
			}
		}
	}
	// A subtree overlapping a tile added on its own is a duplicate.
	w, _ = NewWriter(WriterConfig{TempDir: t.TempDir()})
	defer w.Close()
	_ = w.AddSubtree(ctx, 1, 1, 1, 3, []byte("a"))
	_ = w.Add(ctx, 3, 7, 7, []byte("b"))
	if _, err := w.Finish(ctx, &bytes.Buffer{}, Metadata{}); !errors.Is(err, ErrDuplicateTile) {
		t.Errorf("overlapping subtree: %v", err)
	}
}
