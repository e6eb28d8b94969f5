package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"sessionlab/ids"
	"sessionlab/labs"
)

// plainHTTPJar keeps Secure cookies for plain http://127.0.0.1, as a browser
// does for localhost: the test server has no TLS, and -secure-cookies must not
// leave the test browser without its session.
type plainHTTPJar struct{ http.CookieJar }

func (j plainHTTPJar) SetCookies(u *url.URL, cookies []*http.Cookie) {
	for _, c := range cookies {
		c.Secure = false
	}
	j.CookieJar.SetCookies(u, cookies)
}

// setCookieNamed is the Set-Cookie for name in r, or nil.
func setCookieNamed(r response, name string) *http.Cookie {
	for _, line := range r.Header.Values("Set-Cookie") {
		if c, err := http.ParseSetCookie(line); err == nil && c.Name == name {
			c.Raw = line
			return c
		}
	}
	return nil
}

// Every cookie the app sets, it expires with the same Path, Domain, Secure,
// HttpOnly and SameSite: a browser keeps a cookie that an expiry with other
// attributes does not match, or may refuse the expiry outright (a plain-HTTP
// response cannot overwrite a Secure cookie).
func TestEveryCookieIsExpiredWithTheAttributesItWasSetWith(t *testing.T) {
	for _, dialect := range dialects(t) {
		for _, secure := range []bool{false, true} {
			var opts []serverOption
			if secure {
				opts = append(opts, withSecureCookies())
			}
			// A database each: two servers started within a second on one
			// database would issue the same weak guessable-ids counter IDs.
			srv := startServer(t, freshDatabase(t, dialect), opts...)
			b := srv.newBrowser(t)
			b.client.Jar = plainHTTPJar{b.jar}

			// check compares the Set-Cookie that set a cookie with the one
			// that expired it.
			check := func(kind string, set, exp response, name string) {
				t.Helper()
				s, e := setCookieNamed(set, name), setCookieNamed(exp, name)
				if s == nil || e == nil {
					t.Errorf("%s, secure=%v, %s: set %v, expired %v: want a Set-Cookie %s for both", dialect, secure, kind, s != nil, e != nil, name)
					return
				}
				if s.Value == "" || s.MaxAge < 0 {
					t.Errorf("%s, secure=%v, %s: the setting Set-Cookie %q does not set it", dialect, secure, kind, s.Raw)
				}
				if e.Value != "" || !(e.MaxAge < 0 || (!e.Expires.IsZero() && e.Expires.Before(time.Now()))) {
					t.Errorf("%s, secure=%v, %s: the expiring Set-Cookie %q does not expire it", dialect, secure, kind, e.Raw)
				}
				if s.Path != e.Path || s.Domain != e.Domain || s.Secure != e.Secure || s.HttpOnly != e.HttpOnly || s.SameSite != e.SameSite {
					t.Errorf("%s, secure=%v, %s: set and expired with different attributes:\n  set    %s\n  expire %s", dialect, secure, kind, withoutValue(s), e.Raw)
				}
				if s.Secure != secure && s.SameSite != http.SameSiteNoneMode {
					t.Errorf("%s, secure=%v, %s: Secure=%v, want it exactly when -secure-cookies is on", dialect, secure, kind, s.Secure)
				}
			}

			first := b.get("/")
			b.login("alice", "wonderland")
			check("shop session", first, b.submit("/logout", nil), cookieName)

			for _, l := range labs.All {
				for _, mode := range l.Modes() {
					site := "/lab/" + l.Slug + "/site"
					if l.TokenInPage(mode) {
						continue // no cookie: the token lives in the page
					}
					var opened response
					if l.StateInCookie() {
						// The client-side lab sets its cookie when there is state to keep.
						opened = b.post(site+"/login?mode="+string(mode), url.Values{"username": {"alice"}, "password": {"wonderland"}})
					} else {
						opened = b.get(site + "?mode=" + string(mode))
					}
					out := b.post(site+"/logout?mode="+string(mode), url.Values{})
					check(l.Cookie()+" "+string(mode), opened, out, l.Cookie())
				}
			}

			// The instructor cookie is never expired by the app (it lapses
			// after 12 hours): it keeps the secure defaults it is set with.
			ins := srv.newBrowser(t).get("/instructor?token=test-instructor-token")
			if c := setCookieNamed(ins, instructorCookieName); c == nil || c.Secure != secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/instructor" || (c.MaxAge <= 0 && !c.Expires.After(time.Now())) {
				t.Errorf("%s, secure=%v: instructor Set-Cookie %v: want Secure=%v, HttpOnly, SameSite=Strict, Path=/instructor and a lifetime", dialect, secure, c, secure)
			}
			srv.stop()
		}
	}
}

// withoutValue is a Set-Cookie line for an error message, its value cut.
func withoutValue(c *http.Cookie) string {
	return strings.Replace(c.Raw, c.Value, ids.Prefix(c.Value)+"…", 1)
}
