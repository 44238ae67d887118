package validate

import (
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

func sq(x, y, s float64) orb.Ring {
	return orb.Ring{{x, y}, {x + s, y}, {x + s, y + s}, {x, y + s}, {x, y}}
}

func kinds(ps []Problem) map[string]bool {
	m := map[string]bool{}
	for _, p := range ps {
		m[p.Kind] = true
	}
	return m
}

func TestPolygonal(t *testing.T) {
	hole := orb.Ring{{1, 1}, {1, 2}, {2, 2}, {2, 1}, {1, 1}}
	cases := []struct {
		name string
		g    orb.Geometry
		want string // "" = valid
	}{
		{"square", orb.Polygon{sq(0, 0, 1)}, ""},
		{"with hole", orb.Polygon{sq(0, 0, 3), hole}, ""},
		{"bowtie", orb.Polygon{{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}}, SelfIntersection},
		{"self-touch", orb.Polygon{{{0, 0}, {2, 0}, {2, 2}, {1, 0}, {0, 2}, {0, 0}}}, SelfIntersection},
		{"too few", orb.Polygon{{{0, 0}, {1, 1}, {0, 0}}}, TooFewPoints},
		{"open", orb.Polygon{{{0, 0}, {1, 0}, {1, 1}}}, NotClosed},
		{"hole outside", orb.Polygon{sq(0, 0, 1), sq(5, 5, 1)}, HoleOutside},
		{"nested polygons", orb.MultiPolygon{{sq(0, 0, 3)}, {sq(1, 1, 1)}}, NestedPolygons},
		{"shared edge", orb.MultiPolygon{{sq(0, 0, 1)}, {sq(1, 0, 1)}}, RingCrossing},
		{"touching corner", orb.MultiPolygon{{sq(0, 0, 1)}, {sq(1, 1, 1)}}, ""},
		{"line", orb.LineString{{0, 0}, {1, 1}}, NotPolygonal},
	}
	for _, c := range cases {
		got := kinds(Polygonal(c.g))
		if c.want == "" && len(got) > 0 || c.want != "" && !got[c.want] {
			t.Errorf("%s: got %v, want %q", c.name, got, c.want)
		}
	}
}

func TestCoverage(t *testing.T) {
	a := geojson.NewFeature(orb.Polygon{sq(0, 0, 1)})
	b := geojson.NewFeature(orb.Polygon{sq(1, 0, 1)})
	cov := CheckCoverage([]*geojson.Feature{a, b})
	if len(cov.Problems) > 0 || cov.SumArea != 2 || cov.UnionArea != 2 {
		t.Errorf("neighbours: %+v", cov)
	}
	// An island of c inside a: overlap without any crossing.
	c := geojson.NewFeature(orb.Polygon{sq(0.25, 0.25, 0.5)})
	cov = CheckCoverage([]*geojson.Feature{a, b, c})
	if !kinds(cov.Problems)[FeatureOverlap] || cov.UnionArea != 2 || cov.SumArea != 2.25 {
		t.Errorf("island overlap: %+v", cov)
	}
	// A hole of a filled by c: no overlap.
	a2 := geojson.NewFeature(orb.Polygon{sq(0, 0, 1), orb.Ring{{0.25, 0.25}, {0.25, 0.75}, {0.75, 0.75}, {0.75, 0.25}, {0.25, 0.25}}})
	cov = CheckCoverage([]*geojson.Feature{a2, c})
	if len(cov.Problems) > 0 || cov.UnionArea != 1 || cov.SumArea != 1 {
		t.Errorf("enclave: %+v", cov)
	}
	// Crossing features.
	d := geojson.NewFeature(orb.Polygon{sq(0.5, 0.5, 1)})
	if cov := CheckCoverage([]*geojson.Feature{a, d}); !kinds(cov.Problems)[FeatureCrossing] {
		t.Errorf("crossing: %+v", cov)
	}
}

func TestBorders(t *testing.T) {
	// Two squares sharing a border with a middle vertex.
	left := orb.Polygon{{{0, 0}, {1, 0}, {1.1, 0.5}, {1, 1}, {0, 1}, {0, 0}}}
	right := orb.Polygon{{{1, 0}, {2, 0}, {2, 1}, {1, 1}, {1.1, 0.5}, {1, 0}}}
	in := []*geojson.Feature{geojson.NewFeature(left), geojson.NewFeature(right)}
	in[0].ID, in[1].ID = "l", "r"
	b := NewBorders(in)
	if ps := b.Check(in, nil); len(ps) > 0 {
		t.Errorf("input against itself: %v", ps)
	}
	// Left drops the border vertex, right keeps it: a mismatch and a gap.
	outL := geojson.NewFeature(orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}})
	outL.ID = "l"
	got := kinds(b.Check([]*geojson.Feature{outL, in[1]}, nil))
	if !got[BorderMismatch] || !got[NewGap] {
		t.Errorf("diverging border: %v", got)
	}
	// Both drop it: fine.
	outR := geojson.NewFeature(orb.Polygon{{{1, 0}, {2, 0}, {2, 1}, {1, 1}, {1, 0}}})
	outR.ID = "r"
	if ps := b.Check([]*geojson.Feature{outL, outR}, nil); len(ps) > 0 {
		t.Errorf("same simplification on both sides: %v", ps)
	}
	if ps := SharedBorders(in, []*geojson.Feature{outL, outR}); len(ps) > 0 {
		t.Errorf("SharedBorders: %v", ps)
	}
	if ps := NewGaps(in, []*geojson.Feature{outL, in[1]}); len(ps) == 0 {
		t.Error("NewGaps found nothing")
	}
}
