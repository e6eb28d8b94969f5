package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The shared browser harness: every test that needs a real browser (what only
// a browser does — HttpOnly, SameSite, CSP, layout, axe-core) starts one here.
//
//	ctx, cancel := newChrome(t)
//	defer cancel()
//	browserGo(t, ctx, srv.URL+"/")
//	browserLogin(t, ctx, srv.URL, "alice", "wonderland")
//	saveScreenshot(t, ctx, "cart-wide")
//
// Every page the tab loads is watched: a CSP violation, an uncaught JS
// exception, a console.error or a failed /static/ request fails the test.

// browserTimeout bounds one test's browser: past it the browser is killed and
// every pending action returns an error wrapping context.DeadlineExceeded.
const browserTimeout = 2 * time.Minute

// chromiumPath finds the browser: SESSIONLAB_CHROMIUM, then the usual names.
func chromiumPath() (string, error) {
	if p := os.Getenv("SESSIONLAB_CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			return "", fmt.Errorf("SESSIONLAB_CHROMIUM=%s is not an executable: %v", p, err)
		}
		return p, nil
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium found (tried SESSIONLAB_CHROMIUM, /usr/bin/chromium, chromium, chromium-browser, google-chrome)")
}

// newChrome starts a fresh headless Chromium (its own profile, so its own
// cookies) and returns a tab context with a 1280×900 window. Without a
// browser the test is skipped, unless CI is set: then it fails.
func newChrome(t *testing.T) (context.Context, context.CancelFunc) {
	t.Helper()
	path, err := chromiumPath()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("browser tests are mandatory under CI: %v", err)
		}
		t.Skipf("skipping browser test: %v; install chromium (apt-get install chromium) or set SESSIONLAB_CHROMIUM", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.WindowSize(1280, 900),
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
	)
	// The deadline sits on the allocator: when it passes, the browser dies
	// and the test fails instead of hanging.
	tctx, tcancel := context.WithTimeout(context.Background(), browserTimeout)
	actx, acancel := chromedp.NewExecAllocator(tctx, opts...)
	w := &pageWatch{}
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithListener(w.observe))
	stop := sync.OnceFunc(func() { cancel(); acancel(); tcancel() })
	t.Cleanup(stop)
	if err := chromedp.Do(ctx); err != nil { // starts the browser and opens the tab
		stop()
		if os.Getenv("CI") != "" {
			t.Fatalf("start %s: %v", path, err)
		}
		t.Skipf("skipping browser test: cannot start %s: %v", path, err)
	}
	// Cleanups run last-in first-out: this report runs before the browser stops.
	t.Cleanup(func() { w.report(t) })
	return context.WithValue(ctx, pageWatchKey{}, w), stop
}

// pageWatch collects what the page reported that a well-behaved page never
// reports. It is filled from the tab's event loop, so it only appends.
type pageWatch struct {
	mu       sync.Mutex
	problems []string
	allowed  []string
}

type pageWatchKey struct{}

func (w *pageWatch) observe(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg = "uncaught exception: " + d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		msg += fmt.Sprintf(" (%s:%d)", d.URL, d.LineNumber+1)
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var parts []string
		for _, a := range ev.Args {
			if a.Value != nil {
				parts = append(parts, strings.Trim(string(a.Value), `"`))
			} else {
				parts = append(parts, a.Description)
			}
		}
		msg = "console." + string(ev.Type) + ": " + strings.Join(parts, " ")
	case *cdplog.EventEntryAdded:
		e := ev.Entry
		switch {
		case e.Source == cdplog.EntrySourceSecurity || strings.Contains(e.Text, "Content Security Policy"):
			msg = "CSP/security: " + e.Text
		case e.Level == cdplog.EntryLevelError && e.Source == cdplog.EntrySourceNetwork:
			// A page answering 404 or 403 is often the point of a test; a
			// missing stylesheet, script or picture never is.
			if u, err := url.Parse(e.URL); err != nil || !strings.HasPrefix(u.Path, "/static/") {
				return
			}
			msg = "failed asset: " + e.URL + ": " + e.Text
		case e.Level == cdplog.EntryLevelError && e.Source == cdplog.EntrySourceJavascript:
			msg = "javascript: " + e.Text
		default:
			return
		}
	default:
		return
	}
	w.mu.Lock()
	w.problems = append(w.problems, msg)
	w.mu.Unlock()
}

// take returns the problems seen so far that no allowBrowserProblem matches, and forgets them.
func (w *pageWatch) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
next:
	for _, p := range w.problems {
		for _, a := range w.allowed {
			if strings.Contains(p, a) {
				continue next
			}
		}
		out = append(out, p)
	}
	w.problems = nil
	return out
}

