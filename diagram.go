package main

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// The exchange diagram: browser ⇄ server ⇄ database, exchange by exchange as
// the browser sent and received them. After a form, that is two exchanges:
// the POST and its 303 (from the exchanges record, written from the real
// response), then the GET the 303 led to, which is this page.

type diagramNote struct {
	Text string
	// For the page's machine-readable hooks: "cookie" (sent), "set-cookie"
	// or "location", with the cookie's name, value prefix and attributes.
	Kind, Name, Prefix, Attrs string
}

type diagramMsg struct {
	Dir   string // "b2s", "s2b", "s2d", "d2s"
	Label string
	Notes []diagramNote
}

type diagram struct {
	Title        string
	Method, Path string
	Status       int
	Location     string
	Msgs         []diagramMsg
}

func (a *app) exchangeDiagram(c *fiber.Ctx) []diagram {
	var out []diagram
	if ex := a.lastExchange(c); ex != nil {
		out = append(out, drawExchange("Your last request: "+ex.Method+" "+ex.Path, ex.exchangeRecord, "form fields incl. csrf_token", ""))
	}
	now := exchangeRecord{
		Method: c.Method(), Path: c.Path(), Status: c.Response().StatusCode(),
		Location: string(c.Response().Header.Peek(fiber.HeaderLocation)),
		Sent:     sentCookies(c), Set: setCookies(c), Statements: state(c).rec.Statements(),
	}
	title := "This request: " + now.Method + " " + now.Path
	if len(out) > 0 {
		title = "Then the request the 303 led to: " + now.Method + " " + now.Path
	}
	out = append(out, drawExchange(title, now, "", " + this page"))
	return out
}

// drawExchange turns one request and its answer into the diagram's messages.
func drawExchange(title string, r exchangeRecord, reqNote, respNote string) diagram {
	d := diagram{Title: title, Method: r.Method, Path: r.Path, Status: r.Status, Location: r.Location}
	req := diagramMsg{Dir: "b2s", Label: r.Method + " " + r.Path}
	for _, ck := range r.Sent {
		shown := ck.Prefix
		if ck.Length > len(ck.Prefix) {
			shown += "…"
		}
		req.Notes = append(req.Notes, diagramNote{Text: "Cookie: " + ck.Name + "=" + shown, Kind: "cookie", Name: ck.Name, Prefix: ck.Prefix})
	}
	if len(r.Sent) == 0 {
		req.Notes = append(req.Notes, diagramNote{Text: "no Cookie header"})
	}
	if reqNote != "" {
		req.Notes = append(req.Notes, diagramNote{Text: reqNote})
	}
	d.Msgs = append(d.Msgs, req)
	if len(r.Statements) > 0 {
		var notes []diagramNote
		for _, st := range r.Statements {
			notes = append(notes, diagramNote{Text: st})
		}
		d.Msgs = append(d.Msgs, diagramMsg{Dir: "s2d", Label: "SQL", Notes: notes}, diagramMsg{Dir: "d2s", Label: "rows / OK"})
	}
	resp := diagramMsg{Dir: "s2b", Label: strconv.Itoa(r.Status) + " " + fasthttp.StatusMessage(r.Status) + respNote}
	if r.Location != "" {
		resp.Notes = append(resp.Notes, diagramNote{Text: "Location: " + r.Location, Kind: "location"})
	}
	for _, sc := range r.Set {
		resp.Notes = append(resp.Notes, diagramNote{Text: "Set-Cookie: " + sc.Raw, Kind: "set-cookie", Name: sc.Name, Prefix: sc.Prefix, Attrs: strings.Join(sc.Attrs, "; ")})
	}
	if len(r.Set) == 0 {
		resp.Notes = append(resp.Notes, diagramNote{Text: "no Set-Cookie: the browser keeps its cookie"})
	}
	d.Msgs = append(d.Msgs, resp)
	return d
}
