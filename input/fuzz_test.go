package input_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"testing"

	"github.com/mapcluster/mapcluster"
	"github.com/mapcluster/mapcluster/input"
)

// fuzzDecode checks the readers' contract on arbitrary input: no panic, and
// either an EInvalid *mapcluster.Error or consistent points, with and
// without SkipInvalid.
func fuzzDecode(t *testing.T, f input.Format, data []byte) {
	for _, skip := range []bool{false, true} {
		p, rep, err := input.Decode(context.Background(), bytes.NewReader(data), f, "fuzz", input.Options{SkipInvalid: skip})
		if err != nil {
			var me *mapcluster.Error
			if !errors.As(err, &me) || me.Code != mapcluster.EInvalid {
				t.Fatalf("skip=%v: error %v (%T) is not EInvalid", skip, err, err)
			}
			if me.Message == "" || !bytes.HasPrefix([]byte(me.Message), []byte("fuzz")) {
				t.Fatalf("skip=%v: message %q does not name the input", skip, me.Message)
			}
			continue
		}
		if rep == nil || rep.Read != p.Len() || len(rep.FirstSkipped) > 10 || (!skip && rep.Skipped != 0) {
			t.Fatalf("skip=%v: report %+v for %d points", skip, rep, p.Len())
		}
		n := p.Len()
		if len(p.Lat) != n || (p.ID != nil && len(p.ID) != n) {
			t.Fatalf("lengths: lng %d lat %d id %d", n, len(p.Lat), len(p.ID))
		}
		for i := range n {
			lng, lat := p.Lng[i], p.Lat[i]
			if !(lng >= -180 && lng <= 180 && lat >= -90 && lat <= 90) {
				t.Fatalf("point %d: %v, %v", i, lng, lat)
			}
		}
		names := map[string]bool{}
		for _, c := range p.Props {
			if names[c.Name] {
				t.Fatalf("column %q twice", c.Name)
			}
			names[c.Name] = true
			if c.Len() != n || (c.Missing != nil && len(c.Missing) != n) {
				t.Fatalf("column %q: %d values, %d flags, want %d", c.Name, c.Len(), len(c.Missing), n)
			}
			switch c.Kind {
			case mapcluster.KindNumber:
				for i, v := range c.Num {
					if math.IsInf(v, 0) || math.IsNaN(v) != c.IsMissing(i) {
						t.Fatalf("column %q: value %d = %v, missing %v", c.Name, i, v, c.IsMissing(i))
					}
				}
			case mapcluster.KindString, mapcluster.KindJSON:
				if len(c.Num) != 0 {
					t.Fatalf("column %q: numbers in a %v column", c.Name, c.Kind)
				}
			default:
				t.Fatalf("column %q: kind %v", c.Name, c.Kind)
			}
		}
	}
}

func FuzzCSV(f *testing.F) {
	f.Add([]byte(sampleCSV))
	f.Add([]byte("lng,lat,a\n1,2,\"x\"\"y\"\r\n3,4,5\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, input.CSV, data) })
}

func FuzzGeoJSON(f *testing.F) {
	f.Add([]byte(sampleGeoJSON))
	f.Add([]byte(`{"features":[{"type":"Feature","geometry":{"type":"MultiPoint","coordinates":[[1,2],[3,4]]},"properties":{"a":[1],"a":"x"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, input.GeoJSON, data) })
}

func FuzzNDJSON(f *testing.F) {
	f.Add([]byte(sampleNDJSON))
	f.Add([]byte("\x1e{\"type\":\"Feature\",\"id\":\"x\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]},\"properties\":null}\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecode(t, input.NDJSON, data) })
}
