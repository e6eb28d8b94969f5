package lessons

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestEmbeddedLessonsLoadInContractOrder(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	var slugs []string
	for i, l := range c.Lessons() {
		slugs = append(slugs, l.Slug)
		if l.Number != i+1 {
			t.Errorf("%s: Number = %d, want %d", l.Slug, l.Number, i+1)
		}
	}
	// The contract's eleven first, then the built-in extensions after them.
	want := append(slices.Clone(contractSlugs), "sessions-without-a-record")
	if !slices.Equal(slugs, want) {
		t.Errorf("slugs = %v, want %v", slugs, want)
	}
}

// thinkingStep reports whether a step's title asks the learner to reason
// rather than to do or look at something.
func thinkingStep(title string) bool {
	for _, verb := range []string{"Explain ", "Say ", "Describe ", "Imagine ", "Decode ", "Notice ", "Write "} {
		if strings.HasPrefix(title, verb) {
			return true
		}
	}
	return false
}

// unobservable lists the action steps still ticked by an answer, each with
// why the server cannot see the action yet.
var unobservable = map[string]string{
	"where-sessions-live/create-database": "done in the MariaDB client, on a database this server does not use yet",
	"where-sessions-live/check":           "db check runs in the terminal against the new database; the copy step after it is the evidence",
	"where-sessions-live/migrate":         "db migrate runs in the terminal against the new database; the copy step after it is the evidence",
}

func TestEveryEmbeddedLessonHasQuizHintsAndOneWayToCompleteEachStep(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for _, l := range c.Lessons() {
		if n := len(l.Quiz); n < 2 || n > 3 {
			t.Errorf("%s: %d quiz questions, want 2 or 3", l.Slug, n)
		}
		if len(l.Steps) == 0 {
			t.Errorf("%s: no steps", l.Slug)
		}
		for _, s := range l.Steps {
			if n := s.HintCount(); n < 1 || n > 3 {
				t.Errorf("%s/%s: %d hints, want 1 to 3", l.Slug, s.ID, n)
			}
			ways := 0
			for _, set := range []bool{s.Trigger != nil, s.Question != nil, s.Observe != nil} {
				if set {
					ways++
				}
			}
			if ways != 1 {
				t.Errorf("%s/%s: want exactly one of trigger, observe and question", l.Slug, s.ID)
			}
			// A step that asks for an action ticks on evidence of it; a
			// multiple-choice answer is evidence only of thinking.
			if s.Question != nil && !thinkingStep(s.Title) && unobservable[l.Slug+"/"+s.ID] == "" {
				t.Errorf("%s/%s: %q asks for an action but ticks on a multiple-choice answer: give it a trigger or an observe check", l.Slug, s.ID, s.Title)
			}
			sv, err := s.Render(sample)
			if err != nil {
				t.Errorf("%s/%s: Render: %v", l.Slug, s.ID, err)
			}
			if s.Trigger != nil && (len(sv.Curl) == 0 || sv.DevTools == "") {
				t.Errorf("%s/%s: an observable step needs curl and DevTools guidance", l.Slug, s.ID)
			}
			for _, cmd := range sv.Curl {
				if strings.Contains(cmd, "{{") {
					t.Errorf("%s/%s: curl %q still has a placeholder", l.Slug, s.ID, cmd)
				}
			}
		}
		body, err := l.RenderBody(sample)
		if err != nil || body == "" {
			t.Errorf("%s: RenderBody = %d bytes, %v", l.Slug, len(body), err)
		}
	}
}

// jarRe is a curl that sends a cookie jar (jar.txt, or a step's own, shop.txt).
var jarRe = regexp.MustCompile(`-b [a-z-]+\.txt`)

func TestEmbeddedStepsUseCurlWithACookieJarWhereTheyNeedASession(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for _, l := range c.Lessons() {
		for _, s := range l.Steps {
			for _, cmd := range s.Curl {
				// A POST without the jar's cookie and token would get a 403
				// and teach the wrong lesson.
				if strings.Contains(cmd, "-d csrf_token") && !jarRe.MatchString(cmd) {
					t.Errorf("%s/%s: form POST without a cookie jar: %s", l.Slug, s.ID, cmd)
				}
			}
		}
	}
}

