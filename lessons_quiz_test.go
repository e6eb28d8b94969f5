package main

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sessionlab/db"
	"sessionlab/lessons"
)

var (
	questionFormRE = regexp.MustCompile(`(?s)<form method="post" action="/lessons/[a-z0-9-]+/answer" class="question[^"]*" id="([a-z0-9-]+)">(.*?)</form>`)
	choiceInputRE  = regexp.MustCompile(`<input type="radio" name="choice" value="([^"]+)"[^>]*>`)
)

// choiceOrder renders a lesson page and reads, for every question on it
// (question steps and quiz), the choice ids in the order the page lists them.
func (b *browser) choiceOrder(slug string) map[string][]string {
	b.t.Helper()
	r := b.get("/lessons/" + slug)
	if r.Status != http.StatusOK {
		b.t.Fatalf("GET /lessons/%s = %d", slug, r.Status)
	}
	out := map[string][]string{}
	for _, m := range questionFormRE.FindAllStringSubmatch(r.Body, -1) {
		for _, c := range choiceInputRE.FindAllStringSubmatch(m[2], -1) {
			out[m[1]] = append(out[m[1]], c[1])
		}
	}
	return out
}

// rightChoice asks the engine which choice of a question is right, with
// every step done so question steps are not locked.
func rightChoice(t *testing.T, c *lessons.Catalog, l *lessons.Lesson, question string) string {
	t.Helper()
	p := lessons.Progress{Done: map[lessons.Key]bool{}}
	for _, s := range l.Steps {
		p.Done[l.StepKey(s)] = true
	}
	var ids []string
	if s, _, ok := l.Step(question); ok && s.Question != nil {
		for _, ch := range s.Question.Choices {
			ids = append(ids, ch.ID)
		}
	}
	for _, q := range l.Quiz {
		if q.ID == question {
			for _, ch := range q.Choices {
				ids = append(ids, ch.ID)
			}
		}
	}
	for _, id := range ids {
		if ok, _, _, err := c.Answer(p, l.Slug, question, id); err == nil && ok {
			return id
		}
	}
	t.Fatalf("%s/%s has no right choice", l.Slug, question)
	return ""
}

// Two learners see every question's choices in their own order, each the
// same on every visit (and, once logged in, in every browser of the
// account); the right answer is not always first; and the server grades the
// choice a learner picked at its shuffled position by what it is.
func TestQuizChoicesAreShuffledPerLearnerAndStable(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		cat := srv.app.lessons
		a, b := srv.newBrowser(t), srv.newBrowser(t)
		questions, differ, rightFirst := 0, 0, 0
		for _, l := range cat.Lessons() {
			orderA, orderB := a.choiceOrder(l.Slug), b.choiceOrder(l.Slug)
			if again := a.choiceOrder(l.Slug); !mapsEqual(again, orderA) {
				t.Errorf("%s: the same learner's order changed between two visits:\n%v\n%v", l.Slug, orderA, again)
			}
			want := len(l.Quiz)
			for _, s := range l.Steps {
				if s.Question != nil {
					want++
				}
			}
			if len(orderA) != want {
				t.Fatalf("%s: the page shows %d questions, the lesson has %d", l.Slug, len(orderA), want)
			}
			for q, ids := range orderA {
				questions++
				if len(ids) < 3 {
					t.Errorf("%s/%s offers %d choices, want at least 3", l.Slug, q, len(ids))
				}
				if sa, sb := slices.Sorted(slices.Values(ids)), slices.Sorted(slices.Values(orderB[q])); !slices.Equal(sa, sb) {
					t.Errorf("%s/%s: the two learners see different choices: %v and %v", l.Slug, q, ids, orderB[q])
				}
				if !slices.Equal(ids, orderB[q]) {
					differ++
				}
				if ids[0] == rightChoice(t, cat, l, q) {
					rightFirst++
				}
			}
		}
		// With 3+ choices per question over ~35 questions, identical orders
		// for two learners, or the right answer always first, would mean
		// there is no shuffle (chance otherwise: far below 1e-9).
		if differ == 0 {
			t.Errorf("two learners saw all %d questions in the same order", questions)
		}
		if rightFirst == questions {
			t.Errorf("the right answer is listed first in all %d questions: picking the first choice passes", questions)
		}
		t.Logf("%d questions; %d in a different order for the second learner; right answer first in %d", questions, differ, rightFirst)

		// Answer the cookie lesson's quiz the way a learner does: pick the
		// choice at some position of their own list and send its value.
		l, _ := cat.Lesson("the-cookie")
		order := a.choiceOrder(l.Slug)
		for _, q := range l.Quiz {
			right := rightChoice(t, cat, l, q.ID)
			for pos, id := range order[q.ID] {
				r := a.submit("/lessons/"+l.Slug+"/answer", url.Values{"question": {q.ID}, "choice": {id}})
				if r.Status != http.StatusSeeOther {
					t.Fatalf("answer %s at position %d: %d", q.ID, pos+1, r.Status)
				}
				page := a.get("/lessons/" + l.Slug)
				graded := questionForm(t, page.Body, q.ID)
				if gotRight := strings.Contains(graded, `class="feedback right"`); gotRight != (id == right) {
					t.Errorf("%s: the choice at position %d (%s) was graded right=%v, want %v", q.ID, pos+1, id, gotRight, id == right)
				}
			}
			if !quizDone(a, l, q) {
				t.Errorf("%s is not done after its right answer", q.ID)
			}
		}

		// The order follows the learner, not the account: logging in keeps
		// this browser's order (it is the same learner, logged in or not).
		before := map[string]map[string][]string{}
		for _, l := range cat.Lessons() {
			before[l.Slug] = a.choiceOrder(l.Slug)
		}
		a.login("alice", "wonderland")
		for _, l := range cat.Lessons() {
			if after := a.choiceOrder(l.Slug); !mapsEqual(before[l.Slug], after) {
				t.Errorf("%s: logging in changed the learner's order:\n%v\n%v", l.Slug, before[l.Slug], after)
			}
		}
	})
}

