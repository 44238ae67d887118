package sample

import (
	"context"
	"math"
	"testing"
)

func TestJitteredIsDeterministicAndInRange(t *testing.T) {
	t.Parallel()
	a, err := Jittered(context.Background(), 300000, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Jittered(context.Background(), 300000, 1)
	c, _ := Jittered(context.Background(), 300000, 2)
	same, differ := true, false
	for i := range a.Lng {
		same = same && a.Lng[i] == b.Lng[i] && a.Lat[i] == b.Lat[i]
		differ = differ || a.Lng[i] != c.Lng[i]
		if math.Abs(a.Lng[i]) > 180 || math.Abs(a.Lat[i]) > 85 {
			t.Fatalf("point %d out of range: %v, %v", i, a.Lng[i], a.Lat[i])
		}
	}
	if !same || !differ {
		t.Fatalf("same seed same points: %v; other seed other points: %v", same, differ)
	}
	// point 135233 is city 0 again, within 0.25°
	if d := math.Abs(a.Lng[135233] - a.Lng[0]); d > 0.5 {
		t.Errorf("point 135233 is %v° from point 0, want both near city 0", d)
	}
}
