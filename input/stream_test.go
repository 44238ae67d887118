package input_test

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/mapcluster/mapcluster/input"
)

// bigInputs returns inputs of every format whose rows and features straddle
// buffer boundaries: many small ones and a few larger than a buffer.
func bigInputs() map[input.Format]string {
	big := strings.Repeat("é\"", 200<<10)
	var csv, fc, nd strings.Builder
	csv.WriteString("id,lng,lat,s,n\n")
	fc.WriteString("{\n  \"type\": \"FeatureCollection\",\n  \"features\": [\n")
	for i := range 3000 {
		s := fmt.Sprintf("v%d", i)
		if i%1000 == 999 {
			s = big
		}
		fmt.Fprintf(&csv, "%d,%d.25,%d.5,\"%s\",%d\r\n", i, i%359-179, i%179-89, strings.ReplaceAll(s, `"`, `""`), i)
		feat := fmt.Sprintf(`{"type": "Feature", "id": %d, "geometry": {"type": "Point", "coordinates": [%d.25, %d.5]}, "properties": {"s": %q, "n": %d}}`,
			i, i%359-179, i%179-89, s, i)
		if i > 0 {
			fc.WriteString(",\n")
		}
		fc.WriteString("    " + feat)
		nd.WriteString(feat + "\n")
	}
	fc.WriteString("\n  ]\n}\n")
	return map[input.Format]string{input.CSV: csv.String(), input.GeoJSON: fc.String(), input.NDJSON: nd.String()}
}

// TestSmallReads checks that the readers give the same result however the
// input arrives.
func TestSmallReads(t *testing.T) {
	for f, text := range bigInputs() {
		t.Run(f.String(), func(t *testing.T) {
			want, _ := decode(t, f, "big", text, input.Options{})
			if want.Len() != 3000 || want.Props[0].Str[999] != strings.Repeat("é\"", 200<<10) {
				t.Fatalf("%d points", want.Len())
			}
			for name, r := range map[string]io.Reader{
				"one byte": iotest.OneByteReader(strings.NewReader(text)),
				"half":     iotest.HalfReader(strings.NewReader(text)),
				"gzip":     iotest.DataErrReader(strings.NewReader(string(gzipped(t, text)))),
			} {
				got, _, err := input.Decode(context.Background(), r, f, "big", input.Options{})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: result differs", name)
				}
			}
		})
	}
}

// TestErrorLineAfterBigRows checks line numbers past buffer refills.
func TestErrorLineAfterBigRows(t *testing.T) {
	for f, text := range bigInputs() {
		t.Run(f.String(), func(t *testing.T) {
			var bad, want string
			switch f {
			case input.CSV:
				bad, want = text+"x,1,100,s,1\n", "big:3002: column \"lat\": 100 is outside -90..90"
			case input.NDJSON:
				bad, want = text+`{"type": "Feature", "geometry": null}`, "big:3001:33: geometry is null"
			case input.GeoJSON:
				bad = strings.Replace(text, "\n  ]", ",\n    {\"type\": \"Feature\", \"geometry\": null}\n  ]", 1)
				want = "big:3004:37: features[3000]: geometry is null"
			}
			err := decodeErr(t, f, "big", bad)
			if err.Error() != want {
				t.Errorf("got %q, want %q", err, want)
			}
			p, rep := decode(t, f, "big", bad, input.Options{SkipInvalid: true})
			if p.Len() != 3000 || rep.Skipped != 1 || rep.FirstSkipped[0].Error() != want {
				t.Errorf("skip: %d points, %+v", p.Len(), rep)
			}
		})
	}
}
