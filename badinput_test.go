package main

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"sessionlab/ids"
)

// Bad input on every form: a 4xx with a clear message in the page, the
// database unchanged, never a 500. Run as alice, with a cart line and a
// note in place so there is something to damage.
func TestBadInputChangesNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		b := srv.newBrowser(t)
		b.login("alice", "wonderland")
		b.add("1", "2")
		b.submit("/notes", url.Values{"text": {"original"}})
		note := b.noteIDs()[0]
		anon := srv.newBrowser(t)
		anon.add("2", "1")

		type tc struct {
			path    string
			form    url.Values
			status  int    // 0: any 4xx
			message string // part of the explanation the page must show
		}
		long := strings.Repeat("n", 501)
		cases := []tc{
			{"/cart/add", url.Values{"product_id": {"999"}, "quantity": {"1"}}, 400, "Unknown product"},
			{"/cart/add", url.Values{"product_id": {"abc"}, "quantity": {"1"}}, 400, "Unknown product"},
			{"/cart/add", url.Values{"product_id": {""}, "quantity": {"1"}}, 400, "Unknown product"},
			{"/cart/add", url.Values{"quantity": {"1"}}, 400, "Unknown product"},
			{"/cart/add", url.Values{"product_id": {"1"}, "quantity": {"0"}}, 400, "Quantity"},
			{"/cart/add", url.Values{"product_id": {"1"}, "quantity": {"100"}}, 400, "Quantity"},
			{"/cart/add", url.Values{"product_id": {"1"}, "quantity": {"-1"}}, 400, "Quantity"},
			{"/cart/add", url.Values{"product_id": {"1"}, "quantity": {"abc"}}, 400, "Quantity"},
			{"/cart/add", url.Values{"product_id": {"1"}, "quantity": {"1.5"}}, 400, "Quantity"},
			{"/cart/add", url.Values{"product_id": {"1"}, "quantity": {""}}, 400, "Quantity"},
			{"/cart/add", url.Values{"product_id": {"1"}, "quantity": {"99999999999999999999999"}}, 400, "Quantity"},
			{"/cart/add", url.Values{"product_id": {"1"}}, 400, "Quantity"},
			{"/cart/update", url.Values{"product_id": {"1"}, "quantity": {"-1"}}, 400, "Quantity"},
			{"/cart/update", url.Values{"product_id": {"1"}, "quantity": {"100"}}, 400, "Quantity"},
			{"/cart/update", url.Values{"product_id": {"999"}, "quantity": {"0"}}, 400, "Unknown product"},
			{"/notes", url.Values{"text": {""}}, 400, "1 to 500"},
			{"/notes", url.Values{"text": {"   \t\n  "}}, 400, "1 to 500"},
			{"/notes", url.Values{"text": {long}}, 400, "1 to 500"},
			{"/notes", url.Values{"text": {"bad \xff\xfe utf-8"}}, 400, "1 to 500"},
			{"/notes", url.Values{}, 400, "1 to 500"},
			{"/notes/abc/delete", nil, 404, ""},
			{"/notes/0/delete", nil, 404, ""},
			{"/notes/-1/delete", nil, 404, ""},
			{"/notes/99999999999999999999/delete", nil, 404, ""},
			{"/notes/" + note + "0/delete", nil, 404, ""},
			{"/account/sessions/end", url.Values{"session": {"x"}}, 400, ""},
			{"/account/sessions/end", url.Values{"session": {strings.Repeat("0", 64)}}, 404, ""},
			{"/account/sessions/end", url.Values{"session": {strings.Repeat("é", 32)}}, 0, ""},
			{"/login", url.Values{"username": {"alice\x00"}, "password": {"wonderland"}}, 401, ""},
			{"/login", url.Values{"username": {"\xff\xfe"}, "password": {"wonderland"}}, 401, ""},
			{"/login", url.Values{"username": {"ali\xe9"}, "password": {"wonderland"}}, 401, ""},
			{"/login", url.Values{"username": {"🍪"}, "password": {"\xff"}}, 401, ""},
			{"/login", url.Values{"username": {strings.Repeat("a", 10000)}, "password": {"x"}}, 400, ""},
			{"/lessons/no-such/answer", url.Values{"step": {"x"}, "answer": {"y"}}, 404, ""},
			{"/lessons/logging-in/answer", url.Values{"step": {"no-such-step"}, "answer": {"y"}}, 0, ""},
			{"/lessons/logging-in/hint", url.Values{"step": {strings.Repeat("x", 5000)}}, 0, ""},
		}
		for _, c := range cases {
			for _, who := range []*browser{b, anon} {
				if who == anon && (strings.HasPrefix(c.path, "/notes") || strings.HasPrefix(c.path, "/account")) {
					continue // those need a login; refused with 401 anyway
				}
				tok := who.csrf("/login")
				before := dbSnapshot(t, srv)
				f := url.Values{"csrf_token": {tok}}
				for k, v := range c.form {
					f[k] = v
				}
				r := who.post(c.path, f)
				what := c.path + " " + ids.Cut(c.form.Encode(), 60)
				if c.status != 0 && r.Status != c.status || r.Status < 400 || r.Status >= 500 {
					t.Errorf("POST %s: %d, want %d", what, r.Status, c.status)
				}
				if c.message != "" && !strings.Contains(r.Body, c.message) {
					t.Errorf("POST %s: the page does not explain (%q)", what, c.message)
				}
				if !strings.Contains(r.Body, "<html") {
					t.Errorf("POST %s: the error is not a page in the site's layout", what)
				}
				if after := dbSnapshot(t, srv); after != before {
					t.Fatalf("POST %s changed the database:\n%s\n→\n%s", what, before, after)
				}
			}
		}

		// Bodies and cookies the server refuses before any handler runs.
		before := dbSnapshot(t, srv)
		huge := url.Values{"csrf_token": {b.csrf("/login")}, "text": {strings.Repeat("x", 70*1024)}}.Encode()
		// Raw: the server answers 413 without reading the body, which a
		// net/http client may report as a broken pipe instead.
		r := srv.sendRaw(t, "POST /notes HTTP/1.1\r\nHost: a\r\nCookie: "+cookieName+"="+b.sessionID()+"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "+strconv.Itoa(len(huge))+"\r\n\r\n"+huge)
		if r.Status != http.StatusRequestEntityTooLarge || !strings.Contains(r.Body, "too large") {
			t.Errorf("70 KiB note: %d, want 413 with an explanation", r.Status)
		}
		for _, cookie := range []string{strings.Repeat("A", 43) + "!", "%%%", strings.Repeat("x", 4000), "\"" + ids.New() + "\""} {
			m := srv.newBrowser(t)
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/state", nil)
			req.Header.Set("Cookie", cookieName+"="+cookie)
			if r := m.do(req); r.Status != 200 || !strings.Contains(r.Body, `"session":null`) {
				t.Errorf("malformed cookie %q: %d %s", ids.Cut(cookie, 20), r.Status, ids.Cut(r.Body, 200))
			}
		}
		// Raw, as the 413 above: a net/http client writes its headers 4 KB
		// at a time, and the server's answer and close can reset the write.
		if r := srv.sendRaw(t, "GET / HTTP/1.1\r\nHost: a\r\nCookie: "+cookieName+"="+strings.Repeat("x", 20000)+"\r\n\r\n"); r.Status != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("20 KB cookie: %d, want 431", r.Status)
		}
		if after := dbSnapshot(t, srv); after != before {
			t.Fatalf("oversized requests changed the database")
		}
		if strings.Contains(srv.logs.String(), "level=ERROR") {
			t.Errorf("bad input logged errors:\n%s", ids.Cut(srv.logs.String(), 3000))
		}
	})
}