func TestLoadFSAcceptsTheFixture(t *testing.T) {
	c := loadFixture(t, nil)
	l, ok := c.Lesson("first")
	if !ok {
		t.Fatal("lesson first not found")
	}
	if got := len(l.Steps); got != 4 {
		t.Errorf("steps = %d, want 4", got)
	}
	if _, ok := c.Lesson("nope"); ok {
		t.Error("Lesson(nope) found a lesson")
	}
	prev, next := c.Neighbors("second")
	if prev != l || next != nil {
		t.Errorf("Neighbors(second) = %v, %v", prev, next)
	}
}

func TestLoadFSRejectsBrokenLessons(t *testing.T) {
	tests := []struct {
		name    string
		old     string // text in validLesson to replace
		new     string
		wantErr string
	}{
		{"unknown event kind", "event: cart.added", "event: cart.exploded", `unknown event kind "cart.exploded"`},
		{"unknown where key", "where: {product_id: \"*\"}", "where: {sku: \"*\"}", `event "cart.added" has no detail "sku"`},
		{"impossible where value", "cookie: sent", "cookie: yes", `cookie="yes" can never happen`},
		{"empty where value", "where: {username: \"*\"}", "where: {username: \"\"}", `where "username" is empty`},
		{"link to unknown lesson", "(/lessons/second)", "(/lessons/third)", "link to unknown lesson /lessons/third"},
		{"link to unknown lab", "(/lessons/second)", "(/lab/teleport)", "unknown lab /lab/teleport"},
		{"duplicate step id", "  - id: add\n", "  - id: visit\n", `duplicate id "visit"`},
		{"quiz id clashing with a step", "  - id: q2\n", "  - id: think\n", `duplicate id "think"`},
		{"missing trigger", "    trigger:\n      event: logout\n      where: {username: \"*\"}\n", "", "missing trigger"},
		{"trigger without event", "      event: logout\n", "", "trigger has no event"},
		{"trigger and question", "    hints:\n      - The answer is b.\n", "    hints:\n      - The answer is b.\n    trigger: {event: logout}\n", "has more than one of trigger, observe and question"},
		{"unknown observe value", "    trigger:\n      event: cart.added\n      where: {product_id: \"*\"}\n", "    observe: {value: cart-total, prompt: Type it., explain: Right.}\n", `observe: value: "cart-total" is not one of`},
		{"two values of the browser's own cookie", "    trigger:\n      event: cart.added\n      where: {product_id: \"*\"}\n", "    observe: {value: cookie-prefix, count: 2, prompt: Type it., explain: Right.}\n", "only issued-id may ask for 2"},
		{"observe without explain", "    trigger:\n      event: cart.added\n      where: {product_id: \"*\"}\n", "    observe: {value: cookie-prefix, prompt: Type it.}\n", "observe: explain: missing"},
		{"missing title", "    title: Add a product\n", "", `step 2 ("add"): title: missing`},
		{"missing do", "    do: Press Log out.\n", "", `step 4 ("leave"): do: missing`},
		{"no hints", "    hints:\n      - Top bar.\n", "", "has 0 hints, want 1 to 3"},
		{"four hints", "      - Top bar.\n", "      - a\n      - b\n      - c\n      - d\n", "has 4 hints"},
		{"trigger step without curl", "    curl:\n      - curl -b jar.txt {{.BaseURL}}/logout\n", "", "needs at least one curl command"},
		{"trigger step without devtools", "    devtools: Network, then the POST.\n    hints:\n      - Top bar.", "    hints:\n      - Top bar.", "needs DevTools guidance"},
		{"answer not a choice", "answer: b\n      explain: Because b.", "answer: d\n      explain: Because b.", `step 3 ("think"): question: answer: "d" is not one of the choices`},
		{"two choices only", "      - {id: c, text: C, why: Not C.}\n", "", `quiz 2 ("q2"): choices: has 2 choices, want 3 to 6`},
		{"two right answers", "    answer: a\n    explain: A it is.", "    answer: [a, b]\n    explain: A it is.", `quiz 2 ("q2"): answer: names 2 right answers (a, b), want exactly one`},
		{"no right answer", "    answer: a\n    explain: A it is.", "    explain: A it is.", `quiz 2 ("q2"): answer: missing`},
		{"wrong choice without why", "{id: b, text: B, why: Not B.}", "{id: b, text: B}", `quiz 2 ("q2"): choice 2 ("b"): why: missing`},
		{"right choice with why", "{id: a, text: A}", "{id: a, text: A, why: Yes.}", `quiz 2 ("q2"): choice 1 ("a"): why: is the right answer`},
		{"unpaired backtick in a prompt", "prompt: Second?", "prompt: What does `db check do?", `quiz 2 ("q2"): prompt: unpaired backtick`},
		{"backticks in a title", "title: Add a product", "title: Add a `product`", `step 2 ("add"): title: plain text`},
		{"one quiz question", "  - id: q2\n    prompt: Second?\n    choices:\n      - {id: a, text: A}\n      - {id: b, text: B, why: Not B.}\n      - {id: c, text: C, why: Not C.}\n    answer: a\n    explain: A it is.\n", "", "has 1 questions, want 2 or 3"},
		{"misspelt field", "    hints:\n      - Top bar.", "    hint:\n      - Top bar.", "field hint not found"},
		{"unknown placeholder", "{{.SessionPrefix}}.\n    curl", "{{.SessionID}}.\n    curl", "unknown placeholder"},
		{"template logic", "your ID {{.SessionPrefix}}.", `your ID {{printf "%s" .DBURL}}.`, "unknown placeholder"},
		{"escaped braces", "## Body", `## Body \{\{.Evil}}`, "literal {{"},
		{"placeholder in a title", "title: Log out", "title: Log out {{.Username}}", "placeholders are allowed only"},
		{"bad step id", "  - id: leave\n", "  - id: Leave Now\n", `id "Leave Now" must be lower-case`},
		{"no front matter", "---\ntitle: Fixture lesson", "title: Fixture lesson", `must start with a "---" line`},
		{"unclosed front matter", "---\n## Body", "## Body", `no closing "---"`},
		{"bare star in YAML", `where: {product_id: "*"}`, `where: {product_id: *}`, "front matter"},
		{"empty body", "## Body\n\nSee [the other lesson](/lessons/second) and your ID {{.SessionPrefix}}.\n", "", "body: missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := replace(t, tt.old, tt.new)(validLesson)
			_, err := LoadFS(fixtureFS(map[string]string{"01-first.md": text, "02-second.md": secondLesson}))
			if err == nil {
				t.Fatalf("LoadFS accepted a lesson with %s", tt.name)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error does not mention %q:\n%v", tt.wantErr, err)
			}
			if !strings.Contains(err.Error(), "01-first.md") {
				t.Errorf("error does not name the file:\n%v", err)
			}
		})
	}
}

