package geom

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestRTreeMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 15, 16, 17, 300, 5000} {
		boxes := make([]BBox, n)
		for i := range boxes {
			x, y := r.Float64()*360-180, r.Float64()*180-90
			if i%7 == 0 {
				x, y = r.Float64(), r.Float64() // a dense cluster
			}
			boxes[i] = BBox{x, y, x + r.Float64()*2, y + r.Float64()}
		}
		if n > 3 {
			boxes[3] = EmptyBBox()
		}
		tr := NewRTree(boxes)
		for q := 0; q < 200; q++ {
			x, y := r.Float64()*360-180, r.Float64()*180-90
			qb := BBox{x, y, x + r.Float64()*20, y + r.Float64()*10}
			var want []int32
			for i, b := range boxes {
				if b.MinX <= b.MaxX && b.Overlaps(qb) {
					want = append(want, int32(i))
				}
			}
			got := tr.SearchInto(qb, nil)
			slices.Sort(got)
			var got2 []int32
			tr.Search(qb, func(id int32) bool { got2 = append(got2, id); return true })
			slices.Sort(got2)
			if tr.Any(qb) != (len(want) > 0) {
				t.Fatalf("n=%d query %v: Any says %v, want %d boxes", n, qb, tr.Any(qb), len(want))
			}
			if !slices.Equal(got, want) || !slices.Equal(got2, want) {
				t.Fatalf("n=%d query %v: got %v / %v, want %v", n, qb, got, got2, want)
			}
		}
	}
}

func TestHilbertIsABijectionOnASmallGrid(t *testing.T) {
	seen := map[uint32]bool{}
	for x := uint32(0); x < 64; x++ {
		for y := uint32(0); y < 64; y++ {
			seen[hilbert(x<<10, y<<10)] = true
		}
	}
	if len(seen) != 64*64 {
		t.Errorf("%d distinct positions for 4096 cells", len(seen))
	}
}

func TestNeighboursFilterLikeSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 17, 300, 5000} {
		boxes := make([]BBox, n)
		for i := range boxes {
			x, y := r.Float64()*360-180, r.Float64()*180-90
			if i%5 == 0 {
				x, y = r.Float64(), r.Float64() // a dense cluster
			}
			boxes[i] = BBox{x, y, x + r.Float64()*3, y + r.Float64()*2}
		}
		if n > 3 {
			boxes[3] = EmptyBBox()
		}
		tr := NewRTree(boxes)
		start, ids := tr.Neighbours(boxes)
		for i, b := range boxes {
			list := ids[start[i]:start[i+1]]
			if b.MinX > b.MaxX {
				if len(list) != 0 {
					t.Fatalf("n=%d: empty box %d has neighbours %v", n, i, list)
				}
				continue
			}
			// A query inside box i: the filtered list is SearchInto's answer.
			q := BBox{b.MinX + (b.MaxX-b.MinX)*0.2, b.MinY, b.MaxX, b.MinY + (b.MaxY-b.MinY)*0.7}
			for _, qb := range []BBox{b, q} {
				var got []int32
				for _, c := range list {
					if boxes[c].Overlaps(qb) {
						got = append(got, c)
					}
				}
				if want := tr.SearchInto(qb, nil); !slices.Equal(got, want) {
					t.Fatalf("n=%d box %d query %v: got %v, want %v", n, i, qb, got, want)
				}
			}
		}
	}
}
