package main

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"sessionlab/ids"
	"sessionlab/labs/slugs"
)

// With -secure-cookies every response says Strict-Transport-Security: pages,
// JSON, static files, 404s, errors a handler raises and errors fasthttp
// raises before routing. Without it, none does: HSTS over plain HTTP would
// promise an HTTPS the server does not have.
func TestHSTSOnEveryResponseOnlyWithSecureCookies(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		for _, secure := range []bool{true, false} {
			var opts []serverOption
			if secure {
				opts = append(opts, withSecureCookies())
			}
			srv := startServer(t, dbURL, opts...)
			b := srv.newBrowser(t)
			check := func(what string, status int, h http.Header) {
				t.Helper()
				got := h.Get("Strict-Transport-Security")
				switch {
				case secure && got != hsts:
					t.Errorf("secure, %s (%d): Strict-Transport-Security %q, want %q", what, status, got, hsts)
				case !secure && got != "":
					t.Errorf("not secure, %s (%d): Strict-Transport-Security %q, want none", what, status, got)
				}
			}
			for _, path := range []string{"/", "/login", "/api/state", "/healthz", "/static/app.css", "/static/nope.css", "/no-such-page", "/products/999999", "/products/x"} {
				r := b.get(path)
				check("GET "+path, r.Status, r.Header)
			}
			r := b.post("/cart/add", url.Values{"product_id": {"1"}, "quantity": {"1"}}) // no CSRF token: 403
			if r.Status != http.StatusForbidden {
				t.Errorf("POST without a token: %d, want 403", r.Status)
			}
			check("refused POST", r.Status, r.Header)
			for name, raw := range map[string]string{
				"body too large": "POST /cart/add HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n" + strings.Repeat("a", 100000),
				"huge cookie":    "GET / HTTP/1.1\r\nHost: a\r\nCookie: sessionid=" + strings.Repeat("x", 20000) + "\r\n\r\n",
				"garbage":        "HELLO\r\n\r\n",
			} {
				rr := srv.sendRaw(t, raw)
				check(name+" ("+strconv.Itoa(rr.Status)+")", rr.Status, rr.Header)
			}
		}
	})
}

// A user's notes are capped at maxNotes: the 1,001st gets a clear 422 and
// changes nothing (no note, no event); deleting one makes room.
func TestNotesAreCappedPerUser(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		alice := srv.newBrowser(t)
		alice.login("alice", "wonderland")
		var uid int64
		if err := srv.db.W.Get(&uid, "SELECT id FROM users WHERE username = 'alice'"); err != nil {
			t.Fatal(err)
		}
		tx := srv.db.W.MustBegin()
		for i := 0; i < maxNotes-1; i++ {
			tx.MustExec("INSERT INTO notes (user_id, body, created_at) VALUES (?, ?, ?)", uid, "note "+strconv.Itoa(i), srv.clock.Now())
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if r := alice.submit("/notes", url.Values{"text": {"the thousandth"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("note %d: %d, want 303\n%s", maxNotes, r.Status, r.Body)
		}
		token := alice.csrf("/notes")
		before, events := dbSnapshot(t, srv), countRows(t, srv, "events")
		r := alice.post("/notes", url.Values{"text": {"one too many"}, "csrf_token": {token}})
		if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "1000 notes") || !strings.Contains(r.Body, "Nothing was saved") {
			t.Fatalf("note %d: %d, want 422 saying why\n%s", maxNotes+1, r.Status, r.Body)
		}
		if after := dbSnapshot(t, srv); after != before {
			t.Errorf("the refused note changed the database")
		}
		if n := countRows(t, srv, "events"); n != events {
			t.Errorf("events: %d → %d, want unchanged", events, n)
		}
		if page := alice.get("/notes").Body; !strings.Contains(page, "1000 of at most 1000 notes") {
			t.Errorf("/notes does not say the count and the cap")
		}
		noteIDs := alice.noteIDs()
		if r := alice.submit("/notes/"+noteIDs[0]+"/delete", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("delete: %d", r.Status)
		}
		if r := alice.submit("/notes", url.Values{"text": {"room again"}}); r.Status != http.StatusSeeOther {
			t.Errorf("after deleting one: %d, want 303", r.Status)
		}
	})
}