func TestLoadFSRejectsBadFileNames(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		wantErr string
	}{
		{"no lessons", map[string]string{}, "no lesson files"},
		{"gap in numbering", map[string]string{"01-first.md": validLesson, "03-second.md": secondLesson}, "expected lesson number 02"},
		{"name without number", map[string]string{"first.md": validLesson}, "name must look like 01-some-slug.md"},
		{"same slug twice", map[string]string{"01-second.md": secondLesson, "02-second.md": secondLesson}, `duplicate slug "second"`},
		{"the site's own address as a slug", map[string]string{"01-first.md": validLesson, "02-link.md": secondLesson}, "/lessons/link is the site's own address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadFS(fixtureFS(tt.files))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("LoadFS error = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoadFSReportsEveryProblemAtOnce(t *testing.T) {
	text := replace(t, "event: cart.added", "event: cart.exploded")(validLesson)
	text = strings.Replace(text, "  - id: add\n", "  - id: visit\n", 1)
	_, err := LoadFS(fixtureFS(map[string]string{"01-first.md": text, "02-second.md": secondLesson}))
	if err == nil {
		t.Fatal("LoadFS accepted a broken lesson")
	}
	for _, want := range []string{"unknown event kind", "duplicate id"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestLoadFSAcceptsWindowsLineEndingsAndNumericWhereValues(t *testing.T) {
	text := replace(t, "where: {path: /cart, cookie: sent}", "where: {path: /cart, cookie: sent, status: 200}")(validLesson)
	text = strings.ReplaceAll(text, "\n", "\r\n")
	c, err := LoadFS(fixtureFS(map[string]string{"01-first.md": text, "02-second.md": secondLesson}))
	if err != nil {
		t.Fatalf("LoadFS: %v", err)
	}
	l, _ := c.Lesson("first")
	if got := l.Steps[0].Trigger.Where["status"]; got != "200" {
		t.Errorf(`where status = %q, want "200"`, got)
	}
}
