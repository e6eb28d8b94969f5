package main

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"
)

// hashGate bounds how many password hashes run at once. bcrypt is slow on
// purpose (about 60 ms of a core here): thirty students pressing "Log in" in
// the same second would otherwise take every core and stall every page view.
// As many hashes as cores run at once, each on a thread of its own whose
// OS priority is lowered, so the kernel runs page views first and hashes
// with what is left: a login uses every idle cycle without slowing a page.
// Logins queue for a slot; one whose predicted wait is past maxWait (10 s
// in the server: a person waits a few seconds, a "try again" page costs
// them more) is turned away at once with a clear "busy, retry in N s"
// rather than left to time out.
type hashGate struct {
	slots   chan struct{}
	waiting atomic.Int64
	avg     atomic.Int64 // moving average of one hash, in ns
	ran     atomic.Int64 // hashes run since start: what a burst of guesses really cost
	maxWait time.Duration
}

// errBusy says the login queue is too long: try again after Retry.
type errBusy struct{ Retry time.Duration }

func (e errBusy) Error() string { return "login queue full" }

func newHashGate(slots int, maxWait time.Duration) *hashGate {
	g := &hashGate{slots: make(chan struct{}, max(1, slots)), maxWait: maxWait}
	g.avg.Store(int64(80 * time.Millisecond))
	return g
}

// defaultHashSlots is one per core. Measured on 2 cores with 128 learners
// (README, "Performance and limits"), cores − 1 slots left a core idle
// while logins queued; at a lowered priority the hashes take only what
// page views leave.
func defaultHashSlots() int { return max(1, runtime.NumCPU()) }

// hashMaxWait is the longest predicted queue a login joins.
const hashMaxWait = 10 * time.Second

// run waits for a slot and runs fn in it, unless the predicted wait is past
// maxWait (errBusy at once) or no slot came free within maxWait.
func (g *hashGate) run(ctx context.Context, fn func() error) error {
	n := g.waiting.Add(1)
	defer g.waiting.Add(-1)
	// Everyone queued, plus this one, shares the slots.
	predicted := time.Duration(n) * time.Duration(g.avg.Load()) / time.Duration(cap(g.slots))
	if predicted > g.maxWait {
		return errBusy{Retry: predicted}
	}
	t := time.NewTimer(g.maxWait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
	case <-t.C:
		return errBusy{Retry: g.maxWait / 2} // never started: nothing happened
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-g.slots }()
	g.ran.Add(1)
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		// A thread of its own at a lower priority; the goroutine ends
		// still locked, so Go discards the thread instead of reusing it
		// for page views at that priority.
		runtime.LockOSThread()
		lowerThreadPriority()
		done <- fn()
	}()
	err := <-done
	d := int64(time.Since(start))
	// An exponentially weighted average (1/8 new) follows the machine.
	for {
		old := g.avg.Load()
		if g.avg.CompareAndSwap(old, old+(d-old)/8) {
			break
		}
	}
	return err
}