// A wrong answer stays selected beside its feedback, so the learner reads
// why next to what they picked.
func TestWrongQuizAnswerStaysSelectedBesideItsFeedback(t *testing.T) {
	srv := startServer(t, freshDatabase(t, db.SQLite))
	b := srv.newBrowser(t)
	l, _ := srv.app.lessons.Lesson("timeouts")
	q := l.Quiz[0]
	right := rightChoice(t, srv.app.lessons, l, q.ID)
	var wrong lessons.Choice
	for _, c := range q.Choices {
		if c.ID != right {
			wrong = c
			break
		}
	}
	b.get("/lessons/" + l.Slug)
	if r := b.submit("/lessons/"+l.Slug+"/answer", url.Values{"question": {q.ID}, "choice": {wrong.ID}}); r.Status != http.StatusSeeOther {
		t.Fatalf("answer: %d", r.Status)
	}
	form := questionForm(t, b.get("/lessons/"+l.Slug).Body, q.ID)
	checked := regexp.MustCompile(`value="([^"]+)" required checked`).FindAllStringSubmatch(form, -1)
	if len(checked) != 1 || checked[0][1] != wrong.ID {
		t.Errorf("checked choices after a wrong answer: %v, want only %q", checked, wrong.ID)
	}
	if !strings.Contains(form, `class="feedback wrong"`) || !strings.Contains(html.UnescapeString(form), wrong.Why) {
		t.Errorf("the wrong answer's feedback does not give its why %q:\n%s", wrong.Why, form)
	}
	// The next plain visit starts clean: the feedback was for one answer.
	if form := questionForm(t, b.get("/lessons/"+l.Slug).Body, q.ID); strings.Contains(form, "checked") {
		t.Errorf("a later visit still shows the old pick:\n%s", form)
	}
}

func questionForm(t testing.TB, page, id string) string {
	t.Helper()
	for _, m := range questionFormRE.FindAllStringSubmatch(page, -1) {
		if m[1] == id {
			return m[2]
		}
	}
	t.Fatalf("no question form %q on the page", id)
	return ""
}

func quizDone(b *browser, l *lessons.Lesson, q *lessons.Question) bool {
	form := questionForm(b.t, b.get("/lessons/"+l.Slug).Body, q.ID)
	return strings.Contains(form, "✔")
}

func mapsEqual(x, y map[string][]string) bool {
	if len(x) != len(y) {
		return false
	}
	for k, v := range x {
		if !slices.Equal(v, y[k]) {
			return false
		}
	}
	return true
}
