package main

import (
	"context"
	"runtime"
	"sync"
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

	mu        sync.Mutex
	gaps      [16]time.Duration // the last gaps between hashes finishing while logins queued
	nGaps     int
	lastDone  time.Time // when the last hash finished
	lastQueue bool      // and whether logins were queued for a slot then
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

// pace is how often the gate finishes a hash now, all slots together. It
// is what a queue's wait depends on (first come, first served): the mean
// gap between the last hashes that finished while logins were queued for a
// slot. Before there are a few such gaps, one hash's moving average divided
// among the slots stands in. Either way, when every slot is busy and each
// running hash has already run longer than that pace allows, the shortest
// of them counts: a storm on a machine suddenly slow is told so before it
// has waited. One hash held up (a low-priority thread often is, for a
// moment) while other slots keep finishing is no slow machine: a
// prediction from its duration alone turned away logins the queue served
// within seconds.
func (g *hashGate) pace(now time.Time) time.Duration {
	slots := time.Duration(len(g.started))
	avg := time.Duration(g.avg.Load())
	p := avg / slots
	paced := false
	g.mu.Lock()
	if k := min(g.nGaps, len(g.gaps)); k >= 4 {
		var sum time.Duration
		for _, d := range g.gaps[:k] {
			sum += d
		}
		p, paced = sum/time.Duration(k), true
	}
	g.mu.Unlock()
	shortest := time.Duration(-1)
	for i := range g.started {
		t := g.started[i].Load()
		if t == 0 {
			return p // a free slot: the next hash starts at once
		}
		if e := now.Sub(time.Unix(0, t)); shortest < 0 || e < shortest {
			shortest = e
		}
	}
	// Before there is a pace, only hashes far past the average count: in
	// the first second of a storm every hash is held up behind the storm's
	// own page views, which is no slow machine (2 and 6 logins of 128 were
	// turned away from waits under 10 s that way).
	if !paced && shortest < 4*avg {
		return p
	}
	return max(p, shortest/slots)
}

// finished records a hash's end for the pace. A gap counts when logins
// were queued at both of its ends: the slots were never idle in between.
func (g *hashGate) finished(now time.Time) {
	queued := g.waiting.Load() > int64(len(g.started))
	g.mu.Lock()
	if queued && g.lastQueue && !g.lastDone.IsZero() {
		g.gaps[g.nGaps%len(g.gaps)] = now.Sub(g.lastDone)
		g.nGaps++
	}
	g.lastDone, g.lastQueue = now, queued
	g.mu.Unlock()
}

// leave takes a login out of the count; the last one out forgets the pace
// (the next storm may meet a machine loaded otherwise).
func (g *hashGate) leave() {
	if g.waiting.Add(-1) == 0 {
		g.mu.Lock()
		g.nGaps = 0
		g.mu.Unlock()
	}
}

// defaultHashSlots is one per core. Measured on 2 cores with 128 learners
// (README, "Performance and limits"), cores − 1 slots left a core idle
// while logins queued; at a lowered priority the hashes take only what
// page views leave.
func defaultHashSlots() int { return max(1, runtime.NumCPU()) }

// hashMaxWait is the wait a person is asked to accept before "try again".
const hashMaxWait = 10 * time.Second

// refuseAt is the predicted wait past which a login is turned away: maxWait
// and half again. A prediction moves with the machine: from one hash's
// average alone it was off by up to 1.75× on a loaded machine from one
// second to the next, and with a refusal at a predicted 10 s the load tool
// found most 503s wrong (a login that came later was in within 10 s). A
// refusal costs the person its Retry-After and the queue again, more than
// the seconds a prediction may be over, so only a queue clearly past
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
	defer g.leave()
	// Everyone in the gate, and then this one, at the gate's pace.
	predicted := time.Duration(n) * g.pace(time.Now())
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
	end := time.Now()
	g.finished(end)
	d := int64(end.Sub(start))
	// An exponentially weighted average (1/8 new) follows the machine
	// within a dozen hashes without jumping on a few held up; a machine
	// suddenly slow shows first in the hashes still running (pace).
	for {
		old := g.avg.Load()
		if g.avg.CompareAndSwap(old, old+(d-old)/8) {
			break
		}
	}
	return err
}
