package main

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"sessionlab/ids"
)

var tagRe = regexp.MustCompile(`<[^>]*>`)

// visibleText is a page's text as a reader sees it: tags (and the hooks in
// their attributes) removed.
func visibleText(body string) string { return tagRe.ReplaceAllString(body, "") }

// The words on the panels are sentences a learner can trust: no raw event
// names, no lesson text filled with a value that is not true yet, no "weak"
// label on a defended lab, and no 404 for the browser's own /favicon.ico.
func TestPanelWordsAreTrueSentences(t *testing.T) {
	dbURL := freshDatabase(t, "sqlite")
	srv := startServer(t, dbURL)

	t.Run("no raw event name on screen", func(t *testing.T) {
		for _, kind := range []string{"session.created", "session.refused", "session.rotated", "login.succeeded", "login.failed", "cart.added", "cart.updated", "cart.removed", "cart.merged", "logout", "session.ended", "note.added", "note.deleted", "csrf.refused", "lesson.step", "lesson.answered", "lesson.hint", "lesson.reset", "db.copied", "lab.mode", "lab.attack", "server.started", "instance.changed", "some.future.kind"} {
			if it := describe(kind, `{}`); it.Text == "" || strings.Contains(it.Text, kind) {
				t.Errorf("the strip shows %q for %s", it.Text, kind)
			}
		}
		b := srv.newBrowser(t)
		b.get("/")
		other := startServer(t, dbURL, withInstance("right"))
		b.srv = other
		page := b.get("/")
		if !strings.Contains(page.Body, `data-kind="instance.changed"`) {
			t.Fatal("the second instance did not record the change of instance")
		}
		if strings.Contains(visibleText(page.Body), "instance.changed") {
			t.Error("the page shows the raw event name instance.changed")
		}
		b.srv = srv
	})

	t.Run("lesson 4 before login", func(t *testing.T) {
		b := srv.newBrowser(t)
		text := visibleText(b.get("/lessons/logging-in").Body)
		for _, lie := range []string{"to .", "owner changed", "Your ID now starts with"} {
			if strings.Contains(text, lie) {
				t.Errorf("before login, lesson 4 says %q", lie)
			}
		}
		b.login("alice", "wonderland")
		text = visibleText(b.get("/lessons/logging-in").Body)
		for _, truth := range []string{"Right now your ID starts with " + ids.Prefix(b.sessionID())} {
			if !strings.Contains(text, truth) {
				t.Errorf("after login, lesson 4 does not say %q", truth)
			}
		}
	})

	t.Run("a defended lab is not called weak", func(t *testing.T) {
		b := srv.newBrowser(t)
		b.get("/")
		b.setLabMode("fixation", "defended")
		b.simulate("fixation", "all", nil)
		text := visibleText(b.get("/lab/fixation").Body)
		for _, lie := range []string{"(weak lab)", "deliberately weak"} {
			if strings.Contains(text, lie) {
				t.Errorf("the defended fixation lab says %q", lie)
			}
		}
		if site := visibleText(b.get("/lab/fixation/site?mode=defended").Body); strings.Contains(site, "deliberately weak") {
			t.Error("the defended lab site's banner says deliberately weak")
		}
	})

	t.Run("a lesson's count says what it counts", func(t *testing.T) {
		// "1 of 7 done" beside a banner saying "step 2 of 5" left a learner
		// guessing what the other two were.
		text := visibleText(srv.newBrowser(t).get("/lessons/http-forgets").Body)
		count := regexp.MustCompile(`(\d+) of (\d+) done \((\d+) steps, (\d+) quiz questions\)`).FindStringSubmatch(text)
		banner := regexp.MustCompile(`step \d+ of (\d+):`).FindStringSubmatch(text)
		if count == nil || banner == nil {
			t.Fatalf("lesson 1 does not say what its count counts (count %q, banner %q)", count, banner)
		}
		if total, steps, quiz := atoi(t, count[2]), atoi(t, count[3]), atoi(t, count[4]); steps+quiz != total || count[3] != banner[1] || quiz == 0 {
			t.Errorf("lesson 1 counts %q beside a banner of %s steps", count[0], banner[1])
		}
	})

	t.Run("favicon.ico", func(t *testing.T) {
		r := srv.newBrowser(t).get("/favicon.ico")
		if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "image/svg+xml") || !strings.Contains(r.Body, "<svg") {
			t.Errorf("/favicon.ico: %d %s", r.Status, r.Header.Get("Content-Type"))
		}
	})
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%q is not a number", s)
	}
	return n
}
