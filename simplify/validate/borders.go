package validate

import (
	"github.com/paulmach/orb/geojson"

	"github.com/mapcluster/mapcluster/simplify/internal/geom"
)

// Borders holds the topology of an input coverage, to check outputs
// against: which features use each vertex and each edge, and where each
// feature's rings run. Build it once with NewBorders and check any number
// of outputs.
type Borders struct {
	in     []*geojson.Feature
	ids    map[geom.Point]int32
	owners [][]int32          // vertex -> features using it
	edges  map[uint64][]int32 // undirected edge -> features using it
	// pos[f] maps a vertex to its ring and position in feature f's input.
	rings [][][]int32
	pos   []map[int32][2]int32
	byID  map[any]int
}

func edgeID(a, b int32) uint64 {
	if a > b {
		a, b = b, a
	}
	return uint64(a)<<32 | uint64(uint32(b))
}

// NewBorders indexes the input coverage in.
func NewBorders(in []*geojson.Feature) *Borders {
	b := &Borders{in: in, ids: map[geom.Point]int32{}, edges: map[uint64][]int32{},
		rings: make([][][]int32, len(in)), pos: make([]map[int32][2]int32, len(in)), byID: map[any]int{}}
	for fi, f := range in {
		if f.ID != nil {
			if _, dup := b.byID[f.ID]; dup {
				b.byID = nil
			} else if b.byID != nil {
				b.byID[f.ID] = fi
			}
		} else {
			b.byID = nil
		}
		b.pos[fi] = map[int32][2]int32{}
		for ri, r := range featRings(f) {
			ids := make([]int32, len(r))
			for k, p := range r {
				id, ok := b.ids[p]
				if !ok {
					id = int32(len(b.owners))
					b.ids[p] = id
					b.owners = append(b.owners, nil)
				}
				ids[k] = id
				if o := b.owners[id]; len(o) == 0 || o[len(o)-1] != int32(fi) {
					if !has(o, int32(fi)) {
						b.owners[id] = append(o, int32(fi))
					}
				}
				if _, ok := b.pos[fi][id]; !ok {
					b.pos[fi][id] = [2]int32{int32(ri), int32(k)}
				}
			}
			n := len(ids)
			for k := range n {
				e := edgeID(ids[k], ids[(k+1)%n])
				b.edges[e] = append(b.edges[e], int32(fi))
			}
			b.rings[fi] = append(b.rings[fi], ids)
		}
	}
	return b
}

