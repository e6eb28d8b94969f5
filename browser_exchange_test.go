package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"

	"sessionlab/ids"
	"sessionlab/lessons"
)

// An independent observer: Chromium's own network record (the DevTools
// Network domain, raw Cookie and Set-Cookie headers included, redirects hop
// by hop) against what the page's cookie panel, strip and exchange diagram
// claim, page after page. The panels carry data-* hooks for this; the
// observer never asks the server what happened.

// wireHop is one request and its answer as the browser saw them.
type wireHop struct {
	Method, URL string
	Cookie      string   // the raw Cookie header sent ("" if none)
	Status      int64    // 0 until the answer's headers arrived
	SetCookie   []string // the raw Set-Cookie lines received
	Location    string
	gotReq      bool
}

// wireLog collects the browser's document requests as the events arrive.
// Extra-info events may come before or after the main ones; each kind is
// matched to the hops of its request id in order (a redirect keeps the id).
type wireLog struct {
	mu       sync.Mutex
	order    []network.RequestID
	docs     map[network.RequestID][]*network.EventRequestWillBeSent
	reqExtra map[network.RequestID][]network.Headers
	resExtra map[network.RequestID][]*network.EventResponseReceivedExtraInfo
}

func recordWire(t *testing.T, ctx context.Context) *wireLog {
	t.Helper()
	w := &wireLog{docs: map[network.RequestID][]*network.EventRequestWillBeSent{}, reqExtra: map[network.RequestID][]network.Headers{}, resExtra: map[network.RequestID][]*network.EventResponseReceivedExtraInfo{}}
	err := chromedp.Listen(ctx, func(ev any) {
		w.mu.Lock()
		defer w.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			if ev.Type != network.ResourceTypeDocument {
				return
			}
			if _, seen := w.docs[ev.RequestID]; !seen {
				w.order = append(w.order, ev.RequestID)
			}
			w.docs[ev.RequestID] = append(w.docs[ev.RequestID], ev)
		case *network.EventRequestWillBeSentExtraInfo:
			w.reqExtra[ev.RequestID] = append(w.reqExtra[ev.RequestID], ev.Headers)
		case *network.EventResponseReceivedExtraInfo:
			w.resExtra[ev.RequestID] = append(w.resExtra[ev.RequestID], ev)
		}
	})
	if err != nil {
		t.Fatalf("listen to the network: %v", err)
	}
	return w
}

func header(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// mark is where the next action's requests begin.
func (w *wireLog) mark() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.order)
}

