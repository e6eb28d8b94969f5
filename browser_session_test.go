package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"

	"sessionlab/db"
)

// sessionCookie picks sessionid out of the browser's cookie store.
func sessionCookie(t *testing.T, cookies []*network.Cookie) *network.Cookie {
	t.Helper()
	for _, c := range cookies {
		if c.Name == cookieName {
			return c
		}
	}
	return nil
}

// What only a real browser can show: the session cookie is invisible to page
// scripts (HttpOnly), sent only on same-site requests and top-level
// navigations (SameSite=Lax), and logging in through the form replaces it.
func TestBrowserSessionCookieIsHttpOnlyLaxAndRotatedAtLogin(t *testing.T) {
	srv := startServer(t, freshDatabase(t, db.SQLite))
	ctx, cancel := newChrome(t)
	defer cancel()

	if st := browserGo(t, ctx, srv.URL+"/"); st != http.StatusOK {
		t.Fatalf("GET / = %d", st)
	}
	if dc := browserEval[string](t, ctx, `document.cookie`); strings.Contains(dc, cookieName) {
		t.Fatalf("document.cookie exposes the session cookie: %q", dc)
	}
	before := sessionCookie(t, browserCookies(t, ctx, srv.URL+"/"))
	if before == nil {
		t.Fatal("the browser holds no sessionid after the first visit")
	}
	if !before.HTTPOnly {
		t.Error("sessionid is not HttpOnly")
	}
	if before.SameSite != network.CookieSameSiteLax {
		t.Errorf("sessionid SameSite = %q, want Lax", before.SameSite)
	}
	if before.Path != "/" {
		t.Errorf("sessionid Path = %q, want /", before.Path)
	}

	browserLogin(t, ctx, srv.URL, "alice", "wonderland")
	after := sessionCookie(t, browserCookies(t, ctx, srv.URL+"/"))
	if after == nil || after.Value == before.Value {
		t.Fatalf("login through the form did not rotate the session cookie")
	}
	if !after.HTTPOnly || after.SameSite != network.CookieSameSiteLax {
		t.Errorf("rotated cookie lost its attributes: HttpOnly=%v SameSite=%q", after.HTTPOnly, after.SameSite)
	}
	// The strip and the panels of the page we landed on tell the story.
	strip := browserEval[string](t, ctx, `document.querySelector('.strip').innerText`)
	if !strings.Contains(strings.ToLower(strip), "rotat") {
		t.Errorf("the strip after login does not mention the rotation:\n%s", strip)
	}
	who := browserEval[string](t, ctx, `document.querySelector('.site-header').innerText`)
	if !strings.Contains(who, "alice") {
		t.Errorf("header after login does not name alice:\n%s", who)
	}
	saveScreenshot(t, ctx, "after-login")
}

// The watcher is part of the harness's promise: prove it catches what the
// CSP refuses, so a page that silently broke its own script cannot pass.
func TestBrowserWatcherReportsCSPViolations(t *testing.T) {
	srv := startServer(t, freshDatabase(t, db.SQLite))
	ctx, cancel := newChrome(t)
	defer cancel()
	browserGo(t, ctx, srv.URL+"/")
	// An inline script injected into the page, as an XSS would: the CSP blocks it.
	browserEval[bool](t, ctx, `(() => { const s = document.createElement('script'); s.textContent = 'window.pwned = 1'; document.body.appendChild(s); return true })()`)
	if browserEval[bool](t, ctx, `window.pwned === 1`) {
		t.Fatal("an inline script ran: the CSP does not forbid inline script")
	}
	w := watchOf(ctx)
	browserEval[int](t, ctx, `0`)
	problems := w.take()
	found := false
	for _, p := range problems {
		if strings.Contains(p, "Content Security Policy") {
			found = true
		}
	}
	if !found {
		t.Fatalf("the watcher saw no CSP violation; it saw %q", problems)
	}
}
