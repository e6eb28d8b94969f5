package main

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"sessionlab/ids"
	"sessionlab/labs"
)

// shopTimes reads a shop session's last_seen_at and expires_at.
func shopTimes(t *testing.T, s *testServer, b *browser) (lastSeen, expires time.Time) {
	t.Helper()
	row := struct {
		LastSeen time.Time `db:"last_seen_at"`
		Expires  time.Time `db:"expires_at"`
	}{}
	if err := s.db.R.Get(&row, "SELECT last_seen_at, expires_at FROM sessions WHERE `key` = ?", ids.Hash(b.sessionID())); err != nil {
		t.Fatal(err)
	}
	return row.LastSeen, row.Expires
}

// weakCrossSiteLab switches b's cross-site lab to weak and returns the lab
// ID its lab shop issues (from the Set-Cookie: Go's jar keeps the weak,
// Secure cookie off http://, unlike a browser on localhost).
func weakCrossSiteLab(t *testing.T, b *browser) string {
	t.Helper()
	b.setLabMode("cross-site", "weak")
	for _, c := range (&http.Response{Header: b.get("/lab/cross-site/site").Header}).Cookies() {
		if c.Name == "lab_cross_site" {
			return c.Value
		}
	}
	t.Fatal("the weak lab shop set no lab_cross_site cookie")
	return ""
}

// prepareCrossSite registers a cross-site attempt for b and returns its token.
func prepareCrossSite(t *testing.T, b *browser) string {
	t.Helper()
	r := b.post("/lab/cross-site/attempt", url.Values{"csrf_token": {b.csrf("/lab/cross-site")}})
	loc, _ := url.Parse(r.Header.Get("Location"))
	if r.Status != http.StatusSeeOther || loc == nil || loc.Query().Get("attempt") == "" {
		t.Fatalf("prepare the attack: %d → %q", r.Status, r.Header.Get("Location"))
	}
	return loc.Query().Get("attempt")
}

// forgedForm is the attacker's form as it arrives: the lab cookie rides
// along (weak, SameSite=None), the shop cookie does not (Lax).
func forgedForm(t *testing.T, s *testServer, labID, tok string) response {
	t.Helper()
	form := url.Values{"item": {"Gift card"}, "quantity": {"1"}, "attempt": {tok}}
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/lab/cross-site/site/cart/add", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "lab_cross_site", Value: labID})
	return s.newBrowser(t).do(req)
}

