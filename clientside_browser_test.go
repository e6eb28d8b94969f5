package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"sessionlab/db"
	"sessionlab/labs"
)

// The client-side lab in Chromium: only a browser decides what a script of
// the page may read (localStorage, yes; an HttpOnly cookie, no) and what it
// does with a Set-Cookie over 4 KB.

// csSwitch flips the client-side lab to mode through its form.
func csSwitch(t *testing.T, ctx context.Context, base, mode string) {
	t.Helper()
	browserGo(t, ctx, base+"/lab/client-side")
	if cur := browserEval[string](t, ctx, `document.querySelector("[data-mode]").dataset.mode`); cur != mode {
		browserClickAndWait(t, ctx, `form.lab-switch button[value="`+mode+`"]`)
	}
	if cur := browserEval[string](t, ctx, `document.querySelector("[data-mode]").dataset.mode`); cur != mode {
		t.Fatalf("client-side: mode is %s after the switch, want %s", cur, mode)
	}
}

// browserWaitTrue polls a JavaScript expression until it is true.
func browserWaitTrue(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr)); err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: not after 10 s (%s)", what, expr)
}

// csLabCookie is the lab cookie as Chromium holds it (nil if none).
func csLabCookie(t *testing.T, ctx context.Context, base string) *network.Cookie {
	t.Helper()
	for _, c := range browserCookies(t, ctx, base+"/lab/client-side/site") {
		if c.Name == csCookie {
			return c
		}
	}
	return nil
}

// csInjectedScript lets the lab page's injected script run and returns
// the outcome and what the script says it saw.
func csInjectedScript(t *testing.T, ctx context.Context, base string) (outcome, saw string) {
	t.Helper()
	browserGo(t, ctx, base+"/lab/client-side")
	browserDo(t, ctx, chromedp.Click(chromedp.CSS(`#steal-run`), chromedp.NodeVisible))
	outcome = waitOutcome(t, ctx, "#steal-outcome")
	return outcome, browserEval[string](t, ctx, `document.getElementById("steal-saw").textContent`)
}

func TestBrowserClientSideLabScriptReadsTheTokenNotTheHttpOnlyCookie(t *testing.T) {
	srv := startServer(t, freshDatabase(t, db.SQLite))
	axe := readAxe(t)
	ctx, cancel := newChrome(t)
	defer cancel()
	browserGo(t, ctx, srv.URL+"/")

	// Token design: the page's own script keeps the token in localStorage.
	csSwitch(t, ctx, srv.URL, "token")
	browserGo(t, ctx, srv.URL+"/lab/client-side/site?mode=token")
	browserDo(t, ctx, chromedp.SendKeys(chromedp.CSS(`#cs-login input[name="password"]`), "wonderland"),
		chromedp.Click(chromedp.CSS(`#cs-login button`), chromedp.NodeVisible))
	browserWaitTrue(t, ctx, "the token page shows alice", `(document.getElementById("token-answer")||{dataset:{}}).dataset.user === "alice"`)
	token := browserEval[string](t, ctx, `localStorage.getItem("lab_client_side_token") || ""`)
	if len(token) < 40 || !strings.Contains(token, ".") {
		t.Fatalf("localStorage holds %q, want the signed token", token)
	}
	if c := csLabCookie(t, ctx, srv.URL); c != nil {
		t.Errorf("the token design set a cookie: %+v", c)
	}
	saveScreenshot(t, ctx, "lab-client-side-site-token")
	for _, v := range axeCheck(t, ctx, axe) {
		t.Errorf("site (token): %s", v)
	}

	// The injected script, on another page of the origin, reads it.
	if got, saw := csInjectedScript(t, ctx, srv.URL); got != "succeeded" || !strings.Contains(saw, token[:24]) {
		t.Errorf("token: the injected script's theft %s; it should have read the token from localStorage, it saw %q", got, saw)
	}
	saveScreenshot(t, ctx, "lab-client-side-steal-token")

	// Signed: the same value in an HttpOnly cookie, out of the script's reach.
	csSwitch(t, ctx, srv.URL, "signed")
	browserGo(t, ctx, srv.URL+"/lab/client-side/site?mode=signed")
	browserEval[bool](t, ctx, `localStorage.clear(), true`)
	browserDo(t, ctx, chromedp.SendKeys(chromedp.CSS(`#cs-login input[name="password"]`), "wonderland"))
	browserClickAndWait(t, ctx, `#cs-login button`)
	lab := csLabCookie(t, ctx, srv.URL)
	if lab == nil {
		t.Fatal("signed: Chromium holds no lab cookie after the login")
	}
	if !lab.HTTPOnly || lab.Path != "/lab" || !strings.Contains(lab.Value, ".") {
		t.Errorf("signed: the lab cookie in Chromium: HttpOnly=%v Path=%s signed=%v, want HttpOnly, /lab, signed", lab.HTTPOnly, lab.Path, strings.Contains(lab.Value, "."))
	}
	if dc := browserEval[string](t, ctx, `document.cookie`); strings.Contains(dc, csCookie) || strings.Contains(dc, "sessionid") {
		t.Errorf("signed: document.cookie = %q shows an HttpOnly cookie", dc)
	}
	if u := browserEval[string](t, ctx, `document.querySelector(".lab-actions strong").textContent`); u != "alice" {
		t.Errorf("signed: the site page says logged in as %q", u)
	}
	saveScreenshot(t, ctx, "lab-client-side-site-signed")
	for _, v := range axeCheck(t, ctx, axe) {
		t.Errorf("site (signed): %s", v)
	}
	if got, saw := csInjectedScript(t, ctx, srv.URL); got != "failed" || strings.Contains(saw, lab.Value[:16]) || !strings.Contains(saw, "(nothing)") {
		t.Errorf("signed: the injected script's theft %s (want failed); it saw %q", got, saw)
	}
	saveScreenshot(t, ctx, "lab-client-side-steal-signed")
	for _, v := range axeCheck(t, ctx, axe) {
		t.Errorf("lab page: %s", v)
	}

	evs := labEvents(t, srv, "lab.attack")
	if !hasEvent(evs, map[string]string{"lab": "client-side", "mode": "token", "attack": "steal", "outcome": "succeeded"}) ||
		!hasEvent(evs, map[string]string{"lab": "client-side", "mode": "signed", "attack": "steal", "outcome": "failed"}) {
		t.Errorf("steal events: %v", evs)
	}
	assertNoBrowserProblems(t, ctx)
}