// API errors are JSON, pages are HTML.
func TestErrorsSpeakTheRightFormat(t *testing.T) {
	srv := startServer(t, freshDatabase(t, "sqlite"))
	b := srv.newBrowser(t)
	r := b.get("/api/no-such-thing")
	if r.Status != 404 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || !strings.Contains(r.Body, `"error"`) {
		t.Errorf("GET /api/no-such-thing: %d %s %s", r.Status, r.Header.Get("Content-Type"), ids.Cut(r.Body, 200))
	}
	r = b.get("/no-such-page")
	if r.Status != 404 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(r.Body, "There is no page at this address") {
		t.Errorf("GET /no-such-page: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
}

// Odd bytes in headers the server stores (User-Agent goes into the session
// row): still a page, on both databases.
func TestOddUserAgents(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		for _, ua := range []string{strings.Repeat("a", 249) + "日本語", "bad \xff\xfe bytes", strings.Repeat("é", 300), "emoji 🍪🍪", ""} {
			r := srv.sendRaw(t, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nUser-Agent: "+ua+"\r\n\r\n")
			if r.Status != http.StatusOK {
				t.Errorf("User-Agent %q: %d", ids.Cut(ua, 20), r.Status)
			}
		}
		b := srv.newBrowser(t)
		b.client.Transport = &uaTransport{ua: strings.Repeat("x", 249) + "ü"}
		b.login("alice", "wonderland")
		if r := b.get("/account"); r.Status != http.StatusOK {
			t.Fatalf("/account with a cut User-Agent: %d", r.Status)
		}
	})
}

type uaTransport struct{ ua string }

func (u *uaTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r.Header.Set("User-Agent", u.ua)
	return http.DefaultTransport.RoundTrip(r)
}
