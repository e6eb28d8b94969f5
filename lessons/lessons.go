// Package lessons is Session Lab's curriculum: the lesson files embedded in
// content/ and the engine that ticks a learner's steps off as the web layer
// reports what happened in their session.
//
// It is pure: no database, no HTTP. The web layer loads the catalog once at
// start (Load fails fast on a broken lesson file), feeds each request's
// events to Advance, stores the keys it returns, and renders lesson text
// with the learner's own values (RenderBody, Step.Render).
//
// Steps complete in order within a lesson, and lessons are independent, so
// every lesson starts with an "open this lesson" step triggered by
// the GET of its own page: without it, logging in during lesson 4 would
// silently tick lesson 5's and 6's first steps before the learner had read
// them.
//
// A lesson file is YAML front matter between two "---" lines, then a
// Markdown body. The front matter format is documented in FORMAT.md
// and enforced by LoadFS.
package lessons

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"os"
)

//go:embed content/*.md
var content embed.FS

// Lesson is one lesson of the catalog, parsed and validated.
type Lesson struct {
	Number     int    // 1-based position, from the file name ("04-logging-in.md")
	Slug       string // from the file name; the URL is /lessons/{Slug}
	Title      string
	Summary    string
	Objectives []string
	Steps      []*Step
	Quiz       []*Question

	body *template.Template
}

// Step is one thing to do. Exactly one of Trigger, Observe and Question is
// set. A step that asks for an action completes on evidence of it: its
// trigger's event in the learner's session, or, for "look and see" steps,
// the value the learner read typed back and checked server-side against
// the real one (Observe). A question completes a step whose action is
// thinking ("explain why the ID changed"): the right answer is its evidence.
type Step struct {
	ID       string
	Title    string // short imperative: "Add any product to your cart"
	Curl     []string
	Trigger  *Trigger
	Observe  *Observe
	Question *Question

	do, devtools *template.Template
	hints        []*template.Template
}

// Question is a multiple-choice question, either a quiz question (its ID
// comes from the file) or a question step (its ID is the step's). Prompt,
// choices and feedback are plain text. The right answer is unexported so a
// template handed a Question cannot leak it into the page.
type Question struct {
	ID      string
	Prompt  string
	Choices []Choice
	Explain string // why the right answer is right; shown once answered

	answer string
}

// Observe is a step the learner completes by typing back what they saw:
// the web layer reads the real value (Value names which) and checks it.
// Nothing is ticked on the learner's word alone.
type Observe struct {
	Value   string `yaml:"value"`   // one of ObserveValues
	Count   int    `yaml:"count"`   // how many different values to type (issued-id only; default 1)
	Prompt  string `yaml:"prompt"`  // Markdown-free plain text: the input's label
	Explain string `yaml:"explain"` // shown once the value checks out
}

// The values an Observe step may ask for. The web layer knows how to read
// each one; the loader refuses any other name.
const (
	// ObserveCookie: the first characters of the sessionid the browser
	// holds right now (Cookie panel, DevTools, a jar linked to it).
	ObserveCookie = "cookie-prefix"
	// ObserveIssued: the first characters of IDs the server really issued,
	// in the last minutes, to requests that came without a cookie (curl
	// without a jar, a new jar): a stranger's ID, not the browser's own.
	ObserveIssued = "issued-id"
	// ObserveRefused: the first characters of an ID the server refused in
	// the last minutes because no live session had it (a replayed cookie).
	ObserveRefused = "refused-id"
	// ObserveLogin: the first characters of the ID another browser got
	// when it logged in, in the last minutes, to the learner's account.
	ObserveLogin = "login-id"
	// ObserveLogout: the first characters of an ID logged out, in the last
	// minutes, from a session of the learner's account.
	ObserveLogout = "logout-id"
	// ObserveExpires: the session's expires_at, hours and minutes (UTC), as
	// the Session record panel shows it.
	ObserveExpires = "expires-at"
)

// ObserveValues lists the values an Observe step may name.
var ObserveValues = []string{ObserveCookie, ObserveIssued, ObserveRefused, ObserveLogin, ObserveLogout, ObserveExpires}

// Choice is one answer to a Question. Why is the feedback shown when a
// learner picks it and it is wrong: it should nudge, not give the answer.
type Choice struct {
	ID   string `yaml:"id"`
	Text string `yaml:"text"`
	Why  string `yaml:"why"`
}

