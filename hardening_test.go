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

