package main

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"sessionlab/ids"
)

// The session rules of DESIGN.md, each on SQLite and MariaDB.

func withSecureCookies() serverOption { return func(c *config) { c.SecureCookies = true } }

func withTimeouts(idle, absolute time.Duration) serverOption {
	return func(c *config) { c.IdleTimeout, c.AbsoluteTimeout = idle, absolute }
}

// setSessionCookieOf is the sessionid Set-Cookie of a response, or nil.
func setSessionCookieOf(r response) *http.Cookie {
	for _, sc := range r.Header.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(sc); err == nil && c.Name == cookieName {
			c.Raw = sc
			return c
		}
	}
	return nil
}

func sessionRowExists(t *testing.T, s *testServer, id string) bool {
	t.Helper()
	var n int
	if err := s.db.W.Get(&n, "SELECT COUNT(*) FROM sessions WHERE `key` = ?", ids.Hash(id)); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// The cookie: name sessionid, HttpOnly, SameSite=Lax, Path=/, Secure only
// with -secure-cookies; the value is an ID we mint (256 bits, base64url),
// stored only as its SHA-256.
func TestSessionCookieAttributes(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		for _, secure := range []bool{false, true} {
			var opts []serverOption
			if secure {
				opts = append(opts, withSecureCookies())
			}
			srv := startServer(t, dbURL, opts...)
			b := srv.newBrowser(t)
			r := b.get("/")
			c := setSessionCookieOf(r)
			if c == nil {
				t.Fatal("first visit: no sessionid Set-Cookie")
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != secure {
				t.Errorf("secure=%v: Set-Cookie %q: want HttpOnly, SameSite=Lax, Path=/, Secure=%v", secure, strings.Replace(c.Raw, c.Value, ids.Prefix(c.Value)+"…", 1), secure)
			}
			if !ids.Valid(c.Value) || len(c.Value) < 22 {
				t.Errorf("cookie value %q… (%d chars) is not a 256-bit base64url ID", ids.Prefix(c.Value), len(c.Value))
			}
			if !sessionRowExists(t, srv, c.Value) {
				t.Error("no row under SHA-256(ID)")
			}
			var n int
			srv.db.W.Get(&n, "SELECT COUNT(*) FROM sessions WHERE `key` = ?", c.Value)
			if n != 0 {
				t.Error("the raw ID is stored as a key: a leaked table could be replayed")
			}
			if r := b.get("/cart"); setSessionCookieOf(r) != nil {
				t.Error("second visit re-sent the cookie: the ID should only be set when it changes")
			}
			srv.stop()
		}
	})
}

// Login rotates the ID: a new row under a new key, the old row deleted, the
// CSRF token renewed; replaying the old ID gets nothing.
func TestLoginRotatesTheID(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		b := srv.newBrowser(t)
		oldTok := b.csrf("/login")
		oldID := b.sessionID()
		r := b.login("alice", "wonderland")
		if loc := r.Header.Get("Location"); loc != "/" {
			t.Errorf("login → %q, want /", loc)
		}
		newID := b.sessionID()
		if c := setSessionCookieOf(r); c == nil || c.Value != newID || !c.HttpOnly {
			t.Fatalf("login response did not set the new ID")
		}
		if newID == oldID || sessionRowExists(t, srv, oldID) || !sessionRowExists(t, srv, newID) {
			t.Fatalf("rotation: same ID %v, old row kept %v, new row missing %v", newID == oldID, sessionRowExists(t, srv, oldID), !sessionRowExists(t, srv, newID))
		}
		if tok := b.csrf("/login"); tok == oldTok {
			t.Error("CSRF token not renewed at login")
		}
		old := srv.newBrowser(t)
		old.setSessionID(oldID)
		if st := old.apiState(); st.Session != nil {
			t.Fatalf("old ID replayed still has a session: %s", st.raw)
		}
		if r := old.get("/"); setSessionCookieOf(r) == nil || old.sessionID() == oldID {
			t.Fatal("old ID replayed was not replaced with a fresh one")
		}
		// Logging in again from a logged-in session rotates again.
		b.login("bob", "builder")
		if b.sessionID() == newID || sessionRowExists(t, srv, newID) {
			t.Fatal("second login did not rotate")
		}
		if st := b.apiState(); st.Session.User == nil || *st.Session.User != "bob" {
			t.Fatalf("after logging in as bob: %s", st.raw)
		}
	})
}