// A lab attempt reaches a learner's lessons once, through a request of that
// learner's own (shop cookie and CSRF token), and recording it never moves
// the shop session's last_seen_at or expires_at. The attacker's request,
// which carries no shop cookie, a replay of it, a GET with ?attempt=, and a
// classmate holding the token all record nothing.
func TestLabAttemptIsRecordedOnceOnlyForItsLearner(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		learner, classmate := s.newBrowser(t), s.newBrowser(t)
		learner.get("/")
		classmate.get("/")
		labID := weakCrossSiteLab(t, learner)
		tok := prepareCrossSite(t, learner)
		attacks := func() int { return len(labEvents(t, s, "lab.attack")) }
		seen, exp := shopTimes(t, s, learner)
		s.clock.Advance(2 * time.Minute) // past the page touch throttle: any touch would show

		// The attacker's form: obeyed (weak lab), recorded nowhere.
		if r := forgedForm(t, s, labID, tok); r.Status != http.StatusOK || !strings.Contains(r.Body, "record the outcome") {
			t.Fatalf("the attacker's form: %d\n%.500s", r.Status, r.Body)
		}
		// Replayed: refused as an attempt, recorded nowhere.
		if r := forgedForm(t, s, labID, tok); !strings.Contains(r.Body, "already used") {
			t.Errorf("a replayed attempt is not called used:\n%.500s", r.Body)
		}
		// A GET with ?attempt= (the lab page, the lab site) changes nothing.
		learner.get("/lab/fixation/site?mode=weak")
		for _, p := range []string{"/lab/fixation/site/account?attempt=1", "/lab/cross-site/site/account?attempt=" + tok} {
			req, _ := http.NewRequest(http.MethodGet, s.URL+p, nil)
			learner.do(req)
		}
		if n := attacks(); n != 0 {
			t.Fatalf("%d lab.attack events before the learner recorded anything", n)
		}
		if ls, ex := shopTimes(t, s, learner); !ls.Equal(seen) || !ex.Equal(exp) {
			t.Errorf("the shop session moved: last seen %v → %v, expires %v → %v", seen, ls, exp, ex)
		}
		// A classmate holding the token cannot take it.
		if r := classmate.post("/lab/cross-site/record", url.Values{"attempt": {tok}, "csrf_token": {classmate.csrf("/lab/cross-site")}}); r.Status != http.StatusConflict {
			t.Errorf("a classmate recording the attempt: %d, want 409", r.Status)
		}
		if page := classmate.get("/lab/cross-site?attempt=" + tok); strings.Contains(page.Body, "evil?t=") || strings.Contains(page.Body, `data-outcome="succeeded"`) {
			t.Error("the lab page shows another learner's attempt")
		}
		// The learner records it: once.
		csrf := learner.csrf("/lab/cross-site") // the page view touches the session, as any does
		seen, exp = shopTimes(t, s, learner)
		s.clock.Advance(30 * time.Second) // within the touch throttle: the POST's own chain leaves it
		if r := learner.post("/lab/cross-site/record", url.Values{"attempt": {tok}, "csrf_token": {csrf}}); r.Status != http.StatusSeeOther {
			t.Fatalf("the learner records the attempt: %d\n%.400s", r.Status, r.Body)
		}
		if !hasEvent(labEvents(t, s, "lab.attack"), map[string]string{"lab": "cross-site", "mode": "weak", "outcome": "succeeded"}) || attacks() != 1 {
			t.Errorf("after recording: %v, want one cross-site success", labEvents(t, s, "lab.attack"))
		}
		if ls, ex := shopTimes(t, s, learner); !ls.Equal(seen) || !ex.Equal(exp) {
			t.Errorf("recording the attempt moved the session: last seen %v → %v, expires %v → %v", seen, ls, exp, ex)
		}
		if r := learner.post("/lab/cross-site/record", url.Values{"attempt": {tok}, "csrf_token": {learner.csrf("/lab/cross-site")}}); r.Status != http.StatusConflict || attacks() != 1 {
			t.Errorf("recording it again: %d, %d events; want 409 and still one", r.Status, attacks())
		}
		// An attempt is short-lived: past its lifetime the form cannot use it.
		old := prepareCrossSite(t, learner)
		s.clock.Advance(labs.AttemptLifetime + time.Second)
		forgedForm(t, s, labID, old)
		if r := learner.post("/lab/cross-site/record", url.Values{"attempt": {old}, "csrf_token": {learner.csrf("/lab/cross-site")}}); r.Status != http.StatusConflict || attacks() != 1 {
			t.Errorf("an expired attempt: %d, %d events; want 409 and still one", r.Status, attacks())
		}
		// The cookie-theft "attacker's server" records only with the shop
		// cookie and its token.
		r := s.newBrowser(t).post("/lab/cookie-theft/site/steal", url.Values{"cookies": {""}})
		if r.Status != http.StatusForbidden || attacks() != 1 {
			t.Errorf("steal without a shop cookie: %d, %d events; want 403 and none", r.Status, attacks())
		}
	})
}

// Two instances on one database, the attacker's form sent to both at once
// many times: the attempt is used exactly once.
func TestLabAttemptIsUsedOnceAcrossInstances(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		one, two := startServer(t, dbURL, withInstance("one")), startServer(t, dbURL, withInstance("two"))
		learner := one.newBrowser(t)
		learner.get("/")
		labID := weakCrossSiteLab(t, learner)
		tok := prepareCrossSite(t, learner)
		const n = 8
		used := make(chan bool, 2*n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			for _, s := range []*testServer{one, two} {
				wg.Go(func() {
					r := forgedForm(t, s, labID, tok)
					used <- strings.Contains(r.Body, "record the outcome")
				})
			}
		}
		wg.Wait()
		close(used)
		wins := 0
		for u := range used {
			if u {
				wins++
			}
		}
		if wins != 1 {
			t.Errorf("the attempt was used %d times by %d concurrent forms on two instances, want once", wins, 2*n)
		}
	})
}
