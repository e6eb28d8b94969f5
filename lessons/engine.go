package lessons

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
)

// Key names one step or quiz question of one lesson. A quiz question's Step
// is "quiz:"+its id, so steps and questions share one progress table.
type Key struct {
	Lesson string
	Step   string
}

// QuizPrefix marks quiz questions in Key.Step.
const QuizPrefix = "quiz:"

// String is "lesson/step", the form ParseKey reads back: a compact way to
// store a key in session data or a single column.
func (k Key) String() string { return k.Lesson + "/" + k.Step }

// ParseKey reads a key written by Key.String.
func ParseKey(s string) (Key, bool) {
	lesson, step, ok := strings.Cut(s, "/")
	if !ok || lesson == "" || step == "" {
		return Key{}, false
	}
	return Key{lesson, step}, true
}

// StepKey is the progress key of one of the lesson's steps.
func (l *Lesson) StepKey(s *Step) Key { return Key{l.Slug, s.ID} }

// QuizKey is the progress key of one of the lesson's quiz questions.
func (l *Lesson) QuizKey(q *Question) Key { return Key{l.Slug, QuizPrefix + q.ID} }

// Progress is what one learner has done: the keys completed and, per step,
// how many hints they revealed. The web layer stores it; the engine only
// reads it and never modifies it, so it is safe to pass a shared value.
// Nil maps read as empty.
type Progress struct {
	Done  map[Key]bool
	Hints map[Key]int
	Last  Key // the key completed most recently: the lesson the learner is on
	// Learner names who this is (any stable string: an account, a
	// browser). It seeds the order of every question's choices, so each
	// learner sees their own order, the same on every visit.
	Learner string
}

// Errors Answer and RevealHint return; match them with errors.Is.
var (
	ErrUnknownLesson   = errors.New("lessons: unknown lesson")
	ErrUnknownQuestion = errors.New("lessons: unknown question")
	ErrUnknownChoice   = errors.New("lessons: unknown choice")
	ErrUnknownStep     = errors.New("lessons: unknown step")
	// ErrLocked: a question step was answered before the steps above it
	// were done. Steps complete in order; the page should say "do the
	// earlier steps first".
	ErrLocked = errors.New("lessons: earlier steps are not done yet")
)

// Advance returns the steps newly completed by evs, lesson by lesson and in
// step order. It does not modify p: the caller stores the keys.
//
// Within a lesson, steps complete in order: a step completes only when its
// trigger matches and every earlier step is done, so doing step 3's action
// before step 2's does not count. Lessons are independent: one event may
// complete a step in several lessons.
//
// evs should be the events of one request, and one request completes at
// most one step per lesson: a login is login.succeeded, session.rotated and
// cart.merged at once, and if that ticked "log in", "notice the new ID" and
// "find your cart" together, the last two would tick before the learner had
// read them. Each step needs an action of its own, after the one before it.
func (c *Catalog) Advance(p Progress, evs []Event) []Key {
	var out []Key
	for _, l := range c.lessons {
	steps:
		for _, s := range l.Steps {
			k := l.StepKey(s)
			if p.Done[k] {
				continue
			}
			if s.Trigger == nil {
				break // a question or observe step waits for the learner's input
			}
			for _, ev := range evs {
				if s.Trigger.Matches(ev) {
					out = append(out, k)
					break steps
				}
			}
			break
		}
	}
	return out
}

// Observed completes an observe step once the web layer has checked the
// learner's value against the real one. Like a question step, it counts only
// once the steps above it are done (ErrLocked), so it cannot be done ahead.
func (c *Catalog) Observed(p Progress, slug, stepID string) (newlyDone []Key, err error) {
	l, ok := c.bySlug[slug]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownLesson, slug)
	}
	s, i, ok := l.Step(stepID)
	if !ok || s.Observe == nil {
		return nil, fmt.Errorf("%w %q in lesson %q", ErrUnknownStep, stepID, slug)
	}
	for _, before := range l.Steps[:i] {
		if !p.Done[l.StepKey(before)] {
			return nil, fmt.Errorf("%w: %s before %s", ErrLocked, stepID, before.ID)
		}
	}
	if p.Done[l.StepKey(s)] {
		return nil, nil
	}
	return []Key{l.StepKey(s)}, nil
}

