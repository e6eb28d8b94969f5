package main

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"sessionlab/db"
	"sessionlab/events"
	"sessionlab/ids"
	"sessionlab/lessons"
)

// Lesson progress lives in lesson_progress, never in the session record,
// and belongs to the learner: the sessions.learner column links a browser's
// session to it, kept when the ID rotates. Logging in does not hand it to
// the account (thirty students on alice are thirty learners); an account of
// one's own has a home learner that a login from another browser joins, and
// a logout can pass the learner on to the next page (resume codes). The page
// view reads the progress with the session, in its one query.

// progressOf is the progress a session shows (nothing without one). Its
// owner is also whose quiz choice order the pages show: the account once
// logged in (the same order in every browser), else this browser's learner.
func progressOf(s *session) lessons.Progress {
	if s == nil {
		return lessons.Progress{Done: map[lessons.Key]bool{}, Hints: map[lessons.Key]int{}}
	}
	p := s.progress
	p.Learner = s.row.ProgressOwner()
	return p
}

// progressFrom reads an owner's rows for the engine. Last is the step done
// most recently; steps completed by one request share its time, and among
// them the one later in the curriculum is last (Advance's order).
func (a *app) progressFrom(rows []db.ProgressRow) lessons.Progress {
	p := lessons.Progress{Done: map[lessons.Key]bool{}, Hints: map[lessons.Key]int{}}
	var lastAt time.Time
	var tied []lessons.Key
	for _, r := range rows {
		k := lessons.Key{Lesson: r.Lesson, Step: r.Item}
		if r.Hints > 0 {
			p.Hints[k] = r.Hints
		}
		if !r.Done {
			continue
		}
		p.Done[k] = true
		switch {
		case r.UpdatedAt.After(lastAt):
			lastAt, tied = r.UpdatedAt, append(tied[:0], k)
		case r.UpdatedAt.Equal(lastAt):
			tied = append(tied, k)
		}
	}
	if len(tied) == 1 || a.lessons == nil {
		if len(tied) > 0 {
			p.Last = tied[0]
		}
		return p
	}
	for _, l := range a.lessons.Lessons() {
		for _, st := range l.Steps {
			if slices.Contains(tied, l.StepKey(st)) {
				p.Last = l.StepKey(st)
			}
		}
		for _, q := range l.Quiz {
			if slices.Contains(tied, l.QuizKey(q)) {
				p.Last = l.QuizKey(q)
			}
		}
	}
	return p
}

// progressAtLogin settles the learner of a session that just logged in. An
// account with a home learner (the one who signed it up) is joined: what
// this browser did comes along into the home learner's rows, and the browser
// continues as that learner, so progress follows a person to any browser.
// An account without one (the shared demo accounts) leaves the browser its
// own learner: thirty students on alice never share ticks.
func (a *app) progressAtLogin(ctx context.Context, tx *db.Tx, s *session) error {
	home, err := tx.HomeLearner(ctx, s.userID())
	if err != nil {
		return err
	}
	if home != "" && home != s.row.Learner {
		// A session linked by a code (a terminal) counts for someone
		// else's progress: it joins the account's learner without taking
		// that progress along, or a classmate who read a link code off a
		// screen could copy a learner's ticks into their own account.
		if !s.row.LinkedAt.Valid {
			if err := tx.CopyProgress(ctx, db.LearnerOwner(s.row.Learner), db.LearnerOwner(home)); err != nil {
				return err
			}
		}
		if err := tx.SetLearner(ctx, s.row.Key, home); err != nil {
			return err
		}
		s.row.Learner, s.row.LinkedAt = home, sql.NullTime{}
	}
	rows, err := tx.Progress(ctx, s.row.ProgressOwner())
	if err != nil {
		return err
	}
	s.progress = a.progressFrom(rows)
	return nil
}

// markDone records completed steps for the session's owner.
func (a *app) markDone(ctx context.Context, c *fiber.Ctx, tx *db.Tx, s *session, keys []lessons.Key) error {
	for _, k := range keys {
		if s.progress.Done[k] {
			continue
		}
		if err := tx.MarkDone(ctx, s.row.ProgressOwner(), k.Lesson, k.Step, a.now()); err != nil {
			return err
		}
		s.progress.Done[k], s.progress.Last = true, k
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
	v := lessons.Values{SessionPrefix: ids.Prefix(rs.id), BaseURL: a.publicBase(c), DBKind: a.db.Dialect(), DBURL: a.db.Config.Display}
	if rs.sess != nil {
		v.Username = rs.sess.username()
	}
	return v
}

func (a *app) lessonsIndex(c *fiber.Ctx) error {
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
	if code := c.Query("resume"); code != "" {
		if err := a.resumeLearner(c, code); err != nil {
			return err
		}
	}
	if err := a.observeRequest(c); err != nil {
		return err
	}
	rs := state(c)
	p := progressOf(rs.sess)
	vals := a.lessonValues(c)
	var term *terminalBox
	if slices.ContainsFunc(l.Steps, func(st *lessons.Step) bool { return len(st.Curl) > 0 }) {
		var err error
		if term, err = a.terminal(c); err != nil {
			return err
		}
		vals.LinkCode = term.Code
	}
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
		"Diagram": a.exchangeDiagram(c), "Terminal": term,
	})
}

