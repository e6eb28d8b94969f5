package main

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"sessionlab/ids"
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
			// The attacker's account page records nothing by itself (a GET)...
			attacker.get("/lab/fixation/site/account?attempt=1")
			if hasEvent(labEvents(t, s, "lab.attack"), map[string]string{"lab": "fixation", "mode": tc.mode}) {
				t.Errorf("%s: a GET of the lab's account page recorded an attack", tc.mode)
			}
			// ...the lab page's form, with the shop cookie and token, does.
			use := attacker.post("/lab/fixation/use", url.Values{"csrf_token": {attacker.csrf("/lab/fixation")}})
			if use.Status != http.StatusSeeOther || use.Header.Get("Location") != "/lab/fixation/site/account" {
				t.Fatalf("%s: use the planted ID: %d → %q", tc.mode, use.Status, use.Header.Get("Location"))
			}
			acct := attacker.get(use.Header.Get("Location"))
			if (acct.Status == http.StatusOK) != (tc.want == "succeeded") || (acct.Header.Get("X-Lab-User") == "alice") != (tc.want == "succeeded") {
				t.Errorf("%s: attacker's account page %d user %q", tc.mode, acct.Status, acct.Header.Get("X-Lab-User"))
			}
			if !hasEvent(labEvents(t, s, "lab.attack"), map[string]string{"lab": "fixation", "mode": tc.mode, "outcome": tc.want, "via": "pair"}) {
				t.Errorf("%s: no pair lab.attack event %s", tc.mode, tc.want)
			}
			// A forged, never-issued ID is refused in both modes.
			forged := ids.New()
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
			use := b.post("/lab/expiry/use", url.Values{"csrf_token": {b.csrf("/lab/expiry")}})
			acct := b.get(use.Header.Get("Location"))
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

// labCookieAttrs reads the Set-Cookie of a lab page for one cookie.
func labCookieAttrs(t *testing.T, b *browser, path, name string) *http.Cookie {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
	resp, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	// No new Set-Cookie (the browser has one): ask a fresh browser.
	if !strings.Contains(path, "?") {
		path += "?mode=" + resp.Header.Get("X-Lab-Mode")
	}
	resp, err = http.Get(b.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no Set-Cookie %s on %s", name, path)
	return nil
}

func TestCookieTheftLabCookieIsHttpOnlyOnlyWhenDefended(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		for _, tc := range []struct {
			mode     string
			httpOnly bool
			want     string
		}{{"weak", false, "succeeded"}, {"defended", true, "failed"}} {
			b := s.newBrowser(t)
			b.get("/")
			r := stealLabCookie(t, b, tc.mode)
			ck := labCookieAttrs(t, b, "/lab/cookie-theft/site?mode="+tc.mode, "lab_cookie_theft")
			if ck.HttpOnly != tc.httpOnly || ck.Path != "/lab" {
				t.Fatalf("%s: lab cookie %+v, want HttpOnly=%v Path=/lab", tc.mode, ck, tc.httpOnly)
			}
			var res struct{ Outcome, Captured string }
			if err := json.Unmarshal([]byte(r.Body), &res); err != nil || res.Outcome != tc.want {
				t.Errorf("%s: steal answered %d %s, want outcome %s", tc.mode, r.Status, r.Body, tc.want)
			}
			if strings.Contains(r.Body, ck.Value) {
				t.Errorf("%s: the attacker log echoes the whole ID", tc.mode)
			}
			if !b2(labEvents(t, s, "lab.attack"), "cookie-theft", tc.mode, tc.want) {
				t.Errorf("%s: no event", tc.mode)
			}
		}
	})
}

