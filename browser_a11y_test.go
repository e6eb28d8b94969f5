package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"sessionlab/db"
	"sessionlab/labs"
)

// Accessibility, checked by axe-core (testdata/axe-core, see its README)
// running inside Chromium on every main page, anonymous and logged in, in the
// light and the dark colour scheme: no serious or critical violation.

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// axeCheck injects axe-core into the current page, runs it and returns the
// serious and critical violations.
func axeCheck(t *testing.T, ctx context.Context, axeSource string) []axeViolation {
	t.Helper()
	if !browserEval[bool](t, ctx, `typeof window.axe === 'object'`) {
		// Evaluated through DevTools, so the page's CSP does not apply.
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axeSource)); err != nil {
			t.Fatalf("inject axe-core: %v", err)
		}
	}
	raw := browserEval[string](t, ctx, `axe.run(document, {
		runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']},
		resultTypes: ['violations']
	}).then(r => JSON.stringify(r.violations))`)
	var all []axeViolation
	if err := json.Unmarshal([]byte(raw), &all); err != nil {
		t.Fatalf("axe result: %v", err)
	}
	var bad []axeViolation
	for _, v := range all {
		if v.Impact == "serious" || v.Impact == "critical" {
			bad = append(bad, v)
		} else {
			t.Logf("axe (%s, not failing): %s — %s", v.Impact, v.ID, v.Help)
		}
	}
	return bad
}

func (v axeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s [%s] %s", v.ID, v.Impact, v.Help)
	for i, n := range v.Nodes {
		if i == 3 {
			fmt.Fprintf(&b, "\n      … and %d more", len(v.Nodes)-3)
			break
		}
		fmt.Fprintf(&b, "\n      at %v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
	}
	return b.String()
}

func readAxe(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile("testdata/axe-core/axe.min.js")
	if err != nil {
		t.Fatalf("axe-core is part of the repository (testdata/axe-core): %v", err)
	}
	return string(src)
}

// a11yPages are the pages every learner sees.
var a11yPages = []string{"/", "/products/2", "/cart", "/login", "/account", "/notes", "/lessons", "/lessons/the-cookie", "/no/such/page"}

func TestBrowserAccessibilityOfEveryMainPage(t *testing.T) {
	axe := readAxe(t)
	srv := startServer(t, freshDatabase(t, db.SQLite))
	ctx, cancel := newChrome(t)
	defer cancel()

	check := func(state string) {
		for _, p := range a11yPages {
			browserGo(t, ctx, srv.URL+p)
			for _, v := range axeCheck(t, ctx, axe) {
				t.Errorf("%s (%s, now at %s): %s", p, state, browserLocation(t, ctx), v)
			}
		}
	}
	check("anonymous")

	// Logged in, with things on every page: cart items, notes, a hint, a
	// wrong value typed into a step (the feedback box) on the lesson.
	browserLogin(t, ctx, srv.URL, "alice", "wonderland")
	fillShop(t, ctx, srv.URL)
	browserGo(t, ctx, srv.URL+"/lessons/the-cookie")
	browserClickAndWait(t, ctx, `.step.current form[action$="/hint"] button`)
	// The current step asks what the learner saw: a wrong value shows its feedback.
	browserDo(t, ctx, chromedp.SetValue(chromedp.CSS(`.step.current .question input[name=value]`), "zzzzzz"))
	browserClickAndWait(t, ctx, `.step.current .question button[type=submit]`)
	if n := browserEval[int](t, ctx, `document.querySelectorAll('.step .feedback').length + document.querySelectorAll('.step .hints').length`); n < 2 {
		t.Error("the lesson page does not show both the hint and the answer's feedback")
	}
	saveElementScreenshot(t, ctx, ".step:has(.feedback)", "lesson-step-feedback")
	// A second device, so /account lists one to end and offers "all others".
	srv.newBrowser(t).login("alice", "wonderland")
	browserGo(t, ctx, srv.URL+"/account")
	if n := browserEval[int](t, ctx, `document.querySelectorAll('form[action="/account/sessions/end"]').length`); n != 1 {
		t.Errorf("/account offers %d sessions to end, want 1 (the other device)", n)
	}
	saveScreenshot(t, ctx, "account-two-devices")
	check("logged in")

	// The dark colour scheme has its own contrast to get right.
	browserDo(t, ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
		})
		return err
	}))
	check("logged in, dark scheme")
	browserGo(t, ctx, srv.URL+"/cart")
	saveScreenshot(t, ctx, "cart-wide-dark")
}

// The lab pages (and each lab's own little site) are pages learners read
// too: the same axe-core bar, and screenshots at both widths.
func TestBrowserAccessibilityOfLabPages(t *testing.T) {
	axe := readAxe(t)
	srv := startServer(t, freshDatabase(t, db.SQLite))
	ctx, cancel := newChrome(t)
	defer cancel()

	paths := []string{"/lab"}
	for _, l := range labs.All {
		paths = append(paths, "/lab/"+l.Slug)
	}
	paths = append(paths, "/lab/fixation/site", "/lab/cookie-theft/site", "/lab/client-side/site?mode=weak", "/lab/client-side/site?mode=token")
	for _, width := range []int64{1280, 390} {
		browserViewport(t, ctx, width, 900)
		suffix := map[bool]string{true: "wide", false: "narrow"}[width == 1280]
		for _, p := range paths {
			if st := browserGo(t, ctx, srv.URL+p); st != http.StatusOK {
				t.Errorf("GET %s = %d", p, st)
				continue
			}
			if w := browserEval[float64](t, ctx, `document.documentElement.scrollWidth`); w > float64(width)+1 {
				t.Errorf("%s at %dpx: the page scrolls sideways (%.0fpx wide)", p, width, w)
			}
			saveScreenshot(t, ctx, "lab"+strings.ReplaceAll(strings.TrimPrefix(p, "/lab"), "/", "-")+"-"+suffix)
			if width == 1280 {
				for _, v := range axeCheck(t, ctx, axe) {
					t.Errorf("%s: %s", p, v)
				}
			}
		}
	}
}

// The instructor's dashboard, in its four looks (light, dark, and each on
// the projector): the same axe-core bar as the learners' pages.
func TestBrowserAccessibilityOfInstructorDashboard(t *testing.T) {
	axe := readAxe(t)
	srv := startServer(t, freshDatabase(t, db.SQLite))
	srv.newBrowser(t).login("alice", "wonderland")
	srv.newBrowser(t).get("/")
	ctx, cancel := newChrome(t)
	defer cancel()
	browserGo(t, ctx, srv.URL+"/instructor?token="+srv.app.cfg.InstructorToken)
	browserWaitJS(t, ctx, `location.search === "" && !!document.getElementById("toggle-theme")`, "the dashboard, token gone from the address")
	for _, look := range []string{"first", "theme switched", "projector, theme switched", "projector"} {
		switch look {
		case "theme switched":
			browserDo(t, ctx, chromedp.Click(chromedp.CSS("#toggle-theme"), chromedp.NodeVisible))
		case "projector, theme switched":
			browserDo(t, ctx, chromedp.Click(chromedp.CSS("#toggle-projector"), chromedp.NodeVisible))
		case "projector":
			browserDo(t, ctx, chromedp.Click(chromedp.CSS("#toggle-theme"), chromedp.NodeVisible))
		}
		for _, v := range axeCheck(t, ctx, axe) {
			t.Errorf("/instructor (%s): %s", look, v)
		}
	}
}