// A shadow sessionid (planted under a narrower Path, so the browser sends it
// first) must not cost the learner their session: the server tries every
// sessionid sent, serves the live one, sends no Set-Cookie that would replace
// it, writes no row, and the cookie panel shows both and says which it used.
func TestShadowSessionCookieDoesNotReplaceTheRealOne(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		alice := srv.newBrowser(t)
		alice.login("alice", "wonderland")
		real := alice.sessionID()
		gone := srv.newBrowser(t) // a well-formed ID whose session has ended
		gone.get("/")
		ended := gone.sessionID()
		gone.submit("/logout", nil)
		forged := strings.Repeat("A", ids.Len)
		// twins: the request names more than one distinct sessionid.
		for name, tc := range map[string]struct {
			header string
			twins  bool
		}{
			"malformed first":     {"sessionid=bogus; sessionid=" + real, true},
			"forged first":        {"sessionid=" + forged + "; sessionid=" + real, true},
			"logged out first":    {"sessionid=" + ended + "; sessionid=" + real, true},
			"bogus after":         {"sessionid=" + real + "; sessionid=" + forged, true},
			"two headers":         {"sessionid=" + forged + "\r\nCookie: sessionid=" + real, true},
			"three, real last":    {"sessionid=x; other=1; sessionid=" + forged + "; sessionid=" + real, true},
			"six malformed first": {"sessionid=a; sessionid=b; sessionid=c; sessionid=d; sessionid=e; sessionid=f; sessionid=" + real, true},
			"empty twin first":    {"sessionid=; sessionid=" + real, false},
			"same value twice":    {"sessionid=" + real + "; sessionid=" + real, false},
			"lab shadow first":    {"lab_fixation=abc; sessionid=" + ended + "; sessionid=" + real, true},
			"bogus, real, junk":   {"sessionid=" + forged + "; sessionid=" + real + "; sessionid=%%%", true},
		} {
			header := tc.header
			rows := countRows(t, srv, "sessions")
			for _, path := range []string{"/", "/cart", "/api/state"} {
				r := srv.sendRaw(t, "GET "+path+" HTTP/1.1\r\nHost: a\r\nConnection: close\r\nCookie: "+header+"\r\n\r\n")
				if r.Status != http.StatusOK {
					t.Errorf("%s, GET %s: %d", name, path, r.Status)
					continue
				}
				if sc := r.Header.Values("Set-Cookie"); len(sc) != 0 {
					t.Errorf("%s, GET %s: Set-Cookie %q replaces the real cookie", name, path, sc)
				}
				switch path {
				case "/api/state":
					if !strings.Contains(r.Body, `"user":"alice"`) || !strings.Contains(r.Body, `"prefix":"`+ids.Prefix(real)+`"`) {
						t.Errorf("%s: /api/state is not alice's session:\n%s", name, r.Body)
					}
				case "/":
					if tc.twins && !strings.Contains(r.Body, "used the one starting "+ids.Prefix(real)) {
						t.Errorf("%s: the cookie panel does not say which sessionid it used", name)
					}
				}
			}
			if n := countRows(t, srv, "sessions"); n != rows {
				t.Errorf("%s: sessions %d → %d, want no new row", name, rows, n)
			}
		}
		// None live: the first value says why, and a fresh session is issued.
		r := srv.sendRaw(t, "GET /api/state HTTP/1.1\r\nHost: a\r\nConnection: close\r\nCookie: sessionid="+forged+"; sessionid="+ended+"\r\n\r\n")
		if r.Status != http.StatusOK || !strings.Contains(r.Body, `"session":null`) || !strings.Contains(r.Body, `"prefix":"`+ids.Prefix(forged)+`"`) {
			t.Errorf("two dead IDs: %d\n%s", r.Status, r.Body)
		}
		if alice.apiState().Session == nil {
			t.Errorf("alice lost her session")
		}
	})
}

// Past its budget of new sessions, an address still gets every page (200),
// with no Set-Cookie and no row, and the cookie panel and the strip say no
// session was saved and why; a browser that already has a session is not
// affected, and once the bucket refills a page issues one again.
func TestPagesRenderWithoutASessionPastTheBudget(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		alice := srv.newBrowser(t)
		alice.login("alice", "wonderland")
		srv.app.budget.buckets["127.0.0.1"] = &bucket{at: srv.clock.Now()} // spent
		rows, evs := countRows(t, srv, "sessions"), countRows(t, srv, "events")
		b := srv.newBrowser(t)
		paths := []string{"/", "/products/1", "/cart", "/login", "/lessons", "/lab"}
		for _, l := range srv.app.lessons.Lessons() {
			paths = append(paths, "/lessons/"+l.Slug)
		}
		for _, l := range slugs.All() {
			paths = append(paths, "/lab/"+l)
		}
		for _, path := range paths {
			r := b.get(path)
			if r.Status != http.StatusOK {
				t.Errorf("GET %s past the budget: %d, want 200\n%s", path, r.Status, ids.Cut(r.Body, 300))
				continue
			}
			if sc := r.Header.Values("Set-Cookie"); len(sc) != 0 {
				t.Errorf("GET %s past the budget: Set-Cookie %q", path, sc)
			}
			if n := strings.Count(r.Body, "No session was saved for this page"); n != 2 {
				t.Errorf("GET %s past the budget: the panel and the strip should say no session was saved (found %d)", path, n)
			}
		}
		if n := countRows(t, srv, "sessions"); n != rows {
			t.Errorf("sessions %d → %d past the budget", rows, n)
		}
		if n := countRows(t, srv, "events"); n != evs {
			t.Errorf("events %d → %d past the budget", evs, n)
		}
		if r := alice.get("/cart"); r.Status != http.StatusOK || strings.Contains(r.Body, "No session was saved") || alice.apiState().Session == nil {
			t.Errorf("a learner with a session was affected by the address's budget")
		}
		srv.clock.Advance(time.Second) // 10 tokens
		if r := b.get("/"); b.sessionID() == "" || strings.Contains(r.Body, "No session was saved") {
			t.Errorf("a second later, still no session")
		}
	})
}
