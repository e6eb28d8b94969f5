package main

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
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
		ids := alice.noteIDs()
		if r := alice.submit("/notes/"+ids[0]+"/delete", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("delete: %d", r.Status)
		}
		if r := alice.submit("/notes", url.Values{"text": {"room again"}}); r.Status != http.StatusSeeOther {
			t.Errorf("after deleting one: %d, want 303", r.Status)
		}
	})
}
