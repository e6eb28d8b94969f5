package main

import (
	"bufio"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"sessionlab/ids"
)

// rawResponse is what came back on a raw TCP connection.
type rawResponse struct {
	Status int
	Header http.Header
	Body   string
	Raw    string
}

// sendRaw writes bytes to the server as they are (no client-side checks,
// unlike net/http) and reads one response.
func (s *testServer) sendRaw(t *testing.T, raw string) rawResponse {
	t.Helper()
	r, ok := s.trySendRaw(t, raw)
	if !ok {
		t.Fatalf("no HTTP response to %q (got %q)", ids.Cut(raw, 80), ids.Cut(r.Raw, 200))
	}
	return r
}

// trySendRaw is sendRaw for requests the server may also answer by closing
// the connection; ok reports whether an HTTP response came back.
func (s *testServer) trySendRaw(t *testing.T, raw string) (rawResponse, bool) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	go io.WriteString(c, raw) // a server may answer before reading everything
	all, _ := io.ReadAll(c)
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(string(all))), nil)
	if err != nil {
		return rawResponse{Raw: string(all)}, false
	}
	body, _ := io.ReadAll(resp.Body)
	return rawResponse{Status: resp.StatusCode, Header: resp.Header, Body: string(body), Raw: string(all)}, true
}

// wantSecurityHeaders checks the headers every response must carry.
func wantSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	for _, d := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, d) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", what, csp, d)
		}
	}
	if strings.Contains(csp, "unsafe-inline") {
		t.Errorf("%s: CSP allows inline script or style: %q", what, csp)
	}
	for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"} {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
}

func countRows(t *testing.T, s *testServer, table string) int {
	t.Helper()
	var n int
	if err := s.db.W.Get(&n, "SELECT COUNT(*) FROM "+table); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// Every response carries the security headers: pages, JSON, 404s, and the
// errors Fiber raises before any route runs (body too large, huge headers,
// a request it cannot parse).
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	srv := startServer(t, freshDatabase(t, "sqlite"))
	b := srv.newBrowser(t)
	for _, path := range []string{"/", "/cart", "/login", "/api/state", "/healthz", "/no-such-page", "/products/999999"} {
		r := b.get(path)
		wantSecurityHeaders(t, "GET "+path, r.Header)
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("GET %s: Cache-Control %q, want no-store (pages show session state)", path, cc)
		}
	}
	cases := map[string]struct {
		raw    string
		status int
	}{
		"body too large": {"POST /cart/add HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n" + strings.Repeat("a", 100000), 413},
		"huge cookie":    {"GET / HTTP/1.1\r\nHost: a\r\nCookie: sessionid=" + strings.Repeat("x", 20000) + "\r\n\r\n", 431},
		"bad length":     {"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: nope\r\n\r\n", 400},
		"garbage":        {"HELLO\r\n\r\n", 400},
		"other method":   {"DELETE / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 0},
	}
	for name, tc := range cases {
		r := srv.sendRaw(t, tc.raw)
		if tc.status != 0 && r.Status != tc.status {
			t.Errorf("%s: status %d, want %d", name, r.Status, tc.status)
		}
		if r.Status < 400 || r.Status >= 500 {
			t.Errorf("%s: status %d, want a 4xx", name, r.Status)
		}
		wantSecurityHeaders(t, name, r.Header)
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", name, cc)
		}
	}
}

// A request the server cannot parse gets a fixed message: fasthttp's parse
// errors quote the request, and repeating attacker bytes back is how
// reflection bugs start.
func TestMalformedRequestIsNotEchoed(t *testing.T) {
	srv := startServer(t, freshDatabase(t, "sqlite"))
	const marker = "ZQXMARKER"
	for _, raw := range []string{
		marker + "<b>\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: " + marker + "\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n" + marker + "\r\n",
	} {
		r, ok := srv.trySendRaw(t, raw)
		if ok && r.Status != http.StatusBadRequest && r.Status != http.StatusNotFound {
			t.Errorf("%q: status %d", raw, r.Status)
		}
		if ok && r.Status == http.StatusBadRequest && !strings.Contains(r.Body, "malformed") {
			t.Errorf("%q: 400 without the fixed explanation", raw)
		}
		if strings.Contains(strings.ToLower(r.Raw), strings.ToLower(marker)) {
			t.Errorf("%q: the response repeats the request's bytes:\n%s", raw, ids.Cut(r.Raw, 2000))
		}
	}
	if n := countRows(t, srv, "sessions"); n != 0 {
		t.Errorf("malformed requests created %d session rows", n)
	}
}

