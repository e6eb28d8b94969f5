package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"sessionlab/ids"
)

// docs/CONTRACT.md, route by route, on both databases.

// formFields are the names of the inputs of the form posting to action.
func formFields(t *testing.T, body, action string) []string {
	t.Helper()
	re := regexp.MustCompile(`(?s)<form[^>]*action="` + regexp.QuoteMeta(action) + `"[^>]*>(.*?)</form>`)
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no form posting to %s", action)
	}
	if !strings.Contains(m[0], `method="post"`) {
		t.Errorf("form to %s is not method=post", action)
	}
	var names []string
	for _, n := range regexp.MustCompile(`name="([^"]+)"`).FindAllStringSubmatch(m[1], -1) {
		names = append(names, n[1])
	}
	return names
}

func wantFields(t *testing.T, page, action string, body string, want ...string) {
	t.Helper()
	got := formFields(t, body, action)
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("%s: form to %s lacks field %q (has %v)", page, action, w, got)
		}
	}
}

func TestContractPages(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		b := srv.newBrowser(t)

		r := b.get("/")
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("GET /: %d %s", r.Status, r.Header.Get("Content-Type"))
		}
		links := regexp.MustCompile(`href="/products/(\d+)"`).FindAllStringSubmatch(r.Body, -1)
		productIDs := map[string]bool{}
		for _, l := range links {
			productIDs[l[1]] = true
		}
		if len(productIDs) < 6 {
			t.Fatalf("catalog links to %d products, want about 8", len(productIDs))
		}
		for id := range productIDs {
			r := b.get("/products/" + id)
			if r.Status != 200 {
				t.Fatalf("GET /products/%s: %d", id, r.Status)
			}
			wantFields(t, "/products/"+id, "/cart/add", r.Body, "product_id", "quantity", "csrf_token")
			if !strings.Contains(r.Body, `name="product_id" value="`+id+`"`) {
				t.Errorf("/products/%s: the form's product_id is not %s", id, id)
			}
		}
		for _, bad := range []string{"999999", "0", "-1", "abc", "1.5", "99999999999999999999999"} {
			if r := b.get("/products/" + bad); r.Status != http.StatusNotFound && r.Status != http.StatusBadRequest {
				t.Errorf("GET /products/%s: %d, want 404", bad, r.Status)
			}
		}

		b.add("1", "2")
		r = b.get("/cart")
		if r.Status != 200 {
			t.Fatalf("GET /cart: %d", r.Status)
		}
		wantFields(t, "/cart", "/cart/update", r.Body, "product_id", "quantity", "csrf_token")
		r = b.submit("/cart/update", url.Values{"product_id": {"1"}, "quantity": {"5"}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/cart" {
			t.Fatalf("POST /cart/update: %d → %q", r.Status, r.Header.Get("Location"))
		}
		if q := b.apiState().quantities(); q[1] != 5 {
			t.Fatalf("after update to 5: %v", q)
		}
		b.submit("/cart/update", url.Values{"product_id": {"1"}, "quantity": {"0"}})
		if st := b.apiState(); len(st.Cart.Items) != 0 {
			t.Fatalf("quantity 0 did not remove the line: %+v", st.Cart.Items)
		}

		r = b.get("/login?next=/notes")
		if r.Status != 200 {
			t.Fatalf("GET /login: %d", r.Status)
		}
		wantFields(t, "/login", "/login", r.Body, "username", "password", "csrf_token", "next")
		if !strings.Contains(r.Body, `name="next" value="/notes"`) {
			t.Errorf("/login?next=/notes does not carry next into the form")
		}
		for _, p := range []string{"/account", "/notes"} {
			if r := b.get(p); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/login?next="+p {
				t.Errorf("anonymous GET %s: %d → %q, want 303 /login?next=%s", p, r.Status, r.Header.Get("Location"), p)
			}
		}
		r = b.submit("/login", url.Values{"username": {"alice"}, "password": {"wonderland"}, "next": {"/notes"}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/notes" {
			t.Fatalf("login with next=/notes: %d → %q", r.Status, r.Header.Get("Location"))
		}
		r = b.get("/notes")
		if r.Status != 200 {
			t.Fatalf("GET /notes: %d", r.Status)
		}
		wantFields(t, "/notes", "/notes", r.Body, "text", "csrf_token")
		r = b.get("/account")
		if r.Status != 200 {
			t.Fatalf("GET /account: %d", r.Status)
		}
		if !strings.Contains(r.Body, ids.Prefix(ids.Hash(b.sessionID()))) {
			t.Errorf("/account does not list the current session")
		}

		r = b.get("/lessons")
		if r.Status != 200 {
			t.Fatalf("GET /lessons: %d", r.Status)
		}
		for _, slug := range []string{"http-forgets", "the-cookie", "the-session-record", "logging-in", "come-back-later", "logging-out", "cookie-attributes", "session-fixation", "timeouts", "where-sessions-live", "beyond-one-machine"} {
			if !strings.Contains(r.Body, `href="/lessons/`+slug+`"`) {
				t.Errorf("/lessons does not link %s", slug)
			}
			if r := b.get("/lessons/" + slug); r.Status != 200 {
				t.Errorf("GET /lessons/%s: %d", slug, r.Status)
			}
		}
		if r := b.get("/lessons/no-such-lesson"); r.Status != http.StatusNotFound {
			t.Errorf("GET /lessons/no-such-lesson: %d", r.Status)
		}

		// Every POST form on every page carries csrf_token, and no page
		// shows the whole session ID (that would defeat HttpOnly).
		for _, p := range []string{"/", "/products/1", "/cart", "/login", "/notes", "/account", "/lessons", "/lessons/logging-in", "/lessons/session-fixation", "/no-such-page", "/api/state", "/api/progress"} {
			body := b.get(p).Body
			if id := b.sessionID(); strings.Contains(body, id) || strings.Contains(body, ids.Hash(id)) {
				t.Errorf("%s shows the whole session ID or key", p)
			}
			for _, f := range regexp.MustCompile(`(?s)<form[^>]*method="post"[^>]*>.*?</form>`).FindAllString(body, -1) {
				if !strings.Contains(f, `name="csrf_token" value="`) {
					t.Errorf("%s: a POST form without csrf_token: %s", p, ids.Cut(f, 200))
				}
			}
		}

		r = b.submit("/logout", nil)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/" {
			t.Fatalf("POST /logout: %d → %q", r.Status, r.Header.Get("Location"))
		}
	})
}

