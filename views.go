package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"

	"github.com/gofiber/template/html/v2"
)

// newViews loads the templates with Fiber's html engine, failing fast: a
// broken template stops the server at start (the engine alone would only
// log it). In dev mode it reads ./views again on every render.
//
// Pages take no layout. Each page opens with {{template "partials/top" .}}
// and ends with {{template "partials/bottom" .}} (the lab site: labtop and
// labbottom). The engine holds one exclusive lock around every render that
// has a layout (it swaps the layout's embed function in and out), which
// would serialise every page view on one core; a render without a layout
// only takes a read lock to find the template, so page views run in
// parallel. Every {{define}} shares one namespace, so partials are defined
// under their own path ("partials/strip") and pages define nothing.
func newViews(dev bool) (*html.Engine, error) {
	var engine *html.Engine
	if dev {
		engine = html.New("./views", ".html")
		engine.Reload(true)
	} else {
		sub, err := fs.Sub(viewsFS, "views")
		if err != nil {
			return nil, err
		}
		engine = html.NewFileSystem(http.FS(sub), ".html")
	}
	engine.AddFuncMap(map[string]any{
		"money": money,
		"json": func(v any) string {
			b, _ := json.MarshalIndent(v, "", "  ")
			return string(b)
		},
		"ago": ago,
		"mul": func(a int64, b int) int64 { return a * int64(b) },
		"add": func(a, b int) int { return a + b }, // the labs number their steps from 1
	})
	if err := engine.Load(); err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	return engine, nil
}
