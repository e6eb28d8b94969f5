package main

import (
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
)

// The exchange diagram: browser ⇄ server ⇄ database for the last request
// (the POST that redirected here, if any) and this one, drawn from what
// really travelled and what really ran.

type diagramMsg struct {
	Dir   string // "b2s", "s2b", "s2d", "d2s"
	Label string
	Notes []string
}

type diagram struct {
	Title string
	Msgs  []diagramMsg
}

func (a *app) exchangeDiagram(c *fiber.Ctx) []diagram {
	rs := state(c)
	var out []diagram
	cookieLine := func(present bool) string {
		if present && rs.cookieSent != "" {
			return "Cookie: sessionid=" + prefix(rs.cookieSent) + "…"
		}
		return "no Cookie header"
	}
	if f := a.takeFlash(c); f != nil {
		d := diagram{Title: "Your last request: " + f.Method + " " + f.Path}
		d.Msgs = append(d.Msgs, diagramMsg{Dir: "b2s", Label: f.Method + " " + f.Path, Notes: []string{cookieLine(true), "form fields incl. csrf_token"}})
		if len(f.Statements) > 0 {
			d.Msgs = append(d.Msgs, diagramMsg{Dir: "s2d", Label: "SQL", Notes: f.Statements})
			d.Msgs = append(d.Msgs, diagramMsg{Dir: "d2s", Label: "rows / OK"})
		}
		d.Msgs = append(d.Msgs, diagramMsg{Dir: "s2b", Label: "303 See Other", Notes: []string{"Location: " + c.Path(), "Set-Cookie: " + flashCookieName + "=… (what changed)"}})
		out = append(out, d)
	}
	d := diagram{Title: "This request: " + c.Method() + " " + c.Path()}
	d.Msgs = append(d.Msgs, diagramMsg{Dir: "b2s", Label: c.Method() + " " + c.Path(), Notes: []string{cookieLine(rs.cookieState != cookieNone)}})
	if st := rs.rec.Statements(); len(st) > 0 {
		d.Msgs = append(d.Msgs, diagramMsg{Dir: "s2d", Label: "SQL", Notes: st})
		d.Msgs = append(d.Msgs, diagramMsg{Dir: "d2s", Label: "rows / OK"})
	}
	resp := diagramMsg{Dir: "s2b", Label: strconv.Itoa(c.Response().StatusCode()) + " " + utils.StatusMessage(c.Response().StatusCode()) + " + this page"}
	for _, sc := range a.cookiePanel(c).Set {
		resp.Notes = append(resp.Notes, "Set-Cookie: "+sc.Raw)
	}
	if len(resp.Notes) == 0 {
		resp.Notes = []string{"no Set-Cookie: the browser keeps its cookie"}
	}
	d.Msgs = append(d.Msgs, resp)
	out = append(out, d)
	return out
}
