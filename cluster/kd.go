package cluster

import "math"

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
func kdVisitOrder(xs, ys []int32, nodeSize int) []int32 {
	n := len(xs)
	ids := make([]int32, n)
	coords := make([]int32, 2*n)
	for i := range n {
		ids[i] = int32(i)
		coords[2*i] = xs[i]
		coords[2*i+1] = ys[i]
	}
	kdSort(ids, coords, nodeSize, 0, n-1, 0)

	order := make([]int32, n)
	next := int32(0)
	type frame struct{ left, right int }
	stack := []frame{{0, n - 1}}
	for len(stack) > 0 {
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if f.right-f.left <= nodeSize {
			for i := f.left; i <= f.right; i++ {
				order[ids[i]] = next
				next++
			}
			continue
		}
		m := (f.left + f.right) >> 1
		order[ids[m]] = next
		next++
		stack = append(stack, frame{f.left, m - 1}, frame{m + 1, f.right})
	}
	return order
}

func kdSort(ids, coords []int32, nodeSize, left, right, axis int) {
	if right-left <= nodeSize {
		return
	}
	m := (left + right) >> 1
	kdSelect(ids, coords, m, left, right, axis)
	kdSort(ids, coords, nodeSize, left, m-1, 1-axis)
	kdSort(ids, coords, nodeSize, m+1, right, 1-axis)
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