// Answer checks a learner's answer server-side. questionID is a question
// step's id or a quiz question's id (the two share a namespace per lesson).
// A wrong answer returns correct=false and feedback that nudges (the
// choice's "why"); a right one returns the explanation and, unless it was
// already done, its key in newlyDone. Quiz questions may be answered at any
// time; a question step only once the steps above it are done (ErrLocked).
func (c *Catalog) Answer(p Progress, slug, questionID, choice string) (correct bool, feedback string, newlyDone []Key, err error) {
	l, ok := c.bySlug[slug]
	if !ok {
		return false, "", nil, fmt.Errorf("%w %q", ErrUnknownLesson, slug)
	}
	var q *Question
	var key Key
	if s, i, ok := l.Step(questionID); ok && s.Question != nil {
		for _, before := range l.Steps[:i] {
			if !p.Done[l.StepKey(before)] {
				return false, "", nil, fmt.Errorf("%w: %s before %s", ErrLocked, questionID, before.ID)
			}
		}
		q, key = s.Question, l.StepKey(s)
	} else {
		for _, qq := range l.Quiz {
			if qq.ID == questionID {
				q, key = qq, l.QuizKey(qq)
			}
		}
	}
	if q == nil {
		return false, "", nil, fmt.Errorf("%w %q in lesson %q", ErrUnknownQuestion, questionID, slug)
	}
	var picked *Choice
	for i := range q.Choices {
		if q.Choices[i].ID == choice {
			picked = &q.Choices[i]
		}
	}
	if picked == nil {
		return false, "", nil, fmt.Errorf("%w %q for question %q", ErrUnknownChoice, choice, questionID)
	}
	if picked.ID != q.answer {
		return false, picked.Why, nil, nil // the loader makes every wrong choice say why
	}
	if !p.Done[key] {
		newlyDone = []Key{key}
	}
	return true, q.Explain, newlyDone, nil
}

// RevealHint returns how many hints of the step to show after the learner
// asks for one more: the stored count plus one, capped at the step's hints.
func (c *Catalog) RevealHint(p Progress, k Key) (int, error) {
	l, ok := c.bySlug[k.Lesson]
	if !ok {
		return 0, fmt.Errorf("%w %q", ErrUnknownLesson, k.Lesson)
	}
	s, _, ok := l.Step(k.Step)
	if !ok {
		return 0, fmt.Errorf("%w %q in lesson %q", ErrUnknownStep, k.Step, k.Lesson)
	}
	return min(p.Hints[k]+1, s.HintCount()), nil
}

// Finished reports whether every step and quiz question of l is done.
func (l *Lesson) Finished(p Progress) bool {
	for _, s := range l.Steps {
		if !p.Done[l.StepKey(s)] {
			return false
		}
	}
	for _, q := range l.Quiz {
		if !p.Done[l.QuizKey(q)] {
			return false
		}
	}
	return true
}

// NextStep returns the lesson's first step not done and its 0-based index;
// ok is false when every step is done (the quiz may remain).
func (l *Lesson) NextStep(p Progress) (step *Step, index int, ok bool) {
	for i, s := range l.Steps {
		if !p.Done[l.StepKey(s)] {
			return s, i, true
		}
	}
	return nil, len(l.Steps), false
}

// Current returns what the banner on every page shows: the lesson the
// learner is on (that of the step they completed last, p.Last) unless it is
// finished, else the first lesson not finished; and its first step not done, with the step's 0-based index
// ("Lesson 4, step index+1 of len(Steps)"). step is nil when only the quiz
// is left. ok is false when the learner has finished every lesson.
func (c *Catalog) Current(p Progress) (lesson *Lesson, step *Step, index int, ok bool) {
	if l, found := c.Lesson(p.Last.Lesson); found && !l.Finished(p) {
		s, i, _ := l.NextStep(p)
		return l, s, i, true
	}
	for _, l := range c.lessons {
		if l.Finished(p) {
			continue
		}
		s, i, _ := l.NextStep(p)
		return l, s, i, true
	}
	return nil, nil, 0, false
}