// A session row is created only for a page a browser views. A POST that
// carries no live session fails CSRF anyway, and a 404 is not a page worth
// a row: neither may create one (a bot's junk would fill the table).
func TestRefusedPostsAnd404sCreateNoSession(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		forged := ids.New()
		for _, tc := range []struct {
			name, method, path, cookie string
			status                     int
		}{
			{"POST without cookie", "POST", "/cart/add", "", 403},
			{"POST with forged cookie", "POST", "/cart/add", forged, 403},
			{"POST login without cookie", "POST", "/login", "", 403},
			{"POST logout with malformed cookie", "POST", "/logout", "not-an-id", 403},
			{"POST note without cookie", "POST", "/notes", "", 0},
			{"GET unknown page", "GET", "/no/such/page", "", 404},
			{"GET unknown page with forged cookie", "GET", "/no/such/page", forged, 404},
			{"POST unknown page", "POST", "/no/such/page", "", 404},
			{"POST to a GET-only page", "POST", "/cart", "", 0},
		} {
			b := srv.newBrowser(t)
			if tc.cookie != "" {
				b.setSessionID(tc.cookie)
			}
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(url.Values{"product_id": {"1"}, "quantity": {"1"}, "username": {"alice"}, "password": {"wonderland"}, "text": {"hi"}, "csrf_token": {"guess"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r := b.do(req)
			if tc.status != 0 && r.Status != tc.status {
				t.Errorf("%s: status %d, want %d", tc.name, r.Status, tc.status)
			}
			if r.Status == http.StatusForbidden && !strings.Contains(r.Body, "no live session") {
				t.Errorf("%s: the 403 does not say the session is missing", tc.name)
			}
			if r.Status < 400 || r.Status >= 500 {
				t.Errorf("%s: status %d, want a 4xx", tc.name, r.Status)
			}
			if sc := r.Header.Values("Set-Cookie"); len(sc) > 0 {
				for _, c := range sc {
					if strings.HasPrefix(c, cookieName+"=") && !strings.HasPrefix(c, cookieName+"=;") {
						t.Errorf("%s: issued a session cookie: %s", tc.name, ids.Prefix(c))
					}
				}
			}
			if n := countRows(t, srv, "sessions"); n != 0 {
				t.Fatalf("%s: %d session rows exist, want 0", tc.name, n)
			}
			if n := countRows(t, srv, "cart_items"); n != 0 {
				t.Fatalf("%s: cart changed", tc.name)
			}
		}
		// A 404 with a live session reads it (the panels show it) and
		// creates no other.
		b := srv.newBrowser(t)
		b.get("/")
		id := b.sessionID()
		r := b.get("/no/such/page")
		if r.Status != 404 || b.sessionID() != id {
			t.Fatalf("404 with a live session: status %d, cookie changed %v", r.Status, b.sessionID() != id)
		}
		if !strings.Contains(r.Body, "There is no page at this address") {
			t.Errorf("404 page lacks its message")
		}
		if n := countRows(t, srv, "sessions"); n != 1 {
			t.Fatalf("%d session rows, want 1", n)
		}
	})
}

// Usernames match exactly: MariaDB's default collation is case- and
// width-insensitive, so "ALICE" must not become alice there.
func TestUsernameMatchesExactly(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		for _, name := range []string{"ALICE", "Alice", "ａｌｉｃｅ", "alicé", "bob\u00a0"} {
			if _, err := srv.db.UserByName(t.Context(), name); err == nil {
				t.Errorf("UserByName(%q) found a user", name)
			}
			b := srv.newBrowser(t)
			r := b.submit("/login", url.Values{"username": {name}, "password": {"wonderland"}})
			if r.Status != http.StatusUnauthorized {
				t.Errorf("login as %q/wonderland: status %d, want 401", name, r.Status)
			}
			if got := b.apiState().Session; got == nil || got.Authenticated {
				t.Errorf("login as %q: session %+v, want anonymous", name, got)
			}
		}
		if u, err := srv.db.UserByName(t.Context(), "alice"); err != nil || u.Username != "alice" {
			t.Fatalf("UserByName(alice) = %v, %v", u, err)
		}
	})
}

// What a form did used to travel in a cookie (sessionlab_flash, lab_flash)
// that anyone could forge; it lives on the server now. A forged one sent
// anyway puts no words on any page and is never a 5xx.
func TestForgedFlashCookieReachesNoPage(t *testing.T) {
	srv := startServer(t, freshDatabase(t, "sqlite"))
	evil := `{"m":"<script>alert(1)</script>","p":"/<script>alert(2)</script>","e":[["<script>alert(3)</script>","{\"username\":\"<script>alert(4)</script>\"}"],["login.succeeded","{\"username\":\"Mallory-was-here\"}"]],"s":["<script>alert(6)</script>"]}`
	for _, v := range []string{base64.RawURLEncoding.EncodeToString([]byte(evil)), "%%%", strings.Repeat("A", 3000), base64.RawURLEncoding.EncodeToString([]byte(`["Mallory-was-here"]`))} {
		for _, p := range []string{"/", "/cart", "/lessons/logging-in", "/lab/fixation/site"} {
			b := srv.newBrowser(t)
			req, _ := http.NewRequest(http.MethodGet, srv.URL+p, nil)
			req.Header.Set("Cookie", "sessionlab_flash="+v+"; lab_flash="+v)
			r := b.do(req)
			if r.Status != http.StatusOK {
				t.Fatalf("GET %s with a forged flash cookie: %d", p, r.Status)
			}
			if strings.Contains(r.Body, "alert(") || strings.Contains(r.Body, "Mallory-was-here") || strings.Contains(r.Body, "Your last request") {
				t.Fatalf("GET %s: words from a forged flash cookie reached the page", p)
			}
		}
	}
}
