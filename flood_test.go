package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// quickUser adds an account whose password hash is bcrypt at its lowest
// cost: a class's worth of logins in a test of session budgets, not of
// hashing, costs milliseconds instead of a minute of both cores.
func quickUser(t *testing.T, srv *testServer, name string) (user, pass string) {
	t.Helper()
	pass = name + "-password"
	hash, err := bcrypt.GenerateFromPassword([]byte(pass), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.db.W.Exec(srv.db.W.Rebind("INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)"), name, string(hash), srv.clock.Now()); err != nil {
		t.Fatalf("add user %s: %v", name, err)
	}
	return name, pass
}

// withSweep runs the background sweep every `every` with this event retention.
func withSweep(every, retention time.Duration) serverOption {
	return func(c *config) { c.SweepEvery, c.EventRetention = every, retention }
}

// A script's 5,000 cookieless requests from one address create at most the
// address's budget of sessions (the clock stands still, so exactly the
// burst) and what a first visit records for each (session.created and the
// lesson step "open the site"); every request still gets its page. A
// logged-in learner on another address browses meanwhile; its latency is
// reported, not asserted (it depends on the machine). Afterwards the
// dashboard's counts are still exact: the flood's thousand sessions are
// the most recent, so none of the 30 logged-in ones is among the 500 rows
// of its table, and "logged in" and "learners" come from the database.
func TestAFloodFromOneAddressIsBoundedAndTheDashboardStaysRight(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		learner := srv.newBrowserFrom(t, "127.0.0.2")
		learner.login("alice", "wonderland")
		learner.add("1", "2")
		for i := range 29 {
			srv.newBrowserFrom(t, "127.0.0.2").login(quickUser(t, srv, fmt.Sprint("learner", i)))
		}
		srv.clock.Advance(time.Minute) // the flood's rows are the most recent
		sessions0, events0 := countRows(t, srv, "sessions"), countRows(t, srv, "events")

		const requests, workers, firstVisitEvents = 5000, 8, 2
		var sent, ok, withCookie, saidWhy atomic.Int64
		flood := &http.Client{Timeout: 30 * time.Second, Transport: srv.newBrowserFrom(t, "127.0.0.3").client.Transport}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				for sent.Add(1) <= requests {
					req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
					req.Header.Set("User-Agent", "flood-script")
					resp, err := flood.Do(req)
					if err != nil {
						t.Errorf("flood request: %v", err)
						return
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						ok.Add(1)
					}
					if resp.Header.Get("Set-Cookie") != "" {
						withCookie.Add(1)
					} else if strings.Contains(string(body), "No session was saved for this page") {
						saidWhy.Add(1)
					}
				}
			})
		}
		var lat []time.Duration
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, p := range []string{"/cart", "/", "/notes"} {
					start := time.Now()
					r := learner.get(p)
					lat = append(lat, time.Since(start))
					if r.Status != http.StatusOK || !strings.Contains(r.Body, "alice") {
						t.Errorf("the learner's GET %s during the flood: %d", p, r.Status)
					}
				}
			}
		}()
		wg.Wait()
		close(stop)
		<-done

		if ok.Load() != requests {
			t.Errorf("%d of %d flood requests answered 200, want all", ok.Load(), requests)
		}
		if withCookie.Load() != newSessionBurst || saidWhy.Load() != requests-newSessionBurst {
			t.Errorf("Set-Cookie on %d responses (want the burst, %d); %d others said why (want %d)",
				withCookie.Load(), newSessionBurst, saidWhy.Load(), requests-newSessionBurst)
		}
		floodRows := count(t, srv, "SELECT COUNT(*) FROM sessions WHERE user_agent = 'flood-script'")
		floodEvents := count(t, srv, "SELECT COUNT(*) FROM events e JOIN sessions s ON s.`key` = e.session_key WHERE s.user_agent = 'flood-script'")
		if floodRows != newSessionBurst || floodEvents > firstVisitEvents*newSessionBurst {
			t.Errorf("the flood made %d sessions and %d events, want %d and at most %d", floodRows, floodEvents, newSessionBurst, firstVisitEvents*newSessionBurst)
		}
		if n := countRows(t, srv, "sessions"); n != sessions0+newSessionBurst {
			t.Errorf("sessions %d → %d, want +%d", sessions0, n, newSessionBurst)
		}
		if n := countRows(t, srv, "events"); n > events0+firstVisitEvents*newSessionBurst+len(lat) {
			t.Errorf("events %d → %d: more than the burst and the learner's pages", events0, n)
		}
		if n := strings.Count(srv.logs.String(), "new-session budget spent"); n != 1 {
			t.Errorf("the log says the budget was spent %d times, want once for the rush", n)
		}
		if st := learner.apiState(); st.Session == nil || st.quantities()[1] != 2 {
			t.Errorf("the learner's session or cart did not survive the flood")
		}
		var st struct {
			Authenticated int               `json:"authenticated"`
			Learners      int               `json:"learners"`
			Sessions      []json.RawMessage `json:"sessions"`
		}
		ins := srv.instructor(t)
		if err := json.Unmarshal([]byte(ins.get("/instructor/state").Body), &st); err != nil {
			t.Fatal(err)
		}
		loggedIn := count(t, srv, "SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL")
		learners := learnersBySQL(t, srv)
		if st.Authenticated != 30 || loggedIn != 30 {
			t.Errorf("logged in: the dashboard says %d, SQL counts %d, want 30", st.Authenticated, loggedIn)
		}
		// A flood of cookieless requests makes sessions, not learners.
		if st.Learners != learners || learners > 30 {
			t.Errorf("learners: the dashboard says %d, SQL counts %d, want at most the 30 who did a step (the flood's visitors are no learners)", st.Learners, learners)
		}
		if len(st.Sessions) != maxClassRows {
			t.Errorf("the table lists %d rows, want the %d most recent", len(st.Sessions), maxClassRows)
		}
		if page := ins.get("/instructor").Body; !strings.Contains(page, `id="stat-auth">30<`) {
			t.Errorf("the dashboard page does not say 30 logged in")
		}
		slices.Sort(lat)
		p := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
		t.Logf("%s: during %d flood requests the logged-in learner made %d page views: p50 %v, p99 %v, max %v",
			srv.app.db.Dialect(), requests, len(lat), p(.5).Round(time.Microsecond), p(.99).Round(time.Microsecond), lat[len(lat)-1].Round(time.Microsecond))
	})
}

