package lessons

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestAdvanceCompletesStepsOnlyInOrder(t *testing.T) {
	c := loadFixture(t, nil)
	visit := ev("request", "method", "GET", "path", "/cart", "cookie", "sent", "status", "200")
	add := ev("cart.added", "product_id", "1", "quantity", "1")
	logout := ev("logout", "username", "alice")

	tests := []struct {
		name string
		done []Key
		evs  []Event
		want []Key
	}{
		{"nothing happens without events", nil, nil, nil},
		{"the first step completes on its event", nil, []Event{visit}, []Key{key("visit")}},
		{"a later step's event does not count before the earlier step", nil, []Event{add}, nil},
		{"a later step completes once the earlier one is done", []Key{key("visit")}, []Event{add}, []Key{key("add")}},
		{"one request completes at most one step per lesson", nil, []Event{visit, add}, []Key{key("visit")}},
		{"order within one request does not matter", nil, []Event{add, visit}, []Key{key("visit")}},
		{"one event completes at most one step", nil, []Event{visit}, []Key{key("visit")}},
		{"details must match", nil, []Event{ev("request", "path", "/cart", "cookie", "none")}, nil},
		{"a where key must be present", []Key{key("visit")}, []Event{ev("cart.added")}, nil},
		{"extra details are ignored", nil, []Event{ev("request", "path", "/cart", "cookie", "sent", "extra", "x")}, []Key{key("visit")}},
		{"an unanswered question step blocks the steps after it", []Key{key("visit"), key("add")}, []Event{logout}, nil},
		{"after the question the next step completes", []Key{key("visit"), key("add"), key("think")}, []Event{logout}, []Key{key("leave")}},
		{"done steps are not returned again", []Key{key("visit")}, []Event{visit}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := onlyLesson(c.Advance(progress(tt.done...), tt.evs), "first")
			if !slices.Equal(got, tt.want) {
				t.Errorf("Advance = %v, want %v", got, tt.want)
			}
		})
	}
}

// An observe step ticks only through Observed, once the steps above it are
// done; events never tick it, and the step after it waits for it.
func TestObservedCompletesAnObserveStepOnlyInOrder(t *testing.T) {
	c := loadFixture(t, func(s string) string {
		return strings.Replace(s, "    trigger:\n      event: cart.added\n      where: {product_id: \"*\"}\n", "    observe: {value: cookie-prefix, prompt: Type the first 6 characters., explain: That is your ID.}\n", 1)
	})
	add := ev("cart.added", "product_id", "1", "quantity", "1")
	if got := onlyLesson(c.Advance(progress(key("visit")), []Event{add}), "first"); got != nil {
		t.Fatalf("an event ticked the observe step: %v", got)
	}
	if _, err := c.Observed(progress(), "first", "add"); !errors.Is(err, ErrLocked) {
		t.Fatalf("Observed before the step above it: err = %v, want ErrLocked", err)
	}
	got, err := c.Observed(progress(key("visit")), "first", "add")
	if err != nil || !slices.Equal(got, []Key{key("add")}) {
		t.Fatalf("Observed = %v, %v; want [first/add]", got, err)
	}
	if got, _ := c.Observed(progress(key("visit"), key("add")), "first", "add"); got != nil {
		t.Errorf("Observed returned a done step again: %v", got)
	}
	if _, err := c.Observed(progress(key("visit")), "first", "visit"); !errors.Is(err, ErrUnknownStep) {
		t.Errorf("Observed on a trigger step: err = %v, want ErrUnknownStep", err)
	}
}

func onlyLesson(keys []Key, slug string) []Key {
	var out []Key
	for _, k := range keys {
		if k.Lesson == slug {
			out = append(out, k)
		}
	}
	return out
}

func TestAdvanceTreatsLessonsIndependently(t *testing.T) {
	c := loadFixture(t, nil)
	// Both lessons start with a visit to /cart: one event ticks both.
	got := c.Advance(Progress{}, []Event{ev("request", "path", "/cart", "cookie", "sent")})
	want := []Key{key("visit"), {"second", "visit"}}
	if !slices.Equal(got, want) {
		t.Errorf("Advance = %v, want %v", got, want)
	}
}

func TestAdvanceDoesNotModifyProgress(t *testing.T) {
	c := loadFixture(t, nil)
	p := progress()
	c.Advance(p, []Event{ev("request", "path", "/cart", "cookie", "sent")})
	if len(p.Done) != 0 {
		t.Errorf("Advance wrote into the caller's progress: %v", p.Done)
	}
}