// StepView is a step rendered for one learner.
type StepView struct {
	Do       template.HTML
	DevTools template.HTML
	Curl     []string // plain text shell commands; the page template escapes them
	Hints    []template.HTML
}

// RenderBody renders the lesson's explanation with the learner's values,
// each escaped for the HTML context it lands in.
func (l *Lesson) RenderBody(v Values) (template.HTML, error) {
	return execute(l.body, v)
}

// Render renders everything a step shows. The caller reveals hints one at
// a time: show Hints[:Progress.Hints[key]].
func (s *Step) Render(v Values) (StepView, error) {
	var sv StepView
	var err error
	if sv.Do, err = execute(s.do, v); err != nil {
		return StepView{}, err
	}
	if sv.DevTools, err = execute(s.devtools, v); err != nil {
		return StepView{}, err
	}
	for _, h := range s.hints {
		html, err := execute(h, v)
		if err != nil {
			return StepView{}, err
		}
		sv.Hints = append(sv.Hints, html)
	}
	for _, c := range s.Curl {
		sv.Curl = append(sv.Curl, fillShell(c, v))
	}
	return sv, nil
}

// HintCount is how many hints the step has (1 to 3).
func (s *Step) HintCount() int { return len(s.hints) }

// Catalog is the validated set of lessons, in order. It is immutable after
// load and safe for concurrent use.
type Catalog struct {
	lessons []*Lesson
	bySlug  map[string]*Lesson
}

// contractSlugs are the lesson URLs docs/CONTRACT.md promises tutorials and
// slides; the embedded content must provide exactly these, in this order.
var contractSlugs = []string{
	"http-forgets", "the-cookie", "the-session-record", "logging-in",
	"come-back-later", "logging-out", "cookie-attributes", "session-fixation",
	"timeouts", "where-sessions-live", "beyond-one-machine",
}

// Load parses and validates the embedded lessons. The web layer calls it at
// start and refuses to serve if it fails: a broken lesson is a build defect.
func Load() (*Catalog, error) {
	sub, err := fs.Sub(content, "content")
	if err != nil {
		return nil, fmt.Errorf("lessons: %w", err)
	}
	return loadCurriculum(sub)
}

// LoadDir loads the curriculum from a folder of lesson files on disk (a
// copy of lessons/content an instructor edits), with the same checks as the
// embedded one: text changes need no Go code, only a restart.
func LoadDir(dir string) (*Catalog, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("lessons: %w", err)
	}
	c, err := loadCurriculum(os.DirFS(dir))
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, dir)
	}
	return c, nil
}

// loadCurriculum loads lesson files and checks they begin with the
// contract's eleven lessons, in order (tutorials link to them); an
// instructor's extra lessons may follow.
func loadCurriculum(fsys fs.FS) (*Catalog, error) {
	c, err := LoadFS(fsys)
	if err != nil {
		return nil, err
	}
	if len(c.lessons) < len(contractSlugs) {
		return nil, fmt.Errorf("lessons: %d lessons found, the contract lists %d", len(c.lessons), len(contractSlugs))
	}
	for i, slug := range contractSlugs {
		if l := c.lessons[i]; l.Slug != slug {
			return nil, fmt.Errorf("lessons: lesson %d is %q, the contract says %q", i+1, l.Slug, slug)
		}
	}
	return c, nil
}

// Lessons returns the lessons in order. The slice is a copy; the lessons are
// shared and must not be modified.
func (c *Catalog) Lessons() []*Lesson {
	return append([]*Lesson(nil), c.lessons...)
}

// Lesson finds a lesson by slug.
func (c *Catalog) Lesson(slug string) (*Lesson, bool) {
	l, ok := c.bySlug[slug]
	return l, ok
}

// Neighbors returns the lessons before and after slug, nil at either end,
// for "previous / next" links.
func (c *Catalog) Neighbors(slug string) (prev, next *Lesson) {
	l, ok := c.bySlug[slug]
	if !ok {
		return nil, nil
	}
	i := l.Number - 1
	if i > 0 {
		prev = c.lessons[i-1]
	}
	if i+1 < len(c.lessons) {
		next = c.lessons[i+1]
	}
	return prev, next
}

// Step finds a step of the lesson by ID.
func (l *Lesson) Step(id string) (*Step, int, bool) {
	for i, s := range l.Steps {
		if s.ID == id {
			return s, i, true
		}
	}
	return nil, -1, false
}
