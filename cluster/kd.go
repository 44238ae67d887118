package cluster

import (
	"math"
	"sync"
)

// kdVisitOrder returns, for each item (by rank), its position in the order in
// which supercluster's k-d tree (kdbush 4, with supercluster's node size)
// lists the results of a radius query. A query prunes subtrees but never
// reorders what it visits, so one number per item orders every query's
// results. supercluster copies the members of a seed that is too small to
// form a cluster in this order, and the next zoom visits them in it, so
// matching it matters when minPoints > 2.
//
// This reproduces kdbush's Floyd-Rivest selection exactly (the same swaps,
// the same ties). Its float sub-range estimate uses math.Log/Exp/Sqrt, which
// can differ from V8's in the last bit; that can only move which ties a
// node's halves get, and has not been seen to change a result.
//
// coords holds the points as x, y pairs, by rank; kdVisitOrder reorders it.
// The two halves of a node are built in parallel (they are disjoint ranges
// of the arrays), on up to 4·workers goroutines, with the same result.
func kdVisitOrder(coords []int32, nodeSize int, tm *team) []int32 {
	n := len(coords) / 2
	t := kdTree{ids: make([]int32, n), coords: coords, order: make([]int32, n), nodeSize: nodeSize}
	workers := tm.size()
	tm.gather(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			t.ids[i] = int32(i)
		}
	})
	spawn := 0
	for workers > 1 && 1<<spawn < 4*workers {
		spawn++
	}
	t.build(0, n-1, 0, 0, spawn)
	return t.order
}

// kdTree is kdbush's tree under construction: ids and coords are sorted in
// place, and order gets each item's position in a query's visiting order.
type kdTree struct {
	ids, coords, order []int32
	nodeSize           int
}

// build sorts the node [left, right] as kdbush does, and numbers its items
// from o in the order a query visits them: the node's middle item first,
// then its right half, then its left half (kdbush pushes the left half,
// then the right one, on its stack). spawn is how many more levels may
// build their right half on a new goroutine.
func (t *kdTree) build(left, right, axis int, o int32, spawn int) {
	if right-left <= t.nodeSize {
		for i := left; i <= right; i++ {
			t.order[t.ids[i]] = o + int32(i-left)
		}
		return
	}
	m := (left + right) >> 1
	kdSelect(t.ids, t.coords, m, left, right, axis)
	t.order[t.ids[m]] = o
	rightO, leftO := o+1, o+1+int32(right-m)
	if spawn > 0 && right-left > 1<<15 {
		var wg sync.WaitGroup
		wg.Go(func() { t.build(m+1, right, 1-axis, rightO, spawn-1) })
		t.build(left, m-1, 1-axis, leftO, spawn-1)
		wg.Wait()
		return
	}
	t.build(m+1, right, 1-axis, rightO, 0)
	t.build(left, m-1, 1-axis, leftO, 0)
}

func kdSelect(ids, coords []int32, k, left, right, axis int) {
	for right > left {
		if right-left > 600 {
			n := float64(right - left + 1)
			m := float64(k - left + 1)
			z := math.Log(n)
			s := 0.5 * math.Exp(float64(2*z)/3)
			sign := 1.0
			if float64(m-float64(n/2)) < 0 {
				sign = -1
			}
			sd := float64(0.5*math.Sqrt(float64(float64(z*s)*float64(n-s))/n)) * sign
			newLeft := max(left, int(math.Floor(float64(float64(k)-float64(float64(m*s)/n))+sd)))
			newRight := min(right, int(math.Floor(float64(float64(k)+float64(float64((n-m)*s)/n))+sd)))
			kdSelect(ids, coords, k, newLeft, newRight, axis)
		}
		t := coords[2*k+axis]
		i, j := left, right
		kdSwap(ids, coords, left, k)
		if coords[2*right+axis] > t {
			kdSwap(ids, coords, left, right)
		}
		for i < j {
			kdSwap(ids, coords, i, j)
			i++
			j--
			for coords[2*i+axis] < t {
				i++
			}
			for coords[2*j+axis] > t {
				j--
			}
		}
		if coords[2*left+axis] == t {
			kdSwap(ids, coords, left, j)
		} else {
			j++
			kdSwap(ids, coords, j, right)
		}
		if j <= k {
			left = j + 1
		}
		if k <= j {
			right = j - 1
		}
	}
}

func kdSwap(ids, coords []int32, i, j int) {
	ids[i], ids[j] = ids[j], ids[i]
	coords[2*i], coords[2*j] = coords[2*j], coords[2*i]
	coords[2*i+1], coords[2*j+1] = coords[2*j+1], coords[2*i+1]
}
