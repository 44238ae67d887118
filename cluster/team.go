package cluster

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// team runs the parallel steps of one build. A level makes about twenty
// fork-joins, many of them 50–500 µs of work, with short sequential steps
// between them. Starting goroutines for each one cost the second worker
// its start-up: once its thread has gone to sleep, waking it took 50–100
// µs on this project's 2-core machines, so a step of 100 µs after a
// sequential one ran no faster on two workers than on one (measured with
// a probe of fork-joins after 200 µs of sequential work: 303 µs a round on
// one worker and on two). The team's helpers stay between steps instead:
// each spins for up to teamSpin waiting for the next step, yielding the
// processor now and then, and only then parks.
//
// Which worker runs which part of a step never changes a result: every
// caller writes only the slots of its own part, as before.
type team struct {
	workers int
	gen     atomic.Uint64           // bumped for every step posted
	job     atomic.Pointer[teamJob] // the step posted last
	parked  atomic.Int32            // helpers waiting on wake
	wake    chan struct{}
	quit    atomic.Bool
	busy    atomic.Bool // a step is running: a nested one runs on its caller
	wg      sync.WaitGroup
}

// teamJob is one step: fn(k) for every k in [0, n). Worker w starts on
// the w-th of len(slots) equal runs of k, then takes what is left of the
// others': consecutive steps over the same chunks then mostly give a chunk
// to the same worker, whose cache holds what the last step wrote there, and
// the workers do not pass one counter back and forth.
type teamJob struct {
	n     int64
	fn    func(k int)
	slots []teamSlot
	done  atomic.Int64 // parts finished
}

// teamSlot is one worker's run of a step, on a cache line of its own.
type teamSlot struct {
	next atomic.Int64
	end  int64
	_    [48]byte
}

// teamSpin is how long a helper waits for the next step before it parks.
// It only burns a core during a build's sequential steps, which the build
// would leave idle anyway.
const teamSpin = 500 * time.Microsecond

// newTeam starts workers-1 helpers; the caller of a step is worker 0.
// stop ends them.
func newTeam(workers int) *team {
	t := &team{workers: max(workers, 1), wake: make(chan struct{}, max(workers, 1))}
	for w := 1; w < t.workers; w++ {
		t.wg.Add(1)
		go t.help(w)
	}
	return t
}

// stop ends the helpers and waits for them. A nil team has none.
func (t *team) stop() {
	if t == nil || t.quit.Swap(true) {
		return
	}
	for range t.workers {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
	t.wg.Wait()
}

// size is the number of workers; a nil team has one.
func (t *team) size() int {
	if t == nil {
		return 1
	}
	return t.workers
}

// help is helper w's loop: wait for a step, take parts of it, repeat.
func (t *team) help(w int) {
	defer t.wg.Done()
	// Helpers beyond the processors would only take turns spinning.
	spin := teamSpin
	if w >= runtime.GOMAXPROCS(0) {
		spin = 0
	}
	seen := t.gen.Load()
	for {
		// Spin, yielding now and then so that anything else runnable (the
		// collector's workers) gets the processor, then park.
		deadline := time.Now().Add(spin)
		for i := 0; t.gen.Load() == seen; i++ {
			if t.quit.Load() {
				return
			}
			if i&255 != 255 {
				continue
			}
			runtime.Gosched()
			if time.Now().Before(deadline) {
				continue
			}
			t.parked.Add(1)
			if t.gen.Load() == seen && !t.quit.Load() {
				<-t.wake // may be a stale token: the loop looks again
			}
			t.parked.Add(-1)
			deadline = time.Now().Add(spin)
		}
		seen = t.gen.Load()
		if j := t.job.Load(); j != nil {
			j.run(w)
		}
	}
}

// run takes parts of j, worker w's run first, until none is left.
func (j *teamJob) run(w int) {
	done := int64(0)
	for i := range j.slots {
		s := &j.slots[(w+i)%len(j.slots)]
		for k := s.next.Add(1) - 1; k < s.end; k = s.next.Add(1) - 1 {
			j.fn(int(k))
			done++
		}
	}
	j.done.Add(done)
}

// forEach runs fn(k) for every k in [0, n) on the team, each worker taking
// the next k in turn, and returns when all are done. Callers write only to
// slots of their own k, so the schedule never changes a result. A step
// posted from inside another runs on its caller alone.
func (t *team) forEach(n int, fn func(k int)) {
	if t == nil || t.workers <= 1 || n <= 1 || t.busy.Load() || !t.busy.CompareAndSwap(false, true) {
		for k := range n {
			fn(k)
		}
		return
	}
	j := &teamJob{n: int64(n), fn: fn, slots: make([]teamSlot, t.workers)}
	for w := range j.slots {
		j.slots[w].next.Store(int64(w * n / t.workers))
		j.slots[w].end = int64((w + 1) * n / t.workers)
	}
	t.job.Store(j)
	t.gen.Add(1)
	for p := t.parked.Load(); p > 0; p-- {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
	j.run(0)
	for i := 0; j.done.Load() < j.n; i++ {
		if i&63 == 63 {
			runtime.Gosched()
		}
	}
	t.busy.Store(false)
}

// gather runs fn over [0, n) split into one contiguous range per worker. It
// is for loops whose iterations write disjoint slots, so the split never
// changes the result.
func (t *team) gather(n int, fn func(lo, hi int)) {
	w := t.size()
	if w <= 1 || n < 1<<15 {
		fn(0, n)
		return
	}
	step := (n + w - 1) / w
	t.forEach(w, func(k int) {
		if lo := k * step; lo < n {
			fn(lo, min(lo+step, n))
		}
	})
}
