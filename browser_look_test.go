package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"sessionlab/db"
)

// The look, measured in a real browser: where the panels sit at each width,
// what the projector toggle does, and that the panels work from the keyboard.
// Screenshots land in artifacts/ for a person to look at.

// box is an element's rectangle in CSS pixels, relative to the document.
type box struct {
	Left, Top, Right, Bottom, Width, Height float64
}

func elementBox(t *testing.T, ctx context.Context, css string) box {
	t.Helper()
	expr := fmt.Sprintf(`(() => {
		const el = document.querySelector(%q);
		if (!el) return null;
		const r = el.getBoundingClientRect();
		return {Left: r.left + scrollX, Top: r.top + scrollY, Right: r.right + scrollX, Bottom: r.bottom + scrollY, Width: r.width, Height: r.height};
	})()`, css)
	b := browserEval[*box](t, ctx, expr)
	if b == nil {
		t.Fatalf("no element %s on %s", css, browserLocation(t, ctx))
	}
	return *b
}

// fillShop gives the logged-in user something to look at: cart items and notes.
func fillShop(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	for _, id := range []string{"1", "4", "7"} {
		browserGo(t, ctx, base+"/products/"+id)
		browserClickAndWait(t, ctx, `form[action="/cart/add"] button[type="submit"]`)
	}
	browserGo(t, ctx, base+"/notes")
	for _, n := range []string{"Ask the class: why is the session ID hashed in the table?", "Bring the projector remote.\nTry the fixation lab in pairs."} {
		browserDo(t, ctx, chromedp.SendKeys(chromedp.CSS("#text"), n))
		browserClickAndWait(t, ctx, `form.note-form button[type="submit"]`)
	}
}

// saveViewportScreenshot keeps only what a visitor sees before scrolling.
func saveViewportScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(artifactsDir(), name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatalf("write %s: %v", p, err)
	}
}

func rootFontSize(t *testing.T, ctx context.Context) float64 {
	t.Helper()
	return browserEval[float64](t, ctx, `parseFloat(getComputedStyle(document.documentElement).fontSize)`)
}

func TestBrowserLookPanelsBesideOnWideScreensBelowOnNarrow(t *testing.T) {
	srv := startServer(t, freshDatabase(t, db.SQLite))
	ctx, cancel := newChrome(t)
	defer cancel()

	pages := []struct{ name, path string }{
		{"catalog", "/"},
		{"product", "/products/3"},
		{"cart", "/cart"},
		{"lessons", "/lessons"},
		{"lesson", "/lessons/the-cookie"},
		{"login", "/login"},
		{"notfound", "/no/such/page"},
		{"account", "/account"},
		{"notes", "/notes"},
	}
	// The anonymous pages first, then the logged-in ones with some content.
	shoot := func(suffix string, loggedIn bool) {
		for _, p := range pages {
			if (p.path == "/account" || p.path == "/notes") != loggedIn && p.path != "/cart" {
				continue
			}
			browserGo(t, ctx, srv.URL+p.path)
			content, panels := elementBox(t, ctx, "main.content"), elementBox(t, ctx, "aside.panels")
			wide := strings.HasPrefix(suffix, "wide")
			switch {
			case wide && !(panels.Left >= content.Right && panels.Top < content.Bottom):
				t.Errorf("%s at 1280px: panels %+v are not beside the content %+v", p.path, panels, content)
			case !wide && !(panels.Top >= content.Bottom):
				t.Errorf("%s at 390px: panels %+v are not below the content %+v", p.path, panels, content)
			}
			if w := browserEval[float64](t, ctx, `document.documentElement.scrollWidth`); w > browserEval[float64](t, ctx, `innerWidth`)+1 {
				t.Errorf("%s (%s): the page scrolls sideways (%.0fpx wide)", p.path, suffix, w)
			}
			saveScreenshot(t, ctx, p.name+"-"+suffix)
			if p.name == "catalog" {
				saveViewportScreenshot(t, ctx, p.name+"-"+suffix+"-top")
			}
			if p.name == "lesson" {
				saveElementScreenshot(t, ctx, ".exchange", "lesson-diagram-"+suffix)
				saveElementScreenshot(t, ctx, ".step.current", "lesson-step-current-"+suffix)
			}
		}
	}
	shoot("wide", false)
	browserViewport(t, ctx, 390, 844)
	shoot("narrow", false)

	browserViewport(t, ctx, 1280, 900)
	browserLogin(t, ctx, srv.URL, "alice", "wonderland")
	fillShop(t, ctx, srv.URL)
	shoot("wide-alice", true)
	browserViewport(t, ctx, 390, 844)
	shoot("narrow-alice", true)
}