func has(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// shared reports whether the input edge a-b is used by exactly features f
// and g.
func (b *Borders) shared(a, c int32, f, g int32) bool {
	us := b.edges[edgeID(a, c)]
	return len(us) == 2 && ((us[0] == f && us[1] == g) || (us[0] == g && us[1] == f))
}

// alongBorder reports whether feature f's input ring runs from vertex p to
// vertex q over edges all shared with feature g.
func (b *Borders) alongBorder(f, g, p, q int32) bool {
	at, ok := b.pos[f][p]
	if !ok {
		return false
	}
	ids := b.rings[f][at[0]]
	n := len(ids)
	k := int(at[1])
	for step := 0; step < n; step++ {
		a, c := ids[(k+step)%n], ids[(k+step+1)%n]
		if !b.shared(a, c, f, g) {
			return false
		}
		if c == q {
			return true
		}
	}
	return false
}

// index returns the input index of each out feature: from index when not
// nil, else by id when the input's ids are present and unique, otherwise by
// position.
func (b *Borders) index(out []*geojson.Feature, index []int) []int32 {
	idx := make([]int32, len(out))
	for oi, f := range out {
		if index != nil {
			idx[oi] = int32(index[oi])
		} else if i, ok := b.byID[f.ID]; ok && b.byID != nil {
			idx[oi] = int32(i)
		} else {
			idx[oi] = int32(oi)
		}
	}
	return idx
}

type outEdge struct {
	f    int32
	a, b int32
}

// Check returns the problems of out against the input: shared borders that
// differ (kind BorderMismatch: a shared vertex kept on one side only, or an
// edge along a shared border that only one side has) and new gaps (kind
// NewGap: an edge used by one feature only, with an end whose input edges
// were all shared). Output vertices that are not in the input, such as
// points added by repairs, are ignored.
//
// index gives the input index of each out feature (simplify.Level.Index);
// when nil, features are matched by id, or by position when the input's ids
// are missing or repeated.
func (b *Borders) Check(out []*geojson.Feature, index []int) []Problem {
	idx := b.index(out, index)
	verts := make(map[int32][]int32)
	edgeUse := map[uint64][]int32{}
	var oes []outEdge
	for oi, f := range out {
		fi := idx[oi]
		for _, r := range featRings(f) {
			n := len(r)
			ids := make([]int32, n)
			for k, p := range r {
				id, ok := b.ids[p]
				if !ok {
					id = -1
				}
				ids[k] = id
				if ok && !has(verts[id], fi) {
					verts[id] = append(verts[id], fi)
				}
			}
			for k := range n {
				a, c := ids[k], ids[(k+1)%n]
				if a < 0 || c < 0 {
					continue
				}
				e := edgeID(a, c)
				edgeUse[e] = append(edgeUse[e], fi)
				oes = append(oes, outEdge{fi, a, c})
			}
		}
	}
	present := map[int32]bool{}
	for _, i := range idx {
		present[i] = true
	}
	var probs []Problem
	seen := map[[3]int]bool{}
	report := func(kind string, f, g int32, v int32) {
		k := [3]int{len(kind), int(min(f, g)), int(max(f, g))}
		if seen[k] {
			return
		}
		seen[k] = true
		var p geom.Point
		for q, id := range b.ids {
			if id == v {
				p = q
				break
			}
		}
		other := int(max(f, g))
		if g < 0 {
			other = -1
		}
		ff := min(f, g)
		if g < 0 {
			ff = f
		}
		probs = append(probs, Problem{Feature: int(ff), ID: b.in[ff].ID, Kind: kind, Point: op(p), Other: other})
	}
	// A shared vertex kept by one side is kept by the other.
	for v, fs := range verts {
		for _, f := range b.owners[v] {
			if !present[f] || has(fs, f) {
				continue
			}
			for _, g := range fs {
				// Only a problem where f and g share an input edge at v.
				at, ok := b.pos[g][v]
				if !ok {
					continue
				}
				ids := b.rings[g][at[0]]
				n := len(ids)
				k := int(at[1])
				if b.shared(ids[(k+n-1)%n], v, f, g) || b.shared(v, ids[(k+1)%n], f, g) {
					report(BorderMismatch, f, g, v)
				}
			}
		}
	}
	// An edge along a shared border is in both features.
	for _, e := range oes {
		for _, g := range b.owners[e.a] {
			if g == e.f || !present[g] || !has(b.owners[e.b], g) {
				continue
			}
			if has(edgeUse[edgeID(e.a, e.b)], g) {
				continue
			}
			if b.alongBorder(e.f, g, e.a, e.b) {
				report(BorderMismatch, e.f, g, e.a)
			}
		}
	}
	// No new gaps.
	for _, e := range oes {
		if len(edgeUse[edgeID(e.a, e.b)]) != 1 {
			continue
		}
		for _, v := range [2]int32{e.a, e.b} {
			if b.interior(v) {
				report(NewGap, e.f, -1, v)
				break
			}
		}
	}
	sortProblems(probs)
	return probs
}

// interior reports whether every input edge at v is shared.
func (b *Borders) interior(v int32) bool {
	for _, f := range b.owners[v] {
		at := b.pos[f][v]
		ids := b.rings[f][at[0]]
		n := len(ids)
		k := int(at[1])
		if len(b.edges[edgeID(ids[(k+n-1)%n], v)]) < 2 || len(b.edges[edgeID(v, ids[(k+1)%n])]) < 2 {
			return false
		}
	}
	return true
}

// SharedBorders checks that every border two features share in the input
// coverage in is identical on both sides in out, matching features by id.
// See Borders.Check.
func SharedBorders(in, out []*geojson.Feature) []Problem {
	var ps []Problem
	for _, p := range NewBorders(in).Check(out, nil) {
		if p.Kind == BorderMismatch {
			ps = append(ps, p)
		}
	}
	return ps
}

// NewGaps reports gaps that open in out between features that were
// neighbours in in. See Borders.Check.
func NewGaps(in, out []*geojson.Feature) []Problem {
	var ps []Problem
	for _, p := range NewBorders(in).Check(out, nil) {
		if p.Kind == NewGap {
			ps = append(ps, p)
		}
	}
	return ps
}
