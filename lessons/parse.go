package lessons

import (
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"sessionlab/labs/slugs"
)

// The front matter as written in a lesson file. Decoding is strict (unknown
// fields are errors) so a misspelt key ("hint:" for "hints:") fails the load
// instead of silently dropping text.
type frontMatter struct {
	Title      string          `yaml:"title"`
	Summary    string          `yaml:"summary"`
	Objectives []string        `yaml:"objectives"`
	Steps      []stepFront     `yaml:"steps"`
	Quiz       []questionFront `yaml:"quiz"`
}

type stepFront struct {
	ID       string         `yaml:"id"`
	Title    string         `yaml:"title"`
	Do       string         `yaml:"do"`
	Curl     []string       `yaml:"curl"`
	DevTools string         `yaml:"devtools"`
	Hints    []string       `yaml:"hints"`
	Trigger  *Trigger       `yaml:"trigger"`
	Question *questionFront `yaml:"question"`
	Observe  *Observe       `yaml:"observe"`
}

type questionFront struct {
	ID      string    `yaml:"id"`
	Prompt  string    `yaml:"prompt"`
	Choices []Choice  `yaml:"choices"`
	Answer  answerIDs `yaml:"answer"`
	Explain string    `yaml:"explain"`
}

// answerIDs is the answer key as written: one choice id, or by mistake a
// list of them. Reading both lets the loader say "2 right answers, want
// exactly one" instead of a YAML type error.
type answerIDs []string

func (a *answerIDs) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.SequenceNode {
		var ids []string
		if err := n.Decode(&ids); err != nil {
			return err
		}
		*a = ids
		return nil
	}
	var id string
	if err := n.Decode(&id); err != nil {
		return err
	}
	*a = answerIDs{id}
	return nil
}

var (
	fileNameRE = regexp.MustCompile(`^([0-9]{2})-([a-z0-9]+(?:-[a-z0-9]+)*)\.md$`)
	idRE       = regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)
	lessonRef  = regexp.MustCompile(`/lessons/([A-Za-z0-9_-]+)`)
	labRef     = regexp.MustCompile(`/lab/([A-Za-z0-9_-]+)`)
)

// Actions are the site's own POST addresses under /lessons/ (docs/CONTRACT.md):
// a lesson may quote them in its commands (the terminal's link), and no
// lesson may take their names as its slug.
var Actions = []string{"link", "reset"}