func TestBrowserLargeTypeToggleGrowsTextAndIsRemembered(t *testing.T) {
	srv := startServer(t, freshDatabase(t, db.SQLite))
	ctx, cancel := newChrome(t)
	defer cancel()

	browserGo(t, ctx, srv.URL+"/cart")
	before := rootFontSize(t, ctx)
	if p := browserEval[string](t, ctx, `document.getElementById('toggle-large').getAttribute('aria-pressed')`); p != "false" {
		t.Fatalf("toggle starts aria-pressed=%q", p)
	}
	// Keyboard only: focus the button and press Enter.
	browserDo(t, ctx, chromedp.Focus(chromedp.CSS("#toggle-large")), chromedp.KeyEvent(kb.Enter))
	after := rootFontSize(t, ctx)
	if after < before*1.25 {
		t.Fatalf("large type: root font size %.1fpx → %.1fpx, want at least 25%% larger", before, after)
	}
	if p := browserEval[string](t, ctx, `document.getElementById('toggle-large').getAttribute('aria-pressed')`); p != "true" {
		t.Errorf("toggle after pressing: aria-pressed=%q, want true", p)
	}
	// Still on at the next page: the choice is remembered.
	browserGo(t, ctx, srv.URL+"/")
	if got := rootFontSize(t, ctx); got != after {
		t.Errorf("large type not remembered across pages: %.1fpx, want %.1fpx", got, after)
	}
	saveScreenshot(t, ctx, "catalog-projector")
	browserGo(t, ctx, srv.URL+"/lessons/the-cookie")
	saveScreenshot(t, ctx, "lesson-projector")
	// And off again.
	browserDo(t, ctx, chromedp.Click(chromedp.CSS("#toggle-large")))
	if got := rootFontSize(t, ctx); got != before {
		t.Errorf("toggling off: %.1fpx, want %.1fpx", got, before)
	}
}

func TestBrowserPanelsCollapseAndExpandByKeyboard(t *testing.T) {
	srv := startServer(t, freshDatabase(t, db.SQLite))
	ctx, cancel := newChrome(t)
	defer cancel()
	browserGo(t, ctx, srv.URL+"/")

	open := func(panel string) bool {
		return browserEval[bool](t, ctx, fmt.Sprintf(`document.querySelector('.panel-%s').open`, panel))
	}
	bodyShown := func(panel string) bool {
		return browserEval[bool](t, ctx, fmt.Sprintf(`document.querySelector('.panel-%s .panel-body').checkVisibility()`, panel))
	}
	for _, p := range []string{"cookie", "session", "cart"} {
		if !open(p) || !bodyShown(p) {
			t.Fatalf("panel %s does not start open", p)
		}
	}
	// Tab to the session panel's summary the way a keyboard user would.
	browserDo(t, ctx, chromedp.Focus(chromedp.CSS(".panel-session > summary")))
	if f := browserEval[string](t, ctx, `document.activeElement.closest('details')?.className || ''`); !strings.Contains(f, "panel-session") {
		t.Fatalf("focus is on %q, not the session panel's summary", f)
	}
	browserDo(t, ctx, chromedp.KeyEvent(kb.Enter))
	if open("session") || bodyShown("session") {
		t.Fatal("Enter on the summary did not collapse the session panel")
	}
	if !open("cookie") || !open("cart") {
		t.Fatal("collapsing one panel closed another")
	}
	saveScreenshot(t, ctx, "panels-one-collapsed")
	// Remembered on the next page.
	browserGo(t, ctx, srv.URL+"/cart")
	if open("session") {
		t.Error("a collapsed panel opened again on the next page")
	}
	browserDo(t, ctx, chromedp.Focus(chromedp.CSS(".panel-session > summary")), chromedp.KeyEvent(" "))
	if !open("session") || !bodyShown("session") {
		t.Fatal("Space on the summary did not expand the session panel")
	}
}

func TestBrowserKeyboardSkipLinkAndVisibleFocus(t *testing.T) {
	srv := startServer(t, freshDatabase(t, db.SQLite))
	ctx, cancel := newChrome(t)
	defer cancel()
	browserGo(t, ctx, srv.URL+"/")

	// The first Tab lands on the skip link, which then shows on screen.
	browserDo(t, ctx, chromedp.KeyEvent(kb.Tab))
	if cls := browserEval[string](t, ctx, `document.activeElement.className`); cls != "skip-link" {
		t.Fatalf("first Tab focused %q, want the skip link", cls)
	}
	if b := elementBox(t, ctx, ".skip-link"); b.Top < 0 || b.Height == 0 {
		t.Errorf("the focused skip link is off screen: %+v", b)
	}
	focusRing := func() float64 {
		// The ring may be drawn round the control or round its card.
		return browserEval[float64](t, ctx, `(() => {
			for (let el = document.activeElement, i = 0; el && i < 3; el = el.parentElement, i++) {
				const s = getComputedStyle(el);
				if (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) return parseFloat(s.outlineWidth);
			}
			return 0;
		})()`)
	}
	if w := focusRing(); w < 2 {
		t.Errorf("the skip link has no visible focus ring (outline %.1fpx)", w)
	}
	// Enter follows it; the next Tab is inside the page's content.
	browserDo(t, ctx, chromedp.KeyEvent(kb.Enter), chromedp.KeyEvent(kb.Tab))
	if in := browserEval[bool](t, ctx, `document.querySelector('main').contains(document.activeElement)`); !in {
		t.Fatalf("after the skip link, Tab focused %s outside main", browserEval[string](t, ctx, `document.activeElement.outerHTML.slice(0, 80)`))
	}
	if w := focusRing(); w < 2 {
		t.Errorf("the first control in main has no visible focus ring (outline %.1fpx)", w)
	}
	saveViewportScreenshot(t, ctx, "focus-ring")
}