func (w *pageWatch) report(t *testing.T) {
	t.Helper()
	for _, p := range w.take() {
		t.Errorf("browser reported: %s", p)
	}
}

func watchOf(ctx context.Context) *pageWatch {
	w, _ := ctx.Value(pageWatchKey{}).(*pageWatch)
	return w
}

// allowBrowserProblem lets a test that provokes an error on purpose (a lab
// page with an inline script, say) name the text it expects to be reported.
func allowBrowserProblem(ctx context.Context, substring string) {
	if w := watchOf(ctx); w != nil {
		w.mu.Lock()
		w.allowed = append(w.allowed, substring)
		w.mu.Unlock()
	}
}

// assertNoBrowserProblems fails the test now if the page has reported a CSP
// violation or a JS error so far (the same check also runs when the test ends).
func assertNoBrowserProblems(t *testing.T, ctx context.Context) {
	t.Helper()
	if w := watchOf(ctx); w != nil {
		// Let the tab's event loop deliver what is in flight.
		chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`0`))
		for _, p := range w.take() {
			t.Errorf("browser reported: %s", p)
		}
	}
}

// browserDo runs actions and fails the test on the first error.
func browserDo(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// browserGo navigates to url, waits for the load and returns the HTTP status.
func browserGo(t *testing.T, ctx context.Context, url string) int64 {
	t.Helper()
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		t.Fatalf("navigate %s: %v", url, err)
	}
	if resp == nil {
		return 0
	}
	return resp.Status
}

// browserEval evaluates a JavaScript expression in the page and decodes its value.
func browserEval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %.80q: %v", expr, err)
	}
	return v
}

// browserClickAndWait clicks the element and waits for the page it leads to
// (a link or a form submit), returning that response's status.
func browserClickAndWait(t *testing.T, ctx context.Context, css string) int64 {
	t.Helper()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(css), chromedp.NodeVisible))
	if err != nil {
		t.Fatalf("click %s: %v", css, err)
	}
	if resp == nil {
		return 0
	}
	return resp.Status
}

// browserLocation is the tab's current URL.
func browserLocation(t *testing.T, ctx context.Context) string {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatalf("location: %v", err)
	}
	return loc
}

// browserLogin logs in through the real form, as a person would, and checks
// that the browser left /login.
func browserLogin(t *testing.T, ctx context.Context, baseURL, user, pass string) {
	t.Helper()
	browserGo(t, ctx, baseURL+"/login")
	browserDo(t, ctx,
		chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), pass),
	)
	browserClickAndWait(t, ctx, `form[action="/login"] button[type="submit"]`)
	if loc := browserLocation(t, ctx); strings.Contains(loc, "/login") {
		t.Fatalf("login as %s stayed on %s", user, loc)
	}
}

// browserCookies returns the cookies the browser holds for url, with every
// attribute (HttpOnly ones included: this is the DevTools view, not the page's).
func browserCookies(t *testing.T, ctx context.Context, url string) []*network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{url}})
	if err != nil {
		t.Fatalf("get cookies: %v", err)
	}
	return res.Cookies
}

// browserViewport resizes the page's viewport (CSS pixels), as a phone or a
// projector would have it.
func browserViewport(t *testing.T, ctx context.Context, width, height int64) {
	t.Helper()
	browserDo(t, ctx, chromedp.EmulateViewport(width, height))
}

// artifactsDir is where screenshots go: artifacts/ beside the package
// (gitignored), or SESSIONLAB_ARTIFACTS.
func artifactsDir() string {
	if d := os.Getenv("SESSIONLAB_ARTIFACTS"); d != "" {
		return d
	}
	return "artifacts"
}

// saveScreenshot writes a full-page PNG of the tab to artifacts/NAME.png.
func saveScreenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := artifactsDir()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts dir: %v", err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatalf("write %s: %v", p, err)
	}
	t.Logf("screenshot: %s", p)
	return p
}

// saveElementScreenshot writes a PNG of the first element matching css to
// artifacts/NAME.png: a close-up a reviewer can read.
func saveElementScreenshot(t *testing.T, ctx context.Context, css, name string) string {
	t.Helper()
	buf, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(css), chromedp.NodeVisible))
	if err != nil {
		t.Fatalf("screenshot of %s: %v", css, err)
	}
	if err := os.MkdirAll(artifactsDir(), 0o755); err != nil {
		t.Fatalf("artifacts dir: %v", err)
	}
	p := filepath.Join(artifactsDir(), name+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatalf("write %s: %v", p, err)
	}
	t.Logf("screenshot: %s", p)
	return p
}