// hopsSince returns the hops of the last document request made since mark,
// waiting briefly for extra-info events still in flight.
func (w *wireLog) hopsSince(t *testing.T, mark int) []*wireHop {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		hops, complete := w.build(mark)
		if complete || time.Now().After(deadline) {
			if !complete {
				t.Fatalf("the browser's network record of the last navigation stayed incomplete: %+v", hops)
			}
			return hops
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (w *wireLog) build(mark int) ([]*wireHop, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.order) <= mark {
		return nil, false
	}
	id := w.order[len(w.order)-1]
	var hops []*wireHop
	complete := true
	for i, ev := range w.docs[id] {
		h := &wireHop{Method: ev.Request.Method, URL: ev.Request.URL}
		if i < len(w.reqExtra[id]) {
			h.Cookie, h.gotReq = header(w.reqExtra[id][i], "Cookie"), true
		}
		if i < len(w.resExtra[id]) {
			r := w.resExtra[id][i]
			h.Status = r.StatusCode
			h.Location = header(r.Headers, "Location")
			if sc := header(r.Headers, "Set-Cookie"); sc != "" {
				h.SetCookie = strings.Split(sc, "\n")
			}
		}
		complete = complete && h.gotReq && h.Status != 0
		hops = append(hops, h)
	}
	return hops, complete && len(hops) > 0
}

// What a page claims, read from its hooks.
type claimedCookie struct {
	Name   string `json:"name"`
	Prefix string `json:"prefix"`
	Attrs  string `json:"attrs"`
}

type claimedExchange struct {
	Method   string          `json:"method"`
	Path     string          `json:"path"`
	Status   int64           `json:"status,string"`
	Location string          `json:"location"`
	Sent     []claimedCookie `json:"sent"`
	Set      []claimedCookie `json:"set"`
}

type pageClaims struct {
	HasPanel  bool              `json:"hasPanel"`
	PanelSent []claimedCookie   `json:"panelSent"`
	PanelSet  []claimedCookie   `json:"panelSet"`
	Last      *claimedExchange  `json:"last"`
	Diagram   []claimedExchange `json:"diagram"`
}

const readClaims = `(() => {
  const ck = (root, attr) => [...root.querySelectorAll("[" + attr + "]")].map(e => ({name: e.getAttribute(attr), prefix: e.dataset.prefix || "", attrs: e.dataset.attrs || ""}));
  const ex = f => f && ({method: f.dataset.method, path: f.dataset.path, status: f.dataset.status, location: f.dataset.location || "", sent: ck(f, "data-cookie"), set: ck(f, "data-set-cookie")});
  const panel = document.querySelector("[data-panel=cookie]");
  return {hasPanel: !!panel, panelSent: panel ? ck(panel, "data-cookie") : [], panelSet: panel ? ck(panel, "data-set-cookie") : [],
    last: ex(document.querySelector("[data-exchange=last]")) || null, diagram: [...document.querySelectorAll("figure[data-exchange]")].map(ex)};
})()`

// wireCookies parses a raw Cookie header into name and value prefix.
func wireCookies(h string) []claimedCookie {
	var out []claimedCookie
	for _, part := range strings.Split(h, ";") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		name, val, _ := strings.Cut(part, "=")
		out = append(out, claimedCookie{Name: name, Prefix: ids.Prefix(val)})
	}
	return out
}

// wireSetCookie parses a raw Set-Cookie line: name, value prefix, attributes as sent.
func wireSetCookie(line string) claimedCookie {
	nv, attrs, _ := strings.Cut(line, ";")
	name, val, _ := strings.Cut(strings.TrimSpace(nv), "=")
	var as []string
	for _, a := range strings.Split(attrs, ";") {
		if a = strings.TrimSpace(a); a != "" {
			as = append(as, a)
		}
	}
	return claimedCookie{Name: name, Prefix: ids.Prefix(val), Attrs: strings.Join(as, "; ")}
}

func pathOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Path
}

// observer drives a tab and checks every page it lands on.
type observer struct {
	t          *testing.T
	ctx        context.Context
	wire       *wireLog
	pages      int
	mismatches []string
	// pageCheck runs after each page (the one-cookie rule of the shop walk).
	pageCheck func(step string)
}

func newObserver(t *testing.T) *observer {
	ctx, _ := newChrome(t)
	o := &observer{t: t, ctx: ctx}
	o.wire = recordWire(t, ctx)
	return o
}

// step runs an action that navigates, then compares the page's claims with
// the browser's record of that navigation.
func (o *observer) step(name string, action chromedp.Action[chromedp.Void]) {
	o.t.Helper()
	m := o.wire.mark()
	if _, err := chromedp.RunResponse(o.ctx, action); err != nil {
		o.t.Fatalf("%s: %v", name, err)
	}
	hops := o.wire.hopsSince(o.t, m)
	claims, err := chromedp.Run(o.ctx, chromedp.Evaluate[pageClaims](readClaims))
	if err != nil {
		o.t.Fatalf("%s: read the page's claims: %v", name, err)
	}
	o.pages++
	for _, p := range compareClaims(hops, claims) {
		o.mismatches = append(o.mismatches, name+": "+p)
	}
	if o.pageCheck != nil {
		o.pageCheck(name)
	}
}

func (o *observer) visit(u string) { o.t.Helper(); o.step("GET "+pathOf(u), chromedp.Navigate(u)) }

// submit fills the named fields of the first form matching css and presses its
// submit button (button is a CSS selector inside the form, "" for the first).
func (o *observer) submit(name, form string, fields map[string]string, button string) {
	o.t.Helper()
	var acts []chromedp.Action[chromedp.Void]
	for k, v := range fields {
		acts = append(acts, chromedp.SetValue(chromedp.CSS(form+` [name="`+k+`"]`), v))
	}
	if len(acts) > 0 {
		if err := chromedp.Do(o.ctx, acts...); err != nil {
			o.t.Fatalf("%s: fill %s: %v", name, form, err)
		}
	}
	if button == "" {
		button = `button[type="submit"]`
	}
	o.step(name, chromedp.Click(chromedp.CSS(form+" "+button), chromedp.NodeVisible))
}

