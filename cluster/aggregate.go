package cluster

import (
	"math"
	"slices"
	"strconv"

	"github.com/mapcluster/mapcluster"
)

// aggregator computes the Aggregates of every cluster from its children:
// the Go form of supercluster's map/reduce. Values are accumulated in the
// order of the cluster's children (the seed, then its members in grid
// order), which does not depend on the number of workers.
type aggregator struct {
	specs []aggSpec
}

type aggSpec struct {
	Aggregate
	num *mapcluster.Column // the input column (numeric ops)
	// per cluster
	sum, cnt, ext []float64
	// categories: per cluster a list of (category, count), sorted by category
	catDict  []string
	catCode  []int32 // per point: category index, -1 when missing
	catStart []int32
	catPairs []catCount
}

type catCount struct{ cat, count int32 }

func newAggregator(pts *mapcluster.Points, aggs []Aggregate) (*aggregator, error) {
	a := &aggregator{}
	for _, ag := range aggs {
		s := aggSpec{Aggregate: ag}
		if ag.Op != OpCount {
			col := pts.Column(ag.Field)
			if col == nil {
				return nil, mapcluster.InvalidField("aggregate", "%s: the input has no property %q", ag, ag.Field)
			}
			switch ag.Op {
			case OpCategories:
				if col.Kind == mapcluster.KindJSON {
					return nil, mapcluster.InvalidField("category", "property %q holds JSON values; categories need strings or numbers", ag.Field)
				}
				s.encodeCategories(col)
				s.catStart = []int32{0}
			default:
				if col.Kind != mapcluster.KindNumber {
					return nil, mapcluster.InvalidField("aggregate", "%s: property %q is not numeric (it holds %s values)", ag, ag.Field, col.Kind)
				}
				s.num = col
			}
		}
		a.specs = append(a.specs, s)
	}
	return a, nil
}

func (s *aggSpec) encodeCategories(col *mapcluster.Column) {
	codes := map[string]int32{}
	n := col.Len()
	s.catCode = make([]int32, n)
	for i := range n {
		if col.IsMissing(i) {
			s.catCode[i] = -1
			continue
		}
		var v string
		if col.Kind == mapcluster.KindNumber {
			v = strconv.FormatFloat(col.Num[i], 'f', -1, 64)
		} else {
			v = col.Str[i]
		}
		c, ok := codes[v]
		if !ok {
			c = int32(len(s.catDict))
			codes[v] = c
			s.catDict = append(s.catDict, v)
		}
		s.catCode[i] = c
	}
}

// add computes the aggregates of the cluster just appended to ix, whose
// children are kids.
func (a *aggregator) add(ix *Index, kids []int32) {
	n := int32(ix.n)
	for si := range a.specs {
		s := &a.specs[si]
		switch s.Op {
		case OpCount:
			continue
		case OpCategories:
			var acc []catCount
			for _, k := range kids {
				if k < n {
					if c := s.catCode[k]; c >= 0 {
						acc = append(acc, catCount{c, 1})
					}
					continue
				}
				cn := k - n
				acc = append(acc, s.catPairs[s.catStart[cn]:s.catStart[cn+1]]...)
			}
			slices.SortStableFunc(acc, func(x, y catCount) int { return int(x.cat - y.cat) })
			out := acc[:0]
			for _, p := range acc {
				if len(out) > 0 && out[len(out)-1].cat == p.cat {
					out[len(out)-1].count += p.count
				} else {
					out = append(out, p)
				}
			}
			s.catPairs = append(s.catPairs, out...)
			s.catStart = append(s.catStart, int32(len(s.catPairs)))
		default:
			var sum, cnt float64
			ext := math.NaN()
			for _, k := range kids {
				var v, c float64
				if k < n {
					v = s.num.Num[k]
					if math.IsNaN(v) {
						continue
					}
					c = 1
				} else {
					cn := k - n
					c = s.cnt[cn]
					if c == 0 {
						continue
					}
					v = s.sum[cn]
					if s.Op == OpMin || s.Op == OpMax {
						v = s.ext[cn]
					}
				}
				sum += v
				cnt += c
				switch {
				case math.IsNaN(ext):
					ext = v
				case s.Op == OpMin:
					ext = min(ext, v)
				case s.Op == OpMax:
					ext = max(ext, v)
				}
			}
			s.sum = append(s.sum, sum)
			s.cnt = append(s.cnt, cnt)
			if s.Op == OpMin || s.Op == OpMax {
				s.ext = append(s.ext, ext)
			}
		}
	}
}

// properties adds the aggregates of cluster number cn to props.
func (a *aggregator) properties(ix *Index, cn int, props map[string]any) {
	for si := range a.specs {
		s := &a.specs[si]
		switch s.Op {
		case OpCount:
			_, w, _ := ix.cluster(cn)
			props[s.Name] = int(w)
		case OpCategories:
			m := make(map[string]int, s.catStart[cn+1]-s.catStart[cn])
			for _, p := range s.catPairs[s.catStart[cn]:s.catStart[cn+1]] {
				m[s.catDict[p.cat]] = int(p.count)
			}
			props[s.Name] = m
		case OpSum:
			props[s.Name] = s.sum[cn]
		case OpMin, OpMax:
			if s.cnt[cn] > 0 {
				props[s.Name] = s.ext[cn]
			}
		case OpMean:
			if s.cnt[cn] > 0 {
				props[s.Name] = s.sum[cn] / s.cnt[cn]
			}
		}
	}
}
