package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"sessionlab/labs"
)

// The attack labs, over real HTTP on every database: each attack succeeds
// against the weak lab server and fails against the defended one, and the
// outcome lands in the learner's own shop session as a lab.attack event.

// setLabMode flips a lab's switch through its CSRF-protected form.
func (b *browser) setLabMode(slug, mode string) {
	b.t.Helper()
	r := b.post("/lab/"+slug+"/mode", url.Values{"mode": {mode}, "csrf_token": {b.csrf("/lab/" + slug)}})
	if r.Status != http.StatusSeeOther {
		b.t.Fatalf("set %s to %s: status %d\n%s", slug, mode, r.Status, r.Body)
	}
}

// simulate runs one step (or "all") of a lab's simulator and returns the lab page after it.
func (b *browser) simulate(slug, step string, extra url.Values) response {
	b.t.Helper()
	form := url.Values{"step": {step}, "csrf_token": {b.csrf("/lab/" + slug)}}
	for k, v := range extra {
		form[k] = v
	}
	r := b.post("/lab/"+slug+"/sim", form)
	if r.Status != http.StatusSeeOther {
		b.t.Fatalf("simulate %s step %s: status %d\n%s", slug, step, r.Status, r.Body)
	}
	return b.get("/lab/" + slug)
}

var outcomeRe = regexp.MustCompile(`data-outcome="(\w*)"`)

func pageOutcome(t *testing.T, body string) string {
	t.Helper()
	m := outcomeRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no outcome on the lab page:\n%s", body)
	}
	return m[1]
}

// labEvents lists the lab.attack events of a learner's shop session (and
// any session of theirs: rotation moves the key), as detail maps.
func labEvents(t *testing.T, s *testServer, kind string) []map[string]string {
	t.Helper()
	var details []string
	if err := s.db.R.Select(&details, "SELECT detail FROM events WHERE kind = ? ORDER BY id", kind); err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, d := range details {
		m := map[string]string{}
		if err := json.Unmarshal([]byte(d), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func hasEvent(evs []map[string]string, want map[string]string) bool {
	for _, e := range evs {
		ok := true
		for k, v := range want {
			if e[k] != v {
				ok = false
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// progressStep reads /api/progress and says whether a lesson step is done.
func (b *browser) progressStep(lesson, step string) bool {
	b.t.Helper()
	r := b.get("/api/progress")
	var p struct {
		Lessons []struct {
			Slug  string
			Steps []struct {
				ID   string
				Done bool
			}
		}
	}
	if err := json.Unmarshal([]byte(r.Body), &p); err != nil {
		b.t.Fatalf("progress: %v\n%s", err, r.Body)
	}
	for _, l := range p.Lessons {
		for _, s := range l.Steps {
			if l.Slug == lesson && s.ID == step {
				return s.Done
			}
		}
	}
	b.t.Fatalf("no step %s/%s in /api/progress", lesson, step)
	return false
}

func TestSimulatedLabAttacksSucceedWhenWeakAndFailWhenDefended(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		for _, slug := range []string{"fixation", "logout-replay", "guessable-ids"} {
			t.Run(slug, func(t *testing.T) {
				b := s.newBrowser(t)
				b.get("/")
				for _, tc := range []struct{ mode, want string }{{"weak", "succeeded"}, {"defended", "failed"}} {
					b.setLabMode(slug, tc.mode)
					page := b.simulate(slug, "all", nil)
					if got := pageOutcome(t, page.Body); got != tc.want {
						t.Fatalf("%s %s: outcome %q, want %q\n%s", slug, tc.mode, got, tc.want, page.Body)
					}
					if !hasEvent(labEvents(t, s, "lab.attack"), map[string]string{"lab": slug, "mode": tc.mode, "outcome": tc.want, "via": "solo"}) {
						t.Errorf("%s %s: no lab.attack event with outcome %s", slug, tc.mode, tc.want)
					}
				}
				if !hasEvent(labEvents(t, s, "lab.mode"), map[string]string{"lab": slug, "mode": "defended"}) {
					t.Errorf("no lab.mode event for %s", slug)
				}
			})
		}
	})
}

func TestFixationLabStepByStepShowsBothJars(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		b := s.newBrowser(t)
		b.get("/")
		page := b.simulate("fixation", "1", nil)
		if !strings.Contains(page.Body, "Attacker") || !strings.Contains(page.Body, "lab_fixation=") {
			t.Fatalf("after step 1 the attacker's jar should hold lab_fixation:\n%s", page.Body)
		}
		if r := b.post("/lab/fixation/sim", url.Values{"step": {"4"}, "csrf_token": {b.csrf("/lab/fixation")}}); r.Status != http.StatusConflict {
			t.Errorf("step 4 before 2 and 3: status %d, want 409", r.Status)
		}
		page = b.simulate("fixation", "2", nil)
		if !strings.Contains(page.Body, "Refused the ?sid= ID") {
			t.Errorf("the forged ID should be refused in the victim's strip:\n%s", page.Body)
		}
		if !strings.Contains(page.Body, "the ID was planted") {
			t.Errorf("the planted ID should be taken from the link:\n%s", page.Body)
		}
		b.simulate("fixation", "3", nil)
		page = b.simulate("fixation", "4", nil)
		if got := pageOutcome(t, page.Body); got != "succeeded" {
			t.Errorf("weak fixation: %q", got)
		}
	})
}

// TestFixationLabWithTwoRealBrowsers is the pair variant: two learners, each
// with their own cookie jar (their own shop session), attack each other.
func TestFixationLabWithTwoRealBrowsers(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		for _, tc := range []struct{ mode, want string }{{"weak", "succeeded"}, {"defended", "failed"}} {
			attacker, victim := s.newBrowser(t), s.newBrowser(t)
			attacker.get("/")
			victim.get("/")
			attacker.setLabMode("fixation", tc.mode)
			attacker.get("/lab/fixation/site")
			planted := labCookie(attacker, "lab_fixation")
			if planted == "" {
				t.Fatal("the attacker got no lab cookie")
			}
			victim.get("/lab/fixation/site?sid=" + planted)
			if got := labCookie(victim, "lab_fixation"); got != planted {
				t.Fatalf("%s: the link did not plant the ID", tc.mode)
			}
			r := victim.post("/lab/fixation/site/login", url.Values{"username": {"alice"}, "password": {"wonderland"}})
			if r.Status != http.StatusSeeOther {
				t.Fatalf("victim login: %d\n%s", r.Status, r.Body)
			}
			rotated := labCookie(victim, "lab_fixation") != planted
			if rotated != (tc.mode == "defended") {
				t.Errorf("%s: rotated at login = %v", tc.mode, rotated)
			}
			acct := attacker.get("/lab/fixation/site/account")
			if (acct.Status == http.StatusOK) != (tc.want == "succeeded") || (acct.Header.Get("X-Lab-User") == "alice") != (tc.want == "succeeded") {
				t.Errorf("%s: attacker's account page %d user %q", tc.mode, acct.Status, acct.Header.Get("X-Lab-User"))
			}
			if !hasEvent(labEvents(t, s, "lab.attack"), map[string]string{"lab": "fixation", "mode": tc.mode, "outcome": tc.want, "via": "pair"}) {
				t.Errorf("%s: no pair lab.attack event %s", tc.mode, tc.want)
			}
			// A forged, never-issued ID is refused in both modes.
			forged := labs.RandomID()
			f := s.newBrowser(t)
			r = f.get("/lab/fixation/site?sid=" + forged)
			if labCookie(f, "lab_fixation") == forged || !strings.Contains(r.Body, "Refused the ?sid= ID") {
				t.Errorf("%s: a forged ID was adopted", tc.mode)
			}
		}
	})
}

func labCookie(b *browser, name string) string {
	u, _ := url.Parse(b.srv.URL + "/lab/x")
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func TestLogoutReplayLabWithTwoRealBrowsers(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		for _, tc := range []struct{ mode, want string }{{"weak", "succeeded"}, {"defended", "failed"}} {
			attacker, victim := s.newBrowser(t), s.newBrowser(t)
			attacker.get("/")
			victim.get("/")
			victim.setLabMode("logout-replay", tc.mode)
			victim.get("/lab/logout-replay/site")
			victim.post("/lab/logout-replay/site/login", url.Values{"username": {"alice"}, "password": {"wonderland"}})
			copied := labCookie(victim, "lab_logout_replay")
			victim.post("/lab/logout-replay/site/logout", nil)
			if labCookie(victim, "lab_logout_replay") != "" {
				t.Errorf("%s: logout left the cookie in the victim's browser", tc.mode)
			}
			r := attacker.post("/lab/logout-replay/use", url.Values{"id": {"lab_logout_replay=" + copied}, "csrf_token": {attacker.csrf("/lab/logout-replay")}})
			if r.Status != http.StatusSeeOther {
				t.Fatalf("use: %d\n%s", r.Status, r.Body)
			}
			acct := attacker.get(r.Header.Get("Location"))
			if (acct.Header.Get("X-Lab-User") == "alice") != (tc.want == "succeeded") {
				t.Errorf("%s: replay opened user %q", tc.mode, acct.Header.Get("X-Lab-User"))
			}
			if !hasEvent(labEvents(t, s, "lab.attack"), map[string]string{"lab": "logout-replay", "mode": tc.mode, "outcome": tc.want, "via": "pair"}) {
				t.Errorf("%s: no pair lab.attack event %s", tc.mode, tc.want)
			}
		}
	})
}