func (o *observer) login(base, user, pass string) {
	o.t.Helper()
	o.visit(base + "/login")
	o.submit("log in as "+user, `form[action="/login"]`, map[string]string{"username": user, "password": pass}, "")
}

// report fails the test with every mismatch found.
func (o *observer) report() {
	o.t.Helper()
	if o.pages == 0 {
		o.t.Fatal("the observer checked no page")
	}
	for _, m := range o.mismatches {
		o.t.Error(m)
	}
	o.t.Logf("observer: %d pages compared with the browser's network record, %d mismatches", o.pages, len(o.mismatches))
}

// compareClaims lists every way the page's claims differ from the hops the
// browser recorded for it (the last hop is the page itself).
func compareClaims(hops []*wireHop, c pageClaims) []string {
	var bad []string
	final := hops[len(hops)-1]
	sent := wireCookies(final.Cookie)
	var set []claimedCookie
	for _, l := range final.SetCookie {
		set = append(set, wireSetCookie(l))
	}
	cmpCookies := func(what string, claimed, wire []claimedCookie, attrs bool) {
		if len(claimed) != len(wire) {
			bad = append(bad, fmt.Sprintf("%s: the page claims %d cookie(s) %v, the browser recorded %d %v", what, len(claimed), claimed, len(wire), wire))
			return
		}
		for i := range wire {
			w, cl := wire[i], claimed[i]
			if !attrs {
				w.Attrs, cl.Attrs = "", ""
			}
			if w != cl {
				bad = append(bad, fmt.Sprintf("%s #%d: the page claims %+v, the browser recorded %+v", what, i+1, cl, w))
			}
		}
	}
	cmpExchange := func(what string, cl claimedExchange, h *wireHop) {
		if cl.Method != h.Method || cl.Path != pathOf(h.URL) || cl.Status != h.Status || cl.Location != h.Location {
			bad = append(bad, fmt.Sprintf("%s: the page claims %s %s → %d (Location %q), the browser recorded %s %s → %d (Location %q)", what, cl.Method, cl.Path, cl.Status, cl.Location, h.Method, pathOf(h.URL), h.Status, h.Location))
		}
	}
	if c.HasPanel {
		cmpCookies("cookie panel, sent", c.PanelSent, sent, false)
		cmpCookies("cookie panel, Set-Cookie", c.PanelSet, set, true)
	}
	var before *wireHop
	if len(hops) > 1 {
		before = hops[len(hops)-2]
	}
	// A form's 303 must be shown as such whenever the page it led to has a
	// session to read it with (after logout the browser has none).
	mustShow := before != nil && before.Method == "POST" && strings.Contains(final.Cookie, cookieName+"=")
	switch {
	case c.Last != nil && before == nil:
		bad = append(bad, fmt.Sprintf("strip: claims a last request %s %s, but the browser made no request before this page", c.Last.Method, c.Last.Path))
	case c.Last != nil:
		cmpExchange("strip, last request", *c.Last, before)
		var bset []claimedCookie
		for _, l := range before.SetCookie {
			bset = append(bset, wireSetCookie(l))
		}
		cmpCookies("strip, last request, Cookie sent", c.Last.Sent, wireCookies(before.Cookie), false)
		cmpCookies("strip, last request, Set-Cookie", c.Last.Set, bset, true)
	case mustShow && c.HasPanel:
		bad = append(bad, fmt.Sprintf("strip: no word of %s %s → %d that led here", before.Method, pathOf(before.URL), before.Status))
	}
	if len(c.Diagram) > 0 {
		want := 1
		if c.Last != nil || mustShow {
			want = 2
		}
		if len(c.Diagram) != want {
			bad = append(bad, fmt.Sprintf("diagram: %d exchange(s) drawn, want %d (browser: %d hop(s))", len(c.Diagram), want, len(hops)))
		} else {
			if want == 2 {
				var bset []claimedCookie
				for _, l := range before.SetCookie {
					bset = append(bset, wireSetCookie(l))
				}
				cmpExchange("diagram, first exchange", c.Diagram[0], before)
				cmpCookies("diagram, first exchange, Cookie sent", c.Diagram[0].Sent, wireCookies(before.Cookie), false)
				cmpCookies("diagram, first exchange, Set-Cookie", c.Diagram[0].Set, bset, true)
			}
			d := c.Diagram[want-1]
			cmpExchange("diagram, this page", d, final)
			cmpCookies("diagram, this page, Cookie sent", d.Sent, sent, false)
			cmpCookies("diagram, this page, Set-Cookie", d.Set, set, true)
		}
	}
	return bad
}