func TestAnswerChecksAnswersServerSide(t *testing.T) {
	c := loadFixture(t, nil)
	ready := progress(key("visit"), key("add"))
	tests := []struct {
		name         string
		p            Progress
		slug, q, ch  string
		wantCorrect  bool
		wantFeedback string
		wantDone     []Key
		wantErr      error
	}{
		{"a wrong answer is rejected with the choice's nudge", ready, "first", "think", "a", false, "Nope.", nil, nil},
		{"a wrong quiz answer gets its own nudge", ready, "first", "q2", "c", false, "Not C.", nil, nil},
		{"the right answer completes the question step", ready, "first", "think", "b", true, "Because b.", []Key{key("think")}, nil},
		{"a quiz question can be answered any time", progress(), "first", "q1", "yes", true, "Yes it is.", []Key{key("quiz:q1")}, nil},
		{"an answer already done completes nothing new", progress(key("quiz:q1")), "first", "q1", "yes", true, "Yes it is.", nil, nil},
		{"a question step before its turn is locked", progress(key("visit")), "first", "think", "b", false, "", nil, ErrLocked},
		{"an unknown lesson is an error", ready, "nope", "think", "b", false, "", nil, ErrUnknownLesson},
		{"an unknown question is an error", ready, "first", "nope", "b", false, "", nil, ErrUnknownQuestion},
		{"an event step is not a question", ready, "first", "visit", "b", false, "", nil, ErrUnknownQuestion},
		{"the quiz prefix is not part of the id", ready, "first", "quiz:q1", "yes", false, "", nil, ErrUnknownQuestion},
		{"an unknown choice is an error", ready, "first", "think", "z", false, "", nil, ErrUnknownChoice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			correct, feedback, done, err := c.Answer(tt.p, tt.slug, tt.q, tt.ch)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if correct != tt.wantCorrect || !strings.Contains(feedback, tt.wantFeedback) || !slices.Equal(done, tt.wantDone) {
				t.Errorf("Answer = %v, %q, %v; want %v, %q…, %v", correct, feedback, done, tt.wantCorrect, tt.wantFeedback, tt.wantDone)
			}
		})
	}
}

// walkLesson completes one lesson the way a learner would: for each step,
// it first checks the step is not done yet and is the current one, then
// feeds the event its trigger names (or answers its question, wrongly
// first), and checks that exactly that step completed. It returns the
// progress with the lesson finished.
func walkLesson(t *testing.T, c *Catalog, l *Lesson, p Progress) {
	t.Helper()
	for i, s := range l.Steps {
		k := l.StepKey(s)
		if p.Done[k] {
			t.Fatalf("%s: done before its action", k)
		}
		if next, idx, _ := l.NextStep(p); next != s || idx != i {
			t.Fatalf("%s: NextStep = %v, %d; want this step", k, next, idx)
		}
		var got []Key
		if s.Trigger != nil {
			// The next step's event, fed first, must not complete
			// anything in this lesson (unless it is this step's too).
			if i+1 < len(l.Steps) && l.Steps[i+1].Trigger != nil {
				early := l.Steps[i+1].Trigger.Example()
				if !s.Trigger.Matches(early) {
					if got := onlyLesson(c.Advance(p, []Event{early}), l.Slug); len(got) != 0 {
						t.Fatalf("%s: the next step's event %v completed %v", k, early, got)
					}
				}
			}
			got = onlyLesson(c.Advance(p, []Event{s.Trigger.Example()}), l.Slug)
		} else if s.Observe != nil {
			// No event ticks an observe step: only the checked value does.
			for _, st := range l.Steps[i+1:] {
				if st.Trigger != nil {
					if got := onlyLesson(c.Advance(p, []Event{st.Trigger.Example()}), l.Slug); len(got) != 0 {
						t.Fatalf("%s: a later step's event %v completed %v", k, st.Trigger, got)
					}
				}
			}
			var err error
			if got, err = c.Observed(p, l.Slug, s.ID); err != nil {
				t.Fatalf("%s: Observed: %v", k, err)
			}
		} else {
			for _, ch := range s.Question.Choices {
				if ch.ID == s.Question.answer {
					continue
				}
				if correct, fb, done, err := c.Answer(p, l.Slug, s.ID, ch.ID); correct || fb == "" || done != nil || err != nil {
					t.Fatalf("%s: wrong answer %q = %v, %q, %v, %v", k, ch.ID, correct, fb, done, err)
				}
			}
			correct, fb, done, err := c.Answer(p, l.Slug, s.ID, s.Question.answer)
			if !correct || fb == "" || err != nil {
				t.Fatalf("%s: right answer = %v, %q, %v", k, correct, fb, err)
			}
			got = done
		}
		if !slices.Equal(got, []Key{k}) {
			t.Fatalf("%s: completed %v, want exactly this step", k, got)
		}
		p.Done[k] = true
	}
	if l.Finished(p) {
		t.Fatalf("%s: finished before its quiz", l.Slug)
	}
	for _, q := range l.Quiz {
		_, _, done, err := c.Answer(p, l.Slug, q.ID, q.answer)
		if err != nil || !slices.Equal(done, []Key{l.QuizKey(q)}) {
			t.Fatalf("%s quiz %s: %v, %v", l.Slug, q.ID, done, err)
		}
		p.Done[done[0]] = true
	}
	if !l.Finished(p) {
		t.Fatalf("%s: not finished after every step and the quiz", l.Slug)
	}
}

