package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// instructorCookieOf is the instructor cookie a browser holds ("" if none).
func instructorCookieOf(b *browser) string {
	u, _ := url.Parse(b.srv.URL + "/instructor")
	for _, c := range b.jar.Cookies(u) {
		if c.Name == instructorCookieName {
			return c.Value
		}
	}
	return ""
}

// withInstructorCookie is a fresh browser holding v as its instructor cookie.
func (s *testServer) withInstructorCookie(t testing.TB, v string) *browser {
	t.Helper()
	b := s.newBrowser(t)
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(s.URL + "/instructor")
	jar.SetCookies(u, []*http.Cookie{{Name: instructorCookieName, Value: v, Path: "/instructor"}})
	b.jar, b.client.Jar = jar, jar
	return b
}

func TestInstructorTokenGuessesFromOneAddressEndIn429(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		guesser := s.newBrowser(t)
		var last response
		refused := 0
		for i := 0; i < 50; i++ {
			last = guesser.get("/instructor?token=guess-" + strconv.Itoa(i))
			if last.Status == http.StatusForbidden {
				refused++
			}
		}
		if last.Status != http.StatusTooManyRequests {
			t.Fatalf("50th wrong token: %d, want 429", last.Status)
		}
		if secs, err := strconv.Atoi(last.Header.Get("Retry-After")); err != nil || secs < 1 {
			t.Errorf("429 without a usable Retry-After: %q", last.Header.Get("Retry-After"))
		}
		if refused > instructorPerAddr.n {
			t.Errorf("%d wrong tokens were checked before the throttle, want at most %d", refused, instructorPerAddr.n)
		}
		// The guessing address stays out, even with the right token...
		if r := guesser.get("/instructor?token=" + testToken); r.Status != http.StatusTooManyRequests || instructorCookieOf(guesser) != "" {
			t.Errorf("right token from the throttled address: %d, cookie %q; want 429 and none", r.Status, instructorCookieOf(guesser))
		}
		// ...while the instructor's own machine signs in as usual.
		teacher := s.newBrowserFrom(t, "127.0.0.23")
		if r := teacher.get("/instructor?token=" + testToken); r.Status != http.StatusOK || instructorCookieOf(teacher) == "" {
			t.Fatalf("right token from another address: %d, cookie %q", r.Status, instructorCookieOf(teacher))
		}
		if r := teacher.get("/instructor"); r.Status != http.StatusOK {
			t.Errorf("dashboard after signing in from another address: %d", r.Status)
		}
		if logs := s.logs.String(); strings.Contains(logs, "guess-") {
			t.Error("the log holds a guessed token")
		}
	})
}

func TestInstructorCookieExpiresAndOnlyTheTokenCanSignIt(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		ins := s.instructor(t)
		v := instructorCookieOf(ins)
		exp, mac, ok := strings.Cut(v, ".")
		if !ok || strings.Contains(v, testToken) {
			t.Fatalf("instructor cookie %q: want EXPIRY.MAC, never the token", v)
		}
		// Another instance with the same token accepts it (no shared state).
		other := startServer(t, dbURL, withInstance("other"))
		if r := other.withInstructorCookie(t, v).get("/instructor"); r.Status != http.StatusOK {
			t.Errorf("the same cookie on another instance with the same token: %d", r.Status)
		}
		n, _ := strconv.ParseInt(exp, 10, 64)
		for name, forged := range map[string]string{
			"expiry pushed back":     strconv.FormatInt(n+86400*365, 10) + "." + mac,
			"MAC altered":            exp + "." + strings.Repeat("A", len(mac)),
			"the old fixed value":    s.app.instructorMAC("cookie"),
			"no expiry":              mac,
			"garbage":                "not-a-cookie",
			"expiry with other text": exp + "x." + mac,
		} {
			r := s.withInstructorCookie(t, forged).get("/instructor")
			if r.Status != http.StatusForbidden || !strings.Contains(r.Body, "/instructor?token=") {
				t.Errorf("%s: %d, want 403 with the link to sign in again\n%.400s", name, r.Status, r.Body)
			}
		}
		if r := ins.get("/instructor"); r.Status != http.StatusOK {
			t.Fatalf("the real cookie before its expiry: %d", r.Status)
		}
		s.clock.Advance(instructorSignIn + time.Minute)
		r := ins.get("/instructor")
		if r.Status != http.StatusForbidden || !strings.Contains(r.Body, "expired") || !strings.Contains(r.Body, "/instructor?token=") {
			t.Errorf("the cookie past its expiry: %d, want 403 saying it expired and how to sign in again\n%.600s", r.Status, r.Body)
		}
		if r := ins.post("/instructor/end-all", url.Values{"csrf_token": {s.app.instructorMAC("csrf")}}); r.Status != http.StatusForbidden {
			t.Errorf("a control with an expired sign-in: %d, want 403", r.Status)
		}
		// Signing in again works and gives a cookie valid from now.
		if r := ins.get("/instructor?token=" + testToken); r.Status != http.StatusOK {
			t.Fatalf("sign in again: %d", r.Status)
		}
		if r := ins.get("/instructor"); r.Status != http.StatusOK {
			t.Errorf("dashboard after signing in again: %d", r.Status)
		}
	})
}
