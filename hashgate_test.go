package main

import (
	"context"
	"errors"
	"net/http"
	neturl "net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
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

// A storm arrives faster than hashes finish: a hash running far longer than
// the average (a loaded machine) must count in the prediction at once, so
// the next login is told to come back instead of joining a queue that
// cannot be served within maxWait.
func TestHashGatePredictsFromAHashStillRunning(t *testing.T) {
	g := newHashGate(1, time.Second)
	release := make(chan struct{})
	started := make(chan struct{})
	go g.run(context.Background(), func() error { close(started); <-release; return nil })
	defer close(release)
	<-started
	g.started[0].Store(time.Now().Add(-2 * time.Second).UnixNano()) // running for 2 s already
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := g.run(ctx, func() error { return nil })
	var busy errBusy
	if !errors.As(err, &busy) {
		t.Fatalf("run = %v, want errBusy at once", err)
	}
	if busy.Retry < 2*time.Second {
		t.Errorf("Retry = %v, want at least the 2 s the running hash has taken", busy.Retry)
	}
}

// One slot's hash held up (a low-priority thread waits its turn for a
// moment) while the other slot keeps finishing is no slow machine: the
// next login joins the queue instead of being told to come back in
// seconds it would not have waited.
func TestHashGateIgnoresOneSlowSlotWhileAnotherRuns(t *testing.T) {
	g := newHashGate(2, time.Second)
	g.avg.Store(int64(10 * time.Millisecond))
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	for range 2 {
		go g.run(context.Background(), func() error { started <- struct{}{}; <-release; return nil })
	}
	defer close(release)
	<-started
	<-started
	g.started[0].Store(time.Now().Add(-2 * time.Second).UnixNano()) // held up for 2 s
	g.started[1].Store(time.Now().UnixNano())                       // just started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := g.run(ctx, func() error { return nil })
	var busy errBusy
	if errors.As(err, &busy) {
		t.Fatalf("run = %v: turned away on one slot's hiccup (the queue was three hashes of 10 ms)", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("run = %v, want it queued until its context ended", err)
	}
}

// A prediction a little past maxWait is within its own error on a loaded
// machine: the login joins the queue. Only one clearly past it is refused.
func TestHashGateAdmitsAPredictionWithinItsError(t *testing.T) {
	g := newHashGate(1, time.Second)
	g.avg.Store(int64(100 * time.Millisecond))
	g.waiting.Store(11) // this one is the 12th: 1.2 s predicted
	ran := false
	if err := g.run(context.Background(), func() error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("run = %v (ran %v): a predicted 1.2 s against a 1 s wait was refused", err, ran)
	}
	g.avg.Store(int64(100 * time.Millisecond)) // the run above moved it
	g.waiting.Store(15)                        // the 16th: 1.6 s, past the margin
	var busy errBusy
	if err := g.run(context.Background(), func() error { return nil }); !errors.As(err, &busy) {
		t.Fatalf("run = %v, want errBusy for a predicted 1.6 s", err)
	}
}

// The wait of a queue is how often the gate finishes a hash, all slots
// together: when hashes have been finishing every 10 ms while logins
// queued, the 100th login waits about a second, whatever one hash's
// average says (here a second each, a few of them held up long ago).
func TestHashGatePredictsFromThePaceHashesFinish(t *testing.T) {
	g := newHashGate(2, time.Second)
	g.avg.Store(int64(time.Second))
	g.waiting.Store(10) // logins queued for the slots
	t0 := time.Now()
	for i := range 6 {
		g.finished(t0.Add(time.Duration(i) * 10 * time.Millisecond))
	}
	g.waiting.Store(99) // this one is the 100th: 100 × 10 ms
	ran := false
	if err := g.run(context.Background(), func() error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("run = %v (ran %v): turned away although the queue moves every 10 ms", err, ran)
	}
}

// A queue truly too long answers the login at once: 503 with Retry-After,
// a page that says the same number of seconds, and nothing changed (still
// anonymous, the attempt not counted against the person).
func TestALoginPastTheQueueIsToldHowLongToWait(t *testing.T) {
	forEachDB(t, func(t *testing.T, url string) {
		s := startServer(t, url)
		b := s.newBrowser(t)
		s.app.hashes.waiting.Store(1000) // a thousand logins ahead
		r := b.submit("/login", neturl.Values{"username": {"alice"}, "password": {"wonderland"}})
		s.app.hashes.waiting.Store(0)
		if r.Status != http.StatusServiceUnavailable {
			t.Fatalf("login behind a queue of 1000: status %d, want 503", r.Status)
		}
		secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if err != nil || time.Duration(secs)*time.Second <= s.app.hashes.refuseAt() {
			t.Fatalf("Retry-After %q, want the predicted wait in seconds, past %v", r.Header.Get("Retry-After"), s.app.hashes.refuseAt())
		}
		if want := "try again in " + strconv.Itoa(secs) + " seconds"; !strings.Contains(r.Body, want) {
			t.Errorf("the page does not say %q:\n%s", want, r.Body)
		}
		if st := b.apiState(); st.Session != nil && st.Session.Authenticated {
			t.Error("the refused login logged the session in")
		}
		b.login("alice", "wonderland") // the queue gone, the same person gets in
	})
}

// The first second of a storm: no hash has finished yet and both are held
// up behind the storm's page views, a few times the average. That is no
// slow machine: the 120th login joins the queue (120 × 40 ms) instead of
// being told to come back.
func TestHashGateAdmitsAStormBeforeItsPaceIsKnown(t *testing.T) {
	g := newHashGate(2, 10*time.Second)
	g.avg.Store(int64(80 * time.Millisecond))
	release := make(chan struct{})
	started := make(chan struct{}, 2)
	for range 2 {
		go g.run(context.Background(), func() error { started <- struct{}{}; <-release; return nil })
	}
	defer close(release)
	<-started
	<-started
	held := time.Now().Add(-300 * time.Millisecond).UnixNano() // held up, not stuck
	g.started[0].Store(held)
	g.started[1].Store(held)
	g.waiting.Add(117) // this one is the 120th
	defer g.waiting.Add(-117)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := g.run(ctx, func() error { return nil })
	var busy errBusy
	if errors.As(err, &busy) {
		t.Fatalf("run = %v (retry %v): a storm's first second turned away", err, busy.Retry)
	}
}

// A login reads its user before it queues for a hash slot, so a slot never
// holds its core's turn while the database answers. Seen from outside: a
// password changed while the login waits in the queue is not the one
// checked (the row was read on arrival).
func TestALoginReadsItsUserBeforeItQueuesForAHash(t *testing.T) {
	forEachDB(t, func(t *testing.T, url string) {
		s := startServer(t, url)
		b := s.newBrowser(t)
		b.get("/login")
		g := s.app.hashes
		var held []int
		for range cap(g.free) { // every slot taken: the login queues
			held = append(held, <-g.free)
		}
		done := make(chan int, 1)
		go func() {
			done <- b.submit("/login", neturl.Values{"username": {"alice"}, "password": {"wonderland"}}).Status
		}()
		deadline := time.Now().Add(10 * time.Second)
		for g.waiting.Load() < 1 {
			if time.Now().After(deadline) {
				t.Fatal("the login never queued for a hash")
			}
			time.Sleep(time.Millisecond)
		}
		hash, err := bcrypt.GenerateFromPassword([]byte("changed while queued"), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.app.db.W.Exec(s.app.db.W.Rebind("UPDATE users SET password_hash = ? WHERE username = ?"), string(hash), "alice"); err != nil {
			t.Fatal(err)
		}
		for _, i := range held {
			g.free <- i
		}
		if st := <-done; st != http.StatusSeeOther {
			t.Fatalf("login with the password alice had when it arrived: status %d, want 303 (the user was read inside the hash slot)", st)
		}
		if st := b.apiState(); st.Session == nil || !st.Session.Authenticated {
			t.Fatal("the login did not log the session in")
		}
	})
}
