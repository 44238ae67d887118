package cluster

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func TestTeamRunsEveryPartOnce(t *testing.T) {
	t.Parallel()
	for _, workers := range []int{1, 2, 3, 8} {
		tm := newTeam(workers)
		for _, n := range []int{0, 1, 2, 5, 64, 1000} {
			for round := range 3 {
				hits := make([]atomic.Int32, n)
				tm.forEach(n, func(k int) {
					hits[k].Add(1)
					if round == 1 {
						// a step posted from inside a step runs on its caller
						tm.forEach(3, func(int) {})
					}
				})
				for k := range hits {
					if h := hits[k].Load(); h != 1 {
						t.Fatalf("workers %d, n %d: part %d ran %d times", workers, n, k, h)
					}
				}
			}
			covered := make([]atomic.Int32, 1<<16)
			tm.gather(len(covered), func(lo, hi int) {
				for i := lo; i < hi; i++ {
					covered[i].Add(1)
				}
			})
			for i := range covered {
				if c := covered[i].Load(); c != 1 {
					t.Fatalf("workers %d: gather covered %d %d times", workers, i, c)
				}
			}
		}
		tm.stop()
		tm.stop() // a second stop is harmless
	}
}

func TestTeamStopEndsItsHelpers(t *testing.T) {
	before := runtime.NumGoroutine()
	tm := newTeam(4)
	tm.forEach(100, func(int) {})
	time.Sleep(2 * teamSpin) // let some helpers park
	tm.stop()
	for range 100 {
		if runtime.NumGoroutine() <= before {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%d goroutines after stop, %d before the team", runtime.NumGoroutine(), before)
}
