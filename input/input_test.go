package input_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mapcluster/mapcluster"
	"github.com/mapcluster/mapcluster/input"
)

const (
	sampleCSV     = "id,name,lng,lat\n1,a,1,2\n2,b,3,4\n"
	sampleGeoJSON = `{"type":"FeatureCollection","features":[` +
		`{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[1,2]},"properties":{"name":"a"}},` +
		`{"type":"Feature","id":2,"geometry":{"type":"Point","coordinates":[3,4]},"properties":{"name":"b"}}]}`
	sampleNDJSON = `{"type":"Feature","id":1,"geometry":{"type":"Point","coordinates":[1,2]},"properties":{"name":"a"}}` + "\n" +
		`{"type":"Feature","id":2,"geometry":{"type":"Point","coordinates":[3,4]},"properties":{"name":"b"}}` + "\n"
)

func gzipped(t testing.TB, text string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkSample checks the points of the sample inputs.
func checkSample(t *testing.T, p *mapcluster.Points) {
	t.Helper()
	checkPoints(t, p)
	if fmt.Sprint(p.Lng, p.Lat, p.ID, p.IDNumeric) != "[1 3] [2 4] [1 2] true" {
		t.Errorf("got %v %v %v %v", p.Lng, p.Lat, p.ID, p.IDNumeric)
	}
	if c := p.Column("name"); c == nil || c.Kind != mapcluster.KindString || fmt.Sprint(c.Str) != "[a b]" {
		t.Errorf("name column %+v", c)
	}
}

func TestReadPoints(t *testing.T) {
	dir := t.TempDir()
	files := map[string][]byte{
		"a.csv":            []byte(sampleCSV),
		"a.CSV.GZ":         gzipped(t, sampleCSV),
		"a.geojson":        []byte(sampleGeoJSON),
		"a.json.gz":        gzipped(t, sampleGeoJSON),
		"a.ndjson":         []byte(sampleNDJSON),
		"a.geojsonl":       []byte(sampleNDJSON),
		"a.geojsonseq":     []byte("\x1e" + strings.ReplaceAll(strings.TrimSpace(sampleNDJSON), "\n", "\n\x1e") + "\n"),
		"a.ndjson.gz":      gzipped(t, sampleNDJSON),
		"gzip-no-ext.csv":  gzipped(t, sampleCSV), // gzip told by its magic bytes
		"noext-csv":        []byte(sampleCSV),
		"noext-geojson":    []byte(" \n" + sampleGeoJSON),
		"noext-ndjson":     []byte(sampleNDJSON),
		"noext-ndjson.gz":  gzipped(t, sampleNDJSON),
		"pretty.txt":       []byte(strings.ReplaceAll(sampleGeoJSON, ",", ",\n  ")),
		"one-feature.data": []byte(sampleNDJSON[:strings.IndexByte(sampleNDJSON, '\n')+1] + sampleNDJSON[strings.IndexByte(sampleNDJSON, '\n')+1:]),
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			p, rep, err := input.ReadPoints(context.Background(), path, input.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Read != 2 {
				t.Errorf("report %+v", rep)
			}
			checkSample(t, p)
		})
	}
}