// LessonStatus is a view model of one lesson for one learner: the index
// page's ticks, the sidebar and the lesson page.
type LessonStatus struct {
	Lesson   *Lesson
	Done     int // steps and quiz questions done
	Total    int
	Finished bool
	Steps    []StepStatus
	Quiz     []QuizStatus
}

// StepStatus is one step for one learner. Current marks the step to do
// next; HintsUsed is capped at the step's hint count. Choices is a question
// step's choices in this learner's order.
type StepStatus struct {
	Step      *Step
	Key       Key
	Done      bool
	Current   bool
	HintsUsed int
	Choices   []Choice
}

// QuizStatus is one quiz question for one learner, its choices in this
// learner's order.
type QuizStatus struct {
	Question *Question
	Key      Key
	Done     bool
	Choices  []Choice
}

// ChoicesFor returns the question's choices in the order one learner sees
// them: shuffled, so "always pick the first" passes nothing, and seeded by
// the learner and the question's key, so the order is the same on every
// visit and differs from one learner to the next. Answers are checked by
// choice id, never by position.
func (q *Question) ChoicesFor(learner string, k Key) []Choice {
	out := append([]Choice(nil), q.Choices...)
	seed := sha256.Sum256([]byte(learner + "\x00" + k.String()))
	rand.New(rand.NewChaCha8(seed)).Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// Status builds the view model of one lesson.
func (l *Lesson) Status(p Progress) LessonStatus {
	st := LessonStatus{Lesson: l, Total: len(l.Steps) + len(l.Quiz)}
	current := true
	for _, s := range l.Steps {
		k := l.StepKey(s)
		ss := StepStatus{Step: s, Key: k, Done: p.Done[k], HintsUsed: min(p.Hints[k], s.HintCount())}
		if s.Question != nil {
			ss.Choices = s.Question.ChoicesFor(p.Learner, k)
		}
		if !ss.Done && current {
			ss.Current, current = true, false
		}
		if ss.Done {
			st.Done++
		}
		st.Steps = append(st.Steps, ss)
	}
	for _, q := range l.Quiz {
		k := l.QuizKey(q)
		st.Quiz = append(st.Quiz, QuizStatus{Question: q, Key: k, Done: p.Done[k], Choices: q.ChoicesFor(p.Learner, k)})
		if p.Done[k] {
			st.Done++
		}
	}
	st.Finished = st.Done == st.Total
	return st
}

// Summary is the status of every lesson, in order.
func (c *Catalog) Summary(p Progress) []LessonStatus {
	out := make([]LessonStatus, len(c.lessons))
	for i, l := range c.lessons {
		out[i] = l.Status(p)
	}
	return out
}

// ProgressReport is the body of GET /api/progress, shaped as docs/CONTRACT.md
// describes it. Done on a lesson means steps and quiz.
type ProgressReport struct {
	Lessons []LessonReport `json:"lessons"`
}

// LessonReport is one lesson in ProgressReport.
type LessonReport struct {
	Slug  string       `json:"slug"`
	Title string       `json:"title"`
	Done  bool         `json:"done"`
	Steps []StepReport `json:"steps"`
}

// StepReport is one step in LessonReport.
type StepReport struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Done  bool   `json:"done"`
}

// Report builds the /api/progress document for a learner.
func (c *Catalog) Report(p Progress) ProgressReport {
	r := ProgressReport{Lessons: make([]LessonReport, 0, len(c.lessons))}
	for _, l := range c.lessons {
		lr := LessonReport{Slug: l.Slug, Title: l.Title, Done: l.Finished(p), Steps: make([]StepReport, 0, len(l.Steps))}
		for _, s := range l.Steps {
			lr.Steps = append(lr.Steps, StepReport{ID: s.ID, Title: s.Title, Done: p.Done[l.StepKey(s)]})
		}
		r.Lessons = append(r.Lessons, lr)
	}
	return r
}