// LoadFS parses and validates every NN-slug.md file at the root of fsys.
// It reports every problem it finds, not just the first, so an instructor
// fixes a lesson in one round. Files must be numbered 01, 02, … without gaps.
func LoadFS(fsys fs.FS) (*Catalog, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("lessons: %w", err)
	}
	var errs []error
	c := &Catalog{bySlug: make(map[string]*Lesson)}
	refs := make(map[string][]string) // file → lesson slugs it links to
	broken := make(map[string]bool)   // slugs of files that failed: links to them are not the problem
	n := 0
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || path.Ext(name) != ".md" {
			continue
		}
		n++
		m := fileNameRE.FindStringSubmatch(name)
		if m == nil {
			errs = append(errs, fmt.Errorf("%s: name must look like 01-some-slug.md", name))
			continue
		}
		if num, _ := strconv.Atoi(m[1]); num != n {
			errs = append(errs, fmt.Errorf("%s: expected lesson number %02d (files are numbered 01, 02, … without gaps)", name, n))
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		if slices.Contains(Actions, m[2]) {
			errs = append(errs, fmt.Errorf("%s: /lessons/%s is the site's own address, not a lesson: choose another slug", name, m[2]))
			continue
		}
		l, links, err := parseLesson(m[2], data)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			broken[m[2]] = true
			continue
		}
		if _, dup := c.bySlug[l.Slug]; dup {
			errs = append(errs, fmt.Errorf("%s: duplicate slug %q", name, l.Slug))
			continue
		}
		l.Number = n
		c.lessons = append(c.lessons, l)
		c.bySlug[l.Slug] = l
		refs[name] = links
	}
	if n == 0 {
		errs = append(errs, errors.New("no lesson files (NN-slug.md)"))
	}
	// Links are checked once every slug is known, so a lesson may point
	// forward to a later one.
	for _, name := range sortedKeys(refs) {
		for _, slug := range refs[name] {
			if _, ok := c.bySlug[slug]; !ok && !broken[slug] {
				errs = append(errs, fmt.Errorf("%s: link to unknown lesson /lessons/%s", name, slug))
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("lessons: invalid content:\n%w", errors.Join(errs...))
	}
	return c, nil
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// splitFrontMatter separates "---\nYAML\n---\nMarkdown".
func splitFrontMatter(data []byte) (front, body string, err error) {
	s := strings.TrimPrefix(string(data), "\ufeff")
	s = strings.ReplaceAll(s, "\r\n", "\n") // files edited on Windows
	if !strings.HasPrefix(s, "---\n") {
		return "", "", errors.New(`must start with a "---" line, then the front matter`)
	}
	s = s[len("---\n"):]
	if strings.HasPrefix(s, "---\n") {
		return "", s[len("---\n"):], nil
	}
	end := strings.Index(s, "\n---\n")
	if end < 0 {
		if strings.HasSuffix(s, "\n---") {
			return s[:len(s)-len("\n---")], "", nil
		}
		return "", "", errors.New(`front matter has no closing "---" line`)
	}
	return s[:end+1], s[end+len("\n---\n"):], nil
}

// lessonErrs collects a file's problems with the place each was found.
type lessonErrs []error

func (e *lessonErrs) add(where string, err error) {
	if err != nil {
		*e = append(*e, fmt.Errorf("%s: %w", where, err))
	}
}

func (e *lessonErrs) addf(where, format string, args ...any) {
	*e = append(*e, fmt.Errorf("%s: "+format, append([]any{where}, args...)...))
}

// parseLesson parses and validates one file. It returns the lesson slugs
// the file links to, for LoadFS to check against the whole catalog.
func parseLesson(slug string, data []byte) (*Lesson, []string, error) {
	front, body, err := splitFrontMatter(data)
	if err != nil {
		return nil, nil, err
	}
	var f frontMatter
	dec := yaml.NewDecoder(strings.NewReader(front))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, nil, fmt.Errorf("front matter: %w", err)
	}

	var errs lessonErrs
	l := &Lesson{Slug: slug, Title: f.Title, Summary: f.Summary, Objectives: f.Objectives}
	var texts []string // everything a learner reads, scanned for links

	plain := func(where, s string) {
		texts = append(texts, s)
		if strings.TrimSpace(s) == "" {
			errs.addf(where, "missing")
		} else if strings.Contains(s, "{{") {
			errs.addf(where, "placeholders are allowed only in Markdown text and curl commands")
		} else if strings.Contains(s, "`") {
			// Titles and objectives are shown as plain text (banner, index):
			// a backtick would be printed as one.
			errs.addf(where, "plain text: write names without backticks")
		}
	}
	md := func(where, name, src string) *template.Template {
		texts = append(texts, src)
		if strings.TrimSpace(src) == "" {
			errs.addf(where, "missing")
			return nil
		}
		t, err := compileMarkdown(slug+"/"+name, src)
		errs.add(where, err)
		return t
	}

	plain("title", f.Title)
	plain("summary", f.Summary)
	if len(f.Objectives) == 0 {
		errs.addf("objectives", "at least one objective is required")
	}
	for i, o := range f.Objectives {
		plain(fmt.Sprintf("objectives[%d]", i), o)
	}
	l.body = md("body", "body", body)

	ids := make(map[string]string) // step and quiz IDs share one namespace: Answer takes either
	claim := func(where, id string) {
		if !idRE.MatchString(id) {
			errs.addf(where, "id %q must be lower-case words joined by dashes", id)
			return
		}
		if prev, dup := ids[id]; dup {
			errs.addf(where, "duplicate id %q (also %s)", id, prev)
			return
		}
		ids[id] = where
	}

	if len(f.Steps) == 0 {
		errs.addf("steps", "at least one step is required")
	}
	for i, sf := range f.Steps {
		where := fmt.Sprintf("step %d (%q)", i+1, sf.ID)
		claim(where, sf.ID)
		s := &Step{ID: sf.ID, Title: sf.Title, Trigger: sf.Trigger}
		plain(where+": title", sf.Title)
		s.do = md(where+": do", sf.ID+"/do", sf.Do)
		if n := len(sf.Hints); n < 1 || n > 3 {
			errs.addf(where+": hints", "has %d hints, want 1 to 3", n)
		}
		for j, h := range sf.Hints {
			s.hints = append(s.hints, md(fmt.Sprintf("%s: hints[%d]", where, j), fmt.Sprintf("%s/hint%d", sf.ID, j+1), h))
		}
		for j, c := range sf.Curl {
			texts = append(texts, c)
			w := fmt.Sprintf("%s: curl[%d]", where, j)
			if strings.TrimSpace(c) == "" {
				errs.addf(w, "empty command")
			}
			errs.add(w, checkPlaceholders(c))
		}
		s.Curl = sf.Curl
		if sf.DevTools != "" {
			s.devtools = md(where+": devtools", sf.ID+"/devtools", sf.DevTools)
		}
		ways := 0
		for _, set := range []bool{sf.Trigger != nil, sf.Question != nil, sf.Observe != nil} {
			if set {
				ways++
			}
		}
		switch {
		case ways > 1:
			errs.addf(where, "has more than one of trigger, observe and question; a step completes one way")
		case sf.Observe != nil:
			o := sf.Observe
			if !slices.Contains(ObserveValues, o.Value) {
				errs.addf(where+": observe: value", "%q is not one of %s", o.Value, strings.Join(ObserveValues, ", "))
			}
			if o.Count == 0 {
				o.Count = 1
			}
			if o.Count < 1 || o.Count > 2 || (o.Count > 1 && o.Value != ObserveIssued) {
				errs.addf(where+": observe: count", "count %d: only issued-id may ask for 2", o.Count)
			}
			plain(where+": observe: prompt", o.Prompt)
			texts = append(texts, o.Explain)
			if strings.TrimSpace(o.Explain) == "" {
				errs.addf(where+": observe: explain", "missing")
			} else if strings.Contains(o.Explain, "{{") {
				errs.addf(where+": observe: explain", "placeholders are not allowed here")
			}
			if strings.TrimSpace(sf.DevTools) == "" && len(sf.Curl) == 0 {
				errs.addf(where, "an observe step needs devtools or curl: where to look")
			}
			s.Observe = o
		case sf.Trigger != nil:
			errs.add(where+": trigger", sf.Trigger.validate())
			for _, v := range sf.Trigger.Where {
				texts = append(texts, v)
			}
			// An observable step must show how to reproduce it from a
			// terminal and where to look in the browser.
			if len(sf.Curl) == 0 {
				errs.addf(where+": curl", "a step with a trigger needs at least one curl command")
			}
			if strings.TrimSpace(sf.DevTools) == "" {
				errs.addf(where+": devtools", "a step with a trigger needs DevTools guidance")
			}
		case sf.Question != nil:
			if sf.Question.ID != "" {
				errs.addf(where+": question", "takes the step's id; remove its own id %q", sf.Question.ID)
			}
			sf.Question.ID = sf.ID
			s.Question = buildQuestion(&errs, where+": question", sf.Question, &texts)
		default:
			errs.addf(where, "missing trigger (or question): nothing could ever complete it")
		}
		l.Steps = append(l.Steps, s)
	}

	if n := len(f.Quiz); n < 2 || n > 3 {
		errs.addf("quiz", "has %d questions, want 2 or 3", n)
	}
	for i := range f.Quiz {
		qf := &f.Quiz[i]
		where := fmt.Sprintf("quiz %d (%q)", i+1, qf.ID)
		claim(where, qf.ID)
		l.Quiz = append(l.Quiz, buildQuestion(&errs, where, qf, &texts))
	}

	var links []string
	for _, t := range texts {
		for _, m := range lessonRef.FindAllStringSubmatch(t, -1) {
			if !slices.Contains(links, m[1]) && !slices.Contains(Actions, m[1]) {
				links = append(links, m[1])
			}
		}
		for _, m := range labRef.FindAllStringSubmatch(t, -1) {
			// A link to a lab that does not exist would send a learner to a 404.
			if !slices.Contains(slugs.All(), m[1]) {
				errs.addf("links", "link to unknown lab /lab/%s", m[1])
			}
		}
	}
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	return l, links, nil
}

// buildQuestion validates a question and converts it. A question a learner
// could pass by guessing teaches nothing, so it needs at least three
// choices (they are shown shuffled per learner), exactly one right answer,
// and a "why" on every wrong choice: the nudge a learner gets for picking it.
func buildQuestion(errs *lessonErrs, where string, qf *questionFront, texts *[]string) *Question {
	text := func(w, s string) {
		*texts = append(*texts, s)
		switch {
		case strings.TrimSpace(s) == "":
			errs.addf(w, "missing")
		case strings.Contains(s, "{{"):
			errs.addf(w, "placeholders are not allowed in questions")
		case strings.Count(s, "`")%2 != 0:
			errs.addf(w, "unpaired backtick: write code as `code`, with one backtick on each side")
		}
	}
	text(where+": prompt", qf.Prompt)
	text(where+": explain", qf.Explain)
	if n := len(qf.Choices); n < 3 || n > 6 {
		errs.addf(where+": choices", "has %d choices, want 3 to 6 (with two, guessing passes half the time)", n)
	}
	var answer string
	switch len(qf.Answer) {
	case 0:
		errs.addf(where+": answer", "missing: name the one right choice by its id")
	case 1:
		if answer = qf.Answer[0]; answer == "" {
			errs.addf(where+": answer", "missing: name the one right choice by its id")
		}
	default:
		errs.addf(where+": answer", "names %d right answers (%s), want exactly one", len(qf.Answer), strings.Join(qf.Answer, ", "))
	}
	seen := make(map[string]bool)
	for i, c := range qf.Choices {
		w := fmt.Sprintf("%s: choice %d (%q)", where, i+1, c.ID)
		if !idRE.MatchString(c.ID) {
			errs.addf(w, "id %q must be lower-case words joined by dashes", c.ID)
		} else if seen[c.ID] {
			errs.addf(w, "duplicate choice id %q", c.ID)
		}
		seen[c.ID] = true
		text(w+": text", c.Text)
		if c.Why != "" {
			text(w+": why", c.Why)
		}
		switch {
		case answer == "": // the missing answer is the one problem to report
		case c.ID == answer && c.Why != "":
			errs.addf(w+": why", "is the right answer, whose feedback is explain: remove its why")
		case c.ID != answer && c.Why == "":
			errs.addf(w+": why", "missing: a wrong choice says why it is wrong, so the learner who picks it learns something")
		}
	}
	if answer != "" && !seen[answer] {
		errs.addf(where+": answer", "%q is not one of the choices", answer)
	}
	return &Question{ID: qf.ID, Prompt: qf.Prompt, Choices: qf.Choices, Explain: qf.Explain, answer: answer}
}
