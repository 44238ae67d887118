package input_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/mapcluster/mapcluster/input"
)

const worldCities = "../testdata/world-cities.csv.gz"

// worldCitiesCSV returns the uncompressed world-cities CSV, skipping the
// test when the file is absent.
func worldCitiesCSV(tb testing.TB) []byte {
	tb.Helper()
	f, err := os.Open(worldCities)
	if err != nil {
		tb.Skipf("world-cities data not available: %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// worldCitiesJSON converts world-cities to a FeatureCollection and to
// NDJSON.
func worldCitiesJSON(b *testing.B, data []byte) (fc, nd []byte) {
	p, _, err := input.Decode(context.Background(), bytes.NewReader(data), input.CSV, "world-cities.csv", input.Options{})
	if err != nil {
		b.Fatal(err)
	}
	name, country, pop := p.Column("name"), p.Column("country"), p.Column("population")
	var f, n bytes.Buffer
	f.WriteString(`{"type":"FeatureCollection","features":[` + "\n")
	for i := range p.Len() {
		nm, _ := json.Marshal(name.Str[i])
		feat := fmt.Sprintf(`{"type":"Feature","id":%s,"geometry":{"type":"Point","coordinates":[%v,%v]},"properties":{"name":%s,"country":%q,"population":%v}}`,
			p.ID[i], p.Lng[i], p.Lat[i], nm, country.Str[i], pop.Num[i])
		if i > 0 {
			f.WriteString(",\n")
		}
		f.WriteString(feat)
		n.WriteString(feat + "\n")
	}
	f.WriteString("]}\n")
	return f.Bytes(), n.Bytes()
}

// BenchmarkReadWorldCities parses the 135,233-row world-cities CSV from
// memory (…/csv) and from the gzip file on disk (…/gz), and the same
// points as GeoJSON and NDJSON from memory.
func BenchmarkReadWorldCities(b *testing.B) {
	data := worldCitiesCSV(b)
	ctx := context.Background()
	fc, nd := worldCitiesJSON(b, data)
	for _, tc := range []struct {
		name   string
		format input.Format
		data   []byte
	}{{"geojson", input.GeoJSON, fc}, {"ndjson", input.NDJSON, nd}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tc.data)))
			for b.Loop() {
				p, _, err := input.Decode(ctx, bytes.NewReader(tc.data), tc.format, "world-cities", input.Options{})
				if err != nil || p.Len() != 135233 {
					b.Fatal(p.Len(), err)
				}
			}
		})
	}
	b.Run("csv", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			p, _, err := input.Decode(ctx, bytes.NewReader(data), input.CSV, "world-cities.csv", input.Options{})
			if err != nil || p.Len() != 135233 {
				b.Fatal(p.Len(), err)
			}
		}
	})
	b.Run("gz", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p, _, err := input.ReadPoints(ctx, worldCities, input.Options{})
			if err != nil || p.Len() != 135233 {
				b.Fatal(p.Len(), err)
			}
		}
	})
}
