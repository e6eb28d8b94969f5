package main

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"sessionlab/db"
	"sessionlab/ids"
	"sessionlab/internal/dbcmd"
	"sessionlab/lessons"
)

// walker is one learner going through the curriculum: a browser, the server
// it talks to, and whatever else a step needs (a second device, a second
// instance, a restart).
type walker struct {
	t       testing.TB
	root    testing.TB // servers live as long as the whole walk
	dbURL   string
	srv     *testServer
	b       *browser
	other   *testServer                   // a second instance on the same database, once started
	curl    *browser                      // a second device logged in to the same account
	curlOld string                        // the second device's ID before it logged out
	check   func(w *walker, after string) // run after every step and answer, if set
	// user and pass: the learner's own account (sign-up); the demo account
	// alice when empty.
	user, pass string
	// opts start the server again at a restart (the same address, say).
	opts []serverOption
}

func (w *walker) account() (user, pass string) {
	if w.user == "" {
		return "alice", "wonderland"
	}
	return w.user, w.pass
}

// login logs the browser in to the learner's account.
func (w *walker) login() {
	w.t.Helper()
	w.b.login(w.account())
}

func (w *walker) addToCart() {
	w.t.Helper()
	if r := w.b.submit("/cart/add", url.Values{"product_id": {"2"}, "quantity": {"1"}}); r.Status != http.StatusSeeOther {
		w.t.Fatalf("add to cart: %d", r.Status)
	}
}

// logout logs out through the top bar's form as a page of lesson slug shows
// it (next back to the lesson), and follows the redirects as a browser
// would: the learner lands on the lesson with their progress resumed.
func (w *walker) logout(slug string) {
	w.t.Helper()
	r := w.b.submit("/logout", url.Values{"next": {"/lessons/" + slug}})
	for hops := 0; r.Status == http.StatusSeeOther; hops++ {
		if hops > 3 {
			w.t.Fatalf("logout: too many redirects")
		}
		r = w.b.get(r.Header.Get("Location"))
	}
	if r.Status != http.StatusOK {
		w.t.Fatalf("logout: landed on %d", r.Status)
	}
}

// restart stops the server and starts a new one on the same database; the
// browser keeps its cookie jar (cookies are per host, not per port).
func (w *walker) restart() {
	w.t.Helper()
	w.srv.stop()
	w.srv = startServer(w.root, w.dbURL, w.opts...)
	w.b.srv = w.srv
}

// fresh is a request from a client without a cookie (curl without a jar):
// it returns the start of the ID the server issued to it.
func (w *walker) fresh() string {
	w.t.Helper()
	b := w.srv.newBrowser(w.t)
	b.get("/")
	return b.sessionID()[:6]
}

// switchTo points the browser at another instance.
func (w *walker) switchTo(s *testServer) { w.b.srv = s }

// stepWalk is what a learner does for a step that completes from evidence.
// do is the step's action; for an observe step it may be nil (the value is
// already there to read), and observe returns what the learner reads and
// types back.
type stepWalk struct {
	do      func(w *walker)
	observe func(w *walker) string
}

func visit(path string) stepWalk {
	return stepWalk{do: func(w *walker) { w.b.get(path) }}
}

// myCookie is an observe step reading the browser's own sessionid.
var myCookie = stepWalk{observe: func(w *walker) string { return w.b.sessionID()[:6] }}

func logoutFrom(slug string) stepWalk {
	return stepWalk{do: func(w *walker) { w.logout(slug) }}
}

