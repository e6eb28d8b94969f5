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
// Logins queue for a slot; one whose wait would truly pass maxWait (10 s
// in the server: a person waits a few seconds, a "try again" page costs
// them more) is turned away at once with a clear "busy, retry in N s"
// rather than left to time out.
type hashGate struct {
	free    chan int       // the slots not in use, by index
	started []atomic.Int64 // when slot i's hash began (Unix ns), 0 while free
	waiting atomic.Int64
	avg     atomic.Int64 // moving average of one hash, in ns
	ran     atomic.Int64 // hashes run since start: what a burst of guesses really cost
	maxWait time.Duration
}

// errBusy says the login queue is too long: try again after Retry.
type errBusy struct{ Retry time.Duration }

func (e errBusy) Error() string { return "login queue full" }

func newHashGate(slots int, maxWait time.Duration) *hashGate {
	n := max(1, slots)
	g := &hashGate{free: make(chan int, n), started: make([]atomic.Int64, n), maxWait: maxWait}
	for i := range n {
		g.free <- i
	}
	g.avg.Store(int64(80 * time.Millisecond))
	return g
}

// perHash is what one hash is expected to take now: the moving average,
// or longer when every slot's hash running now has already taken longer.
// A storm arrives faster than hashes finish, so the average alone learns
// of a loaded machine only after admitting a queue it cannot serve; but
// one slow hash is no slow machine: a thread at low priority is often held
// up for a moment while the other slots keep finishing, and a prediction
// from that one hash turned away logins the queue would have served in a
// few seconds. So the shortest of the running hashes counts, and only when
// every slot is busy.
func (g *hashGate) perHash(now time.Time) time.Duration {
	d := time.Duration(g.avg.Load())
	var shortest time.Duration = -1
	for i := range g.started {
		t := g.started[i].Load()
		if t == 0 {
			return d // a free slot: the next hash starts at once
		}
		if e := now.Sub(time.Unix(0, t)); shortest < 0 || e < shortest {
			shortest = e
		}
	}
	return max(d, shortest)
}

// defaultHashSlots is one per core. Measured on 2 cores with 128 learners
// (README, "Performance and limits"), cores − 1 slots left a core idle
// while logins queued; at a lowered priority the hashes take only what
// page views leave.
func defaultHashSlots() int { return max(1, runtime.NumCPU()) }

// hashMaxWait is the wait a person is asked to accept before "try again".
const hashMaxWait = 10 * time.Second

// refuseAt is the predicted wait past which a login is turned away: maxWait
// and half again. On a loaded machine the prediction was measured off by up
// to 1.75× either way from one second to the next (a few hashes held up
// move the average), and with a refusal at a predicted 10 s the load tool
// found most 503s wrong: a login that came later was in within 10 s. A
// refusal costs the person its Retry-After and the queue again, more than
// the seconds the prediction may be over, so only a queue clearly past
// maxWait is refused.
func (g *hashGate) refuseAt() time.Duration { return g.maxWait + g.maxWait/2 }

// run waits for a slot and runs fn in it, unless the predicted wait is past
// refuseAt: then errBusy at once, before the person has waited at all. A
// login admitted waits its turn even when the machine turns out slower than
// predicted: refusing it after seconds in the queue would cost the person
// more than the rest of the wait (only a queue stalled past 3 × maxWait
// gives up).
func (g *hashGate) run(ctx context.Context, fn func() error) error {
	n := g.waiting.Add(1)
	defer g.waiting.Add(-1)
	// Everyone queued, plus this one, shares the slots.
	predicted := time.Duration(n) * g.perHash(time.Now()) / time.Duration(len(g.started))
	if predicted > g.refuseAt() {
		return errBusy{Retry: predicted}
	}
	t := time.NewTimer(3 * g.maxWait)
	defer t.Stop()
	var slot int
	select {
	case slot = <-g.free:
	case <-t.C:
		return errBusy{Retry: g.maxWait} // never started: nothing happened
	case <-ctx.Done():
		return ctx.Err()
	}
	start := time.Now()
	g.started[slot].Store(start.UnixNano())
	defer func() {
		g.started[slot].Store(0)
		g.free <- slot
	}()
	g.ran.Add(1)
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
	// An exponentially weighted average (1/8 new) follows the machine
	// within a dozen hashes without jumping on a few held up; a machine
	// suddenly slow shows first in the hashes still running (perHash).
	for {
		old := g.avg.Load()
		if g.avg.CompareAndSwap(old, old+(d-old)/8) {
			break
		}
	}
	return err
}
