package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// patientHashQueue lets every login join the hash queue however slow the
// machine running the tests is: the queue's own limit (503) is the hash
// gate's tests' business; here only the throttle may refuse. Call it before
// the first request.
func patientHashQueue(s *testServer) {
	s.app.hashes = newHashGate(defaultHashSlots(), time.Hour)
}

// A parallel burst of wrong guesses at one account from one address gets no
// more passwords checked than the per-person limit: each attempt is counted
// before bcrypt runs, not after. The right password right after the burst is
// refused from that address for the rest of the minute (nothing changes),
// works at once from another address, and works again after the minute.
func TestParallelGuessesGetAtMostTheLimitChecked(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		patientHashQueue(srv)
		b := srv.newBrowser(t)
		token := b.csrf("/login")
		before := srv.app.hashes.ran.Load()
		const burst = 40
		statuses := make([]int, burst)
		var wg sync.WaitGroup
		for i := range burst {
			wg.Go(func() {
				statuses[i] = b.post("/login", url.Values{"username": {"bob"}, "password": {fmt.Sprint("guess", i)}, "csrf_token": {token}}).Status
			})
		}
		wg.Wait()
		hashed := srv.app.hashes.ran.Load() - before
		if hashed > int64(loginPerPerson.n) {
			t.Errorf("%d of %d parallel guesses were checked with bcrypt, want at most %d", hashed, burst, loginPerPerson.n)
		}
		count := map[int]int{}
		for _, st := range statuses {
			count[st]++
		}
		if count[http.StatusUnauthorized] > loginPerPerson.n || count[http.StatusUnauthorized]+count[http.StatusTooManyRequests] != burst {
			t.Errorf("answers to the burst: %v, want at most %d × 401 and the rest 429", count, loginPerPerson.n)
		}

		snap := dbSnapshot(t, srv)
		r := b.submit("/login", url.Values{"username": {"bob"}, "password": {"builder"}})
		if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || !strings.Contains(r.Body, "seconds") {
			t.Fatalf("the right password after the burst, same address: %d Retry-After %q, want 429 saying how long", r.Status, r.Header.Get("Retry-After"))
		}
		if dbSnapshot(t, srv) != snap {
			t.Error("a throttled login changed the database")
		}
		srv.newBrowserFrom(t, "127.0.0.2").login("bob", "builder")
		srv.clock.Advance(61 * time.Second)
		b.login("bob", "builder")
	})
}

// Lesson 4 in a real room: 40 learners at their own machines each try one
// wrong password for alice, then the right one, all within the same moments.
// Nobody is throttled.
func TestAClassOfFortyOnOneAccountIsNeverThrottled(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		patientHashQueue(srv)
		const class = 40
		var wg sync.WaitGroup
		errs := make(chan string, 2*class)
		for i := range class {
			b := srv.newBrowserFrom(t, fmt.Sprintf("127.0.0.%d", 10+i))
			wg.Go(func() {
				if r := b.submit("/login", url.Values{"username": {"alice"}, "password": {"wrong"}}); r.Status != http.StatusUnauthorized {
					errs <- fmt.Sprintf("learner %d, wrong password: %d, want 401", i, r.Status)
				}
				if r := b.submit("/login", url.Values{"username": {"alice"}, "password": {"wonderland"}}); r.Status != http.StatusSeeOther {
					errs <- fmt.Sprintf("learner %d, right password: %d, want 303", i, r.Status)
				}
			})
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
	})
}

// The per-account ceiling holds whatever number of addresses guess: past
// it, even a fresh address is refused until the hour frees a place; a login
// that succeeds is forgiven and uses none of it.
func TestTheAccountCeilingHoldsAcrossAddresses(t *testing.T) {
	th := newThrottle()
	now := time.Now()
	ok := func(addr string) bool {
		_, _, ok := th.reserve(now, loginRules("alice", addr)...)
		return ok
	}
	// Successes are released: they never fill the ceiling.
	for i := range 2 * loginPerAccount.n {
		r, _, ok := th.reserve(now, loginRules("alice", fmt.Sprint("10.0.", i/250, ".", i%250))...)
		if !ok {
			t.Fatalf("success %d refused", i)
		}
		th.release(r)
	}
	for i := range loginPerAccount.n {
		if !ok(fmt.Sprint("10.1.", i/250, ".", i%250)) {
			t.Fatalf("guess %d of the ceiling %d refused", i+1, loginPerAccount.n)
		}
	}
	if ok("10.9.9.9") {
		t.Fatalf("guess %d from a fresh address was let through", loginPerAccount.n+1)
	}
	if _, _, ok := th.reserve(now, loginRules("Alice", "10.9.9.9")...); !ok {
		t.Error("Alice is another account, with its own ceiling")
	}
	_, wait, _ := th.reserve(now, loginRules("alice", "10.9.9.9")...)
	if wait <= 59*time.Minute || wait > time.Hour {
		t.Errorf("wait %v, want the hour", wait)
	}
	now = now.Add(time.Hour)
	if !ok("10.9.9.9") {
		t.Error("still refused after the hour")
	}
}

// The gate counts the hashes it ran, not the ones it turned away: the
// figure the burst test relies on.
func TestHashGateCountsTheHashesItRuns(t *testing.T) {
	g := newHashGate(2, time.Second)
	for range 3 {
		g.run(context.Background(), func() error { return nil })
	}
	g.waiting.Store(1000) // a queue far past maxWait: turned away, not run
	g.run(context.Background(), func() error { return nil })
	if n := g.ran.Load(); n != 3 {
		t.Fatalf("ran = %d, want 3", n)
	}
}