// GET /api/progress: {"lessons":[{"slug","title","done","steps":[{"id","title","done"}]}]},
// and the progress moves to the account at login.
func TestAPIProgressShape(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		b := srv.newBrowser(t)
		b.get("/")
		r := b.get("/api/progress")
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("/api/progress: %d %s", r.Status, r.Header.Get("Content-Type"))
		}
		var p struct {
			Lessons []struct {
				Slug, Title string
				Done        *bool
				Steps       []struct {
					ID, Title string
					Done      *bool
				}
			}
		}
		if err := json.Unmarshal([]byte(r.Body), &p); err != nil {
			t.Fatal(err)
		}
		// The contract's eleven, and lesson 12 (an extension) after them.
		if len(p.Lessons) != 12 || p.Lessons[11].Slug != "sessions-without-a-record" {
			t.Fatalf("%d lessons, want the contract's 11 and sessions-without-a-record", len(p.Lessons))
		}
		done := 0
		for _, l := range p.Lessons {
			if l.Slug == "" || l.Title == "" || l.Done == nil || len(l.Steps) == 0 {
				t.Errorf("lesson %+v lacks a contract field", l)
			}
			for _, s := range l.Steps {
				if s.ID == "" || s.Title == "" || s.Done == nil {
					t.Errorf("step %+v of %s lacks a contract field", s, l.Slug)
				}
				if *s.Done {
					done++
				}
			}
		}
		b.login("alice", "wonderland")
		var after struct {
			Lessons []struct{ Steps []struct{ Done bool } }
		}
		json.Unmarshal([]byte(b.get("/api/progress").Body), &after)
		doneAfter := 0
		for _, l := range after.Lessons {
			for _, s := range l.Steps {
				if s.Done {
					doneAfter++
				}
			}
		}
		if doneAfter < done {
			t.Errorf("progress lost at login: %d steps done before, %d after", done, doneAfter)
		}
	})
}

