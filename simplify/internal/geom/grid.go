package geom

import "math"

// Grid is a uniform grid over boxes, stored compactly: the ids of the boxes
// that overlap each cell sit contiguously in Items, from Start[c] to
// Start[c+1]. It is built once and read-only afterwards, so any number of
// goroutines may query it.
type Grid struct {
	MinX, MinY   float64
	CellW, CellH float64
	NX, NY       int
	Start        []int32
	Items        []int32
}

// NewGrid indexes boxes over extent with about perCell boxes per cell.
func NewGrid(boxes []BBox, extent BBox, perCell float64) *Grid {
	n := len(boxes)
	if perCell <= 0 {
		perCell = 2
	}
	cells := float64(n) / perCell
	if cells < 1 {
		cells = 1
	}
	if cells > 1<<22 {
		cells = 1 << 22
	}
	w := extent.MaxX - extent.MinX
	h := extent.MaxY - extent.MinY
	if !(w > 0) {
		w = 1e-9
	}
	if !(h > 0) {
		h = 1e-9
	}
	side := math.Sqrt(w * h / cells)
	nx := int(math.Ceil(w / side))
	ny := int(math.Ceil(h / side))
	if nx < 1 {
		nx = 1
	}
	if ny < 1 {
		ny = 1
	}
	for nx*ny > 1<<23 {
		nx = (nx + 1) / 2
		ny = (ny + 1) / 2
	}
	g := &Grid{MinX: extent.MinX, MinY: extent.MinY, CellW: w / float64(nx), CellH: h / float64(ny), NX: nx, NY: ny}
	g.Start = make([]int32, nx*ny+1)
	for _, b := range boxes {
		x0, y0, x1, y1 := g.Range(b)
		for y := y0; y <= y1; y++ {
			row := y * nx
			for x := x0; x <= x1; x++ {
				g.Start[row+x+1]++
			}
		}
	}
	for i := 1; i < len(g.Start); i++ {
		g.Start[i] += g.Start[i-1]
	}
	g.Items = make([]int32, g.Start[len(g.Start)-1])
	fill := make([]int32, nx*ny)
	copy(fill, g.Start[:nx*ny])
	for id, b := range boxes {
		x0, y0, x1, y1 := g.Range(b)
		for y := y0; y <= y1; y++ {
			row := y * nx
			for x := x0; x <= x1; x++ {
				c := row + x
				g.Items[fill[c]] = int32(id)
				fill[c]++
			}
		}
	}
	return g
}

// Cell returns the column and row holding (x, y), clamped to the grid.
func (g *Grid) Cell(x, y float64) (int, int) {
	cx := int((x - g.MinX) / g.CellW)
	cy := int((y - g.MinY) / g.CellH)
	if cx < 0 || x != x {
		cx = 0
	} else if cx >= g.NX {
		cx = g.NX - 1
	}
	if cy < 0 || y != y {
		cy = 0
	} else if cy >= g.NY {
		cy = g.NY - 1
	}
	return cx, cy
}

// Range returns the cells a box overlaps.
func (g *Grid) Range(b BBox) (x0, y0, x1, y1 int) {
	x0, y0 = g.Cell(b.MinX, b.MinY)
	x1, y1 = g.Cell(b.MaxX, b.MaxY)
	return
}

// Owner reports whether cell (cx, cy) is the one cell that should handle the
// pair of boxes a and b: the cell holding the low corner of their overlap.
// Testing a pair only in its owner cell tests it once.
func (g *Grid) Owner(cx, cy int, a, b BBox) bool {
	ox, oy := g.Cell(math.Max(a.MinX, b.MinX), math.Max(a.MinY, b.MinY))
	return ox == cx && oy == cy
}

// Pairs calls fn(i, j) once for every pair of items whose boxes overlap, from
// the one cell that owns the pair (see Owner); i comes before j in that cell.
func (g *Grid) Pairs(boxes []BBox, fn func(i, j int32)) {
	for cy := 0; cy < g.NY; cy++ {
		for cx := 0; cx < g.NX; cx++ {
			items := g.Items[g.Start[cy*g.NX+cx]:g.Start[cy*g.NX+cx+1]]
			for x := 0; x < len(items); x++ {
				for y := x + 1; y < len(items); y++ {
					i, j := items[x], items[y]
					if boxes[i].Overlaps(boxes[j]) && g.Owner(cx, cy, boxes[i], boxes[j]) {
						fn(i, j)
					}
				}
			}
		}
	}
}