func TestEveryLessonCanBeWalkedToCompletionFromItsTriggers(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for _, l := range c.Lessons() {
		t.Run(l.Slug, func(t *testing.T) {
			walkLesson(t, c, l, progress())
		})
	}
}

func TestCurrentFollowsTheLearnerThroughTheWholeCatalog(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	p := progress()
	for _, l := range c.Lessons() {
		cur, step, idx, ok := c.Current(p)
		if !ok || cur != l || step != l.Steps[0] || idx != 0 {
			t.Fatalf("Current = %v, %v, %d, %v; want %s step 1", cur, step, idx, ok, l.Slug)
		}
		walkLesson(t, c, l, p)
	}
	if l, _, _, ok := c.Current(p); ok {
		t.Errorf("Current after everything = %s, want none", l.Slug)
	}
}

func TestCurrentPointsAtTheQuizWhenOnlyTheQuizIsLeft(t *testing.T) {
	c := loadFixture(t, nil)
	p := progress(key("visit"), key("add"), key("think"), key("leave"))
	l, step, idx, ok := c.Current(p)
	if !ok || l.Slug != "first" || step != nil || idx != 4 {
		t.Errorf("Current = %v, %v, %d, %v; want first, nil step, index 4", l, step, idx, ok)
	}
}

func TestSummaryCountsStepsQuizAndHints(t *testing.T) {
	c := loadFixture(t, nil)
	p := progress(key("visit"), key("quiz:q1"))
	p.Hints[key("add")] = 5 // more than the step has: capped
	st := c.Summary(p)[0]
	if st.Done != 2 || st.Total != 6 || st.Finished {
		t.Errorf("Done/Total/Finished = %d/%d/%v, want 2/6/false", st.Done, st.Total, st.Finished)
	}
	if !st.Steps[0].Done || st.Steps[0].Current || !st.Steps[1].Current || st.Steps[2].Current {
		t.Errorf("Done/Current flags wrong: %+v", st.Steps)
	}
	if st.Steps[1].HintsUsed != 2 {
		t.Errorf("HintsUsed = %d, want 2 (capped)", st.Steps[1].HintsUsed)
	}
	if !st.Quiz[0].Done || st.Quiz[1].Done {
		t.Errorf("quiz flags wrong: %+v", st.Quiz)
	}
}

func TestRevealHintCountsUpToTheStepsHints(t *testing.T) {
	c := loadFixture(t, nil)
	p := progress()
	for want := 1; want <= 3; want++ {
		n, err := c.RevealHint(p, key("add"))
		if err != nil {
			t.Fatal(err)
		}
		if capped := min(want, 2); n != capped {
			t.Errorf("reveal %d = %d, want %d", want, n, capped)
		}
		p.Hints[key("add")] = n
	}
	if _, err := c.RevealHint(p, key("nope")); !errors.Is(err, ErrUnknownStep) {
		t.Errorf("unknown step: err = %v", err)
	}
}

