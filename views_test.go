package main

import (
	"strings"
	"testing"
	"testing/fstest"
)

func TestViewsRenderEachPageInItsLayoutWithOwnDefines(t *testing.T) {
	src := fstest.MapFS{
		"layouts/main.html":  {Data: []byte(`<main>{{embed}}</main>{{template "partials/foot" .}}`)},
		"partials/foot.html": {Data: []byte(`{{define "partials/foot"}}<footer>{{.}}</footer>{{end}}`)},
		"a.html":             {Data: []byte(`A:{{template "x"}}{{define "x"}}from a{{end}}`)},
		"b.html":             {Data: []byte(`B:{{template "x"}}{{define "x"}}from b{{end}}`)},
	}
	v := newTemplateViews(src, false)
	if err := v.Load(); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"a": "<main>A:from a</main><footer>&lt;i&gt;</footer>",
		"b": "<main>B:from b</main><footer>&lt;i&gt;</footer>",
	} {
		var out strings.Builder
		if err := v.Render(&out, name, "<i>", "layouts/main"); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Errorf("render %s = %q, want %q", name, out.String(), want)
		}
	}
	var out strings.Builder
	if err := v.Render(&out, "a", nil); err != nil || out.String() != "A:from a" {
		t.Errorf("render without layout = %q, %v", out.String(), err)
	}
	if err := v.Render(&out, "missing", nil, "layouts/main"); err == nil {
		t.Error("rendering an unknown page did not fail")
	}
}

func TestViewsLoadFailsFastOnABrokenTemplate(t *testing.T) {
	for name, src := range map[string]fstest.MapFS{
		"parse": {"layouts/main.html": {Data: []byte(`{{embed}}`)}, "a.html": {Data: []byte(`{{if}}`)}},
		"escape": {"layouts/main.html": {Data: []byte(`{{embed}}`)},
			"a.html": {Data: []byte(`<a href="{{if .}}x{{else}}"{{end}}">`)}},
	} {
		if err := newTemplateViews(src, false).Load(); err == nil {
			t.Errorf("%s: Load accepted a broken template", name)
		}
	}
}

func TestEmbeddedViewsLoad(t *testing.T) {
	if _, err := newViews(false); err != nil {
		t.Fatal(err)
	}
}
