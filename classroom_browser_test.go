package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sessionlab/db"
	"sessionlab/ids"
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
	if strings.Contains(text, ids.Hash(alice.sessionID())) || strings.Contains(text, alice.sessionID()) {
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

// joinClass brings learners from to to-1 into the room, each from their
// own address: they arrive, open lesson 1, come back with their cookie,
// every fifth logs in and every fourth fills a cart.
func joinClass(t *testing.T, s *testServer, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		b := s.newBrowserFrom(t, classAddress(i))
		b.get("/")
		b.get("/lessons/http-forgets")
		b.get("/")
		if i%4 == 0 {
			b.submit("/cart/add", url.Values{"product_id": {strconv.Itoa(1 + i%5)}, "quantity": {strconv.Itoa(1 + i%3)}})
		}
		if i%5 == 0 {
			if r := b.submit("/login", url.Values{"username": {"alice"}, "password": {"wonderland"}}); r.Status != http.StatusSeeOther {
				t.Fatalf("learner %d: login status %d", i, r.Status)
			}
		}
	}
}

// screenBox is an element's place on the screen, as getBoundingClientRect says.
type screenBox struct{ Top, Bottom, Left, Right, Width float64 }

// The dashboard fits the room: at 1280×720 and 1920×1080 (and there in
// projector mode too), with 40 and with 200 learners, the totals, the whole progress chart and the join box are
// inside the viewport without scrolling (measured in Chromium), the page
// itself does not scroll, the sessions table scrolls inside its own box and
// none of its columns is cut off. Screenshots go to artifacts/.
func TestDashboardFitsTheRoom(t *testing.T) {
	s := startServer(t, freshDatabase(t, db.SQLite))
	ctx, cancel := newChrome(t)
	defer cancel()
	browserGo(t, ctx, s.URL+"/instructor?token="+testToken)
	browserWaitJS(t, ctx, `location.pathname === "/instructor" && location.search === ""`, "the dashboard")
	measure := `JSON.stringify((() => {
		const r = el => { const b = el.getBoundingClientRect(); return {Top: b.top, Bottom: b.bottom, Left: b.left, Right: b.right, Width: b.width}; };
		const out = {};
		for (const [name, css] of [["live sessions", "#stat-sessions"], ["logged in", "#stat-auth"], ["learners", "#stat-learners"],
			["totals", ".ins-summary"], ["progress chart", ".ins-progress"], ["last lesson", ".lesson-row:last-child"],
			["join box", ".ins-join"], ["join URL", "#join-url"], ["QR code", ".join-qr"]]) {
			out[name] = r(document.querySelector(css));
		}
		const wrap = document.querySelector(".ins-sessions .table-wrap");
		const cut = [...document.querySelectorAll(".ins-table th, .ins-table tbody td")].filter(c => c.scrollWidth > c.clientWidth + 1 && !c.classList.contains("user")).map(c => c.textContent);
		return {boxes: out, vw: innerWidth, vh: innerHeight, pageScroll: document.scrollingElement.scrollHeight - innerHeight,
			wrapScroll: wrap.scrollHeight - wrap.clientHeight, tableOverflow: wrap.scrollWidth - wrap.clientWidth, cut: cut.slice(0, 5),
			rows: document.querySelectorAll("#sessions-body tr[data-key]").length, learners: document.getElementById("stat-learners").textContent};
	})())`
	for _, class := range []int{40, 200} {
		joinClass(t, s, map[int]int{40: 0, 200: 40}[class], class)
		for _, look := range []struct {
			size      [2]int64
			projector bool
		}{{[2]int64{1280, 720}, false}, {[2]int64{1920, 1080}, false}, {[2]int64{1920, 1080}, true}} {
			size := look.size
			name := fmt.Sprintf("%dx%d with %d learners", size[0], size[1], class)
			page := "/instructor"
			if look.projector {
				name += " in projector mode"
				page += "?projector=1"
			}
			browserViewport(t, ctx, size[0], size[1])
			browserGo(t, ctx, s.URL+page)
			browserWaitJS(t, ctx, `document.getElementById("live").textContent.includes("live")`, "the stream live")
			var m struct {
				Boxes         map[string]screenBox
				VW, VH        float64
				PageScroll    float64
				WrapScroll    float64
				TableOverflow float64
				Cut           []string
				Rows          int
				Learners      string
			}
			if err := json.Unmarshal([]byte(browserEval[string](t, ctx, measure)), &m); err != nil {
				t.Fatalf("%s: measure: %v", name, err)
			}
			if m.VW != float64(size[0]) || m.VH != float64(size[1]) {
				t.Fatalf("%s: the viewport is %vx%v", name, m.VW, m.VH)
			}
			for what, b := range m.Boxes {
				if b.Top < 0 || b.Left < 0 || b.Bottom > m.VH || b.Right > m.VW || b.Width == 0 {
					t.Errorf("%s: %s at %+v is not inside the %vx%v viewport", name, what, b, m.VW, m.VH)
				}
			}
			if m.PageScroll > 0 {
				t.Errorf("%s: the page scrolls by %v px: it should fit, with the lists scrolling inside", name, m.PageScroll)
			}
			if class == 200 && m.WrapScroll <= 0 {
				t.Errorf("%s: %d rows and the table's box does not scroll", name, m.Rows)
			}
			if m.TableOverflow > 0 || len(m.Cut) > 0 {
				t.Errorf("%s: columns cut off (table %v px wider than its box; clipped cells %q)", name, m.TableOverflow, m.Cut)
			}
			t.Logf("%s: %d rows, learners %s, totals bottom %.0f, chart bottom %.0f, join bottom %.0f of %v",
				name, m.Rows, m.Learners, m.Boxes["totals"].Bottom, m.Boxes["progress chart"].Bottom, m.Boxes["join box"].Bottom, m.VH)
			browserEval[bool](t, ctx, `document.querySelectorAll(".fresh").forEach(e => e.classList.remove("fresh")) || true`) // the steady look
			shot := fmt.Sprintf("instructor-%dx%d-%d-learners", size[0], size[1], class)
			if look.projector {
				shot += "-projector"
			}
			saveScreenshot(t, ctx, shot)
		}
	}
	assertNoBrowserProblems(t, ctx)
}