// curriculumWalk says, for every step of every lesson that completes from
// evidence, what the learner does. Question steps and quizzes are answered
// through the form. A step missing here fails TestEveryLessonWalksToCompletion,
// so a new step cannot ship without a walk.
var curriculumWalk = map[string]stepWalk{
	"http-forgets/open":   visit("/lessons/http-forgets"),
	"http-forgets/arrive": myCookie,
	"http-forgets/strangers": {observe: func(w *walker) string {
		return w.fresh() + " " + w.fresh()
	}},
	"http-forgets/visit-cart": visit("/cart"),
	"http-forgets/jar":        {observe: (*walker).fresh},

	"the-cookie/open":      visit("/lessons/the-cookie"),
	"the-cookie/find-it":   myCookie,
	"the-cookie/sent-back": visit("/"),

	"the-session-record/open": visit("/lessons/the-session-record"),
	"the-session-record/add":  {do: (*walker).addToCart},
	"the-session-record/change": {do: func(w *walker) {
		w.b.submit("/cart/update", url.Values{"product_id": {"2"}, "quantity": {"3"}})
	}},
	"the-session-record/remove": {do: func(w *walker) {
		w.b.submit("/cart/update", url.Values{"product_id": {"2"}, "quantity": {"0"}})
	}},

	"logging-in/open":           visit("/lessons/logging-in"),
	"logging-in/anonymous-cart": {do: (*walker).addToCart},
	"logging-in/wrong-password": {do: func(w *walker) {
		if r := w.b.submit("/login", url.Values{"username": {"alice"}, "password": {"nope"}}); r.Status != http.StatusUnauthorized {
			w.t.Fatalf("wrong password: %d", r.Status)
		}
	}},
	"logging-in/log-in":  {do: func(w *walker) { w.login() }},
	"logging-in/rotated": myCookie,
	"logging-in/merged":  visit("/cart"),

	"come-back-later/open":   visit("/lessons/come-back-later"),
	"come-back-later/log-in": {do: func(w *walker) { w.login() }},
	"come-back-later/note": {do: func(w *walker) {
		w.b.submit("/notes", url.Values{"text": {"remember the milk ✓"}})
	}},
	"come-back-later/save-cart":  {do: (*walker).addToCart},
	"come-back-later/log-out":    logoutFrom("come-back-later"),
	"come-back-later/back-again": {do: func(w *walker) { w.login() }},
	"come-back-later/new-browser": {observe: func(w *walker) string {
		other := w.srv.newBrowser(w.t)
		other.login(w.account())
		return other.sessionID()[:6]
	}},
	"come-back-later/restart": {do: func(w *walker) { w.restart(); w.b.get("/") }},

	"logging-out/open": visit("/lessons/logging-out"),
	"logging-out/account": {do: func(w *walker) {
		w.login()
		if r := w.b.get("/account"); r.Status != http.StatusOK {
			w.t.Fatalf("/account after login: %d", r.Status)
		}
	}},
	// The second device is curl in the lesson: another cookie jar, same account.
	"logging-out/second-device": {observe: func(w *walker) string {
		w.curl = w.srv.newBrowser(w.t)
		w.curl.login(w.account())
		return w.curl.sessionID()[:6]
	}},
	"logging-out/curl-logout": {observe: func(w *walker) string {
		w.curlOld = w.curl.sessionID()
		if r := w.curl.submit("/logout", nil); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/" {
			w.t.Fatalf("curl logout: %d → %q, want 303 /", r.Status, r.Header.Get("Location"))
		}
		return w.curlOld[:6]
	}},
	"logging-out/replay": {observe: func(w *walker) string {
		// The replay: the old cookie gets nothing.
		w.curl.setSessionID(w.curlOld)
		if r := w.curl.get("/account"); r.Status != http.StatusSeeOther {
			w.t.Fatalf("replayed cookie after logout: /account = %d, want a redirect to /login", r.Status)
		}
		return w.curlOld[:6]
	}},
	"logging-out/still-in": visit("/account"),
	// Changed and changed back, so the account keeps the password the rest
	// of the walk (and other walkers on alice) log in with.
	"logging-out/change-password": {do: func(w *walker) {
		user, pass := w.account()
		for _, change := range [][2]string{{pass, pass + "-new"}, {pass + "-new", pass}} {
			if r := w.b.submit("/account/password", url.Values{"current_password": {change[0]}, "new_password": {change[1]}}); r.Status != http.StatusSeeOther {
				w.t.Fatalf("change %s's password: %d\n%s", user, r.Status, r.Body)
			}
		}
	}},
	"logging-out/browser-logout": logoutFrom("logging-out"),

	"cookie-attributes/open":            visit("/lessons/cookie-attributes"),
	"cookie-attributes/read-set-cookie": myCookie,
	// Cookie theft and cross-site need a real browser (labs_browser_test.go);
	// here their endpoints get exactly what the browser sends.
	"cookie-attributes/theft-weak":     {do: func(w *walker) { stealLabCookie(w.t, w.b, "weak") }},
	"cookie-attributes/theft-defended": {do: func(w *walker) { stealLabCookie(w.t, w.b, "defended") }},
	"cookie-attributes/cross-site":     {do: func(w *walker) { crossSiteAttack(w.t, w.srv, w.b, "defended", false) }},

	"session-fixation/open":         visit("/lessons/session-fixation"),
	"session-fixation/lab-weak":     {do: func(w *walker) { w.b.setLabMode("fixation", "weak"); w.b.simulate("fixation", "all", nil) }},
	"session-fixation/lab-defended": {do: func(w *walker) { w.b.setLabMode("fixation", "defended"); w.b.simulate("fixation", "all", nil) }},
	"session-fixation/see-rotation": {do: func(w *walker) { w.login() }},

	"timeouts/open": visit("/lessons/timeouts"),
	"timeouts/read-times": {observe: func(w *walker) string {
		exp, err := time.Parse(time.RFC3339, w.b.apiState().Session.ExpiresAt)
		if err != nil {
			w.t.Fatalf("expires_at: %v", err)
		}
		return exp.UTC().Format("15:04")
	}},
	"timeouts/expiry-weak":     {do: func(w *walker) { expireLabSession(w, "weak") }},
	"timeouts/expiry-defended": {do: func(w *walker) { expireLabSession(w, "defended") }},

	"beyond-one-machine/open": visit("/lessons/beyond-one-machine"),
	"beyond-one-machine/second-instance": {do: func(w *walker) {
		w.other = startServer(w.root, w.dbURL, withInstance("right"))
		w.switchTo(w.other)
		w.b.get("/")
	}},
	"beyond-one-machine/shop-there": {do: (*walker).addToCart},
	"beyond-one-machine/back-again": {do: func(w *walker) { w.switchTo(w.srv); w.b.get("/cart") }},

	"sessions-without-a-record/open":              visit("/lessons/sessions-without-a-record"),
	"sessions-without-a-record/tamper-weak":       {do: func(w *walker) { w.b.setLabMode("client-side", "weak"); w.b.simulate("client-side", "all", nil) }},
	"sessions-without-a-record/tamper-signed":     {do: func(w *walker) { w.b.setLabMode("client-side", "signed"); w.b.simulate("client-side", "all", nil) }},
	"sessions-without-a-record/replay-signed":     {do: func(w *walker) { w.b.simulate("client-side", "all", nil) }},
	"sessions-without-a-record/replay-revocation": {do: func(w *walker) { w.b.setLabMode("client-side", "revocation"); w.b.simulate("client-side", "all", nil) }},
	"sessions-without-a-record/shop-replay": {observe: func(w *walker) string {
		other := w.srv.newBrowser(w.t)
		other.login(w.account())
		old := other.sessionID()
		other.submit("/logout", nil)
		other.setSessionID(old)
		if r := other.get("/account"); r.Status != http.StatusSeeOther {
			w.t.Fatalf("the shop's cookie replayed after logout: /account = %d", r.Status)
		}
		return old[:6]
	}},
	// The injected script needs a real browser (clientside_browser_test.go);
	// here its endpoint gets what the script sends.
	"sessions-without-a-record/token-steal": {do: func(w *walker) {
		w.b.setLabMode("client-side", "token")
		stealClientSideToken(w.t, w.srv, w.b)
	}},
}