// flashAnswers finds the feedback to a question answered by the POST that
// redirected here: the answer travels as an event like every other change.
func (a *app) flashAnswers(c *fiber.Ctx) map[string]*answerFeedback {
	out := map[string]*answerFeedback{}
	ex := a.lastExchange(c)
	if ex == nil {
		return out
	}
	for _, e := range ex.Events {
		if e[0] != events.LessonAnswered.String() {
			continue
		}
		d := map[string]string{}
		json.Unmarshal([]byte(e[1]), &d)
		if fb := a.observeFeedback(c, d); fb != nil {
			out[d["question"]] = fb
			continue
		}
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
	if st, _, ok := l.Step(qid); ok && st.Observe != nil {
		return a.lessonObserve(c, l, st, string(args.Peek("value")))
	}
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
		s.progress.Hints[k] = n
		state(c).record(events.LessonHint, map[string]string{"lesson": l.Slug, "step": stepID, "hints": strconv.Itoa(n)})
		return tx.SetHints(ctx, s.row.ProgressOwner(), k.Lesson, k.Step, n, a.now())
	})
	if err != nil {
		return err
	}
	return a.redirect(c, "/lessons/"+l.Slug+"#step-"+url.PathEscape(stepID))
}

// lessonsReset forgets the progress of the session's owner (the learner's,
// or the account's once logged in).
func (a *app) lessonsReset(c *fiber.Ctx) error {
	err := a.change(c, func(ctx context.Context, tx *db.Tx, s *session) error {
		if s.row.LinkedAt.Valid {
			// A link lends a terminal's work to a learner; wiping the
			// learner's progress is theirs to do, from their own browser.
			return fiber.NewError(fiber.StatusConflict, "This session counts for another browser's lessons through a link code, so it cannot reset them: reset from that browser. Nothing was reset.")
		}
		s.progress = a.progressFrom(nil)
		state(c).record(events.LessonReset, map[string]string{})
		return tx.ResetProgress(ctx, s.row.ProgressOwner())
	})
	if err != nil {
		return err
	}
	return a.redirect(c, "/lessons")
}

// apiProgress is the learner's progress as JSON (docs/CONTRACT.md). Without a
// live session it is everyone's starting point: nothing done.
func (a *app) apiProgress(c *fiber.Ctx) error {
	return c.JSON(a.lessons.Report(progressOf(state(c).sess)))
}

// observeWithin is how far back an ID the learner read in a terminal may
// have been issued or refused: long enough to read, type and come back.
const observeWithin = 15 * time.Minute

// observeMin is how many characters of an ID the learner types back: the
// lessons ask for the first 6. Enough to tell IDs apart, nowhere near a
// usable ID (a page never shows or asks for a whole one).
const observeMin = 6

// lessonObserve checks the value a learner typed for an observe step
// against the real one, server-side, and ticks the step only if it matches
// and the steps above it are done. The typed value is never stored.
func (a *app) lessonObserve(c *fiber.Ctx, l *lessons.Lesson, st *lessons.Step, typed string) error {
	typed = strings.TrimSpace(typed)
	if typed == "" || len(typed) > 100 {
		return fiber.NewError(fiber.StatusBadRequest, "Type what you saw (at most 100 characters). Nothing was recorded.")
	}
	err := a.change(c, func(ctx context.Context, tx *db.Tx, s *session) error {
		right, err := a.observedRight(ctx, c, s, st.Observe, typed)
		if err != nil {
			return err
		}
		var newly []lessons.Key
		if right {
			newly, err = a.lessons.Observed(progressOf(s), l.Slug, st.ID)
			if errors.Is(err, lessons.ErrLocked) {
				right, newly = false, nil
			} else if err != nil {
				return err
			}
		}
		state(c).record(events.LessonAnswered, map[string]string{"lesson": l.Slug, "question": st.ID, "choice": "", "correct": strconv.FormatBool(right)})
		return a.markDone(ctx, c, tx, s, newly)
	})
	if err != nil {
		return err
	}
	return a.redirect(c, "/lessons/"+l.Slug+"#step-"+url.PathEscape(st.ID))
}