// crossSiteAttack plays the attacker's page without a browser: the request
// carries the lab cookie only if the browser would send it (sameSiteSends).
func crossSiteAttack(t testing.TB, s *testServer, b *browser, mode string, sameSiteSends bool) response {
	t.Helper()
	b.setLabMode("cross-site", mode)
	// Go's cookie jar keeps Secure cookies off http://, unlike a browser on
	// localhost: take the lab cookie from the Set-Cookie itself.
	var labID string
	for _, c := range (&http.Response{Header: b.get("/lab/cross-site/site").Header}).Cookies() {
		if c.Name == "lab_cross_site" {
			labID = c.Value
		}
	}
	if labID == "" {
		labID = labCookie(b, "lab_cross_site") // kept from before (not Secure: the jar has it)
	}
	if labID == "" {
		t.Fatal("the lab shop set no lab_cross_site cookie")
	}
	host := strings.Replace(s.URL, "127.0.0.1", "localhost", 1)
	req, _ := http.NewRequest(http.MethodPost, host+"/lab/cross-site/attempt", strings.NewReader(url.Values{"csrf_token": {b.csrf("/lab/cross-site")}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "sessionid", Value: b.sessionID()})
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/lab/cross-site?attempt=") {
		t.Fatalf("attempt: %d → %q, want the lab page with the attempt", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ = http.NewRequest(http.MethodGet, host+resp.Header.Get("Location"), nil)
	req.AddCookie(&http.Cookie{Name: "sessionid", Value: b.sessionID()})
	resp, err = http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`id="evil-link" class="btn" href="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no link to the attacker's site on the lab page:\n%s", page)
	}
	loc, _ := url.Parse(html.UnescapeString(string(m[1])))
	if !strings.HasPrefix(loc.String(), s.URL+"/lab/cross-site/evil?t=") {
		t.Fatalf("attacker's link %q, want it on %s", loc, s.URL)
	}
	evil := s.newBrowser(t).get(loc.RequestURI())
	if evil.Status != http.StatusOK || !strings.Contains(evil.Body, `action="`+host+`/lab/cross-site/site/cart/add"`) {
		t.Fatalf("attacker's page: %d\n%s", evil.Status, evil.Body)
	}
	if csp := evil.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action "+host) {
		t.Errorf("attacker's page CSP %q must allow its form to post to %s", csp, host)
	}
	form := url.Values{"item": {"Attacker's gift card"}, "quantity": {"5"}, "attempt": {loc.Query().Get("t")}}
	req, _ = http.NewRequest(http.MethodPost, s.URL+"/lab/cross-site/site/cart/add", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sameSiteSends {
		req.AddCookie(&http.Cookie{Name: "lab_cross_site", Value: labID})
	}
	// Not through the jar: the cookie goes along only if the browser would send it.
	resp, err = http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	// Back on the lab page, the learner records the outcome (a POST with
	// the shop cookie and token: the attacker's request had neither).
	rec := b.post("/lab/cross-site/record", url.Values{"attempt": {loc.Query().Get("t")}, "csrf_token": {b.csrf("/lab/cross-site")}})
	if rec.Status != http.StatusSeeOther {
		t.Fatalf("record the attempt: %d\n%.400s", rec.Status, rec.Body)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

func TestCrossSiteLabObeysTheForgedFormOnlyWhenWeak(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		b := s.newBrowser(t)
		b.get("/")
		// Weak: SameSite=None, so the browser sends the cookie; no token check.
		r := crossSiteAttack(t, s, b, "weak", true)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "Added 5 × Attacker") {
			t.Errorf("weak: %d\n%s", r.Status, r.Body)
		}
		ck := labCookieAttrs(t, b, "/lab/cross-site/site?mode=weak", "lab_cross_site")
		if ck.SameSite != http.SameSiteNoneMode || !ck.Secure {
			t.Errorf("weak lab cookie: SameSite %v Secure %v, want None and Secure", ck.SameSite, ck.Secure)
		}
		// Defended, as a browser does it: SameSite=Lax withholds the cookie.
		r = crossSiteAttack(t, s, b, "defended", false)
		if r.Status != http.StatusForbidden || !strings.Contains(r.Body, "without a live lab_cross_site cookie") {
			t.Errorf("defended without cookie: %d\n%s", r.Status, r.Body)
		}
		// Defended, even if the cookie came along: no token, no change.
		r = crossSiteAttack(t, s, b, "defended", true)
		if r.Status != http.StatusForbidden || !strings.Contains(r.Body, "no valid CSRF token") {
			t.Errorf("defended with cookie: %d\n%s", r.Status, r.Body)
		}
		ck = labCookieAttrs(t, b, "/lab/cross-site/site?mode=defended", "lab_cross_site")
		if ck.SameSite != http.SameSiteLaxMode {
			t.Errorf("defended lab cookie: SameSite %v, want Lax", ck.SameSite)
		}
		evs := labEvents(t, s, "lab.attack")
		if !b2(evs, "cross-site", "weak", "succeeded") || !b2(evs, "cross-site", "defended", "failed") {
			t.Errorf("cross-site events: %v", evs)
		}
		if hasEvent(evs, map[string]string{"lab": "cross-site", "mode": "defended", "outcome": "succeeded"}) {
			t.Errorf("a defended cross-site attack succeeded: %v", evs)
		}
	})
}

// TestNoLabToggleWeakensTheShopSession: every lab switched to weak, the shop's
// own cookie keeps HttpOnly, SameSite=Lax and Path=/, the ID still rotates at
// login, and a POST without a CSRF token is still refused.
func TestNoLabToggleWeakensTheShopSession(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		b := s.newBrowser(t)
		b.get("/")
		switches := 0
		for _, l := range labs.All {
			for _, m := range append(l.Modes()[1:], labs.Weak) {
				b.setLabMode(l.Slug, string(m))
				switches++
			}
			b.get("/lab/" + l.Slug + "/site")
		}
		if n := len(labEvents(t, s, "lab.mode")); n != switches {
			t.Errorf("lab.mode events: %d, want %d", n, switches)
		}
		before := b.sessionID()
		r := b.login("alice", "wonderland")
		var shop *http.Cookie
		for _, c := range (&http.Response{Header: r.Header}).Cookies() {
			if c.Name == "sessionid" {
				shop = c
			}
		}
		if shop == nil {
			t.Fatal("login sent no sessionid")
		}
		if !shop.HttpOnly || shop.SameSite != http.SameSiteLaxMode || shop.Path != "/" || len(shop.Value) < 22 {
			t.Errorf("shop cookie weakened: %+v", shop)
		}
		if shop.Value == before {
			t.Error("the shop session ID did not rotate at login")
		}
		if r := b.post("/cart/add", url.Values{"product_id": {"1"}, "quantity": {"1"}}); r.Status != http.StatusForbidden {
			t.Errorf("shop POST without CSRF token: %d, want 403", r.Status)
		}
		// A ?sid= on the shop is never adopted either.
		fresh := s.newBrowser(t)
		fresh.get("/?sid=" + b.sessionID())
		if fresh.sessionID() == b.sessionID() {
			t.Error("the shop adopted an ID from the URL")
		}
		// The lab cookies never reach the shop's paths.
		u, _ := url.Parse(s.URL + "/cart")
		for _, c := range b.jar.Cookies(u) {
			if strings.HasPrefix(c.Name, "lab_") {
				t.Errorf("lab cookie %s is sent to /cart", c.Name)
			}
		}
	})
}

func TestLabBadInputIsRefusedAndChangesNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		b := s.newBrowser(t)
		b.get("/")
		tok := b.csrf("/lab/fixation")
		count := func() int {
			var n int
			s.db.R.Get(&n, "SELECT COUNT(*) FROM lab_sessions")
			return n
		}
		rows := count()
		for _, tc := range []struct {
			method, path string
			form         url.Values
			want         int
		}{
			{"GET", "/lab/teleport", nil, 404},
			{"GET", "/lab/teleport/site", nil, 404},
			{"POST", "/lab/fixation/mode", url.Values{"mode": {"medium"}, "csrf_token": {tok}}, 400},
			{"POST", "/lab/fixation/mode", url.Values{"mode": {"weak"}}, 403},
			{"POST", "/lab/fixation/sim", url.Values{"step": {"9"}, "csrf_token": {tok}}, 400},
			{"POST", "/lab/fixation/sim", url.Values{"step": {"2"}, "csrf_token": {tok}}, 409},
			{"POST", "/lab/cookie-theft/sim", url.Values{"step": {"1"}, "csrf_token": {tok}}, 404},
			{"POST", "/lab/fixation/use", url.Values{"id": {"<script>"}, "csrf_token": {tok}}, 400},
			{"GET", "/lab/fixation/site?sid=%3Cscript%3E", nil, 400},
			{"GET", "/lab/logout-replay/site?sid=abc", nil, 400},
			{"GET", "/lab/fixation/site?mode=medium", nil, 400},
			{"POST", "/lab/fixation/site/login", url.Values{"username": {""}}, 400},
			{"POST", "/lab/cross-site/site/cart/add", url.Values{"item": {"x"}, "quantity": {"1000"}}, 400},
			{"GET", "/lab/cross-site/evil?t=nope", nil, 404},
			{"POST", "/lab/cookie-theft/site/steal", url.Values{"cookies": {strings.Repeat("a", 5000)}, "csrf_token": {tok}}, 413},
			{"POST", "/lab/cookie-theft/site/steal", url.Values{"cookies": {""}}, 403},
			{"POST", "/lab/cross-site/record", url.Values{"attempt": {"nope"}, "csrf_token": {tok}}, 409},
			{"POST", "/lab/cross-site/record", url.Values{"attempt": {ids.New()}}, 403},
			{"POST", "/lab/expiry/use", url.Values{"csrf_token": {tok}}, 400},
		} {
			var r response
			if tc.method == "GET" {
				r = b.get(tc.path)
			} else {
				r = b.post(tc.path, tc.form)
			}
			if r.Status != tc.want {
				t.Errorf("%s %s: %d, want %d\n%.300s", tc.method, tc.path, r.Status, tc.want, r.Body)
			}
		}
		if n := count(); n != rows {
			t.Errorf("bad input changed lab_sessions: %d rows, was %d", n, rows)
		}
		if evs := labEvents(t, s, "lab.mode"); len(evs) != 0 {
			t.Errorf("a refused switch recorded %v", evs)
		}
		if !strings.Contains(s.logs.String(), "") || strings.Contains(s.logs.String(), "level=ERROR") {
			t.Errorf("bad input logged an error:\n%s", s.logs.String())
		}
	})
}

// stealLabCookie does what the cookie-theft lab's script does in a browser:
// post what document.cookie holds (the lab cookie only without HttpOnly).
func stealLabCookie(t testing.TB, b *browser, mode string) response {
	t.Helper()
	b.setLabMode("cookie-theft", mode)
	var ck *http.Cookie
	for _, c := range (&http.Response{Header: b.get("/lab/cookie-theft/site").Header}).Cookies() {
		if c.Name == "lab_cookie_theft" {
			ck = c
		}
	}
	if ck == nil {
		t.Fatalf("%s: the lab set no lab_cookie_theft cookie", mode)
	}
	sent := ""
	if !ck.HttpOnly {
		sent = "lab_cookie_theft=" + ck.Value
	}
	return b.post("/lab/cookie-theft/site/steal", url.Values{"cookies": {sent}, "csrf_token": {b.csrf("/lab/cookie-theft")}})
}

// expireLabSession runs the expiry lab's simulation across its idle timeout.
func expireLabSession(w *walker, mode string) {
	w.t.Helper()
	w.b.setLabMode("expiry", mode)
	w.b.simulate("expiry", "1", nil)
	w.srv.clock.Advance(labs.IdleTimeout + time.Second)
	w.b.simulate("expiry", "2", nil)
}

// Guessable IDs in pairs: the attacker notes their own ID, the victim comes
// next and logs in, the attacker tries "mine plus one".
func TestGuessableIDsLabWithTwoRealBrowsers(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		for _, tc := range []struct{ mode, want string }{{"weak", "succeeded"}, {"defended", "failed"}} {
			attacker, victim := s.newBrowser(t), s.newBrowser(t)
			attacker.get("/")
			victim.get("/")
			attacker.setLabMode("guessable-ids", tc.mode)
			victim.setLabMode("guessable-ids", tc.mode)
			attacker.get("/lab/guessable-ids/site")
			victim.get("/lab/guessable-ids/site")
			victim.post("/lab/guessable-ids/site/login", url.Values{"username": {"bob"}, "password": {"builder"}})
			mine := labCookie(attacker, "lab_guessable_ids")
			guess := ids.New() // a random ID predicts nothing
			if n, err := strconv.ParseInt(mine, 10, 64); err == nil {
				guess = strconv.FormatInt(n+1, 10)
			} else if tc.mode == "weak" {
				t.Fatalf("weak lab issued a non-counter ID %q", mine)
			}
			r := attacker.post("/lab/guessable-ids/use", url.Values{"id": {guess}, "csrf_token": {attacker.csrf("/lab/guessable-ids")}})
			acct := attacker.get(r.Header.Get("Location"))
			if (acct.Header.Get("X-Lab-User") == "bob") != (tc.want == "succeeded") {
				t.Errorf("%s: the guess %s opened user %q", tc.mode, guess, acct.Header.Get("X-Lab-User"))
			}
			if !hasEvent(labEvents(t, s, "lab.attack"), map[string]string{"lab": "guessable-ids", "mode": tc.mode, "outcome": tc.want, "via": "pair"}) {
				t.Errorf("%s: no pair lab.attack event %s", tc.mode, tc.want)
			}
		}
	})
}

// The lab site logs in the shop's real accounts: it shares the shop's login
// throttle, so a weak lab is no way around it.
func TestLabLoginSharesTheShopsLoginThrottle(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		b := s.newBrowser(t)
		b.get("/lab/fixation/site")
		var last response
		for i := 0; i < 11; i++ {
			last = b.post("/lab/fixation/site/login", url.Values{"username": {"alice"}, "password": {"guess" + strconv.Itoa(i)}})
		}
		if last.Status != http.StatusTooManyRequests {
			t.Errorf("11th wrong lab password: %d, want 429", last.Status)
		}
		if r := s.newBrowser(t).submit("/login", url.Values{"username": {"alice"}, "password": {"wonderland"}}); r.Status != http.StatusTooManyRequests {
			t.Errorf("shop login after lab guessing: %d, want 429 (one throttle per account)", r.Status)
		}
	})
}

// What a lab-site POST changed reaches the next page through a short-lived
// cookie, never through the URL, where a crafted link could forge it.
func TestLabSiteStripComesFromTheServerNotTheURL(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		b := s.newBrowser(t)
		b.get("/lab/logout-replay/site")
		r := b.post("/lab/logout-replay/site/login", url.Values{"username": {"alice"}, "password": {"wonderland"}})
		if loc := r.Header.Get("Location"); strings.Contains(loc, "?") {
			t.Errorf("the redirect carries text in its URL: %s", loc)
		}
		next := b.get(r.Header.Get("Location"))
		if !strings.Contains(next.Body, "Your last request did:") || !strings.Contains(next.Body, "Logged in as alice") {
			t.Errorf("the page after login does not say what the login did:\n%s", next.Body)
		}
		if again := b.get("/lab/logout-replay/site/account"); strings.Contains(again.Body, "Your last request did:") {
			t.Error("the strip of the login was shown twice")
		}
		if forged := b.get("/lab/logout-replay/site?did=Call+555+now"); strings.Contains(forged.Body, "Call 555") {
			t.Error("text from the URL is shown as the lab's own")
		}
	})
}

// Two instances on one database (started in the same second, as a class's
// servers are) issue the weak lab's counter IDs from one sequence: no
// duplicate key, no 500, and "the last one plus one" still holds.
func TestGuessableIDsLabTwoInstancesShareOneCounter(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		one, two := startServer(t, dbURL, withInstance("one")), startServer(t, dbURL, withInstance("two"))
		var got []int64
		for i := 0; i < 6; i++ {
			for _, s := range []*testServer{one, two} {
				b := s.newBrowser(t)
				r := b.get("/lab/guessable-ids/site?mode=weak")
				if r.Status != http.StatusOK {
					t.Fatalf("instance %s, visit %d: %d\n%.300s", s.app.cfg.Instance, i, r.Status, r.Body)
				}
				n, err := strconv.ParseInt(labCookie(b, "lab_guessable_ids"), 10, 64)
				if err != nil {
					t.Fatalf("weak lab issued a non-counter ID: %v", err)
				}
				got = append(got, n)
			}
		}
		for i := 1; i < len(got); i++ {
			if got[i] != got[i-1]+1 {
				t.Fatalf("IDs from two instances in turn: %v, want one run, each the last plus one", got)
			}
		}
	})
}