// walkedElsewhere names lessons whose walk needs more than one database or
// a lab, each walked by its own test.
var walkedElsewhere = map[string]string{"where-sessions-live": "TestLessonWhereSessionsLiveWalksTheRealMove"}

// A learner walks every lesson, in order, from a fresh browser; each step
// completes exactly when its action happens and not before, and the lesson
// ends done. All along, the session's data stays a shop's session (user,
// cart, CSRF token): the progress piles up in its own table, not in the row
// the session panel shows.
func TestEveryLessonWalksToCompletion(t *testing.T) {
	forEachDB(t, func(root *testing.T, dbURL string) {
		srv := startServer(root, dbURL)
		largest := 0
		for _, l := range srv.app.lessons.Lessons() {
			if _, ok := walkedElsewhere[l.Slug]; ok {
				continue
			}
			root.Run(l.Slug, func(t *testing.T) {
				w := &walker{t: t, root: root, dbURL: dbURL, srv: srv, b: srv.newBrowser(t)}
				w.check = func(w *walker, after string) {
					largest = max(largest, checkShopSessionData(w.t, w.srv, w.b, after))
				}
				walkLesson(w, l)
				srv = w.srv // a restart replaces the server
			})
		}
		root.Logf("largest session data during the walk: %d bytes", largest)
	})
}

func walkLesson(w *walker, l *lessons.Lesson) { walkLessonWith(w, l, curriculumWalk) }

// lessonDone is the set of the lesson's steps done for the browser.
func (w *walker) lessonDone(l *lessons.Lesson) map[string]bool {
	w.t.Helper()
	out := map[string]bool{}
	for k := range w.b.progress() {
		if strings.HasPrefix(k, l.Slug+"/") {
			out[k] = true
		}
	}
	return out
}

// observe types a value into an observe step's form, as the learner does.
func (w *walker) observe(l *lessons.Lesson, step, value string) {
	w.t.Helper()
	if r := w.b.submit("/lessons/"+l.Slug+"/answer", url.Values{"question": {step}, "value": {value}}); r.Status != http.StatusSeeOther {
		w.t.Fatalf("observe %s/%s: %d", l.Slug, step, r.Status)
	}
}