// A learner shops, logs in and out and keeps notes in Chromium; on every
// page the panels and the strip say exactly what the browser's own network
// record says, and the browser never holds a cookie but sessionid (Path=/):
// the shop sets one cookie.
func TestBrowserPanelsMatchTheWireAndTheShopSetsOneCookie(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		o := newObserver(t)
		o.pageCheck = func(step string) {
			all, err := chromedp.Call(o.ctx, storage.GetCookies, storage.GetCookiesParams{})
			if err != nil {
				t.Fatalf("read the browser's cookies: %v", err)
			}
			for _, ck := range all.Cookies {
				if ck.Name != cookieName || ck.Path != "/" {
					t.Errorf("after %s the browser holds %s (Path=%s): the shop sets only %s", step, ck.Name, ck.Path, cookieName)
				}
			}
		}
		u := srv.URL
		o.visit(u + "/")
		o.visit(u + "/products/2")
		o.submit("add to cart", `form[action="/cart/add"]`, map[string]string{"quantity": "2"}, "")
		o.submit("change the quantity", `form.qty-form`, map[string]string{"quantity": "3"}, "")
		o.visit(u + "/notes") // anonymous: a redirect to the login form
		o.visit(u + "/login")
		o.submit("wrong password", `form[action="/login"]`, map[string]string{"username": "alice", "password": "nope"}, "")
		o.login(u, "alice", "wonderland")
		o.visit(u + "/cart")
		o.visit(u + "/notes")
		o.submit("add a note", `form[action="/notes"]`, map[string]string{"text": "remember the milk"}, "")
		o.submit("delete the note", `form[action$="/delete"]`, nil, "")
		o.visit(u + "/account")
		o.submit("log out", `form[action="/logout"]`, nil, "")
		o.visit(u + "/cart")
		o.report()
	})
}

