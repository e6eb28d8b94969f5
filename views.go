package main

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
)

// views renders the html templates. Every page is parsed once, at start, into
// its own template set (the layouts and partials plus that page), so a render
// is a lookup and an Execute: no lock, no shared mutable state. (Fiber's html
// engine takes one global mutex around every render with a layout, which
// serialised all page views on one core.) Its own set per page also means a
// {{define}} in one page cannot replace another page's.
//
// Templates are named by their path under views/ without ".html":
// "layouts/main", "partials/panels", "cart". In a layout, {{embed}} marks
// where the page goes, as in Fiber's engine.
type views struct {
	src   fs.FS
	dev   bool // reload from src on every render (the -dev flag)
	funcs template.FuncMap

	mu    sync.RWMutex // guards pages; only dev mode replaces them after Load
	pages map[string]*template.Template
}

// contentName is the name each page is parsed under inside its set; the
// layout's {{embed}} becomes {{template "content" .}}.
const contentName = "content"

func newTemplateViews(src fs.FS, dev bool) *views {
	return &views{src: src, dev: dev, funcs: template.FuncMap{}}
}

// AddFunc makes a function available to every template; call it before Load.
func (v *views) AddFunc(name string, fn any) *views {
	v.funcs[name] = fn
	return v
}

// Load parses every template, failing on the first error: a broken template
// stops the server at start instead of answering pages with errors later.
func (v *views) Load() error {
	pages, err := v.parse()
	if err != nil {
		return err
	}
	v.mu.Lock()
	v.pages = pages
	v.mu.Unlock()
	return nil
}

func (v *views) parse() (map[string]*template.Template, error) {
	var shared, pages []viewFile
	err := fs.WalkDir(v.src, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
			return err
		}
		b, err := fs.ReadFile(v.src, p)
		if err != nil {
			return err
		}
		f := viewFile{name: strings.TrimSuffix(p, ".html"), text: string(b)}
		if dir := path.Dir(p); dir == "layouts" || dir == "partials" || strings.HasPrefix(dir, "layouts/") || strings.HasPrefix(dir, "partials/") {
			f.text = strings.ReplaceAll(f.text, "{{embed}}", `{{template "`+contentName+`" .}}`)
			shared = append(shared, f)
		} else {
			pages = append(pages, f)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	base := template.New("").Funcs(v.funcs)
	for _, f := range shared {
		if _, err := base.New(f.name).Parse(f.text); err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
	}
	out := make(map[string]*template.Template, len(pages))
	for _, f := range pages {
		set, err := base.Clone()
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		if _, err := set.New(contentName).Parse(f.text); err != nil {
			return nil, fmt.Errorf("templates: %s: %w", f.name, err)
		}
		// Escaping happens at the first Execute: do it now, with no data, so
		// a template that cannot be escaped stops the start. Errors from the
		// missing data are expected and ignored.
		for _, entry := range append([]string{contentName}, layoutNames(shared)...) {
			var terr *template.Error
			if err := set.Lookup(entry).Execute(io.Discard, nil); errors.As(err, &terr) {
				return nil, fmt.Errorf("templates: %s in %s: %w", f.name, entry, err)
			}
		}
		out[f.name] = set
	}
	if len(out) == 0 {
		return nil, errors.New("templates: no pages found")
	}
	return out, nil
}

// Render executes page name inside layout (if one is given) with binding.
// Fiber renders into a buffer and sends it only on success, so an error here
// becomes a clean error page, never half a page.
func (v *views) Render(w io.Writer, name string, binding any, layout ...string) error {
	pages := v.current()
	if v.dev {
		p, err := v.parse()
		if err != nil {
			return err
		}
		pages = p
	}
	set, ok := pages[name]
	if !ok {
		return fmt.Errorf("templates: no page %q", name)
	}
	entry := contentName
	if len(layout) > 0 && layout[0] != "" {
		entry = layout[0]
	}
	t := set.Lookup(entry)
	if t == nil {
		return fmt.Errorf("templates: no layout %q", entry)
	}
	return t.Execute(w, binding)
}

// viewFile is one template file: its name and its text.
type viewFile struct{ name, text string }

func layoutNames(files []viewFile) []string {
	var out []string
	for _, f := range files {
		if strings.HasPrefix(f.name, "layouts/") {
			out = append(out, f.name)
		}
	}
	return out
}

func (v *views) current() map[string]*template.Template {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.pages
}

// viewsSource is where templates come from: the embedded copy, or ./views in
// dev mode so edits show on the next reload.
func viewsSource(dev bool) (fs.FS, error) {
	if dev {
		return os.DirFS("views"), nil
	}
	return fs.Sub(viewsFS, "views")
}
