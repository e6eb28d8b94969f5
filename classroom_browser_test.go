package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sessionlab/db"
)

// browserWaitJS polls a JavaScript condition until it holds (a page that is
// navigating may fail to evaluate for a moment: that counts as not yet).
func browserWaitJS(t *testing.T, ctx context.Context, expr, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("browser: %s never happened (last error: %v)", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The projector shows the class live: two instances on one MariaDB
// database, the dashboard open on A, students arriving on A and B.
func TestDashboardInProjectorModeUpdatesWhileStudentsLogIn(t *testing.T) {
	dbURL := freshDatabase(t, db.MariaDB)
	A := startServer(t, dbURL, withInstance("classroom-A"))
	B := startServer(t, dbURL, withInstance("classroom-B"))
	early := A.newBrowser(t)
	early.get("/")

	ctx, cancel := newChrome(t)
	defer cancel()
	browserViewport(t, ctx, 1600, 1000)
	browserGo(t, ctx, A.URL+"/instructor?token="+testToken)
	browserWaitJS(t, ctx, `location.pathname === "/instructor" && location.search === "" && !!document.getElementById("live") && document.getElementById("live").textContent.includes("live")`,
		"the dashboard, token gone from the address, stream live")
	browserDo(t, ctx, chromedp.Click(chromedp.CSS("#toggle-projector"), chromedp.NodeVisible))
	if !browserEval[bool](t, ctx, `document.body.classList.contains("projector")`) {
		t.Fatal("projector mode did not switch on")
	}
	if browserEval[string](t, ctx, `document.documentElement.getAttribute("data-theme")`) != "dark" {
		browserDo(t, ctx, chromedp.Click(chromedp.CSS("#toggle-theme"), chromedp.NodeVisible))
	}
	// Mark the page: if it reloaded, the mark would be gone.
	browserEval[bool](t, ctx, `window.__noReload = true`)

	// Students arrive while the projector watches.
	alice := A.newBrowser(t)
	alice.login("alice", "wonderland")
	alice.submit("/cart/add", url.Values{"product_id": {"3"}, "quantity": {"2"}})
	bob := B.newBrowser(t)
	bob.submit("/cart/add", url.Values{"product_id": {"1"}, "quantity": {"1"}})
	bob.login("bob", "builder")
	bob.get("/lessons/the-cookie")
	onB := *alice
	onB.srv = B
	onB.get("/cart") // alice's next request lands on B: instance.changed
	for i := 0; i < 3; i++ {
		B.newBrowser(t).get("/")
	}

	browserWaitJS(t, ctx, `document.getElementById("sessions-body").textContent.includes("alice") && document.getElementById("sessions-body").textContent.includes("bob")`,
		"alice and bob in the live table")
	browserWaitJS(t, ctx, `document.getElementById("events").textContent.includes("instance.changed")`, "instance.changed in the event log")
	browserWaitJS(t, ctx, `document.querySelector('tr[data-key] .old-key') !== null`, "a rotated key shown old → new")
	browserWaitJS(t, ctx, `document.getElementById("stat-instances").textContent.includes("classroom-B")`, "the second instance in the summary")
	if !browserEval[bool](t, ctx, `window.__noReload === true`) {
		t.Fatal("the dashboard reloaded to update: it should update in place")
	}
	text := browserEval[string](t, ctx, `document.body.innerText`)
	if strings.Contains(text, hashID(alice.sessionID())) || strings.Contains(text, alice.sessionID()) {
		t.Error("the dashboard shows a whole key or session ID")
	}
	// The event log filters by kind, in place.
	browserDo(t, ctx, chromedp.Click(chromedp.CSS(`.ev-filter[data-filter="login"]`), chromedp.NodeVisible))
	if !browserEval[bool](t, ctx, `(() => { const shown = [...document.querySelectorAll("#events li")].filter(li => !li.hidden); return shown.length > 0 && shown.every(li => li.dataset.group === "login") && shown.some(li => li.textContent.includes("login.succeeded")); })()`) {
		t.Error("the login filter does not show just the login events")
	}
	browserDo(t, ctx, chromedp.Click(chromedp.CSS(`.ev-filter[data-filter="all"]`), chromedp.NodeVisible))
	// Let the highlight of fresh rows fade so the screenshot shows the steady state.
	time.Sleep(2600 * time.Millisecond)
	saveScreenshot(t, ctx, "instructor-projector-dark")

	browserDo(t, ctx, chromedp.Click(chromedp.CSS("#toggle-theme"), chromedp.NodeVisible))
	if browserEval[string](t, ctx, `document.documentElement.getAttribute("data-theme")`) != "light" {
		t.Fatal("theme did not switch to light")
	}
	// A logout updates the table too.
	alice.submit("/logout", nil)
	browserWaitJS(t, ctx, `!document.getElementById("sessions-body").textContent.includes("alice")`, "alice's row gone after logout")
	time.Sleep(2600 * time.Millisecond)
	saveScreenshot(t, ctx, "instructor-projector-light")
	assertNoBrowserProblems(t, ctx)
}