// A class behind one router is one address: 60 learners each open the
// site, log in, log out, open it again, log in and out again, all at the
// same instant of the server's clock (the bucket never refills), and none is
// ever refused a session.
func TestAClassBehindOneAddressIsNeverRefused(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		// Twenty at a time, as a room does it: concurrent logins on MariaDB
		// once deadlocked in the write of the form's record (exchanges).
		const learners, parallel = 60, 20
		var refused atomic.Int64
		sem := make(chan struct{}, parallel)
		var wg sync.WaitGroup
		for i := range learners {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				b := srv.newBrowserFrom(t, "127.0.0.4")
				user, pass := quickUser(t, srv, fmt.Sprint("learner", i)) // each their own account, as in a class
				for range 2 {
					r := b.get("/")
					if b.sessionID() == "" || strings.Contains(r.Body, "No session was saved") {
						refused.Add(1)
						t.Errorf("learner %d was refused a session", i)
						return
					}
					b.login(user, pass)
					if r := b.submit("/logout", nil); r.Status != http.StatusSeeOther {
						t.Errorf("learner %d: logout %d", i, r.Status)
						return
					}
				}
				if r := b.get("/lessons"); b.sessionID() == "" || strings.Contains(r.Body, "No session was saved") {
					refused.Add(1)
					t.Errorf("learner %d was refused a session at the end", i)
				}
			})
		}
		wg.Wait()
		t.Logf("%s: %d learners behind one address, %d refused; %d sessions live", srv.app.db.Dialect(), learners, refused.Load(), countRows(t, srv, "sessions"))
	})
}