// A failed login answers 401 with the form and an error; the session stays
// anonymous and keeps its ID. Wrong password, unknown user, empty fields.
func TestLoginFailure(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		b := srv.newBrowser(t)
		b.get("/")
		id := b.sessionID()
		for _, tc := range []struct {
			user, pass string
			status     int
		}{
			{"alice", "wrong", 401},
			{"mallory", "wonderland", 401},
			{"alice", "builder", 401},
			{"", "wonderland", 400},
			{"alice", "", 400},
			{strings.Repeat("a", 65), "x", 400},
			{"alice", strings.Repeat("p", 257), 400},
		} {
			r := b.submit("/login", url.Values{"username": {tc.user}, "password": {tc.pass}})
			if r.Status != tc.status {
				t.Errorf("login %q/%q: %d, want %d", ids.Cut(tc.user, 10), ids.Cut(tc.pass, 10), r.Status, tc.status)
			}
			if !strings.Contains(r.Body, `action="/login"`) || !strings.Contains(r.Body, `role="alert"`) && !strings.Contains(r.Body, `class="error"`) {
				t.Errorf("login %q: the answer lacks the form or an error message", ids.Cut(tc.user, 10))
			}
			if b.sessionID() != id {
				t.Fatalf("login %q: failed login changed the session ID", ids.Cut(tc.user, 10))
			}
			if st := b.apiState(); st.Session == nil || st.Session.Authenticated {
				t.Fatalf("login %q: session %s", ids.Cut(tc.user, 10), st.raw)
			}
		}
	})
}

// Throttling (throttle.go): 10 attempts a minute for one username from one
// address, then 429 with Retry-After — even with the right password — until
// the minute passes. Another account from that address, or that account from
// another address, is not held up.
func TestLoginThrottling(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		b := srv.newBrowser(t)
		for i := range 10 {
			if r := b.submit("/login", url.Values{"username": {"bob"}, "password": {fmt.Sprint("guess", i)}}); r.Status != 401 {
				t.Fatalf("failure %d: %d", i+1, r.Status)
			}
		}
		before := dbSnapshot(t, srv)
		r := b.submit("/login", url.Values{"username": {"bob"}, "password": {"builder"}})
		if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" || !strings.Contains(r.Body, "Too many") {
			t.Fatalf("11th attempt: %d Retry-After %q", r.Status, r.Header.Get("Retry-After"))
		}
		if dbSnapshot(t, srv) != before {
			t.Fatal("a throttled login changed the database")
		}
		srv.newBrowser(t).login("alice", "wonderland")
		srv.newBrowserFrom(t, "127.0.0.3").login("bob", "builder")
		srv.clock.Advance(61 * time.Second)
		b.login("bob", "builder")
	})
}

// The post-login redirect only goes to local paths.
func TestLoginNextOnlyLocal(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		for next, want := range map[string]string{
			"/cart":                   "/cart",
			"/lessons/logging-in?x=1": "/lessons/logging-in?x=1",
			"//evil.example/":         "/",
			"https://evil.example/":   "/",
			"/\\evil.example":         "/",
			"/\t/evil.example":        "/",
			"javascript:alert(1)":     "/",
			"evil.example":            "/",
			"":                        "/",
		} {
			b := srv.newBrowser(t)
			if r := b.get("/login?next=" + url.QueryEscape(next)); strings.Contains(r.Body, "evil.example") {
				t.Errorf("GET /login?next=%q puts the off-site target in the form", next)
			}
			b2 := srv.newBrowser(t)
			r := b2.submit("/login", url.Values{"username": {"alice"}, "password": {"wonderland"}, "next": {next}})
			if r.Status != http.StatusSeeOther || r.Header.Get("Location") != want {
				t.Errorf("next=%q: %d → %q, want %q", next, r.Status, r.Header.Get("Location"), want)
			}
		}
	})
}

