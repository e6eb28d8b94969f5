package main

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"sessionlab/db"
	"sessionlab/events"
	"sessionlab/lessons"
)

// Lesson progress lives in the session record (lessons_done, lesson_hints)
// so a page view needs no extra query; for a logged-in learner every change
// is also written to lesson_progress under the account, which is where it
// comes back from after logout and in a new browser.

func progressOf(s *session) lessons.Progress {
	p := lessons.Progress{Done: map[lessons.Key]bool{}, Hints: map[lessons.Key]int{}}
	if s == nil {
		return p
	}
	// The learner whose choice order the quiz shows: the account once
	// logged in (the same order in every browser), else this browser.
	p.Learner = "s:" + s.data.Learner
	if s.loggedIn() {
		p.Learner = ownerOf(s)
	}
	for _, k := range s.data.Done {
		if key, ok := lessons.ParseKey(k); ok {
			p.Done[key] = true
			p.Last = key
		}
	}
	for k, n := range s.data.Hints {
		if l, st, ok := strings.Cut(k, "/"); ok {
			p.Hints[lessons.Key{Lesson: l, Step: st}] = n
		}
	}
	return p
}

func ownerOf(s *session) string { return "u:" + strconv.FormatInt(s.userID(), 10) }

// markDone records completed steps in the session and, for a user, the account.
func (a *app) markDone(ctx context.Context, c *fiber.Ctx, tx *db.Tx, s *session, keys []lessons.Key) error {
	for _, k := range keys {
		if slices.Contains(s.data.Done, k.String()) {
			continue
		}
		s.data.Done = append(s.data.Done, k.String())
		if s.loggedIn() {
			if err := tx.MarkDone(ctx, ownerOf(s), k.Lesson, k.Step, a.now()); err != nil {
				return err
			}
		}
		title := k.Step
		if l, ok := a.lessons.Lesson(k.Lesson); ok {
			if st, _, ok := l.Step(k.Step); ok {
				title = st.Title
			} else {
				title = "quiz question answered"
			}
			title = "Lesson " + strconv.Itoa(l.Number) + ": " + title
		}
		state(c).record(events.LessonStep, map[string]string{"lesson": k.Lesson, "step": k.Step, "title": title})
	}
	return nil
}

// requestEvent is the pseudo-event "this page was requested" that steps like
// "open your cart" complete on. It is observed once per request.
func (a *app) requestEvent(c *fiber.Ctx, rs *reqState) lessons.Event {
	cookie := "none"
	if rs.cookieState == cookieValid {
		cookie = "sent"
	}
	d := map[string]string{"method": c.Method(), "path": c.Path(), "cookie": cookie}
	if c.Method() == fiber.MethodGet {
		d["status"] = strconv.Itoa(c.Response().StatusCode())
	}
	return lessons.Event{Kind: events.Request.String(), Detail: d}
}

// lessonEvents converts this request's pending events for the engine.
func (a *app) lessonEvents(c *fiber.Ctx, rs *reqState, withRequest bool) []lessons.Event {
	evs := make([]lessons.Event, 0, len(rs.pending)+1)
	for _, e := range rs.pending {
		d := map[string]string{}
		json.Unmarshal([]byte(e.Detail), &d)
		evs = append(evs, lessons.Event{Kind: e.Kind, Detail: d})
	}
	if withRequest {
		evs = append(evs, a.requestEvent(c, rs))
	}
	return evs
}

// advanceLessons ticks off the steps this request's events complete; it runs
// inside the transaction that saves the session, before the events are written.
func (a *app) advanceLessons(ctx context.Context, c *fiber.Ctx, tx *db.Tx, s *session, rs *reqState, withRequest bool) error {
	if a.lessons == nil {
		return nil
	}
	if withRequest {
		rs.requestSeen = true
	}
	if s.loggedIn() {
		// The account's progress may have moved on in another of its
		// sessions (curl, a second browser): start from the union.
		if err := a.mergeProgress(ctx, tx, s); err != nil {
			return err
		}
	}
	newly := a.lessons.Advance(progressOf(s), a.lessonEvents(c, rs, withRequest))
	return a.markDone(ctx, c, tx, s, newly)
}

