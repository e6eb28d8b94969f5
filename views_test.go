package main

import (
	htmltemplate "html/template"
	"io/fs"
	"strings"
	"testing"

	"sessionlab/db"
)

func TestEmbeddedViewsLoad(t *testing.T) {
	if _, err := newViews(false); err != nil {
		t.Fatal(err)
	}
}

// Every page carries its own frame (no engine layout: see newViews), so a
// page that forgot it would ship without panels or without a closing tag.
func TestEveryPageOpensAndClosesItsFrame(t *testing.T) {
	standalone := map[string]bool{"instructor.html": true, "lab-evil.html": true}
	pages, err := fs.Glob(viewsFS, "views/*.html")
	if err != nil || len(pages) == 0 {
		t.Fatalf("no pages: %v", err)
	}
	for _, p := range pages {
		b, _ := fs.ReadFile(viewsFS, p)
		text := strings.TrimSpace(string(b))
		name := strings.TrimPrefix(p, "views/")
		switch {
		case standalone[name]:
			if !strings.HasPrefix(text, "<!doctype html>") {
				t.Errorf("%s: a standalone page must be a whole document", name)
			}
		case strings.HasPrefix(name, "labsite"):
			if !strings.HasPrefix(text, `{{template "partials/labtop" .}}`) || !strings.HasSuffix(text, `{{template "partials/labbottom" .}}`) {
				t.Errorf("%s: must open with partials/labtop and close with partials/labbottom", name)
			}
		default:
			if !strings.HasPrefix(text, `{{template "partials/top" .}}`) || !strings.HasSuffix(text, `{{template "partials/bottom" .}}`) {
				t.Errorf("%s: must open with partials/top and close with partials/bottom", name)
			}
		}
	}
}

// The frame's fragments (framehtml.go) are written in Go, not by
// html/template: each value must come out exactly as the templates escaped
// it, in a text node and in a quoted attribute alike, or a product name, a
// user agent or a cookie name could break out of the page.
func TestFrameHTMLEscapesLikeTheTemplates(t *testing.T) {
	tpl := htmltemplate.Must(htmltemplate.New("x").Parse(`<p data-value="{{.}}">{{.}}</p>`))
	for _, s := range []string{
		"plain", `<script>alert("x")</script>`, `a'b"c&d+e<f>g`, "nul\x00byte", "ünïcödé ✓", "\xff\xfe invalid utf-8", "&amp; already", "",
	} {
		var want strings.Builder
		if err := tpl.Execute(&want, s); err != nil {
			t.Fatal(err)
		}
		// html/template also writes '+' as &#43; (both are the same text).
		got := `<p data-value="` + escaped(s) + `">` + escaped(s) + `</p>`
		if got != strings.ReplaceAll(want.String(), "&#43;", "+") {
			t.Errorf("%q: Go wrote %s, html/template %s", s, got, want.String())
		}
	}
}

// A hostile value in each fragment stays text: the session row's user
// agent, a cookie's name, a product, a strip line, a lesson slug.
func TestFrameHTMLKeepsHostileValuesText(t *testing.T) {
	evil := `"><script>alert(1)</script>`
	data := benchCartData()
	p := data["Page"].(*page)
	p.Session.Row = append(p.Session.Row, rowCell{Column: "user_agent", Value: evil, Note: evil})
	p.Cookie.Sent = append(p.Cookie.Sent, cookieSeen{Name: evil, Prefix: evil, Length: 50})
	p.Cart.Items = append(p.Cart.Items, db.CartItem{ProductID: 9, Name: evil, Quantity: 1})
	p.Strip = []stripItem{{Kind: evil, Text: evil}}
	p.Lesson.Slug, p.Lesson.StepTitle = evil, evil
	p.buildHTML()
	v, err := newViews(false)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := v.Render(&b, "cart", data); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "<script>") || !strings.Contains(b.String(), "&lt;script&gt;") {
		t.Errorf("a hostile value reached the page as markup:\n%s", b.String())
	}
}