func TestReportMatchesTheAPIProgressContract(t *testing.T) {
	c := loadFixture(t, nil)
	b, err := json.Marshal(c.Report(progress(key("visit"))))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"lessons":[{"slug":"first","title":"Fixture lesson","done":false,"steps":[{"id":"visit","title":"Visit the cart","done":true},`
	if !strings.HasPrefix(string(b), want) {
		t.Errorf("report = %s\nwant prefix %s", b, want)
	}
}

func TestEventKindsAreTheOnesTheWebLayerEmits(t *testing.T) {
	want := []string{"account.created", "cart.added", "cart.merged", "cart.removed", "cart.updated", "csrf.refused", "db.copied",
		"instance.changed", "lab.attack", "lab.mode", "login.failed", "login.succeeded", "logout", "note.added", "note.deleted",
		"password.changed", "request", "server.started", "session.created", "session.ended", "session.refused", "session.rotated"}
	if got := EventKinds(); !slices.Equal(got, want) {
		t.Errorf("EventKinds = %v\nwant %v", got, want)
	}
}

func TestParseKeyReadsWhatStringWrites(t *testing.T) {
	for _, k := range []Key{{"logging-in", "rotated"}, {"timeouts", "quiz:why-absolute"}} {
		if got, ok := ParseKey(k.String()); !ok || got != k {
			t.Errorf("ParseKey(%q) = %v, %v", k.String(), got, ok)
		}
	}
	for _, s := range []string{"", "no-slash", "/step", "lesson/"} {
		if _, ok := ParseKey(s); ok {
			t.Errorf("ParseKey(%q) accepted a malformed key", s)
		}
	}
}

// A learner who opened lesson 3 while lesson 1 is unfinished is on lesson
// 3: the banner follows the step they completed last.
func TestCurrentIsTheLessonOfTheLastStepDone(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	third := c.Lessons()[2]
	p := progress(Key{c.Lessons()[0].Slug, c.Lessons()[0].Steps[0].ID}, third.StepKey(third.Steps[0]))
	p.Last = third.StepKey(third.Steps[0])
	if l, step, idx, ok := c.Current(p); !ok || l != third || step != third.Steps[1] || idx != 1 {
		t.Errorf("Current = %v, %v, %d, %v; want %s step 2", l, step, idx, ok, third.Slug)
	}
	// Once that lesson is finished, the first unfinished one comes back.
	p = progress()
	for _, s := range third.Steps {
		p.Done[third.StepKey(s)] = true
	}
	for _, q := range third.Quiz {
		p.Done[third.QuizKey(q)] = true
	}
	p.Last = third.QuizKey(third.Quiz[0])
	if l, _, _, ok := c.Current(p); !ok || l != c.Lessons()[0] {
		t.Errorf("Current after finishing lesson 3 = %v, want lesson 1", l)
	}
}

func TestChoicesAreShuffledPerLearnerAndStableForOne(t *testing.T) {
	c := loadFixture(t, nil)
	l, _ := c.Lesson("first")
	ids := func(cs []Choice) string {
		var b strings.Builder
		for _, ch := range cs {
			b.WriteString(ch.ID + " ")
		}
		return b.String()
	}
	q := l.Quiz[0]
	k := l.QuizKey(q)
	orders := map[string]bool{}
	for i := range 200 {
		learner := fmt.Sprintf("s:learner%d", i)
		got := q.ChoicesFor(learner, k)
		if again := q.ChoicesFor(learner, k); ids(again) != ids(got) {
			t.Fatalf("learner %s: %s then %s", learner, ids(got), ids(again))
		}
		if sorted := slices.SortedFunc(slices.Values(got), func(x, y Choice) int { return strings.Compare(x.ID, y.ID) }); ids(sorted) != "maybe no yes " {
			t.Fatalf("learner %s sees choices %s, want a permutation of the file's", learner, ids(got))
		}
		orders[ids(got)] = true
	}
	// 200 learners over 3 choices: every one of the 6 orders shows up.
	if len(orders) != 6 {
		t.Errorf("200 learners saw %d distinct orders of 3 choices, want all 6: %v", len(orders), orders)
	}
	if ids(q.Choices) != "yes no maybe " {
		t.Errorf("shuffling changed the question itself: %s", ids(q.Choices))
	}
	st := l.Status(Progress{Learner: "s:learner1"})
	if ids(st.Quiz[0].Choices) != ids(q.ChoicesFor("s:learner1", k)) {
		t.Errorf("Status shows %s, ChoicesFor says %s", ids(st.Quiz[0].Choices), ids(q.ChoicesFor("s:learner1", k)))
	}
}
