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

// A lesson step completes exactly when its action happens, not before.
func TestLessonStepsCompleteWhenTheirActionHappens(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		b := srv.newBrowser(t)
		// expect runs action and checks that key was not done before and is after.
		expect := func(key string, action func()) {
			t.Helper()
			if b.progress()[key] {
				t.Fatalf("%s was done before its action", key)
			}
			action()
			if !b.progress()[key] {
				t.Fatalf("%s not done after its action", key)
			}
		}
		addToCart := func() {
			if r := b.submit("/cart/add", url.Values{"product_id": {"2"}, "quantity": {"1"}}); r.Status != http.StatusSeeOther {
				t.Fatalf("add: %d", r.Status)
			}
		}
		// Lesson 1: the first visit issues a session.
		expect("http-forgets/arrive", func() { b.get("/") })
		b.answerRight("http-forgets", "strangers")
		expect("http-forgets/visit-cart", func() { b.get("/cart") })

		// Lesson 3: the record changes as you shop.
		expect("the-session-record/open", func() { b.get("/lessons/the-session-record") })
		expect("the-session-record/add", addToCart)
		expect("the-session-record/change", func() {
			b.submit("/cart/update", url.Values{"product_id": {"2"}, "quantity": {"3"}})
		})
		expect("the-session-record/remove", func() {
			b.submit("/cart/update", url.Values{"product_id": {"2"}, "quantity": {"0"}})
		})

		// Lesson 4: login rotates and merges; progress moves to the account.
		expect("logging-in/open", func() { b.get("/lessons/logging-in") })
		expect("logging-in/anonymous-cart", addToCart)
		expect("logging-in/wrong-password", func() {
			if r := b.submit("/login", url.Values{"username": {"alice"}, "password": {"nope"}}); r.Status != http.StatusUnauthorized {
				t.Fatalf("wrong password: %d", r.Status)
			}
		})
		expect("logging-in/log-in", func() { b.login("alice", "wonderland") })
		for _, k := range []string{"logging-in/rotated", "logging-in/merged", "http-forgets/arrive", "the-session-record/remove"} {
			if !b.progress()[k] {
				t.Errorf("%s not done after login (progress must carry over)", k)
			}
		}

		// Lesson 5: things survive logout; progress comes back after login.
		expect("come-back-later/open", func() { b.get("/lessons/come-back-later") })
		b.login("alice", "wonderland")
		// log-in completed by this second login (open was done first).
		if !b.progress()["come-back-later/log-in"] {
			t.Fatal("come-back-later/log-in not done after logging in")
		}
		expect("come-back-later/note", func() { b.submit("/notes", url.Values{"text": {"remember the milk"}}) })
		expect("come-back-later/save-cart", addToCart)
		b.submit("/logout", nil)
		if got := b.progress(); len(got) != 0 {
			t.Fatalf("a fresh anonymous session has progress: %v", got)
		}
		b.login("alice", "wonderland")
		p := b.progress()
		for _, k := range []string{"come-back-later/log-out", "come-back-later/back-again", "logging-in/merged"} {
			if !p[k] {
				t.Errorf("%s not done after logout + login", k)
			}
		}
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
