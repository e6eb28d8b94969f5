package main

import (
	"strings"
	"testing"

	"sessionlab/db"
)

// A learner opens a lesson, sees the last exchange drawn and the banner
// naming the step to do, adds a product in the shop, and finds the step
// ticked: the lesson checked itself from what the browser did.
func TestBrowserLessonPageTicksAStepDoneInTheShop(t *testing.T) {
	srv := startServer(t, freshDatabase(t, db.SQLite))
	ctx, cancel := newChrome(t)
	defer cancel()

	browserGo(t, ctx, srv.URL+"/lessons/the-session-record")
	diagram := browserEval[string](t, ctx, `document.querySelector("figure.seq")?.innerText ?? ""`)
	for _, want := range []string{"Browser → Server", "GET /lessons/the-session-record", "Set-Cookie", "Server → Database"} {
		if !strings.Contains(diagram, want) {
			t.Errorf("the exchange diagram lacks %q:\n%s", want, diagram)
		}
	}
	current := browserEval[string](t, ctx, `document.querySelector("li.step.current")?.id ?? ""`)
	if current != "step-add" {
		t.Fatalf("current step is %q, want step-add (opening the lesson completes step 1)", current)
	}

	browserGo(t, ctx, srv.URL+"/products/2")
	banner := browserEval[string](t, ctx, `document.querySelector(".lesson-banner")?.innerText ?? ""`)
	if !strings.Contains(banner, "Lesson 3, step 2 of") {
		t.Errorf("the shop page's lesson banner says %q, want lesson 3 step 2", banner)
	}
	browserClickAndWait(t, ctx, `form[action="/cart/add"] button[type="submit"]`)
	banner = browserEval[string](t, ctx, `document.querySelector(".lesson-banner")?.innerText ?? ""`)
	if !strings.Contains(banner, "Lesson 3, step 3 of") {
		t.Errorf("after adding to the cart the banner says %q, want lesson 3 step 3", banner)
	}
	strip := browserEval[string](t, ctx, `document.querySelector(".strip")?.innerText ?? document.body.innerText`)
	if !strings.Contains(strip, "Lesson step done") {
		t.Errorf("the what-changed strip does not name the completed step:\n%s", strip)
	}

	browserGo(t, ctx, srv.URL+"/lessons/the-session-record")
	done := browserEval[bool](t, ctx, `document.querySelector("#step-add")?.classList.contains("done") ?? false`)
	if !done {
		t.Fatal("the lesson page does not show step 2 ticked after adding to the cart")
	}
	if state := browserEval[string](t, ctx, `document.querySelector("#step-add .step-state")?.innerText ?? ""`); !strings.Contains(strings.ToLower(state), "done") {
		t.Errorf("step 2 says %q, want Done", state)
	}
	saveScreenshot(t, ctx, "lesson-step-ticked")
}
