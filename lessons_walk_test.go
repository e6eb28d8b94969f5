package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// progress reads /api/progress as a set of "lesson/step" keys done.
func (b *browser) progress() map[string]bool {
	b.t.Helper()
	r := b.get("/api/progress")
	if r.Status != http.StatusOK {
		b.t.Fatalf("/api/progress = %d", r.Status)
	}
	var rep struct {
		Lessons []struct {
			Slug  string
			Done  bool
			Steps []struct {
				ID   string
				Done bool
			}
		}
	}
	if err := json.Unmarshal([]byte(r.Body), &rep); err != nil {
		b.t.Fatalf("progress JSON: %v", err)
	}
	done := map[string]bool{}
	for _, l := range rep.Lessons {
		if l.Done {
			done[l.Slug] = true
		}
		for _, s := range l.Steps {
			if s.Done {
				done[l.Slug+"/"+s.ID] = true
			}
		}
	}
	return done
}

// answerRight answers a question with its right choice, found by trying
// each: wrong answers must not complete anything.
func (b *browser) answerRight(slug, question string) {
	b.t.Helper()
	l, ok := b.srv.app.lessons.Lesson(slug)
	if !ok {
		b.t.Fatalf("no lesson %s", slug)
	}
	var choices []string
	if st, _, ok := l.Step(question); ok && st.Question != nil {
		for _, c := range st.Question.Choices {
			choices = append(choices, c.ID)
		}
	}
	for _, q := range l.Quiz {
		if q.ID == question {
			for _, c := range q.Choices {
				choices = append(choices, c.ID)
			}
		}
	}
	for _, c := range choices {
		r := b.submit("/lessons/"+slug+"/answer", url.Values{"question": {question}, "choice": {c}})
		if r.Status != http.StatusSeeOther {
			b.t.Fatalf("answer %s/%s=%s: status %d", slug, question, c, r.Status)
		}
		page := b.get("/lessons/" + slug)
		if strings.Contains(page.Body, `class="feedback right"`) {
			return
		}
	}
	b.t.Fatalf("no choice of %s/%s was accepted", slug, question)
}

// Progress belongs to the learner (the browser walking the lessons), not
// to the account it logs in to: logging in to a shared demo account keeps
// the browser's own ticks, and another browser on the same account neither
// gets them nor gives it its own.
func TestProgressBelongsToTheLearnerNotTheSharedAccount(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		b := srv.newBrowser(t)
		b.get("/lessons/the-session-record")
		if r := b.submit("/cart/add", url.Values{"product_id": {"2"}, "quantity": {"1"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("add: %d", r.Status)
		}
		want := []string{"the-session-record/open", "the-session-record/add"}
		check := func(when string, got map[string]bool) {
			t.Helper()
			for _, k := range want {
				if !got[k] {
					t.Errorf("%s: %s not done", when, k)
				}
			}
		}
		check("anonymous", b.progress())
		b.login("alice", "wonderland")
		check("after login", b.progress())
		other := srv.newBrowser(t)
		other.login("alice", "wonderland")
		if got := other.progress(); len(got) != 0 {
			t.Errorf("another browser on alice got this learner's ticks: %v", got)
		}
		other.get("/lessons/logging-in")
		if b.progress()["logging-in/open"] {
			t.Error("a step done in another browser on the shared account ticked this learner")
		}
		check("after the other browser's step", b.progress())
	})
}

func TestResetForgetsLessonProgress(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		b := srv.newBrowser(t)
		b.get("/lessons/the-cookie")
		if !b.progress()["the-cookie/open"] {
			t.Fatal("opening the lesson did not complete its first step")
		}
		b.login("bob", "builder")
		if r := b.submit("/lessons/reset", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("reset: %d", r.Status)
		}
		if p := b.progress(); p["the-cookie/open"] {
			t.Fatalf("progress survived reset: %v", p)
		}
		b.submit("/logout", nil)
		b.login("bob", "builder")
		if p := b.progress(); p["the-cookie/open"] {
			t.Fatalf("reset did not clear the account's saved progress: %v", p)
		}
	})
}

func TestQuizAnswersAreCheckedOnTheServer(t *testing.T) {
	srv := startServer(t, freshDatabase(t, "sqlite"))
	b := srv.newBrowser(t)
	l, _ := srv.app.lessons.Lesson("the-cookie")
	q := l.Quiz[0]
	answeredRight := false
	for _, c := range q.Choices {
		r := b.submit("/lessons/the-cookie/answer", url.Values{"question": {q.ID}, "choice": {c.ID}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("answer: %d", r.Status)
		}
		page := b.get("/lessons/the-cookie")
		right := strings.Contains(page.Body, `class="feedback right"`)
		answeredRight = answeredRight || right
		done := strings.Contains(page.Body, `class="question done" id="`+q.ID+`"`)
		if done != answeredRight {
			t.Fatalf("choice %s: right=%v, but question done=%v", c.ID, right, done)
		}
	}
	if !answeredRight {
		t.Fatal("no choice was right")
	}
	for _, bad := range []url.Values{{"question": {"nope"}, "choice": {"a"}}, {"question": {q.ID}, "choice": {"zz"}}, {"question": {q.ID}}} {
		if r := b.submit("/lessons/the-cookie/answer", bad); r.Status != http.StatusBadRequest {
			t.Errorf("bad answer %v: status %d, want 400", bad, r.Status)
		}
	}
}

// An account of one's own carries its learner: the browser that signed it
// up is its home, and logging in to it from another browser joins that
// learner, so progress follows the person, in both directions.
func TestAnAccountOfOnesOwnCarriesTheLearnerToAnotherBrowser(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		b := srv.newBrowser(t)
		b.get("/lessons/the-cookie")
		if r := b.submit("/signup", url.Values{"username": {"carla"}, "password": {"carla's own pass"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("sign-up: %d\n%s", r.Status, r.Body)
		}
		other := srv.newBrowser(t)
		other.get("/lessons/the-session-record") // done before logging in: comes along
		other.login("carla", "carla's own pass")
		for _, k := range []string{"the-cookie/open", "the-session-record/open"} {
			if !other.progress()[k] {
				t.Errorf("the other browser, logged in to carla, lacks %s", k)
			}
			if !b.progress()[k] {
				t.Errorf("the browser that signed up lacks %s", k)
			}
		}
		other.get("/lessons/logging-in")
		if !b.progress()["logging-in/open"] {
			t.Error("a step done in the other browser does not show in the first")
		}
	})
}
