package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"sessionlab/events"
)

// Every event the web layer stores is one package events' table describes,
// with only the detail keys it declares and values inside its closed sets:
// the strip, the lessons and the dashboard all read that table, so an event
// outside it would show a raw name, never fire a trigger, or file as "other".
// The tour records every stored kind but db.copied (it needs a `db copy`
// between two databases: TestLessonWhereSessionsLiveWalksTheRealMove checks its sentence on the page).
func TestEveryRecordedEventIsInTheTable(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		b := s.newBrowser(t)
		b.get("/") // session.created, no cookie
		b.add("1", "2")
		b.submit("/cart/update", url.Values{"product_id": {"1"}, "quantity": {"3"}})
		b.submit("/cart/update", url.Values{"product_id": {"1"}, "quantity": {"0"}})
		b.add("2", "1") // merged at login
		if r := b.post("/cart/add", url.Values{"product_id": {"1"}, "quantity": {"1"}, "csrf_token": {"wrong"}}); r.Status != http.StatusForbidden {
			t.Fatalf("POST with a wrong token: %d", r.Status)
		}
		if r := b.submit("/login", url.Values{"username": {"alice"}, "password": {"not-hers"}}); r.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", r.Status)
		}
		b.login("alice", "wonderland")
		b.submit("/notes", url.Values{"text": {"a note"}})
		for _, id := range b.noteIDs() {
			b.submit("/notes/"+id+"/delete", nil)
		}
		s.newBrowser(t).login("alice", "wonderland")
		b.submit("/account/sessions/end-others", nil)
		newcomer := s.newBrowser(t)
		if r := newcomer.signup("tourist", "tour password"); r.Status != http.StatusSeeOther {
			t.Fatalf("sign-up: %d", r.Status)
		}
		if r := newcomer.submit("/account/password", url.Values{"current_password": {"tour password"}, "new_password": {"new tour password"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("password change: %d", r.Status)
		}

		seen := map[events.Kind]bool{}
		l, ok := s.app.lessons.Lesson("logging-in")
		if !ok || len(l.Quiz) == 0 {
			t.Fatal("lesson logging-in has no quiz")
		}
		q := l.Quiz[0]
		b.submit("/lessons/"+l.Slug+"/answer", url.Values{"question": {q.ID}, "choice": {q.Choices[0].ID}})
		b.submit("/lessons/where-sessions-live/hint", url.Values{"step": {"create-database"}})
		b.submit("/lessons/reset", nil)
		b.setLabMode("fixation", "defended")
		b.simulate("fixation", "all", nil)

		// The same session on a restarted server, then on another instance.
		again := startServer(t, dbURL)
		onAgain := *b
		onAgain.srv = again
		onAgain.get("/cart")
		other := startServer(t, dbURL, withInstance("B"))
		onOther := *b
		onOther.srv = other
		onOther.get("/cart")

		// A terminal links to the learner with a lesson page's code; the
		// learner unlinks it.
		term := s.newBrowser(t)
		term.get("/")
		if r := term.link(b.linkCode("logging-in")); r.Status != http.StatusOK {
			t.Fatalf("link: %d %s", r.Status, r.Body)
		}
		b.submit("/lessons/logging-in/unlink", nil)

		// Logging out mid-lesson hands the next page a resume code.
		r := b.submit("/logout", url.Values{"next": {"/lessons/logging-in"}})
		b.get(r.Header.Get("Location"))
		b.setSessionID(strings.Repeat("A", 43)) // well-formed, never issued
		b.get("/")

		ins := s.instructor(t)
		csrf := ins.csrf("/instructor")
		for _, control := range []string{"/instructor/timeouts", "/instructor/end-all", "/instructor/reset"} {
			// The reset empties the event log: read it before and after.
			if control == "/instructor/reset" {
				checkStoredEvents(t, s, seen)
			}
			form := url.Values{"csrf_token": {csrf}, "idle": {"10m"}, "absolute": {"2h"}, "confirm": {"1"}}
			if r := ins.post(control, form); r.Status != http.StatusSeeOther {
				t.Fatalf("POST %s: %d", control, r.Status)
			}
		}
		checkStoredEvents(t, s, seen)
		for _, k := range events.All() {
			if k != events.Request && k != events.DBCopied && !seen[k] {
				t.Errorf("the tour recorded no %s event: it no longer proves that kind's detail", k)
			}
		}
		if t.Failed() {
			kinds := make([]string, 0, len(seen))
			for k := range seen {
				kinds = append(kinds, k.String())
			}
			slices.Sort(kinds)
			t.Logf("kinds seen: %v", kinds)
		}
	})
}

// checkStoredEvents checks every row of the events table against the table
// of kinds and marks the kinds it found in seen.
func checkStoredEvents(t *testing.T, s *testServer, seen map[events.Kind]bool) {
	t.Helper()
	var rows []struct {
		Kind   string `db:"kind"`
		Detail string `db:"detail"`
	}
	if err := s.db.W.Select(&rows, "SELECT kind, detail FROM events ORDER BY id"); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		k, ok := events.Parse(r.Kind)
		if !ok {
			t.Errorf("stored kind %q is not in the table", r.Kind)
			continue
		}
		var d map[string]string
		if err := json.Unmarshal([]byte(r.Detail), &d); err != nil {
			t.Errorf("%s: detail %s is not an object of strings: %v", r.Kind, r.Detail, err)
			continue
		}
		if err := k.Check(d); err != nil {
			t.Errorf("%v (detail %s)", err, r.Detail)
		}
		seen[k] = true
	}
}