// Session fixation: an ID the server never issued is never adopted, before
// or after login.
func TestNeverIssuedIDIsReplaced(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		for _, planted := range []string{ids.New(), "attacker-chosen", strings.Repeat("A", 43)} {
			b := srv.newBrowser(t)
			b.setSessionID(planted)
			r := b.get("/")
			c := setSessionCookieOf(r)
			if c == nil || c.Value == planted || !ids.Valid(c.Value) {
				t.Fatalf("planted %q: not replaced by a fresh ID", ids.Prefix(planted))
			}
			if sessionRowExists(t, srv, planted) {
				t.Fatalf("planted %q: a row exists under it", ids.Prefix(planted))
			}
			b.login("alice", "wonderland")
			if b.sessionID() == planted || b.sessionID() == c.Value {
				t.Fatal("login kept a pre-login ID")
			}
			victim := srv.newBrowser(t)
			victim.setSessionID(planted)
			if st := victim.apiState(); st.Session != nil {
				t.Fatalf("the planted ID is logged in: %s", st.raw)
			}
		}
	})
}

// Logout deletes the row, expires the cookie and redirects home; the old
// cookie replayed afterwards is just an unknown ID.
func TestLogoutDeletesTheRow(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		b := srv.newBrowser(t)
		b.login("alice", "wonderland")
		id := b.sessionID()
		r := b.submit("/logout", nil)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/" {
			t.Fatalf("logout: %d → %q", r.Status, r.Header.Get("Location"))
		}
		c := setSessionCookieOf(r)
		if c == nil || c.Value != "" || !(c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Now()))) || c.Path != "/" {
			t.Fatalf("logout did not expire the cookie: %+v", c)
		}
		if sessionRowExists(t, srv, id) {
			t.Fatal("logout kept the session row")
		}
		if b.sessionID() != "" {
			t.Fatal("the browser still holds the cookie")
		}
		replay := srv.newBrowser(t)
		replay.setSessionID(id)
		if st := replay.apiState(); st.Session != nil {
			t.Fatalf("replayed cookie after logout has a session: %s", st.raw)
		}
		if r := replay.get("/account"); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login?next=/account" {
			t.Fatalf("replayed cookie reached /account: %d %q", r.Status, r.Header.Get("Location"))
		}
		if r := replay.submit("/logout", nil); r.Status != http.StatusSeeOther {
			// a fresh session logging out is fine too; it must not 500
			t.Logf("logout of a fresh session: %d", r.Status)
		}
	})
}

// Idle timeout: a session unused longer than the idle time is refused and
// deleted; use inside it keeps it alive. Time moves on the test clock.
func TestIdleTimeout(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL, withTimeouts(30*time.Minute, 8*time.Hour))
		b := srv.newBrowser(t)
		b.login("alice", "wonderland")
		id := b.sessionID()
		for range 3 { // 3 × 20 min of activity: longer than the idle time, never idle that long
			srv.clock.Advance(20 * time.Minute)
			if st := b.apiState(); st.Session == nil {
				t.Fatal("session expired while in use")
			}
			b.get("/cart") // a page view moves last_seen_at
		}
		if b.sessionID() != id {
			t.Fatal("ID changed without a login")
		}
		srv.clock.Advance(30*time.Minute + time.Second)
		if st := b.apiState(); st.Session != nil {
			t.Fatalf("session alive after 30 idle minutes: %s", st.raw)
		}
		if sessionRowExists(t, srv, id) {
			t.Fatal("expired row not deleted when refused")
		}
		r := b.get("/account")
		if r.Status != http.StatusSeeOther || b.sessionID() == id {
			t.Fatalf("expired session: /account %d, ID replaced %v", r.Status, b.sessionID() != id)
		}
	})
}

// Absolute timeout: however active, a session ends that long after login.
func TestAbsoluteTimeout(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL, withTimeouts(30*time.Minute, 2*time.Hour))
		b := srv.newBrowser(t)
		b.login("alice", "wonderland")
		id := b.sessionID()
		for elapsed := time.Duration(0); elapsed < 2*time.Hour-20*time.Minute; elapsed += 20 * time.Minute {
			srv.clock.Advance(20 * time.Minute)
			if r := b.get("/account"); r.Status != http.StatusOK {
				t.Fatalf("after %v of activity: /account %d", elapsed+20*time.Minute, r.Status)
			}
		}
		st := b.apiState()
		if exp, _ := time.Parse(time.RFC3339, st.Session.ExpiresAt); exp.After(srv.clock.Now().Add(20 * time.Minute)) {
			t.Errorf("expires_at %s is past the absolute limit", st.Session.ExpiresAt)
		}
		srv.clock.Advance(20*time.Minute + time.Second)
		if st := b.apiState(); st.Session != nil {
			t.Fatalf("session alive past the absolute timeout: %s", st.raw)
		}
		if sessionRowExists(t, srv, id) {
			t.Fatal("row kept past the absolute timeout")
		}
	})
}