// CSRF: every POST route refuses a missing, wrong, other-session or
// query-string token with 403 and changes nothing.
func TestCSRFOnEveryPost(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		b := srv.newBrowser(t)
		b.login("alice", "wonderland")
		b.add("1", "1")
		b.submit("/notes", url.Values{"text": {"keep me"}})
		noteID := b.noteIDs()[0]
		other := srv.newBrowser(t)
		other.login("alice", "wonderland")
		otherKey := ids.Hash(other.sessionID())
		foreign := srv.newBrowser(t).csrf("/login") // a valid token of another session
		mine := b.csrf("/login")
		wrong := "x" + mine[1:]
		if mine[0] == 'x' { // else "wrong" would be the right token, one run in 64
			wrong = "y" + mine[1:]
		}
		posts := map[string]url.Values{
			"/cart/add":                    {"product_id": {"2"}, "quantity": {"1"}},
			"/cart/update":                 {"product_id": {"1"}, "quantity": {"0"}},
			"/login":                       {"username": {"bob"}, "password": {"builder"}},
			"/logout":                      {},
			"/notes":                       {"text": {"planted"}},
			"/notes/" + noteID + "/delete": {},
			"/account/sessions/end":        {"session": {otherKey}},
			"/account/sessions/end-others": {},
			"/lessons/reset":               {},
			"/lessons/link":                {"code": {srv.newBrowser(t).linkCode("http-forgets")}},
			"/lessons/http-forgets/unlink": {},
		}
		for path, form := range posts {
			for name, tok := range map[string]string{"missing": "", "wrong": wrong, "another session's": foreign, "empty": "-"} {
				before := dbSnapshot(t, srv)
				f := url.Values{}
				for k, v := range form {
					f[k] = v
				}
				if tok == "-" {
					f.Set("csrf_token", "")
				} else if tok != "" {
					f.Set("csrf_token", tok)
				}
				r := b.post(path, f)
				if r.Status != http.StatusForbidden {
					t.Errorf("POST %s with a %s token: %d, want 403", path, name, r.Status)
				}
				if after := dbSnapshot(t, srv); after != before {
					t.Fatalf("POST %s with a %s token changed the database:\n%s\n→\n%s", path, name, before, after)
				}
			}
			// The token in the query string instead of the body does not count.
			before := dbSnapshot(t, srv)
			req, _ := http.NewRequest(http.MethodPost, srv.URL+path+"?csrf_token="+url.QueryEscape(mine), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if r := b.do(req); r.Status != http.StatusForbidden {
				t.Errorf("POST %s with the token in the query string: %d, want 403", path, r.Status)
			}
			if dbSnapshot(t, srv) != before {
				t.Fatalf("POST %s with the token in the query string changed the database", path)
			}
		}
		if r := b.get("/account"); r.Status != 200 {
			t.Fatal("refused POSTs logged alice out")
		}
	})
}

// Notes: your own only. Bob sees none of alice's and cannot delete them (404,
// nothing deleted); text is escaped; alice deletes her own.
func TestNotesBelongToTheirOwner(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		alice := srv.newBrowser(t)
		alice.login("alice", "wonderland")
		r := alice.submit("/notes", url.Values{"text": {"<script>alert('alice')</script> buy milk"}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/notes" {
			t.Fatalf("POST /notes: %d → %q", r.Status, r.Header.Get("Location"))
		}
		page := alice.get("/notes").Body
		if strings.Contains(page, "<script>alert('alice')") || !strings.Contains(page, "&lt;script&gt;") {
			t.Fatal("note text not escaped")
		}
		noteIDs := alice.noteIDs()
		if len(noteIDs) != 1 {
			t.Fatalf("alice has %d notes on the page", len(noteIDs))
		}
		bob := srv.newBrowser(t)
		bob.login("bob", "builder")
		if body := bob.get("/notes").Body; strings.Contains(body, "buy milk") || len(bob.noteIDs()) != 0 {
			t.Fatal("bob sees alice's note")
		}
		before := dbSnapshot(t, srv)
		for _, id := range []string{noteIDs[0], "999999", "0", "abc", "-1"} {
			if r := bob.submit("/notes/"+id+"/delete", nil); r.Status != http.StatusNotFound {
				t.Errorf("bob deletes note %s: %d, want 404", id, r.Status)
			}
		}
		if dbSnapshot(t, srv) != before {
			t.Fatal("bob's delete attempts changed the database")
		}
		if r := alice.submit("/notes/"+noteIDs[0]+"/delete", nil); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/notes" {
			t.Fatalf("alice deletes her note: %d → %q", r.Status, r.Header.Get("Location"))
		}
		if n := countRows(t, srv, "notes"); n != 0 {
			t.Fatalf("%d notes left", n)
		}
		// Notes outlive the session: a new browser finds them.
		alice.submit("/notes", url.Values{"text": {"still here"}})
		alice.submit("/logout", nil)
		later := srv.newBrowser(t)
		later.login("alice", "wonderland")
		if !strings.Contains(later.get("/notes").Body, "still here") {
			t.Fatal("note gone after logout and a new login")
		}
	})
}