func TestExpiryLabUsesTheServersClock(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		for _, tc := range []struct{ mode, want string }{{"weak", "succeeded"}, {"defended", "failed"}} {
			b := s.newBrowser(t)
			b.get("/")
			b.setLabMode("expiry", tc.mode)
			b.simulate("expiry", "1", nil)
			page := b.simulate("expiry", "2", nil)
			if !strings.Contains(page.Body, "Not yet") {
				t.Errorf("%s: step 2 before the idle timeout should be refused:\n%s", tc.mode, page.Body)
			}
			s.clock.Advance(labs.IdleTimeout + time.Second)
			page = b.simulate("expiry", "2", nil)
			if got := pageOutcome(t, page.Body); got != tc.want {
				t.Errorf("%s: outcome %q, want %q", tc.mode, got, tc.want)
			}
			// The same in the learner's own browser.
			b.get("/lab/expiry/site")
			b.post("/lab/expiry/site/login", url.Values{"username": {"alice"}, "password": {"wonderland"}})
			s.clock.Advance(labs.IdleTimeout + time.Second)
			acct := b.get("/lab/expiry/site/account")
			if (acct.Header.Get("X-Lab-User") == "alice") != (tc.want == "succeeded") {
				t.Errorf("%s: old ID after the timeout opened user %q", tc.mode, acct.Header.Get("X-Lab-User"))
			}
		}
		if !b2(labEvents(t, s, "lab.attack"), "expiry", "weak", "succeeded") || !b2(labEvents(t, s, "lab.attack"), "expiry", "defended", "failed") {
			t.Errorf("expiry events missing: %v", labEvents(t, s, "lab.attack"))
		}
	})
}

func b2(evs []map[string]string, lab, mode, outcome string) bool {
	return hasEvent(evs, map[string]string{"lab": lab, "mode": mode, "outcome": outcome})
}