// Past 4 KB: Chromium refuses the Set-Cookie whole and keeps sending the
// cookie it had, and the page says so from what came back.
func TestBrowserClientSideLabOversizedCookieIsDropped(t *testing.T) {
	srv := startServer(t, freshDatabase(t, db.SQLite))
	ctx, cancel := newChrome(t)
	defer cancel()
	browserGo(t, ctx, srv.URL+"/lab/client-side/site?mode=weak")
	var sizes []int
	for i := 0; i < 2; i++ {
		browserDo(t, ctx, chromedp.SetValue(chromedp.CSS(`#cs-add input[name="lines"]`), "40"))
		browserClickAndWait(t, ctx, `#cs-add button`)
		sizes = append(sizes, browserEval[int](t, ctx, `+document.querySelector("[data-cookie-size]").dataset.cookieSize`))
		saveScreenshot(t, ctx, "lab-client-side-size-"+string(rune('1'+i)))
	}
	text := browserEval[string](t, ctx, `document.body.innerText`)
	lab := csLabCookie(t, ctx, srv.URL)
	if lab == nil {
		t.Fatal("Chromium holds no lab cookie at all")
	}
	held := len(lab.Name) + 1 + len(lab.Value)
	if sizes[0] > labs.CookieLimit || held != sizes[0] || sizes[1] != sizes[0] {
		t.Errorf("sizes sent back %v, Chromium holds %d bytes: want the first cookie kept and the oversized one dropped", sizes, held)
	}
	if !strings.Contains(text, "Your browser dropped that cookie") || !strings.Contains(text, "sent back "+itoaBytes(sizes[0])) {
		t.Errorf("the page should say the browser dropped the oversized cookie:\n%s", text)
	}
	if n := browserEval[int](t, ctx, `document.querySelectorAll(".lab-cart tbody tr").length`); n != 40 {
		t.Errorf("the cart shows %d lines, want the 40 the kept cookie holds", n)
	}
	assertNoBrowserProblems(t, ctx)
}

func itoaBytes(n int) string { return strconv.Itoa(n) + "." }
