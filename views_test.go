package main

import (
	"io/fs"
	"strings"
	"testing"
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
		case name == "labsite.html":
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