// browserWalk says how a learner does each event-driven lesson step in the
// browser, through the real pages. Steps that happen outside this tab (a
// second device is curl, the cookie-theft and cross-site attacks run from
// the lab pages' scripts and another site, the expiry lab waits out a
// timeout) are walked by TestEveryLessonWalksToCompletion and the labs'
// browser tests; here they are listed with nil so that a new step fails
// until someone decides.
var browserWalk = map[string]func(o *observer, e *walkEnv){
	"http-forgets/open":       func(o *observer, e *walkEnv) { o.visit(e.base() + "/lessons/http-forgets") },
	"http-forgets/arrive":     observeMyCookie("http-forgets", "arrive"),
	"http-forgets/strangers":  nil, // curl without a jar
	"http-forgets/jar":        nil, // curl with a jar
	"http-forgets/visit-cart": func(o *observer, e *walkEnv) { o.visit(e.base() + "/cart") },

	"the-cookie/open":      func(o *observer, e *walkEnv) { o.visit(e.base() + "/lessons/the-cookie") },
	"the-cookie/find-it":   observeMyCookie("the-cookie", "find-it"),
	"the-cookie/sent-back": func(o *observer, e *walkEnv) { o.visit(e.base() + "/") },

	"the-session-record/open":   func(o *observer, e *walkEnv) { o.visit(e.base() + "/lessons/the-session-record") },
	"the-session-record/add":    walkAddToCart,
	"the-session-record/change": func(o *observer, e *walkEnv) { e.setQuantity(o, "3") },
	"the-session-record/remove": func(o *observer, e *walkEnv) { e.setQuantity(o, "0") },

	"logging-in/open":           func(o *observer, e *walkEnv) { o.visit(e.base() + "/lessons/logging-in") },
	"logging-in/anonymous-cart": walkAddToCart,
	"logging-in/wrong-password": func(o *observer, e *walkEnv) {
		o.visit(e.base() + "/login")
		o.submit("wrong password", `form[action="/login"]`, map[string]string{"username": "alice", "password": "nope"}, "")
	},
	// Logged in from the lesson, back to it: the diagram of the lesson page
	// then draws the rotation itself (POST with the old ID, 303 with the new).
	"logging-in/log-in": func(o *observer, e *walkEnv) {
		o.visit(e.base() + "/login?next=/lessons/logging-in")
		o.submit("log in as alice", `form[action="/login"]`, map[string]string{"username": "alice", "password": "wonderland"}, "")
		if n, _ := chromedp.Run(o.ctx, chromedp.Evaluate[int](`document.querySelectorAll("figure[data-exchange] [data-set-cookie]").length`)); n == 0 {
			o.t.Error("the lesson page after logging in draws no Set-Cookie of the rotation")
		}
	},
	"logging-in/rotated": observeMyCookie("logging-in", "rotated"),
	"logging-in/merged":  func(o *observer, e *walkEnv) { o.visit(e.base() + "/cart") },

	"come-back-later/open":   func(o *observer, e *walkEnv) { o.visit(e.base() + "/lessons/come-back-later") },
	"come-back-later/log-in": func(o *observer, e *walkEnv) { o.login(e.base(), "bob", "builder") },
	"come-back-later/note": func(o *observer, e *walkEnv) {
		o.visit(e.base() + "/notes")
		o.submit("add a note", `form[action="/notes"]`, map[string]string{"text": "remember the milk ✓"}, "")
	},
	"come-back-later/save-cart":   walkAddToCart,
	"come-back-later/log-out":     walkLogout,
	"come-back-later/back-again":  func(o *observer, e *walkEnv) { o.login(e.base(), "bob", "builder") },
	"come-back-later/new-browser": nil, // a second browser
	"come-back-later/restart": func(o *observer, e *walkEnv) {
		e.srv.stop()
		e.srv = startServer(e.root, e.dbURL)
		o.visit(e.base() + "/")
	},

	"logging-out/open": func(o *observer, e *walkEnv) { o.visit(e.base() + "/lessons/logging-out") },
	"logging-out/account": func(o *observer, e *walkEnv) {
		walkLogout(o, e)
		o.login(e.base(), "alice", "wonderland")
		o.visit(e.base() + "/account")
	},
	// The second device is curl in the lesson: another client, same account.
	"logging-out/second-device": func(o *observer, e *walkEnv) {
		e.curl = e.srv.newBrowser(e.root)
		e.curl.login("alice", "wonderland")
	},
	"logging-out/curl-logout": func(o *observer, e *walkEnv) {
		old := e.curl.sessionID()
		e.curl.submit("/logout", nil)
		e.curl.setSessionID(old)
		e.curl.get("/account")
	},
	"logging-out/replay":          nil, // curl's old cookie
	"logging-out/still-in":        func(o *observer, e *walkEnv) { o.visit(e.base() + "/account") },
	"logging-out/change-password": nil, // the curriculum walk changes the password (and back)
	"logging-out/browser-logout":  walkLogout,

	"cookie-attributes/open":            func(o *observer, e *walkEnv) { o.visit(e.base() + "/lessons/cookie-attributes") },
	"cookie-attributes/read-set-cookie": observeMyCookie("cookie-attributes", "read-set-cookie"),
	"cookie-attributes/theft-weak":      nil, // the lab page's script
	"cookie-attributes/theft-defended":  nil,
	"cookie-attributes/cross-site":      nil, // another site

	"session-fixation/open":         func(o *observer, e *walkEnv) { o.visit(e.base() + "/lessons/session-fixation") },
	"session-fixation/lab-weak":     func(o *observer, e *walkEnv) { e.simulate(o, "fixation", "weak") },
	"session-fixation/lab-defended": func(o *observer, e *walkEnv) { e.simulate(o, "fixation", "defended") },
	"session-fixation/see-rotation": func(o *observer, e *walkEnv) { o.login(e.base(), "alice", "wonderland") },

	"timeouts/open":            func(o *observer, e *walkEnv) { o.visit(e.base() + "/lessons/timeouts") },
	"timeouts/read-times":      nil, // typed like the cookie steps; the curriculum walk checks the value
	"timeouts/expiry-weak":     nil, // waits out the idle timeout
	"timeouts/expiry-defended": nil,

	"beyond-one-machine/open": func(o *observer, e *walkEnv) { o.visit(e.base() + "/lessons/beyond-one-machine") },
	"beyond-one-machine/second-instance": func(o *observer, e *walkEnv) {
		e.other = startServer(e.root, e.dbURL, withInstance("right"))
		o.visit(e.other.URL + "/")
	},
	"beyond-one-machine/shop-there": func(o *observer, e *walkEnv) {
		o.visit(e.other.URL + "/products/2")
		o.submit("add to cart on the second instance", `form[action="/cart/add"]`, nil, "")
	},
	"beyond-one-machine/back-again": func(o *observer, e *walkEnv) { o.visit(e.base() + "/cart") },

	"sessions-without-a-record/open":              func(o *observer, e *walkEnv) { o.visit(e.base() + "/lessons/sessions-without-a-record") },
	"sessions-without-a-record/tamper-weak":       func(o *observer, e *walkEnv) { e.simulate(o, "client-side", "weak") },
	"sessions-without-a-record/tamper-signed":     func(o *observer, e *walkEnv) { e.simulate(o, "client-side", "signed") },
	"sessions-without-a-record/replay-signed":     func(o *observer, e *walkEnv) { e.simulate(o, "client-side", "signed") },
	"sessions-without-a-record/replay-revocation": func(o *observer, e *walkEnv) { e.simulate(o, "client-side", "revocation") },
	"sessions-without-a-record/shop-replay":       nil, // curl with a copied jar
	"sessions-without-a-record/token-steal":       nil, // the lab page's script (clientside_browser_test.go)
}