func TestFormatOverride(t *testing.T) {
	path := filepath.Join(t.TempDir(), "points.txt")
	if err := os.WriteFile(path, []byte("lng;lat\n1;2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, _, err := input.ReadPoints(context.Background(), path, input.Options{Format: input.CSV})
	if err != nil || p.Len() != 1 {
		t.Fatal(p, err)
	}
	// The explicit format of Decode wins over the name.
	p, _, err = input.Decode(context.Background(), strings.NewReader(sampleCSV), input.CSV, "x.geojson", input.Options{Format: input.NDJSON})
	if err != nil {
		t.Fatal(err)
	}
	checkSample(t, p)
}

func TestParseFormat(t *testing.T) {
	for s, want := range map[string]input.Format{
		"": input.Auto, "auto": input.Auto, "CSV": input.CSV, "geojson": input.GeoJSON,
		"json": input.GeoJSON, " ndjson ": input.NDJSON, "geojsonseq": input.NDJSON,
	} {
		if got, err := input.ParseFormat(s); got != want || err != nil {
			t.Errorf("ParseFormat(%q) = %v, %v, want %v", s, got, err, want)
		}
		if want != input.Auto && want.String() != strings.ToLower(want.String()) {
			t.Errorf("%v", want)
		}
	}
	if _, err := input.ParseFormat("shp"); mapcluster.ErrorCodeOf(err) != mapcluster.EInvalid || mapcluster.ErrorFieldOf(err) != "format" {
		t.Errorf("ParseFormat(shp): %v", err)
	}
	for _, f := range []input.Format{input.Auto, input.CSV, input.GeoJSON, input.NDJSON} {
		if g, err := input.ParseFormat(f.String()); g != f || err != nil {
			t.Errorf("ParseFormat(%v) = %v, %v", f, g, err)
		}
	}
}

func TestReadPointsMissingFile(t *testing.T) {
	_, _, err := input.ReadPoints(context.Background(), filepath.Join(t.TempDir(), "none.csv"), input.Options{})
	if mapcluster.ErrorCodeOf(err) != mapcluster.ENotFound || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v (code %s)", err, mapcluster.ErrorCodeOf(err))
	}
}

func TestCorruptGzip(t *testing.T) {
	data := gzipped(t, strings.Repeat(sampleCSV, 1000))
	for name, bad := range map[string][]byte{
		"truncated": data[:len(data)/2],
		"corrupt":   append(append([]byte{}, data[:20]...), bytes.Repeat([]byte{0xff}, 100)...),
		"checksum":  append(append([]byte{}, data[:len(data)-8]...), 0, 0, 0, 0, 0, 0, 0, 0),
		"header":    {0x1f, 0x8b, 0},
	} {
		t.Run(name, func(t *testing.T) {
			for _, f := range []input.Format{input.CSV, input.GeoJSON, input.NDJSON} {
				_, _, err := input.Decode(context.Background(), bytes.NewReader(bad), f, "z.gz", input.Options{})
				if mapcluster.ErrorCodeOf(err) != mapcluster.EInvalid || !strings.Contains(err.Error(), "z.gz") {
					t.Errorf("%v: got %v", f, err)
				}
			}
		})
	}
}

// failingReader returns data, then an error.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadError(t *testing.T) {
	boom := errors.New("connection reset")
	for f, text := range map[input.Format]string{
		input.CSV:     sampleCSV,
		input.GeoJSON: sampleGeoJSON[:60],
		input.NDJSON:  sampleNDJSON[:len(sampleNDJSON)/2+10],
	} {
		for _, data := range [][]byte{[]byte(text), gzipped(t, text)[:30]} {
			_, _, err := input.Decode(context.Background(), &failingReader{data, boom}, f, "up", input.Options{})
			if !errors.Is(err, boom) || !strings.Contains(err.Error(), "read up: connection reset") {
				t.Errorf("%v: got %v", f, err)
			}
		}
	}
}

func TestCancel(t *testing.T) {
	var text strings.Builder
	text.WriteString("lng,lat\n")
	for range 20000 {
		text.WriteString("1,2\n")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := input.Decode(ctx, strings.NewReader(text.String()), input.CSV, "c.csv", input.Options{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestProgress(t *testing.T) {
	var text strings.Builder
	text.WriteString("lng,lat\n")
	for range 10000 {
		text.WriteString("1,2\n")
	}
	var calls, last atomic.Int64
	opts := input.Options{Progress: func(stage string, done, total int64) {
		if stage != "read" || total != int64(text.Len()) || done < last.Load() {
			t.Errorf("progress %q %d/%d", stage, done, total)
		}
		calls.Add(1)
		last.Store(done)
	}}
	if _, _, err := input.Decode(context.Background(), strings.NewReader(text.String()), input.CSV, "p.csv", opts); err != nil {
		t.Fatal(err)
	}
	if calls.Load() < 2 || last.Load() != int64(text.Len()) {
		t.Errorf("%d calls, last %d", calls.Load(), last.Load())
	}
}

func TestWorldCities(t *testing.T) {
	if _, err := os.Stat(worldCities); err != nil {
		t.Skipf("world-cities data not available: %v", err)
	}
	p, rep, err := input.ReadPoints(context.Background(), worldCities, input.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkPoints(t, p)
	if p.Len() != 135233 || rep.Read != 135233 || rep.Skipped != 0 {
		t.Fatalf("%d points, report %+v", p.Len(), rep)
	}
	if !p.IDNumeric || len(p.ID) != p.Len() || p.ID[0] != "3039154" {
		t.Errorf("ids: numeric %v, first %q", p.IDNumeric, p.ID[0])
	}
	for name, kind := range map[string]mapcluster.ColumnKind{
		"name": mapcluster.KindString, "country": mapcluster.KindString, "population": mapcluster.KindNumber,
	} {
		if c := p.Column(name); c == nil || c.Kind != kind {
			t.Errorf("column %q: %+v, want kind %v", name, c, kind)
		}
	}
	if len(p.Props) != 3 {
		t.Errorf("%d property columns, want 3", len(p.Props))
	}
	if p.Lng[0] != 1.65362 || p.Lat[0] != 42.57952 || p.Column("name").Str[1] != "Sant Julià de Lòria" || p.Column("population").Num[0] != 1052 {
		t.Errorf("first rows: %v %v %q %v", p.Lng[0], p.Lat[0], p.Column("name").Str[1], p.Column("population").Num[0])
	}
	// The same, uncompressed through Decode, without size hints.
	data := worldCitiesCSV(t)
	q, _, err := input.Decode(context.Background(), io.MultiReader(bytes.NewReader(data)), input.Auto, "", input.Options{})
	if err != nil || q.Len() != p.Len() || q.Lat[q.Len()-1] != p.Lat[p.Len()-1] {
		t.Errorf("Decode: %v", err)
	}
}
