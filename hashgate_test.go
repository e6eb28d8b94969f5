package main

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestHashGateTurnsAwayALoginThatWouldWaitTooLong(t *testing.T) {
	g := newHashGate(1, time.Second)
	ran := false
	if err := g.run(context.Background(), func() error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("a free gate did not run the hash: %v", err)
	}
	// Twenty logins ahead at 100 ms each on one slot: about 2 s of waiting.
	g.avg.Store(int64(100 * time.Millisecond))
	g.waiting.Store(20)
	ran = false
	err := g.run(context.Background(), func() error { ran = true; return nil })
	var busy errBusy
	if !errors.As(err, &busy) || ran {
		t.Fatalf("run = %v (ran %v), want errBusy without running", err, ran)
	}
	if busy.Retry <= 0 || busy.Retry > 3*time.Second {
		t.Fatalf("Retry = %v, want a few seconds", busy.Retry)
	}
}

func TestHashGateRunsAtMostSlotsAtOnce(t *testing.T) {
	g := newHashGate(2, 10*time.Second)
	g.avg.Store(int64(time.Millisecond))
	var running, peak int64
	done := make(chan struct{})
	var mu = make(chan struct{}, 1)
	for range 8 {
		go func() {
			g.run(context.Background(), func() error {
				mu <- struct{}{}
				running++
				peak = max(peak, running)
				<-mu
				time.Sleep(5 * time.Millisecond)
				mu <- struct{}{}
				running--
				<-mu
				return nil
			})
			done <- struct{}{}
		}()
	}
	for range 8 {
		<-done
	}
	if peak > 2 {
		t.Fatalf("%d hashes ran at once, want at most 2", peak)
	}
}