// The sweep deletes expired rows nobody asks for.
func TestSweepDeletesExpiredRows(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		for range 3 {
			srv.newBrowser(t).get("/")
		}
		live := srv.newBrowser(t)
		srv.clock.Advance(31 * time.Minute)
		live.get("/")
		n, err := srv.db.DeleteExpiredSessions(t.Context(), srv.clock.Now())
		if err != nil || n != 3 {
			t.Fatalf("swept %d (%v), want 3", n, err)
		}
		if c := countRows(t, srv, "sessions"); c != 1 || !sessionRowExists(t, srv, live.sessionID()) {
			t.Fatalf("%d rows left, want the live one", c)
		}
	})
}

// The anonymous cart merges into the account's saved cart at login, and the
// account's cart comes back after logout, in another browser.
func TestCartMergesAtLoginAndPersists(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		first := srv.newBrowser(t)
		first.login("alice", "wonderland")
		first.add("1", "3")
		first.submit("/logout", nil)

		b := srv.newBrowser(t)
		b.add("1", "2")
		b.add("2", "1")
		b.add("2", "1")
		if q := b.apiState().quantities(); q[1] != 2 || q[2] != 2 || len(q) != 2 {
			t.Fatalf("anonymous cart %v", q)
		}
		if n := countRows(t, srv, "cart_items"); n != 1 {
			t.Fatalf("anonymous adds wrote cart_items rows (%d)", n)
		}
		b.login("alice", "wonderland")
		st := b.apiState()
		if q := st.quantities(); q[1] != 5 || q[2] != 2 || len(q) != 2 || st.Cart.Owner != "alice" {
			t.Fatalf("after login: %v owner %q, want 1:5 2:2 owned by alice", q, st.Cart.Owner)
		}
		if strings.Contains(string(st.Session.Data), `"cart"`) {
			t.Errorf("the anonymous cart stayed in the session data after the merge: %s", st.Session.Data)
		}
		if r := b.get("/cart"); !strings.Contains(r.Body, "merged") {
			t.Errorf("the strip does not say the cart was merged")
		}
		b.submit("/logout", nil)
		if st := b.apiState(); len(st.Cart.Items) != 0 {
			t.Fatalf("cart still shown after logout: %+v", st.Cart)
		}
		later := srv.newBrowser(t)
		later.login("alice", "wonderland")
		if q := later.apiState().quantities(); q[1] != 5 || q[2] != 2 {
			t.Fatalf("cart in a new browser: %v", q)
		}
		// The merge caps at 99 like any add.
		c := srv.newBrowser(t)
		c.add("1", "99")
		c.login("alice", "wonderland")
		if q := c.apiState().quantities(); q[1] != 99 {
			t.Fatalf("merge past 99: %v", q)
		}
	})
}

// 20 concurrent add-to-cart requests on one session all count.
func TestConcurrentAddsLoseNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		for _, user := range []string{"", "alice"} {
			b := srv.newBrowser(t)
			if user != "" {
				b.login(user, "wonderland")
			}
			tok := b.csrf("/login")
			var wg sync.WaitGroup
			statuses := make(chan int, 20)
			for range 20 {
				wg.Go(func() {
					r := b.post("/cart/add", url.Values{"product_id": {"3"}, "quantity": {"1"}, "csrf_token": {tok}})
					statuses <- r.Status
				})
			}
			wg.Wait()
			close(statuses)
			for s := range statuses {
				if s != http.StatusSeeOther {
					t.Errorf("user %q: a concurrent add answered %d", user, s)
				}
			}
			if q := b.apiState().quantities(); q[3] != 20 {
				t.Fatalf("user %q: quantity %d after 20 concurrent adds, want 20", user, q[3])
			}
		}
	})
}

// Two browsers on one keep-alive connection: fasthttp reuses its buffers, so
// a cookie value kept past its request would turn into the next one's.
func TestTwoBrowsersOnOneConnection(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		tr := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}
		defer tr.CloseIdleConnections()
		alice, anon := srv.newBrowser(t), srv.newBrowser(t)
		alice.client.Transport, anon.client.Transport = tr, tr
		alice.login("alice", "wonderland")
		anon.get("/")
		for i := range 5 {
			a, n := alice.apiState(), anon.apiState()
			if a.Session == nil || a.Session.User == nil || *a.Session.User != "alice" {
				t.Fatalf("round %d: alice sees %s", i, a.raw)
			}
			if n.Session == nil || n.Session.Authenticated || n.Session.KeyPrefix == a.Session.KeyPrefix {
				t.Fatalf("round %d: the anonymous browser sees %s", i, n.raw)
			}
			alice.add("1", "1")
			anon.add("2", "1")
		}
		if q := alice.apiState().quantities(); q[1] != 5 || q[2] != 0 {
			t.Fatalf("alice's cart %v", q)
		}
		if q := anon.apiState().quantities(); q[2] != 5 || q[1] != 0 {
			t.Fatalf("anonymous cart %v", q)
		}
	})
}
