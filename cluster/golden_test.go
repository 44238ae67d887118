package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/mapcluster/mapcluster"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenPoints: a dozen shops and cafés around two squares, with a numeric
// and a string property, and a missing value.
func goldenPoints() *mapcluster.Points {
	pts := &mapcluster.Points{ID: []string{}}
	kinds := []string{"shop", "cafe", "shop", "bar"}
	var pop, kind mapcluster.Column
	pop = mapcluster.Column{Name: "visitors", Kind: mapcluster.KindNumber, Missing: []bool{}}
	kind = mapcluster.Column{Name: "kind", Kind: mapcluster.KindString, Missing: []bool{}}
	for i := range 12 {
		base := [2]float64{13.40, 52.52}
		if i%2 == 1 {
			base = [2]float64{13.45, 52.50}
		}
		pts.Lng = append(pts.Lng, base[0]+float64(i)*0.0005)
		pts.Lat = append(pts.Lat, base[1]+float64(i%3)*0.0004)
		pts.ID = append(pts.ID, "p"+string(rune('a'+i)))
		v, missing := float64(10*i+5), i == 7
		pop.Num = append(pop.Num, v)
		pop.Missing = append(pop.Missing, missing)
		kind.Str = append(kind.Str, kinds[i%4])
		kind.Missing = append(kind.Missing, false)
	}
	pop.Num[7] = 0
	pts.Props = []mapcluster.Column{pop, kind}
	return pts
}

func TestGoldenGeoJSON(t *testing.T) {
	t.Parallel()
	pts := goldenPoints()
	pts.Props[0].Num[7] = nanValue()
	opts := DefaultOptions()
	opts.Aggregates = []Aggregate{
		{Op: OpSum, Field: "visitors", Name: "sum_visitors"},
		{Op: OpMean, Field: "visitors", Name: "mean_visitors"},
		{Op: OpMin, Field: "visitors", Name: "min_visitors"},
		{Op: OpMax, Field: "visitors", Name: "max_visitors"},
		{Op: OpCount, Name: "count"},
		CategoryAggregate("kind"),
	}
	ix, err := Build(context.Background(), pts, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, z := range []int{10, 14, 17} {
		fc := ix.GeoJSON(ix.Clusters([4]float64{-180, -90, 180, 90}, z))
		raw, err := fc.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := json.Indent(&buf, raw, "", "  "); err != nil {
			t.Fatal(err)
		}
		buf.WriteByte('\n')
		path := filepath.Join("testdata", "golden", "berlin-z"+itoa(int64(z))+".geojson")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./cluster -run Golden -update to create it)", err)
		}
		if !bytes.Equal(buf.Bytes(), want) {
			t.Errorf("z%d: output differs from %s (run with -update if the change is intended)\ngot:\n%s", z, path, buf.String())
		}
	}
}