// The instructor sorts the sessions table by a column; live updates then
// change the rows in place without reordering them under the instructor's
// eyes, until "Sort again" (or "keep sorted live") is asked for.
func TestDashboardSortStaysPutAcrossLiveUpdates(t *testing.T) {
	s := startServer(t, freshDatabase(t, db.SQLite))
	learners := map[string]*browser{} // key prefix → learner
	for i := 0; i < 6; i++ {
		b := s.newBrowserFrom(t, classAddress(i))
		b.get("/")
		learners[ids.Prefix(ids.Hash(b.sessionID()))] = b
	}
	ctx, cancel := newChrome(t)
	defer cancel()
	browserViewport(t, ctx, 1280, 720)
	browserGo(t, ctx, s.URL+"/instructor?token="+testToken)
	browserWaitJS(t, ctx, `location.search === "" && document.getElementById("live").textContent.includes("live") && document.querySelectorAll("#sessions-body tr[data-key]").length === 6`,
		"the dashboard, live, with six sessions")
	order := func() []string {
		return strings.Split(browserEval[string](t, ctx, `[...document.querySelectorAll("#sessions-body tr[data-key]")].map(tr => tr.dataset.key).join(" ")`), " ")
	}
	cartOf := func(key string) string {
		return fmt.Sprintf(`(document.querySelector('#sessions-body tr[data-key="%s"] td:nth-child(3)') || {}).textContent`, key)
	}
	// Sort by cart, largest first (every cart is empty: ties go by key).
	browserDo(t, ctx, chromedp.Click(chromedp.CSS(`.sort[data-col="cart"]`), chromedp.NodeVisible))
	if got := browserEval[string](t, ctx, `document.querySelector('th[data-col="cart"]').getAttribute("aria-sort")`); got != "descending" {
		t.Fatalf("cart column aria-sort %q, want descending", got)
	}
	before := order()
	last := before[len(before)-1]
	learners[last].submit("/cart/add", url.Values{"product_id": {"2"}, "quantity": {"5"}})
	browserWaitJS(t, ctx, cartOf(last)+` === "5"`, "the last row's cart updated live to 5")
	time.Sleep(2500 * time.Millisecond) // more updates arrive: still no reordering
	if after := order(); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("a live update reordered the sorted table:\nbefore %v\nafter  %v", before, after)
	}
	if browserEval[bool](t, ctx, `document.getElementById("sort-again").hidden`) {
		t.Error("the table is out of order and no \"Sort again\" is offered")
	}
	browserDo(t, ctx, chromedp.Click(chromedp.CSS(`#sort-again`), chromedp.NodeVisible))
	if got := order(); got[0] != last {
		t.Errorf("after Sort again the first row is %s, want %s (cart 5)", got[0], last)
	}
	// Asked to keep sorted, the table follows the class.
	browserDo(t, ctx, chromedp.Click(chromedp.CSS(`#sort-live`), chromedp.NodeVisible))
	now := order()
	bottom := now[len(now)-1]
	learners[bottom].submit("/cart/add", url.Values{"product_id": {"3"}, "quantity": {"9"}})
	browserWaitJS(t, ctx, fmt.Sprintf(`document.querySelector("#sessions-body tr[data-key]").dataset.key === %q`, bottom),
		"the row whose cart grew to 9 moved to the top by itself")
	// The choice survives a reload.
	browserGo(t, ctx, s.URL+"/instructor")
	if got := browserEval[string](t, ctx, `document.querySelector('th[data-col="cart"]').getAttribute("aria-sort") + " " + document.getElementById("sort-live").checked`); got != "descending true" {
		t.Errorf("after a reload: %q, want the cart sort kept live", got)
	}
	assertNoBrowserProblems(t, ctx)
}
