package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"sessionlab/db"
)

// Only a real browser decides what a script may read and which cookies ride
// along on another site's form: these two labs are proved in Chromium.

// browserSetLabMode flips a lab's switch through its form on the lab page.
func browserSetLabMode(t *testing.T, ctx context.Context, base, slug, mode string) {
	t.Helper()
	browserGo(t, ctx, base+"/lab/"+slug)
	if cur := browserEval[string](t, ctx, `document.querySelector("[data-mode]").dataset.mode`); cur != mode {
		browserClickAndWait(t, ctx, `form.lab-switch button[type="submit"]`)
	}
	if cur := browserEval[string](t, ctx, `document.querySelector("[data-mode]").dataset.mode`); cur != mode {
		t.Fatalf("%s: mode is %s after the switch, want %s", slug, cur, mode)
	}
}

// waitOutcome polls the page until an element's data-outcome is set.
func waitOutcome(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		got := browserEval[string](t, ctx, `(document.querySelector(`+jsString(css)+`) || {dataset: {}}).dataset.outcome || ""`)
		if got != "" {
			return got
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no outcome in %s after 10 s", css)
	return ""
}

func jsString(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

func TestBrowserCookieTheftLabHttpOnlyHidesTheCookieFromScripts(t *testing.T) {
	srv := startServer(t, freshDatabase(t, db.SQLite))
	ctx, cancel := newChrome(t)
	defer cancel()
	browserGo(t, ctx, srv.URL+"/")
	for _, tc := range []struct{ mode, want string }{{"weak", "succeeded"}, {"defended", "failed"}} {
		browserSetLabMode(t, ctx, srv.URL, "cookie-theft", tc.mode)
		browserClickAndWait(t, ctx, `a.btn[href^="/lab/cookie-theft/site"]`)
		got := waitOutcome(t, ctx, "#steal-outcome")
		if got != tc.want {
			t.Errorf("%s: the script's theft %s, want %s", tc.mode, got, tc.want)
		}
		var lab *network.Cookie
		for _, c := range browserCookies(t, ctx, srv.URL+"/lab/cookie-theft/site") {
			if c.Name == "lab_cookie_theft" {
				lab = c
			}
		}
		if lab == nil || lab.HTTPOnly != (tc.mode == "defended") || lab.Path != "/lab" {
			t.Fatalf("%s: lab cookie in the browser: %+v", tc.mode, lab)
		}
		docCookie := browserEval[string](t, ctx, `document.cookie`)
		if strings.Contains(docCookie, lab.Value) != (tc.mode == "weak") {
			t.Errorf("%s: document.cookie = %q; holds the lab cookie: %v", tc.mode, docCookie, strings.Contains(docCookie, lab.Value))
		}
		if strings.Contains(docCookie, "sessionid") {
			t.Errorf("%s: the shop's sessionid is readable by scripts: %q", tc.mode, docCookie)
		}
		log := browserEval[string](t, ctx, `document.getElementById("attacker-log").textContent`)
		if strings.Contains(log, "lab_cookie_theft=") != (tc.mode == "weak") {
			t.Errorf("%s: attacker's log %q", tc.mode, log)
		}
		if strings.Contains(log, lab.Value) {
			t.Errorf("%s: the attacker's log shows the whole ID", tc.mode)
		}
		saveScreenshot(t, ctx, "lab-cookie-theft-"+tc.mode)
	}
	// The outcomes land in this browser's shop session, where lesson 7 looks.
	evs := labEvents(t, srv, "lab.attack")
	if !b2(evs, "cookie-theft", "weak", "succeeded") || !b2(evs, "cookie-theft", "defended", "failed") {
		t.Errorf("cookie-theft events: %v", evs)
	}
	assertNoBrowserProblems(t, ctx)
}

// The lab site is http://localhost:PORT; the attacker's page is served on
// http://127.0.0.1:PORT, a different site to the browser.
func TestBrowserCrossSiteLabSameSiteKeepsTheCookieHome(t *testing.T) {
	srv := startServer(t, freshDatabase(t, db.SQLite))
	site := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	ctx, cancel := newChrome(t)
	defer cancel()
	browserGo(t, ctx, site+"/")
	for _, tc := range []struct{ mode, want string }{{"weak", "succeeded"}, {"defended", "failed"}} {
		browserSetLabMode(t, ctx, site, "cross-site", tc.mode)
		browserClickAndWait(t, ctx, `a.btn[href^="/lab/cross-site/site"]`)
		var lab *network.Cookie
		for _, c := range browserCookies(t, ctx, site+"/lab/cross-site/site") {
			if c.Name == "lab_cross_site" {
				lab = c
			}
		}
		if lab == nil {
			t.Fatalf("%s: Chromium did not keep the lab cookie on %s", tc.mode, site)
		}
		wantSameSite := network.CookieSameSiteNone
		if tc.mode == "defended" {
			wantSameSite = network.CookieSameSiteLax
		}
		if lab.SameSite != wantSameSite {
			t.Errorf("%s: lab cookie SameSite=%s, want %s", tc.mode, lab.SameSite, wantSameSite)
		}
		browserGo(t, ctx, site+"/lab/cross-site")
		browserClickAndWait(t, ctx, `form[action="/lab/cross-site/attempt"] button`)
		browserDo(t, ctx, chromedp.Click(chromedp.CSS(`#evil-link`), chromedp.NodeVisible))
		// The attacker's page loads on 127.0.0.1 and posts back to localhost.
		// The tab navigates twice meanwhile; reading its address mid-navigation
		// can fail ("target navigated"), so such a read just means "not yet".
		deadline := time.Now().Add(15 * time.Second)
		for {
			loc, err := chromedp.Run(ctx, chromedp.Location())
			if err == nil && strings.HasPrefix(loc, site+"/lab/cross-site/site/cart/add") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: the attacker's form never arrived; the tab is at %s (%v)", tc.mode, loc, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		browserDo(t, ctx, chromedp.WaitVisible(chromedp.CSS(".strip-list")))
		text := browserEval[string](t, ctx, `document.body.innerText`)
		if want := "the attack " + tc.want; !strings.Contains(text, want) {
			t.Errorf("%s: the lab shop's answer lacks %q:\n%s", tc.mode, want, text)
		}
		if tc.mode == "weak" && !strings.Contains(text, "Added 5 × Attacker's gift card") {
			t.Errorf("weak: the forged form did not add to the cart:\n%s", text)
		}
		if tc.mode == "defended" && !strings.Contains(text, "without a live lab_cross_site cookie") {
			t.Errorf("defended: the browser should have withheld the Lax cookie:\n%s", text)
		}
		saveScreenshot(t, ctx, "lab-cross-site-"+tc.mode)
		// The attacker's request carried no shop cookie: the learner takes
		// the outcome back to the lab page and records it there.
		browserClickAndWait(t, ctx, `#lab-back`)
		if got := waitOutcome(t, ctx, ".lab-outcome"); got != tc.want {
			t.Errorf("%s: the lab page says the attack %s, want %s", tc.mode, got, tc.want)
		}
		browserClickAndWait(t, ctx, `#record-attempt`)
		browserDo(t, ctx, chromedp.WaitVisible(chromedp.CSS(`#attempt-recorded`)))
	}
	evs := labEvents(t, srv, "lab.attack")
	if !b2(evs, "cross-site", "weak", "succeeded") || !b2(evs, "cross-site", "defended", "failed") {
		t.Errorf("cross-site events: %v", evs)
	}
	browserGo(t, ctx, site+"/lab/cross-site")
	saveScreenshot(t, ctx, "lab-cross-site-page")
}

// Every lab page, after a simulated run where the lab has one, renders
// without a CSP violation or script error; the screenshots are for people.
func TestBrowserEveryLabPageRendersAfterARun(t *testing.T) {
	srv := startServer(t, freshDatabase(t, db.SQLite))
	ctx, cancel := newChrome(t)
	defer cancel()
	browserGo(t, ctx, srv.URL+"/lab")
	saveScreenshot(t, ctx, "lab-index")
	for _, slug := range []string{"fixation", "logout-replay", "guessable-ids", "expiry", "client-side"} {
		browserGo(t, ctx, srv.URL+"/lab/"+slug)
		if slug == "expiry" {
			browserClickAndWait(t, ctx, `.lab-steps li:first-child button`)
			browserDo(t, ctx, chromedp.WaitVisible(chromedp.CSS(`#lab-countdown`)))
		} else {
			browserClickAndWait(t, ctx, `button[value="all"]`)
			if got := waitOutcome(t, ctx, ".lab-outcome"); got != "succeeded" {
				t.Errorf("%s (weak): the simulated attack %s", slug, got)
			}
		}
		if n := browserEval[int](t, ctx, `document.querySelectorAll(".lab-view").length`); n < 2 {
			t.Errorf("%s: %d browser views, want the attacker's and the victim's side by side", slug, n)
		}
		saveScreenshot(t, ctx, "lab-"+slug)
	}
	assertNoBrowserProblems(t, ctx)
}