// observeRequest completes "visit this page" steps on a GET: the only case
// where a GET writes more than last_seen, and only when a step completes.
func (a *app) observeRequest(c *fiber.Ctx) error {
	rs := state(c)
	if rs.sess == nil || rs.requestSeen || a.lessons == nil {
		return nil
	}
	if len(a.lessons.Advance(progressOf(rs.sess), []lessons.Event{a.requestEvent(c, rs)})) == 0 {
		rs.requestSeen = true
		return nil
	}
	return a.change(c, func(context.Context, *db.Tx, *session) error { return nil })
}

// mergeProgress makes the session's progress and the account's the same:
// at login the anonymous learner's steps move into the account, and the
// account's steps (done in other browsers) come into the session.
func (a *app) mergeProgress(ctx context.Context, tx *db.Tx, s *session) error {
	rows, err := tx.Progress(ctx, ownerOf(s))
	if err != nil {
		return err
	}
	saved := map[string]db.ProgressRow{}
	for _, r := range rows {
		saved[r.Lesson+"/"+r.Item] = r
	}
	now := a.now()
	for _, k := range s.data.Done {
		if r, ok := saved[k]; !ok || !r.Done {
			l, item, _ := strings.Cut(k, "/")
			if err := tx.MarkDone(ctx, ownerOf(s), l, item, now); err != nil {
				return err
			}
		}
	}
	for k, n := range s.data.Hints {
		if r, ok := saved[k]; !ok || r.Hints < n {
			l, item, _ := strings.Cut(k, "/")
			if err := tx.SetHints(ctx, ownerOf(s), l, item, n, now); err != nil {
				return err
			}
		}
	}
	// Steps done elsewhere go before this session's own, oldest first, so
	// the last key stays the one this learner did most recently.
	var merged []db.ProgressRow
	for k, r := range saved {
		if r.Done && !slices.Contains(s.data.Done, k) {
			merged = append(merged, r)
		}
		if r.Hints > s.data.Hints[k] {
			if s.data.Hints == nil {
				s.data.Hints = map[string]int{}
			}
			s.data.Hints[k] = r.Hints
		}
	}
	if len(merged) > 0 {
		slices.SortStableFunc(merged, func(x, y db.ProgressRow) int { return x.UpdatedAt.Compare(y.UpdatedAt) })
		keys := make([]string, 0, len(merged)+len(s.data.Done))
		for _, r := range merged {
			keys = append(keys, r.Lesson+"/"+r.Item)
		}
		s.data.Done = append(keys, s.data.Done...)
	}
	return nil
}

// lessonBanner is the "Lesson 4, step 2 of 5" line every page shows.
func (a *app) lessonBanner(rs *reqState) *lessonBanner {
	if a.lessons == nil || rs.sess == nil {
		return nil
	}
	p := progressOf(rs.sess)
	l, st, i, ok := a.lessons.Current(p)
	if !ok {
		return nil
	}
	b := &lessonBanner{Number: l.Number, Slug: l.Slug, LessonTitle: l.Title, StepIndex: i + 1, Steps: len(l.Steps)}
	if st == nil {
		b.StepTitle = "answer the quiz"
		b.StepIndex = len(l.Steps)
		return b
	}
	b.StepTitle = st.Title
	b.HintsUsed = p.Hints[l.StepKey(st)]
	return b
}

func (a *app) lessonValues(c *fiber.Ctx) lessons.Values {
	rs := state(c)
	v := lessons.Values{SessionPrefix: prefix(rs.id), BaseURL: c.BaseURL(), DBKind: a.db.Dialect(), DBURL: a.db.Config.Display}
	if rs.sess != nil {
		v.Username = rs.sess.username()
	}
	return v
}

// syncProgress brings steps the account completed in another session into
// this one before a lesson page shows them (one read; a write only if new).
func (a *app) syncProgress(c *fiber.Ctx) error {
	s := state(c).sess
	if s == nil || !s.loggedIn() {
		return nil
	}
	rows, err := a.db.Progress(c.UserContext(), ownerOf(s))
	if err != nil {
		return err
	}
	p := progressOf(s)
	for _, r := range rows {
		k := lessons.Key{Lesson: r.Lesson, Step: r.Item}
		if r.Done && !p.Done[k] || r.Hints > p.Hints[k] {
			return a.change(c, func(context.Context, *db.Tx, *session) error { return nil })
		}
	}
	return nil
}

