package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"sessionlab/db"
	"sessionlab/ids"
)

// A student walks lesson 1 in Chromium with a terminal beside it: bash runs
// the commands the page shows. Before the link the page says no terminal is
// linked; the visit-cart block links curl's jar with the page's code, and
// after a reload the step is ticked on the browser's page, "Your terminal"
// names curl's session by its key's prefix, and the browser is still its
// own session (its cookie unchanged, anonymous).
func TestBrowserLessonTicksFromALinkedTerminal(t *testing.T) {
	srv := startServer(t, freshDatabase(t, db.SQLite))
	ctx, cancel := newChrome(t)
	defer cancel()
	dir := t.TempDir()

	browserGo(t, ctx, srv.URL+"/lessons/http-forgets")
	if status := browserEval[string](t, ctx, `document.querySelector("[data-terminal-status]")?.dataset.terminalStatus ?? ""`); status != "none" {
		t.Fatalf("before any link, Your terminal says %q, want none", status)
	}
	mine := ""
	for _, c := range browserCookies(t, ctx, srv.URL) {
		if c.Name == cookieName {
			mine = c.Value
		}
	}
	if mine == "" {
		t.Fatal("the browser holds no sessionid")
	}
	// Step 2: type the first 6 characters of the browser's own cookie.
	observeInBrowser(t, ctx, "arrive", mine[:6])
	// Step 3: the strangers, from the terminal's Set-Cookie lines.
	block := func(step string) string {
		return browserEval[string](t, ctx, `document.querySelector('code[data-terminal="`+step+`"]')?.textContent ?? ""`)
	}
	out, err := runTerminal(t, dir, block("strangers"), "")
	if err != nil {
		t.Fatalf("strangers: %v\n%s", err, out)
	}
	observeInBrowser(t, ctx, "strangers", typedFromTerminal["http-forgets/strangers"](t, dir, out))
	if done := browserEval[bool](t, ctx, `document.querySelector("#step-strangers")?.classList.contains("done") ?? false`); !done {
		t.Fatal("the strangers step did not tick from the IDs the terminal printed")
	}

	// Step 4, from the terminal: link the jar, then visit the cart.
	script := block("visit-cart")
	if !strings.Contains(script, "/lessons/link") {
		t.Fatalf("lesson 1's visit-cart block should link the jar:\n%s", script)
	}
	out, err = runTerminal(t, dir, script, "")
	if err != nil || !strings.Contains(out, "Linked: this terminal's session") || !strings.Contains(out, "stays anonymous") {
		t.Fatalf("visit-cart from the terminal (%v):\n%s", err, out)
	}
	browserGo(t, ctx, srv.URL+"/lessons/http-forgets")
	if done := browserEval[bool](t, ctx, `document.querySelector("#step-visit-cart")?.classList.contains("done") ?? false`); !done {
		t.Fatal("the browser's page does not show the terminal's cart visit ticked")
	}
	termKey := ids.Prefix(ids.Hash(jarSession(t, filepath.Join(dir, "jar.txt"))))
	box := browserEval[string](t, ctx, `document.querySelector("#terminal")?.innerText ?? ""`)
	if !strings.Contains(box, termKey+"…") || !strings.Contains(box, "linked by a code") || !strings.Contains(box, "anonymous") {
		t.Errorf("Your terminal should name curl's session %s…, linked and anonymous:\n%s", termKey, box)
	}
	for _, c := range browserCookies(t, ctx, srv.URL) {
		if c.Name == cookieName && c.Value != mine {
			t.Error("linking the terminal changed the browser's own cookie")
		}
	}
	if who := browserEval[string](t, ctx, `document.querySelector(".who")?.innerText ?? ""`); !strings.Contains(who, "Anonymous") {
		t.Errorf("the browser should still be anonymous: %q", who)
	}
	// The linked box (its list and unlink button) meets the same axe-core bar.
	for _, v := range axeCheck(t, ctx, readAxe(t)) {
		t.Errorf("lesson 1 with a linked terminal: %s", v)
	}
	browserDo(t, ctx, chromedp.ScrollIntoView("#terminal"))
	saveScreenshot(t, ctx, "lesson1-linked-terminal")
	saveElementScreenshot(t, ctx, "#terminal", "lesson1-your-terminal")
	saveElementScreenshot(t, ctx, "#step-visit-cart", "lesson1-visit-cart-ticked")
	assertNoBrowserProblems(t, ctx)
}

// observeInBrowser types a value into an observe step's form and sends it.
func observeInBrowser(t *testing.T, ctx context.Context, step, value string) {
	t.Helper()
	browserDo(t, ctx, chromedp.SendKeys(chromedp.CSS("#observe-"+step), value))
	browserClickAndWait(t, ctx, `form#`+step+` button[type="submit"]`)
}