// Events older than -event-retention are swept by the background sweep
// (on the test clock), newer ones stay, and the dashboard says how long
// events are kept.
func TestOldEventsAreSweptAfterTheRetention(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL, withSweep(20*time.Millisecond, 6*time.Hour))
		for range 3 {
			srv.newBrowser(t).get("/") // a session.created event each
		}
		old := countRows(t, srv, "events")
		if old < 3 {
			t.Fatalf("%d events, want at least 3", old)
		}
		srv.clock.Advance(6*time.Hour + time.Second)
		srv.newBrowser(t).get("/")
		cutoff := srv.clock.Now().Add(-6 * time.Hour)
		newer := count(t, srv, "SELECT COUNT(*) FROM events WHERE at >= ?", cutoff)
		if newer < 1 {
			t.Fatalf("the new visit recorded no event")
		}
		deadline := time.Now().Add(10 * time.Second)
		for countRows(t, srv, "events") > newer && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := count(t, srv, "SELECT COUNT(*) FROM events WHERE at < ?", cutoff); n != 0 {
			t.Errorf("%d events older than the retention remain after the sweep", n)
		}
		if n := countRows(t, srv, "events"); n != newer {
			t.Errorf("%d events left, want the %d newer than the retention", n, newer)
		}
		ins := srv.instructor(t)
		if page := ins.get("/instructor").Body; !strings.Contains(page, "Events are kept for 6h") {
			t.Errorf("the dashboard does not state the retention")
		}
		var st struct {
			Retention string `json:"event_retention"`
		}
		if err := json.Unmarshal([]byte(ins.get("/instructor/state").Body), &st); err != nil || st.Retention != "6h" {
			t.Errorf("/instructor/state event_retention = %q (%v), want 6h", st.Retention, err)
		}
	})
}

// The bucket: a burst, then the rate; each address its own; the first
// refusal of a rush flagged once; and memory bounded by forgetting the
// addresses whose buckets have refilled, never one still owing.
func TestSessionBudgetBucket(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	b := newSessionBudget(3, 2)
	for i := range 3 {
		if ok, _ := b.take("a", now); !ok {
			t.Fatalf("take %d of the burst refused", i+1)
		}
	}
	if ok, first := b.take("a", now); ok || !first {
		t.Errorf("past the burst: ok=%v first=%v, want refused, first", ok, first)
	}
	if ok, first := b.take("a", now); ok || first {
		t.Errorf("again: ok=%v first=%v, want refused, not first", ok, first)
	}
	if ok, _ := b.take("b", now); !ok {
		t.Errorf("another address was refused")
	}
	now = now.Add(500 * time.Millisecond) // one token at 2 a second
	if ok, _ := b.take("a", now); !ok {
		t.Errorf("half a second later: refused, want one token")
	}
	if ok, _ := b.take("a", now); ok {
		t.Errorf("a second token out of half a second")
	}
	for i := range 99_997 { // with a and b: one short of the bound
		b.take(fmt.Sprint("x", i), now) // each spends one of 3: still owing
	}
	if len(b.buckets) != 99_999 {
		t.Fatalf("%d buckets, want 99,999", len(b.buckets))
	}
	now = now.Add(time.Second) // every x and b has refilled; a still owes
	b.take("new", now)         // the 100,000th address
	b.take("newer", now)       // over the bound: the full buckets go
	if _, kept := b.buckets["a"]; !kept || len(b.buckets) != 3 {
		t.Errorf("after forgetting the full buckets: %d kept (a kept: %v), want a, new and newer", len(b.buckets), kept)
	}
}