// observedRight compares what the learner typed with the real value the
// step names (lessons.ObserveValues).
func (a *app) observedRight(ctx context.Context, c *fiber.Ctx, s *session, o *lessons.Observe, typed string) (bool, error) {
	switch o.Value {
	case lessons.ObserveCookie:
		id := state(c).id
		return len(typed) >= observeMin && len(typed) <= len(id) &&
			subtle.ConstantTimeCompare([]byte(typed), []byte(id[:len(typed)])) == 1, nil
	case lessons.ObserveExpires:
		hm, err := time.Parse("15:04", strings.TrimSuffix(typed, " UTC"))
		if err != nil {
			return false, nil
		}
		// The idle deadline moves with the learner's requests (at most once
		// a minute): a reading a couple of minutes old is still the truth.
		exp := s.row.ExpiresAt.UTC()
		got := time.Date(exp.Year(), exp.Month(), exp.Day(), hm.Hour(), hm.Minute(), 0, 0, time.UTC)
		d := exp.Sub(got)
		return d >= -3*time.Minute && d <= 3*time.Minute, nil
	case lessons.ObserveIssued, lessons.ObserveRefused, lessons.ObserveLogin, lessons.ObserveLogout:
		kind, field, where, user := events.SessionCreated, "new", map[string]string{"reason": "none"}, int64(0)
		switch o.Value {
		case lessons.ObserveRefused:
			kind, field, where = events.SessionRefused, "prefix", map[string]string{"reason": "unknown"}
		case lessons.ObserveLogin:
			if !s.loggedIn() {
				return false, nil
			}
			kind, field, where, user = events.SessionRotated, "new", map[string]string{"why": "login"}, s.userID()
		case lessons.ObserveLogout:
			if !s.loggedIn() {
				return false, nil
			}
			kind, field, where, user = events.Logout, "prefix", nil, s.userID()
		}
		vals := strings.FieldsFunc(typed, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
		if len(vals) != o.Count {
			return false, nil
		}
		seen := map[string]bool{}
		own := state(c).id
		for _, v := range vals {
			if len(v) < observeMin {
				return false, nil
			}
			v = v[:observeMin]
			// Two different IDs, and not the browser's own: the point is
			// what a cookieless terminal (or a replayed cookie) was given.
			if seen[v] || strings.HasPrefix(own, v) {
				return false, nil
			}
			seen[v] = true
			ok, err := a.db.EventSeen(ctx, kind.String(), a.now().Add(-observeWithin), user, field, v, where)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	}
	return false, nil
}

// observeFeedback is the feedback to an observe step's check, or nil when
// the answered event is not one.
func (a *app) observeFeedback(c *fiber.Ctx, d map[string]string) *answerFeedback {
	l, ok := a.lessons.Lesson(d["lesson"])
	if !ok {
		return nil
	}
	st, _, ok := l.Step(d["question"])
	if !ok || st.Observe == nil {
		return nil
	}
	if d["correct"] == "true" {
		return &answerFeedback{Correct: true, Text: lessons.Inline(st.Observe.Explain)}
	}
	if _, err := a.lessons.Observed(progressOf(state(c).sess), l.Slug, st.ID); errors.Is(err, lessons.ErrLocked) {
		return &answerFeedback{Text: "Do the steps above this one first."}
	}
	return &answerFeedback{Text: lessons.Inline(observeMiss[st.Observe.Value])}
}

// observeMiss nudges a learner whose value did not match, per value kind.
var observeMiss = map[string]string{
	lessons.ObserveCookie:  "That is not the start of the sessionid your browser holds now. Look again (the ID changes when you log in or out), and type its first 6 characters.",
	lessons.ObserveExpires: "That is not your session's expiry. Read `expires_at` in the Session record panel (UTC) and type the hours and minutes, like `14:05`.",
	lessons.ObserveIssued:  "The server did not issue those IDs to a request without a cookie in the last 15 minutes. Run the commands again and type the first 6 characters after `sessionid=`, separated by a space if there are two.",
	lessons.ObserveLogin:   "No other browser got that ID by logging in to your account in the last 15 minutes. Log in there (as the user you are logged in as here) and type the first 6 characters of its sessionid.",
	lessons.ObserveLogout:  "No session of your account was logged out with that ID in the last 15 minutes. Log the other session out and type the first 6 characters of the ID it had (keep a copy of its cookie first).",
	lessons.ObserveRefused: "The server did not refuse that ID in the last 15 minutes. Replay the old cookie again and type the first 6 characters of the ID you sent.",
}

// resumeLearner takes a logout's resume code (see logoutPost): the fresh
// anonymous session continues the learner the code names, and the page
// shows what the logout did, as any page shows the form that led to it. A
// logged-in session, or a code unknown, expired or used, changes nothing:
// the learner is simply where this session already is.
func (a *app) resumeLearner(c *fiber.Ctx, code string) error {
	rs := state(c)
	if !ids.Valid(code) || rs.sess == nil || rs.sess.loggedIn() {
		return nil
	}
	return a.change(c, func(ctx context.Context, tx *db.Tx, s *session) error {
		learner, record, err := tx.TakeLearnerCode(ctx, db.CodeResume, ids.Hash(code), a.now())
		if err != nil || learner == "" || learner == s.row.Learner {
			return err
		}
		if err := tx.SetLearner(ctx, s.row.Key, learner); err != nil {
			return err
		}
		rows, err := tx.Progress(ctx, db.LearnerOwner(learner))
		if err != nil {
			return err
		}
		s.row.Learner, s.progress = learner, a.progressFrom(rows)
		rs.lastExchange = record
		rs.record(events.LessonResumed, map[string]string{})
		return nil
	})
}
