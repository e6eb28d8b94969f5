package lessons

import (
	"bytes"
	"fmt"
	"html/template"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// Values are the learner's own values that lesson text quotes back to them
// ("your ID starts with Xk3f…"). The web layer fills them per request; a
// lesson writes them as {{.SessionPrefix}}, {{.BaseURL}} and so on.
type Values struct {
	SessionPrefix string // first characters of the session ID, never the whole ID
	BaseURL       string // e.g. http://127.0.0.1:8080, no trailing slash
	DBKind        string // "sqlite" or "mariadb"
	DBURL         string // the database URL, password redacted by the caller
	Username      string // empty while anonymous
	LinkCode      string // this page view's one-time code linking a terminal's jar to the learner's progress
}

// placeholderNames are the fields of Values a lesson may quote, and the
// second instance's address derived from BaseURL (lesson 11 starts one on
// the next port, on the host the learner is on: cookies are per host, so a
// different host name would meet the learner as a stranger). Lessons get
// substitution only, no template logic: instructors edit text, not programs.
var placeholderNames = []string{"SessionPrefix", "BaseURL", "DBKind", "DBURL", "Username", "LinkCode", "SecondBaseURL", "SecondAddr"}

var (
	placeholderRE = regexp.MustCompile(`\{\{\s*\.([A-Za-z]+)\s*\}\}`)
	// tokenRE finds the stand-ins used while Markdown is rendered. They are
	// plain letters so goldmark passes them through every construct
	// unchanged: text, code, link destinations (which it would otherwise
	// percent-encode, turning {{ into %7B%7B).
	tokenRE = regexp.MustCompile(`slVAR([A-Za-z]+)RAVls`)
)

func isPlaceholder(name string) bool {
	for _, n := range placeholderNames {
		if n == name {
			return true
		}
	}
	return false
}

// checkPlaceholders rejects any {{ that is not one of the known
// placeholders, so a typo ({{.SessionID}}) fails at load instead of
// rendering as an error page in front of a class.
func checkPlaceholders(src string) error {
	rest := placeholderRE.ReplaceAllStringFunc(src, func(m string) string {
		if isPlaceholder(placeholderRE.FindStringSubmatch(m)[1]) {
			return ""
		}
		return m
	})
	if i := strings.Index(rest, "{{"); i >= 0 {
		end := min(len(rest), i+30)
		return fmt.Errorf("unknown placeholder near %q (known: {{.%s}})", rest[i:end], strings.Join(placeholderNames, "}}, {{."))
	}
	return nil
}

// markdown is the one renderer. Raw HTML in lesson files is not rendered
// (goldmark's safe default): lessons are text, and the pages around them
// decide the markup.
var markdown = goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough))

// sample are values used once at load to make html/template run its
// contextual escaper, which it otherwise does lazily on the first Execute:
// an escaping error (a placeholder in an unquoted attribute, say) then
// fails the load rather than a learner's page.
var sample = Values{SessionPrefix: "Xk3f9a2b", BaseURL: "http://127.0.0.1:8080", DBKind: "sqlite", DBURL: "sqlite:sessionlab.db", Username: "alice"}

// compileMarkdown renders Markdown once to HTML and returns it as an
// html/template whose only actions are the placeholders, so executing it
// inserts each value with the escaping its HTML context needs.
func compileMarkdown(name, src string) (*template.Template, error) {
	if err := checkPlaceholders(src); err != nil {
		return nil, err
	}
	protected := placeholderRE.ReplaceAllString(src, "slVAR${1}RAVls")
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(protected), &buf); err != nil {
		return nil, fmt.Errorf("markdown: %w", err)
	}
	html := buf.String()
	// A {{ here came from Markdown escapes such as \{\{: it would be read
	// as a template action, so refuse it.
	if strings.Contains(html, "{{") {
		return nil, fmt.Errorf("literal {{ in text: only {{.Name}} placeholders are allowed")
	}
	html = tokenRE.ReplaceAllString(html, "{{.${1}}}")
	t, err := template.New(name).Option("missingkey=error").Parse(html)
	if err != nil {
		return nil, fmt.Errorf("placeholders: %w", err)
	}
	if err := t.Execute(new(bytes.Buffer), sample); err != nil {
		return nil, fmt.Errorf("placeholders: %w", err)
	}
	return t, nil
}

// execute runs a compiled fragment. html/template is safe for concurrent
// Execute once parsed, so one compiled lesson serves every request.
func execute(t *template.Template, v Values) (template.HTML, error) {
	if t == nil {
		return "", nil
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, v); err != nil {
		return "", fmt.Errorf("lessons: render %s: %w", t.Name(), err)
	}
	return template.HTML(buf.String()), nil
}

// fillShell substitutes placeholders in a shell command, quoting each value
// for a POSIX shell when it holds anything beyond plainly safe characters:
// learners paste these commands into a terminal, and a value must never be
// able to run a second command.
func fillShell(cmd string, v Values) string {
	return placeholderRE.ReplaceAllStringFunc(cmd, func(m string) string {
		return shellQuote(v.get(placeholderRE.FindStringSubmatch(m)[1]))
	})
}

func (v Values) get(name string) string {
	switch name {
	case "SessionPrefix":
		return v.SessionPrefix
	case "BaseURL":
		return v.BaseURL
	case "DBKind":
		return v.DBKind
	case "DBURL":
		return v.DBURL
	case "Username":
		return v.Username
	case "LinkCode":
		return v.LinkCode
	case "SecondBaseURL":
		return v.SecondBaseURL()
	case "SecondAddr":
		return v.SecondAddr()
	}
	return ""
}

// SecondBaseURL is where a second instance beside this one answers (lesson 11).
func (v Values) SecondBaseURL() string {
	scheme, addr := v.second()
	return scheme + "://" + addr
}

// SecondAddr is the -addr that starts it.
func (v Values) SecondAddr() string {
	_, addr := v.second()
	return addr
}

// second is the scheme and host:port of a second instance beside this one:
// the same host, the next port.
func (v Values) second() (scheme, addr string) {
	u, err := url.Parse(v.BaseURL)
	if err != nil || u.Host == "" {
		return "http", "127.0.0.1:8081"
	}
	port, _ := strconv.Atoi(u.Port())
	if port == 0 {
		port = 80
		if u.Scheme == "https" {
			port = 443
		}
	}
	return u.Scheme, net.JoinHostPort(u.Hostname(), strconv.Itoa(port+1))
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote leaves safe words alone (so commands stay readable) and wraps
// anything else in single quotes, the one quoting POSIX shells never
// interpret inside.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Inline renders the plain text of a question (prompt, choice, feedback) as
// HTML: everything escaped, and `code` between backticks shown as code. The
// loader rejects unpaired backticks, so none is ever printed literally.
func Inline(s string) template.HTML {
	var b strings.Builder
	for i, part := range strings.Split(s, "`") {
		if i%2 == 1 {
			b.WriteString("<code>" + template.HTMLEscapeString(part) + "</code>")
		} else {
			b.WriteString(template.HTMLEscapeString(part))
		}
	}
	return template.HTML(b.String())
}

// PromptHTML is the prompt with its code marked up.
func (q *Question) PromptHTML() template.HTML { return Inline(q.Prompt) }

// ExplainHTML is the explanation with its code marked up.
func (q *Question) ExplainHTML() template.HTML { return Inline(q.Explain) }

// TextHTML is the choice's text with its code marked up.
func (c Choice) TextHTML() template.HTML { return Inline(c.Text) }
