package simplify_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"sort"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb/geojson"

	"github.com/mapcluster/mapcluster/simplify"
	"github.com/mapcluster/mapcluster/simplify/validate"
)

// TestPostGIS compares the validators with PostGIS: ST_IsValid must agree
// with validate.Features on the raw input (which has invalid polygons) and
// on every simplified level (which has none), and ST_Area(ST_Union(...))
// must agree with CheckCoverage's union area. It needs a PostgreSQL whose
// postgis extension can be created, named by MAPCLUSTER_TEST_POSTGRES (for
// example postgres://postgres@127.0.0.1:5432/test).
func TestPostGIS(t *testing.T) {
	dsn := os.Getenv("MAPCLUSTER_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("MAPCLUSTER_TEST_POSTGRES is not set: skipping the PostGIS comparison")
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Skipf("cannot connect to %s: %v", dsn, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS postgis"); err != nil {
		t.Skipf("CREATE EXTENSION postgis failed (install postgresql-15-postgis-3): %v", err)
	}
	if _, err := conn.Exec(ctx, "CREATE TEMP TABLE simp (zoom int, idx int, geom geometry)"); err != nil {
		t.Fatal(err)
	}
	paths := []string{path50m}
	if !testing.Short() && !raceEnabled {
		paths = append(paths, path10m)
	}
	for _, path := range paths {
		if _, err := os.Stat(path); err != nil {
			t.Logf("%s not available: skipped", path)
			continue
		}
		in := load(t, path)
		res, err := simplify.Build(ctx, in, simplify.Options{MinZoom: 0, MaxZoom: 12})
		if err != nil {
			t.Fatal(err)
		}
		idx := make([]int, len(in))
		for i := range idx {
			idx[i] = i
		}
		sets := []struct {
			zoom  int
			fs    []*geojson.Feature
			index []int
		}{{-1, in, idx}}
		for _, lv := range res.Levels {
			sets = append(sets, struct {
				zoom  int
				fs    []*geojson.Feature
				index []int
			}{lv.Zoom, lv.Features(), lv.Index})
		}
		for _, set := range sets {
			if _, err := conn.Exec(ctx, "TRUNCATE simp"); err != nil {
				t.Fatal(err)
			}
			rows := make([][]any, len(set.fs))
			for i, f := range set.fs {
				g, err := json.Marshal(geojson.NewGeometry(f.Geometry))
				if err != nil {
					t.Fatal(err)
				}
				rows[i] = []any{set.zoom, set.index[i], string(g)}
			}
			if _, err := conn.Exec(ctx, "CREATE TEMP TABLE IF NOT EXISTS simp_in (zoom int, idx int, g text)"); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(ctx, "TRUNCATE simp_in"); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.CopyFrom(ctx, pgx.Identifier{"simp_in"}, []string{"zoom", "idx", "g"}, pgx.CopyFromRows(rows)); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Exec(ctx, "INSERT INTO simp SELECT zoom, idx, ST_GeomFromGeoJSON(g) FROM simp_in"); err != nil {
				t.Fatal(err)
			}
			// Validity, feature by feature.
			r, err := conn.Query(ctx, "SELECT idx FROM simp WHERE NOT ST_IsValid(geom) ORDER BY idx")
			if err != nil {
				t.Fatal(err)
			}
			var pg []int
			for r.Next() {
				var i int
				if err := r.Scan(&i); err != nil {
					t.Fatal(err)
				}
				pg = append(pg, i)
			}
			r.Close()
			mine := map[int]bool{}
			for _, p := range validate.Features(set.fs) {
				mine[set.index[p.Feature]] = true
			}
			var ours []int
			for i := range mine {
				ours = append(ours, i)
			}
			sort.Ints(ours)
			if !equalInts(pg, ours) {
				t.Errorf("%s z%d: PostGIS finds invalid features %v, validate.Features %v", path, set.zoom, pg, ours)
			}
			if set.zoom < 0 {
				t.Logf("%s input: %d invalid features by ST_IsValid, %d by validate.Features", path, len(pg), len(ours))
				continue
			}
			// Union area.
			var sum, union float64
			if err := conn.QueryRow(ctx, "SELECT SUM(ST_Area(geom)), ST_Area(ST_Union(geom)) FROM simp").Scan(&sum, &union); err != nil {
				t.Fatal(err)
			}
			cov := validate.CheckCoverage(set.fs)
			if math.Abs(cov.UnionArea-union) > 1e-7*union || math.Abs(cov.SumArea-sum) > 1e-9*sum {
				t.Errorf("%s z%d: PostGIS sum %.9f union %.9f; CheckCoverage sum %.9f union %.9f", path, set.zoom, sum, union, cov.SumArea, cov.UnionArea)
			}
			if math.Abs(sum-union) > 1e-7*sum {
				t.Errorf("%s z%d: PostGIS: sum of areas %.9f, area of union %.9f", path, set.zoom, sum, union)
			}
			t.Logf("%s z%d: 0 invalid by ST_IsValid; area sum %.6f, ST_Union %.6f, CheckCoverage union %.6f", path, set.zoom, sum, union, cov.UnionArea)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
