package lessons

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestRenderBodyEscapesHostileValues(t *testing.T) {
	c := loadFixture(t, nil)
	l, _ := c.Lesson("first")
	body, err := l.RenderBody(Values{SessionPrefix: `<script>alert(1)</script>`})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), "<script>") {
		t.Errorf("hostile value rendered raw:\n%s", body)
	}
	if !strings.Contains(string(body), "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("hostile value missing or not escaped:\n%s", body)
	}
}

func TestStepRenderEscapesValuesForTheirContext(t *testing.T) {
	c := loadFixture(t, nil)
	l, _ := c.Lesson("first")
	tests := []struct {
		name      string
		v         Values
		wantDo    string
		notWantDo string
		wantCurl  string
	}{
		{
			name:     "real values land in links, text and commands",
			v:        Values{BaseURL: "http://127.0.0.1:8080", SessionPrefix: "Xk3f9a2b"},
			wantDo:   `<a href="http://127.0.0.1:8080/cart">your cart</a>. Your ID starts with Xk3f9a2b.`,
			wantCurl: "curl -b jar.txt http://127.0.0.1:8080/cart",
		},
		{
			name:      "a javascript: URL is neutralised in href",
			v:         Values{BaseURL: "javascript:alert(1)//"},
			wantDo:    `href="#ZgotmplZ/cart"`,
			notWantDo: "javascript:",
		},
		{
			name:      "markup in a value is escaped",
			v:         Values{SessionPrefix: `"><img src=x onerror=alert(1)>`},
			wantDo:    "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;",
			notWantDo: "<img",
		},
		{
			name:     "a value cannot run a second shell command",
			v:        Values{BaseURL: "http://x; rm -rf ~ 'y'"},
			wantCurl: `curl -b jar.txt 'http://x; rm -rf ~ '\''y'\'''/cart`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sv, err := l.Steps[0].Render(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(sv.Do), tt.wantDo) {
				t.Errorf("Do = %s\nwant it to contain %s", sv.Do, tt.wantDo)
			}
			if tt.notWantDo != "" && strings.Contains(string(sv.Do), tt.notWantDo) {
				t.Errorf("Do = %s\nmust not contain %s", sv.Do, tt.notWantDo)
			}
			if tt.wantCurl != "" && sv.Curl[0] != tt.wantCurl {
				t.Errorf("Curl = %s\nwant %s", sv.Curl[0], tt.wantCurl)
			}
		})
	}
}

func TestMarkdownKeepsPlaceholdersInCodeBlocks(t *testing.T) {
	text := replace(t, "## Body\n", "## Body\n\n```\ncurl -c jar.txt {{.BaseURL}}/ && echo {{ .Username }}\n```\n\nInline `{{.DBURL}}`.\n")(validLesson)
	c, err := LoadFS(fstest.MapFS{"01-first.md": {Data: []byte(text)}, "02-second.md": {Data: []byte(secondLesson)}})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := c.Lesson("first")
	body, err := l.RenderBody(Values{BaseURL: "http://h:1", Username: "bob", DBURL: "mysql://u@h/db"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"curl -c jar.txt http://h:1/ &amp;&amp; echo bob", "<code>mysql://u@h/db</code>"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("body does not contain %q:\n%s", want, body)
		}
	}
}

func TestMarkdownDropsRawHTMLFromLessonFiles(t *testing.T) {
	text := replace(t, "## Body\n", "## Body\n\n<script>alert(1)</script>\n")(validLesson)
	c, err := LoadFS(fstest.MapFS{"01-first.md": {Data: []byte(text)}, "02-second.md": {Data: []byte(secondLesson)}})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := c.Lesson("first")
	body, _ := l.RenderBody(Values{})
	if strings.Contains(string(body), "<script>") {
		t.Errorf("raw HTML passed through:\n%s", body)
	}
}

// FuzzLoadFS feeds arbitrary lesson files to the parser. It must never
// panic, and whatever it accepts must be safe to use: every lesson renders
// with hostile values without leaking markup, and every step has exactly
// one way to complete.
func FuzzLoadFS(f *testing.F) {
	f.Add([]byte(validLesson))
	f.Add([]byte(secondLesson))
	f.Add([]byte("---\n---\n"))
	f.Add([]byte("---\ntitle: [unclosed\n---\nbody"))
	f.Add([]byte("---\nsteps: &a [*a]\n---\n"))
	f.Add([]byte(strings.Replace(validLesson, "## Body", `## Body {{template "x"}} \{\{.Evil}}`, 1)))
	f.Add([]byte(strings.Replace(validLesson, "cart.added", "cart.exploded", 1)))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := LoadFS(fstest.MapFS{"01-first.md": {Data: data}, "02-second.md": {Data: []byte(secondLesson)}})
		if err != nil {
			return
		}
		hostile := Values{SessionPrefix: "<x>", BaseURL: "<x>", DBKind: "<x>", DBURL: "<x>", Username: "<x>"}
		for _, l := range c.Lessons() {
			body, err := l.RenderBody(hostile)
			if err != nil {
				t.Fatalf("accepted lesson fails to render: %v", err)
			}
			if strings.Contains(string(body), "<x>") {
				t.Fatalf("hostile value unescaped in body: %s", body)
			}
			for _, s := range l.Steps {
				if (s.Trigger == nil) == (s.Question == nil) {
					t.Fatalf("step %q accepted without exactly one of trigger and question", s.ID)
				}
				if _, err := s.Render(hostile); err != nil {
					t.Fatalf("accepted step fails to render: %v", err)
				}
			}
			c.Advance(Progress{}, []Event{{Kind: "request"}})
			c.Current(Progress{})
		}
	})
}

func TestInlineShowsCodeBetweenBackticksAndEscapesTheRest(t *testing.T) {
	tests := []struct{ in, want string }{
		{"What does `db check` do?", "What does <code>db check</code> do?"},
		{"Is `a<b` & <i>c</i>?", "Is <code>a&lt;b</code> &amp; &lt;i&gt;c&lt;/i&gt;?"},
		{"No code here", "No code here"},
		{"`one` and `two`", "<code>one</code> and <code>two</code>"},
	}
	for _, tt := range tests {
		if got := string(Inline(tt.in)); got != tt.want {
			t.Errorf("Inline(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