func (a *app) lessonsIndex(c *fiber.Ctx) error {
	if err := a.syncProgress(c); err != nil {
		return err
	}
	if err := a.observeRequest(c); err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "lessons", "Lessons", fiber.Map{"Lessons": a.lessons.Summary(progressOf(state(c).sess))})
}

// stepPage is one step as the lesson page shows it.
type stepPage struct {
	lessons.StepStatus
	Number   int
	View     lessons.StepView
	Hints    []template.HTML // the ones revealed
	MoreHint bool
	Feedback *answerFeedback
	Choices  []choicePage // a question step's, in this learner's order
}

// quizPage is one quiz question as the lesson page shows it.
type quizPage struct {
	lessons.QuizStatus
	Feedback *answerFeedback
	Choices  []choicePage
}

// choicePage is one answer on the page; Checked keeps the learner's pick
// selected next to its feedback, so a wrong answer can be read beside why.
type choicePage struct {
	lessons.Choice
	Checked bool
}

type answerFeedback struct {
	Correct bool
	Text    template.HTML
	Choice  string // the id picked
}

func choicePages(choices []lessons.Choice, fb *answerFeedback) []choicePage {
	out := make([]choicePage, len(choices))
	for i, c := range choices {
		out[i] = choicePage{Choice: c, Checked: fb != nil && fb.Choice == c.ID}
	}
	return out
}

func (a *app) lessonShow(c *fiber.Ctx) error {
	l, ok := a.lessons.Lesson(c.Params("slug"))
	if !ok {
		return fiber.NewError(fiber.StatusNotFound, "There is no such lesson. Pick one from the lesson index.")
	}
	if err := a.syncProgress(c); err != nil {
		return err
	}
	if err := a.observeRequest(c); err != nil {
		return err
	}
	rs := state(c)
	p := progressOf(rs.sess)
	vals := a.lessonValues(c)
	body, err := l.RenderBody(vals)
	if err != nil {
		return err
	}
	answers := a.flashAnswers(c)
	st := l.Status(p)
	steps := make([]stepPage, 0, len(st.Steps))
	for i, ss := range st.Steps {
		view, err := ss.Step.Render(vals)
		if err != nil {
			return err
		}
		sp := stepPage{StepStatus: ss, Number: i + 1, View: view, Hints: view.Hints[:min(ss.HintsUsed, len(view.Hints))], MoreHint: ss.HintsUsed < len(view.Hints) && !ss.Done}
		sp.Feedback = answers[ss.Step.ID]
		sp.Choices = choicePages(ss.Choices, sp.Feedback)
		steps = append(steps, sp)
	}
	quiz := make([]quizPage, 0, len(st.Quiz))
	for _, q := range st.Quiz {
		fb := answers[q.Question.ID]
		quiz = append(quiz, quizPage{QuizStatus: q, Feedback: fb, Choices: choicePages(q.Choices, fb)})
	}
	prev, next := a.lessons.Neighbors(l.Slug)
	return a.render(c, fiber.StatusOK, "lesson", l.Title, fiber.Map{
		"Lesson": l, "Status": st, "Body": body, "Steps": steps, "Quiz": quiz, "Prev": prev, "Next": next,
		"Diagram": a.exchangeDiagram(c),
	})
}

// flashAnswers finds the feedback to a question answered by the POST that
// redirected here: the answer travels as an event like every other change.
func (a *app) flashAnswers(c *fiber.Ctx) map[string]*answerFeedback {
	out := map[string]*answerFeedback{}
	f := a.takeFlash(c)
	if f == nil {
		return out
	}
	for _, e := range f.Raw {
		if e[0] != events.LessonAnswered.String() {
			continue
		}
		d := map[string]string{}
		json.Unmarshal([]byte(e[1]), &d)
		correct, feedback, _, err := a.lessons.Answer(progressOf(state(c).sess), d["lesson"], d["question"], d["choice"])
		if err != nil && !errors.Is(err, lessons.ErrLocked) {
			continue
		}
		if errors.Is(err, lessons.ErrLocked) {
			feedback = "Do the steps above this one first."
		}
		out[d["question"]] = &answerFeedback{Correct: correct, Text: lessons.Inline(feedback), Choice: d["choice"]}
	}
	return out
}