// walkEnv is what the browser walk needs besides the tab.
type walkEnv struct {
	root         *testing.T
	dbURL        string
	srv, other   *testServer
	curl         *browser
	loggedIn     bool
	driven, away int
}

func (e *walkEnv) base() string { return e.srv.URL }

func walkAddToCart(o *observer, e *walkEnv) {
	o.visit(e.base() + "/products/2")
	o.submit("add to cart", `form[action="/cart/add"]`, nil, "")
}

func (e *walkEnv) setQuantity(o *observer, q string) {
	o.visit(e.base() + "/cart")
	o.submit("set the quantity to "+q, `form.qty-form`, map[string]string{"quantity": q}, "")
}

// logout presses the header's Log out button when someone is logged in.
// observeMyCookie types the first 6 characters of the tab's sessionid into
// an observe step's form, as a learner reading DevTools does.
func observeMyCookie(slug, step string) func(o *observer, e *walkEnv) {
	return func(o *observer, e *walkEnv) {
		o.visit(e.base() + "/lessons/" + slug)
		var value string
		for _, c := range browserCookies(o.t, o.ctx, e.base()) {
			if c.Name == cookieName {
				value = c.Value
			}
		}
		if len(value) < 6 {
			o.t.Fatalf("%s/%s: the tab holds no sessionid", slug, step)
		}
		o.submit("type what I saw", `form[id="`+step+`"]`, map[string]string{"value": value[:6]}, "")
	}
}

func walkLogout(o *observer, e *walkEnv) {
	if ok, _ := chromedp.Run(o.ctx, chromedp.Evaluate[bool](`!!document.querySelector('form[action="/logout"]')`)); ok {
		o.submit("log out", `form[action="/logout"]`, nil, "")
	}
}

