package main

import (
	"context"
	"net/http"
	"net/url"
	"sessionlab/ids"
	"strconv"
	"strings"
	"testing"

	"sessionlab/db"
	"sessionlab/internal/dbcmd"
	"sessionlab/lessons"
)

// walker is one learner going through the curriculum: a browser, the server
// it talks to, and whatever else a step needs (a second device, a second
// instance, a restart).
type walker struct {
	t     *testing.T
	root  *testing.T // servers live as long as the whole walk
	dbURL string
	srv   *testServer
	b     *browser
	other *testServer                   // a second instance on the same database, once started
	curl  *browser                      // a second device logged in to the same account
	check func(w *walker, after string) // run after every step and answer, if set
}

func (w *walker) addToCart() {
	w.t.Helper()
	if r := w.b.submit("/cart/add", url.Values{"product_id": {"2"}, "quantity": {"1"}}); r.Status != http.StatusSeeOther {
		w.t.Fatalf("add to cart: %d", r.Status)
	}
}

func (w *walker) logout() {
	w.t.Helper()
	if r := w.b.submit("/logout", nil); r.Status != http.StatusSeeOther {
		w.t.Fatalf("logout: %d", r.Status)
	}
}

// restart stops the server and starts a new one on the same database; the
// browser keeps its cookie jar (cookies are per host, not per port).
func (w *walker) restart() {
	w.t.Helper()
	w.srv.stop()
	w.srv = startServer(w.root, w.dbURL)
	w.b.srv = w.srv
}

// accountDone reads the progress saved for a user's account, from the
// database: what the learner finds again at their next login.
func (w *walker) accountDone(username string) map[string]bool {
	w.t.Helper()
	ctx := context.Background()
	u, err := w.srv.db.UserByName(ctx, username)
	if err != nil {
		w.t.Fatalf("user %s: %v", username, err)
	}
	rows, err := w.srv.db.Progress(ctx, "u:"+strconv.FormatInt(u.ID, 10))
	if err != nil {
		w.t.Fatalf("progress of %s: %v", username, err)
	}
	done := map[string]bool{}
	for _, r := range rows {
		if r.Done {
			done[r.Lesson+"/"+r.Item] = true
		}
	}
	return done
}

// switchTo points the browser at another instance.
func (w *walker) switchTo(s *testServer) { w.b.srv = s }

// stepWalk is what a learner does for a step that completes by itself.
// sameRequest marks a step completed by the previous step's request (a
// login is login.succeeded, session.rotated and cart.merged at once).
// account names the user whose saved progress shows the step when the
// action logs the browser out (an anonymous session starts with no ticks).
type stepWalk struct {
	do          func(w *walker)
	sameRequest bool
	account     string
}

func visit(path string) stepWalk {
	return stepWalk{do: func(w *walker) { w.b.get(path) }}
}

var passwords = map[string]string{"alice": "wonderland", "bob": "builder"}

var alongside = stepWalk{sameRequest: true}