// lessonAnswer checks a quiz or question-step answer server-side.
func (a *app) lessonAnswer(c *fiber.Ctx) error {
	l, ok := a.lessons.Lesson(c.Params("slug"))
	if !ok {
		return fiber.NewError(fiber.StatusNotFound, "There is no such lesson.")
	}
	args := c.Request().PostArgs()
	qid, choice := string(args.Peek("question")), string(args.Peek("choice"))
	if choice == "" {
		return fiber.NewError(fiber.StatusBadRequest, "Pick one of the answers first. Nothing was recorded.")
	}
	err := a.change(c, func(ctx context.Context, tx *db.Tx, s *session) error {
		correct, _, newly, err := a.lessons.Answer(progressOf(s), l.Slug, qid, choice)
		if err != nil && !errors.Is(err, lessons.ErrLocked) {
			return fiber.NewError(fiber.StatusBadRequest, "That question or answer is not part of this lesson. Nothing was recorded.")
		}
		state(c).record(events.LessonAnswered, map[string]string{"lesson": l.Slug, "question": qid, "choice": choice, "correct": strconv.FormatBool(correct)})
		return a.markDone(ctx, c, tx, s, newly)
	})
	if err != nil {
		return err
	}
	return a.redirect(c, "/lessons/"+l.Slug+"#"+url.PathEscape(qid))
}

// lessonHint reveals one more hint of a step.
func (a *app) lessonHint(c *fiber.Ctx) error {
	l, ok := a.lessons.Lesson(c.Params("slug"))
	if !ok {
		return fiber.NewError(fiber.StatusNotFound, "There is no such lesson.")
	}
	stepID := string(c.Request().PostArgs().Peek("step"))
	if _, _, ok := l.Step(stepID); !ok {
		return fiber.NewError(fiber.StatusBadRequest, "That step is not part of this lesson. Nothing was recorded.")
	}
	err := a.change(c, func(ctx context.Context, tx *db.Tx, s *session) error {
		k := lessons.Key{Lesson: l.Slug, Step: stepID}
		n, err := a.lessons.RevealHint(progressOf(s), k)
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "No hint for that step.")
		}
		if s.data.Hints == nil {
			s.data.Hints = map[string]int{}
		}
		s.data.Hints[k.String()] = n
		state(c).record(events.LessonHint, map[string]string{"lesson": l.Slug, "step": stepID, "hints": strconv.Itoa(n)})
		if s.loggedIn() {
			return tx.SetHints(ctx, ownerOf(s), k.Lesson, k.Step, n, a.now())
		}
		return nil
	})
	if err != nil {
		return err
	}
	return a.redirect(c, "/lessons/"+l.Slug+"#step-"+url.PathEscape(stepID))
}

// lessonsReset forgets the learner's progress, in the session and the account.
func (a *app) lessonsReset(c *fiber.Ctx) error {
	err := a.change(c, func(ctx context.Context, tx *db.Tx, s *session) error {
		s.data.Done, s.data.Hints = nil, nil
		state(c).record(events.LessonReset, map[string]string{})
		if s.loggedIn() {
			return tx.ResetProgress(ctx, ownerOf(s))
		}
		return nil
	})
	if err != nil {
		return err
	}
	return a.redirect(c, "/lessons")
}

// apiProgress is the learner's progress as JSON (docs/CONTRACT.md). Without a
// live session it is everyone's starting point: nothing done.
func (a *app) apiProgress(c *fiber.Ctx) error {
	s := state(c).sess
	p := progressOf(s)
	if s != nil && s.loggedIn() {
		rows, err := a.db.Progress(c.UserContext(), ownerOf(s))
		if err != nil {
			return err
		}
		for _, r := range rows {
			if r.Done {
				p.Done[lessons.Key{Lesson: r.Lesson, Step: r.Item}] = true
			}
		}
	}
	return c.JSON(a.lessons.Report(p))
}