// walkLessonWith walks a lesson step by step, strictly: each step is not
// done before its own action, and its action ticks it and nothing else in
// the lesson (not the next step, not one after it). An observe step is not
// ticked by what produced the value, nor by a wrong value, only by the
// right one typed back.
func walkLessonWith(w *walker, l *lessons.Lesson, curriculumWalk map[string]stepWalk) {
	t := w.t
	t.Helper()
	for i := range l.Steps {
		st := l.Steps[i]
		key := l.Slug + "/" + st.ID
		before := w.lessonDone(l)
		if before[key] {
			t.Fatalf("%s was done before its action", key)
		}
		walk, ok := curriculumWalk[key]
		switch {
		case st.Question != nil:
			w.b.answerRight(l.Slug, st.ID)
		case !ok:
			t.Fatalf("no walk for step %s: add one to curriculumWalk", key)
		case st.Observe != nil:
			if walk.observe == nil {
				t.Fatalf("%s is an observe step: its walk needs observe", key)
			}
			if walk.do != nil {
				walk.do(w)
			}
			value := walk.observe(w)
			if now := w.lessonDone(l); !maps.Equal(now, before) {
				t.Fatalf("%s: the action behind the value ticked %v before the value was typed", key, now)
			}
			w.observe(l, st.ID, "zz"+value)
			if now := w.lessonDone(l); now[key] {
				t.Fatalf("%s ticked on a wrong value", key)
			}
			w.observe(l, st.ID, value)
		default:
			walk.do(w)
		}
		if w.check != nil {
			w.check(w, key)
		}
		after := w.lessonDone(l)
		want := maps.Clone(before)
		want[key] = true
		if !maps.Equal(after, want) {
			t.Fatalf("%s: after its action the lesson's done steps are %v, want %v (its action ticks it, and only it)", key, slices.Sorted(maps.Keys(after)), slices.Sorted(maps.Keys(want)))
		}
	}
	if w.b.progress()[l.Slug] {
		t.Fatalf("lesson %s counts as done before its quiz", l.Slug)
	}
	for _, q := range l.Quiz {
		w.b.answerRight(l.Slug, q.ID)
		if w.check != nil {
			w.check(w, l.Slug+" quiz "+q.ID)
		}
	}
	if !w.b.progress()[l.Slug] {
		t.Fatalf("lesson %s not done after every step and question", l.Slug)
	}
}

// Lesson 10 is the seed's move from SQLite to MariaDB (docs/MIGRATING.md), done for real: the
// learner shops and logs in on SQLite, stops the server, runs `db copy`,
// starts on MariaDB, and is still logged in; the lesson ticks its steps.
func TestLessonWhereSessionsLiveWalksTheRealMove(t *testing.T) {
	src := freshDatabase(t, db.SQLite)
	dst := freshDatabase(t, db.MariaDB)
	w := &walker{t: t, root: t, dbURL: src}
	w.srv = startServer(t, src)
	w.b = w.srv.newBrowser(t)
	l, _ := w.srv.app.lessons.Lesson("where-sessions-live")
	var before string
	curriculumWalk := map[string]stepWalk{
		"where-sessions-live/open": visit("/lessons/where-sessions-live"),
		"where-sessions-live/copy": {do: func(w *walker) {
			w.b.login("alice", "wonderland")
			w.addToCart()
			before = w.b.sessionID()
			w.srv.stop()
			var out, errOut strings.Builder
			if err := dbcmd.Run([]string{"copy", "--from", src, "--to", dst}, &out, &errOut); err != nil {
				t.Fatalf("db copy: %v\n%s\n%s", err, out.String(), errOut.String())
			}
			w.dbURL = dst
			w.srv = startServer(t, dst)
			w.b.srv = w.srv
			page := w.b.get("/account")
			if page.Status != http.StatusOK {
				t.Fatalf("after the move /account = %d: the session did not survive", page.Status)
			}
			if !strings.Contains(page.Body, "Your session moved with db copy from SQLite to MariaDB") {
				t.Error("the strip does not say the session moved")
			}
			if strings.Count(page.Body, ids.Prefix(ids.Hash(before))) < 2 {
				t.Errorf("the strip does not quote the key prefix %s… before and after", ids.Prefix(ids.Hash(before)))
			}
		}},
		"where-sessions-live/restart-on-mariadb": visit("/account"),
	}
	walkLessonWith(w, l, curriculumWalk)
	if w.b.sessionID() != before {
		t.Error("the move changed the session ID")
	}
	// A second restart on MariaDB does not announce the copy again.
	w.srv.stop()
	w.srv = startServer(t, dst)
	w.b.srv = w.srv
	if page := w.b.get("/"); strings.Contains(page.Body, "moved with db copy") {
		t.Error("the copy was announced twice")
	}
}