// curriculumWalk says, for every step of every lesson that completes from
// an event, what the learner does. Question steps and quizzes are answered
// through the form. A step missing here fails TestEveryLessonWalksToCompletion,
// so a new step cannot ship without a walk.
var curriculumWalk = map[string]stepWalk{
	"http-forgets/arrive":     visit("/"),
	"http-forgets/visit-cart": visit("/cart"),

	"the-cookie/open":      visit("/lessons/the-cookie"),
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
	"logging-in/log-in":  {do: func(w *walker) { w.b.login("alice", "wonderland") }},
	"logging-in/rotated": alongside,
	"logging-in/merged":  alongside,

	"come-back-later/open":   visit("/lessons/come-back-later"),
	"come-back-later/log-in": {do: func(w *walker) { w.b.login("bob", "builder") }},
	"come-back-later/note": {do: func(w *walker) {
		w.b.submit("/notes", url.Values{"text": {"remember the milk ✓"}})
	}},
	"come-back-later/save-cart":  {do: (*walker).addToCart},
	"come-back-later/log-out":    {do: (*walker).logout, account: "bob"},
	"come-back-later/back-again": {do: func(w *walker) { w.b.login("bob", "builder") }},
	"come-back-later/restart":    {do: func(w *walker) { w.restart(); w.b.get("/") }},

	"logging-out/open": visit("/lessons/logging-out"),
	"logging-out/account": {do: func(w *walker) {
		w.b.login("alice", "wonderland")
		if r := w.b.get("/account"); r.Status != http.StatusOK {
			w.t.Fatalf("/account after login: %d", r.Status)
		}
	}},
	// The second device is curl in the lesson: another cookie jar, same account.
	"logging-out/second-device": {do: func(w *walker) {
		w.curl = w.srv.newBrowser(w.t)
		w.curl.login("alice", "wonderland")
	}},
	"logging-out/curl-logout": {do: func(w *walker) {
		curl := w.curl
		old := curl.sessionID()
		if r := curl.submit("/logout", nil); r.Status != http.StatusSeeOther {
			w.t.Fatalf("curl logout: %d", r.Status)
		}
		// The replay the next step asks about: the old cookie gets nothing.
		curl.setSessionID(old)
		if r := curl.get("/account"); r.Status != http.StatusSeeOther {
			w.t.Fatalf("replayed cookie after logout: /account = %d, want a redirect to /login", r.Status)
		}
	}},
	"logging-out/still-in":       visit("/account"),
	"logging-out/browser-logout": {do: (*walker).logout, account: "alice"},

	"cookie-attributes/open": visit("/lessons/cookie-attributes"),
	// Cookie theft and cross-site need a real browser (labs_browser_test.go);
	// here their endpoints get exactly what the browser sends.
	"cookie-attributes/theft-weak":     {do: func(w *walker) { stealLabCookie(w.t, w.b, "weak") }},
	"cookie-attributes/theft-defended": {do: func(w *walker) { stealLabCookie(w.t, w.b, "defended") }},
	"cookie-attributes/cross-site":     {do: func(w *walker) { crossSiteAttack(w.t, w.srv, w.b, "defended", false) }},

	"session-fixation/open":         visit("/lessons/session-fixation"),
	"session-fixation/lab-weak":     {do: func(w *walker) { w.b.setLabMode("fixation", "weak"); w.b.simulate("fixation", "all", nil) }},
	"session-fixation/lab-defended": {do: func(w *walker) { w.b.setLabMode("fixation", "defended"); w.b.simulate("fixation", "all", nil) }},
	"session-fixation/see-rotation": {do: func(w *walker) { w.b.login("alice", "wonderland") }},

	"timeouts/open":            visit("/lessons/timeouts"),
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

func walkLessonWith(w *walker, l *lessons.Lesson, curriculumWalk map[string]stepWalk) {
	t := w.t
	t.Helper()
	for i := range l.Steps {
		st := l.Steps[i]
		key := l.Slug + "/" + st.ID
		if st.Question != nil {
			if w.b.progress()[key] {
				t.Fatalf("question %s was done before it was answered", key)
			}
			w.b.answerRight(l.Slug, st.ID)
		} else {
			walk, ok := curriculumWalk[key]
			if !ok {
				t.Fatalf("no walk for step %s: add one to curriculumWalk", key)
			}
			if !walk.sameRequest {
				if w.b.progress()[key] {
					t.Fatalf("%s was done before its action", key)
				}
				walk.do(w)
			}
		}
		if w.check != nil {
			w.check(w, key)
		}
		if walk := curriculumWalk[key]; walk.account != "" {
			if !w.accountDone(walk.account)[key] {
				t.Fatalf("%s not saved in %s's account after its action", key, walk.account)
			}
			continue
		}
		if !w.b.progress()[key] {
			t.Fatalf("%s not done after its action", key)
		}
	}
	if last := curriculumWalk[l.Slug+"/"+l.Steps[len(l.Steps)-1].ID]; last.account != "" {
		// The lesson ended by logging out: log in again to find it ticked.
		w.b.login(last.account, passwords[last.account])
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
		"where-sessions-live/restart-on-mariadb": alongside,
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
