package main

import (
	"html/template"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// page is what every page shows around its own content: the user, the
// CSRF token for its forms, the three panels and the strip.
type page struct {
	Title    string
	Path     string
	User     string
	CSRF     string
	Instance string
	DBKind   string
	Cookie   cookiePanel
	Session  *sessionPanel
	Cart     *cartView
	Strip    []stripItem
	Last     *exchangeView // the form POST that redirected here, if any
	Lesson   *lessonBanner
	Signup   bool // the server offers /signup: the header and the login page link to it

	// The frame's nav, strip and panels as HTML, built from the fields
	// above once per response by buildHTML (framehtml.go).
	NavHTML, WhoHTML, BannerHTML, StripHTML         template.HTML
	CookieSentHTML, CookieSetHTML                   template.HTML
	SessionHeadHTML, SessionRowsHTML, CartPanelHTML template.HTML
}

// Current is the nav link's aria-current for a section of the site: "page"
// on the section's own page, "true" anywhere below it (a lesson, a lab, a
// product of the catalog), "" elsewhere.
func (p *page) Current(section string) string {
	switch {
	case p.Path == section:
		return "page"
	case section == "/" && strings.HasPrefix(p.Path, "/products/"),
		section != "/" && strings.HasPrefix(p.Path, section+"/"):
		return "true"
	}
	return ""
}

// lessonBanner is the "Lesson 4, step 2 of 5" line on every page.
type lessonBanner struct {
	Number            int
	Slug, LessonTitle string
	StepIndex, Steps  int
	StepTitle         string
	HintsUsed         int
}

// pageData builds the frame of a page from this request's state. It must run
// after the handler's changes so the panels show what this response leaves.
func (a *app) pageData(c *fiber.Ctx, title string) (*page, error) {
	rs := state(c)
	cart, err := a.cart(c)
	if err != nil {
		return nil, err
	}
	p := &page{
		Title:    title,
		Path:     c.Path(),
		Instance: a.cfg.Instance,
		DBKind:   a.db.Dialect(),
		Cookie:   a.cookiePanel(c),
		Session:  a.sessionPanel(rs),
		Cart:     cart,
		Strip:    a.strip(rs),
		Last:     a.lastExchange(c),
		Lesson:   a.lessonBanner(rs),
		Signup:   a.cfg.Signup,
	}
	if rs.sess != nil {
		p.User = rs.sess.username()
		p.CSRF = rs.sess.data.CSRF
	}
	p.buildHTML()
	return p, nil
}

// errorPage is pageData for the error handler: it must not fail itself.
func (a *app) errorPage(c *fiber.Ctx) *page {
	p, err := a.pageData(c, "Error")
	if err != nil {
		rs := state(c)
		p = &page{Title: "Error", Path: c.Path(), Instance: a.cfg.Instance, DBKind: a.db.Dialect(), Cookie: a.cookiePanel(c), Session: a.sessionPanel(rs)}
		p.buildHTML()
	}
	return p
}

// render executes a page template with the frame filled in. Pages carry
// their own frame (partials/top and partials/bottom), not a layout: see views.go.
func (a *app) render(c *fiber.Ctx, status int, name, title string, data fiber.Map) error {
	c.Status(status)
	if c.Method() == fiber.MethodGet {
		if err := a.observeRequest(c); err != nil {
			return err
		}
	}
	p, err := a.pageData(c, title)
	if err != nil {
		return err
	}
	if data == nil {
		data = fiber.Map{}
	}
	data["Page"] = p
	data["Title"] = title
	c.Status(status)
	return c.Render(name, data)
}

// redirect answers a POST with 303 See Other; recordExchange keeps what it
// changed for the next page's strip.
func (a *app) redirect(c *fiber.Ctx, to string) error {
	return c.Redirect(to, fiber.StatusSeeOther)
}