// /account lists the user's live sessions (key prefix, browser) and ends one
// or all others; those browsers are logged out. Nobody ends another user's.
func TestAccountSessions(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		var devices []*browser
		for range 3 {
			d := srv.newBrowser(t)
			d.login("alice", "wonderland")
			devices = append(devices, d)
		}
		bob := srv.newBrowser(t)
		bob.login("bob", "builder")
		me := devices[0]
		page := me.get("/account").Body
		for _, d := range devices {
			if !strings.Contains(page, ids.Prefix(ids.Hash(d.sessionID()))) {
				t.Errorf("/account does not list session %s…", ids.Prefix(ids.Hash(d.sessionID())))
			}
			if strings.Contains(page, d.sessionID()) || strings.Contains(page, ids.Hash(d.sessionID())) {
				t.Fatal("/account shows a whole session ID or key")
			}
		}
		if strings.Contains(page, ids.Prefix(ids.Hash(bob.sessionID()))) {
			t.Error("/account lists bob's session")
		}
		if strings.Count(page, `action="/account/sessions/end"`) != 2 {
			t.Errorf("want an End button for each of the 2 other sessions")
		}

		// Bob cannot end alice's session; alice cannot end her current one here.
		before := dbSnapshot(t, srv)
		if r := bob.submit("/account/sessions/end", url.Values{"session": {ids.Hash(devices[1].sessionID())}}); r.Status != http.StatusNotFound {
			t.Errorf("bob ends alice's session: %d, want 404", r.Status)
		}
		if r := me.submit("/account/sessions/end", url.Values{"session": {ids.Hash(me.sessionID())}}); r.Status != http.StatusBadRequest {
			t.Errorf("ending the current session from /account: %d, want 400", r.Status)
		}
		for _, bad := range []string{"", "short", strings.Repeat("z", 64), devices[1].sessionID(), ids.Hash(devices[1].sessionID())[:15], ids.Hash(devices[1].sessionID()) + "0", "%", strings.Repeat("_", 16)} {
			if r := me.submit("/account/sessions/end", url.Values{"session": {bad}}); r.Status < 400 || r.Status >= 500 {
				t.Errorf("end session %q: %d, want 4xx", ids.Cut(bad, 10), r.Status)
			}
		}
		if dbSnapshot(t, srv) != before {
			t.Fatal("refused ends changed the database")
		}

		// End devices[1] with the reference its End form carries.
		var ref string
		for _, m := range regexp.MustCompile(`name="session" value="([0-9a-f]+)"`).FindAllStringSubmatch(page, -1) {
			if strings.HasPrefix(ids.Hash(devices[1].sessionID()), m[1]) {
				ref = m[1]
			}
		}
		if len(ref) < 16 || len(ref) >= 64 {
			t.Fatalf("the End form's reference %q is not a key prefix of 16+ digits", ref)
		}
		r := me.submit("/account/sessions/end", url.Values{"session": {ref}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/account" {
			t.Fatalf("end one: %d → %q", r.Status, r.Header.Get("Location"))
		}
		if st := devices[1].apiState(); st.Session != nil {
			t.Fatal("the ended browser is still logged in")
		}
		if st := devices[2].apiState(); st.Session == nil || !st.Session.Authenticated {
			t.Fatal("ending one session ended another")
		}
		r = me.submit("/account/sessions/end-others", nil)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/account" {
			t.Fatalf("end others: %d → %q", r.Status, r.Header.Get("Location"))
		}
		if st := devices[2].apiState(); st.Session != nil {
			t.Fatal("end-others left another browser logged in")
		}
		if st := me.apiState(); st.Session == nil || !st.Session.Authenticated {
			t.Fatal("end-others ended the current session")
		}
		if st := bob.apiState(); st.Session == nil || !st.Session.Authenticated {
			t.Fatal("alice's end-others logged bob out")
		}
		var n int
		srv.db.W.Get(&n, "SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL")
		if n != 2 {
			t.Fatalf("%d logged-in rows, want alice's current and bob's", n)
		}
	})
}