// simulate switches a lab to mode on its page and runs the whole simulated attack.
func (e *walkEnv) simulate(o *observer, lab, mode string) {
	o.visit(e.base() + "/lab/" + lab)
	if on, _ := chromedp.Run(o.ctx, chromedp.Evaluate[bool](`!!document.querySelector(".lab-mode-`+mode+`.is-on")`)); !on {
		o.submit("switch the lab to "+mode, `form.lab-switch`, nil, `button[value="`+mode+`"]`)
	}
	o.submit("run the "+mode+" attack", `form[action="/lab/`+lab+`/sim"]`, nil, `button[value="all"]`)
}

// answer tries the choices of a question on its lesson page until the
// page says right, as a learner would.
func (o *observer) answer(base, slug, qid string, choices []string) {
	o.t.Helper()
	form := `form[id="` + qid + `"]`
	for _, c := range choices {
		if err := chromedp.Do(o.ctx, chromedp.Click(chromedp.CSS(form+` input[value="`+c+`"]`), chromedp.NodeVisible)); err != nil {
			o.t.Fatalf("answer %s/%s: pick %s: %v", slug, qid, c, err)
		}
		o.step("answer "+slug+"/"+qid+"="+c, chromedp.Click(chromedp.CSS(form+` button[type="submit"]`), chromedp.NodeVisible))
		if right, _ := chromedp.Run(o.ctx, chromedp.Evaluate[bool](`!!document.querySelector('`+form+` .feedback.right')`)); right {
			return
		}
		// A question after a step this tab cannot do stays locked.
		if locked, _ := chromedp.Run(o.ctx, chromedp.Evaluate[bool](`(document.querySelector('`+form+` .feedback')?.innerText ?? "").includes("steps above this one first")`)); locked {
			return
		}
	}
	steps, _ := chromedp.Run(o.ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("li.step")].map(s => s.id + (s.classList.contains("done") ? " done" : "")).join(", ")`))
	o.t.Fatalf("no choice of %s/%s was right (steps: %s)", slug, qid, steps)
}

// A learner walks every lesson in Chromium, step by step through the real
// pages (forms, the lab page's buttons, a second instance, a restart), and
// answers every question: on every page, above all the lesson pages with
// their exchange diagram, the panels, the strip and the diagram say what
// the browser's own network record says, redirects as two exchanges.
func TestBrowserLessonWalkPanelsAndDiagramMatchTheWire(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		e := &walkEnv{root: t, dbURL: dbURL}
		e.srv = startServer(t, dbURL)
		o := newObserver(t)
		diagrams := 0
		o.pageCheck = func(string) {
			if n, _ := chromedp.Run(o.ctx, chromedp.Evaluate[int](`document.querySelectorAll("figure[data-exchange]").length`)); n > 0 {
				diagrams++
			}
		}
		for _, l := range e.srv.app.lessons.Lessons() {
			if _, ok := walkedElsewhere[l.Slug]; ok {
				continue
			}
			// Each lesson starts in a fresh browser, as the curriculum walk does.
			if _, err := chromedp.Call(o.ctx, storage.ClearCookies, storage.ClearCookiesParams{}); err != nil {
				t.Fatalf("clear cookies: %v", err)
			}
			lessonPage := func() { o.visit(e.base() + "/lessons/" + l.Slug) }
			lessonPage()
			for _, st := range l.Steps {
				key := l.Slug + "/" + st.ID
				if st.Question != nil {
					lessonPage()
					o.answer(e.base(), l.Slug, st.ID, choiceIDs(st.Question.Choices))
					continue
				}
				do, ok := browserWalk[key]
				if !ok {
					t.Fatalf("no browser walk for step %s: add one to browserWalk (nil if it happens outside the tab)", key)
				}
				if do == nil {
					e.away++
					continue
				}
				do(o, e)
				e.driven++
			}
			lessonPage()
			for _, q := range l.Quiz {
				o.answer(e.base(), l.Slug, q.ID, choiceIDs(q.Choices))
			}
		}
		if diagrams < 20 {
			t.Errorf("only %d pages drew the exchange diagram: the walk did not look at the lessons", diagrams)
		}
		t.Logf("%d steps driven in the browser, %d walked elsewhere; %d pages with a diagram", e.driven, e.away, diagrams)
		o.report()
	})
}

func choiceIDs(cs []lessons.Choice) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}
