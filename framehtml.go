package main

import (
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The parts of every page's frame that repeat or branch — the nav, the
// strip, the three panels — are written here in Go, once per response,
// as HTML the templates print whole. html/template runs each {{action}}
// through reflection and an escaper call of its own: the panels alone took
// some 150 of them per page view, over half of the server's CPU for /cart.
// Here each value is escaped once with template.HTMLEscapeString: the bytes
// the templates wrote, but for '+', which html/template wrote as &#43; and
// which is the same text either way (TestFrameHTMLEscapesLikeTheTemplates).
// The static prose around them stays in views/partials.

// frameWriter writes a response's fragments into one buffer; cut returns
// what was written since the last cut.
type frameWriter struct {
	strings.Builder
	mark int
}

func (w *frameWriter) raw(s ...string) {
	for _, x := range s {
		w.WriteString(x)
	}
}

// text escapes s for an HTML text node or a quoted attribute value, with
// the standard library's escaper (the one html/template's own text escaping
// builds on; it leaves '+' alone, which is text in both places).
func (w *frameWriter) text(s string) { w.WriteString(template.HTMLEscapeString(s)) }

func (w *frameWriter) int(n int) { w.WriteString(strconv.Itoa(n)) }

func (w *frameWriter) cut() template.HTML {
	s := w.String()[w.mark:]
	w.mark = w.Len()
	return template.HTML(s)
}

// navSections are the main nav's links, in order.
var navSections = [...]struct{ href, label string }{
	{"/", "Catalog"}, {"/cart", "Cart"}, {"/notes", "Notes"}, {"/lessons", "Lessons"}, {"/lab", "Labs"},
}

// buildHTML fills the page's fragments from its fields. pageData calls it
// last, when the panels hold what this response leaves.
func (p *page) buildHTML() {
	var w frameWriter
	w.Grow(8 << 10) // a page's fragments, with room to spare
	p.NavHTML = p.navHTML(&w)
	p.WhoHTML = p.whoHTML(&w)
	p.BannerHTML = p.Lesson.bannerHTML(&w)
	p.StripHTML = p.stripHTML(&w)
	p.CookieSentHTML, p.CookieSetHTML = p.Cookie.sentHTML(&w), p.Cookie.setHTML(&w)
	if p.Session != nil {
		p.SessionHeadHTML, p.SessionRowsHTML = p.Session.headHTML(&w), p.Session.rowsHTML(&w)
	}
	p.CartPanelHTML = p.Cart.panelHTML(&w)
}

func (p *page) navHTML(w *frameWriter) template.HTML {
	for _, s := range navSections {
		w.raw(`    <a href="`, s.href, `"`)
		if cur := p.Current(s.href); cur != "" {
			w.raw(` aria-current="`, cur, `"`)
		}
		w.raw(">", s.label)
		if s.href == "/cart" && p.Cart != nil && p.Cart.Count != 0 {
			n := strconv.Itoa(p.Cart.Count)
			w.raw(` <span class="badge" aria-label="`, n, ` items">`, n, `</span>`)
		}
		w.raw("</a>\n")
	}
	return w.cut()
}

// whoHTML: who is signed in, with the log-out form (a lesson's sends the
// learner back to it), or the log-in and sign-up links.
func (p *page) whoHTML(w *frameWriter) template.HTML {
	if p.User != "" {
		w.raw("\n      <a href=\"/account\" class=\"who-user\">Signed in as <strong>")
		w.text(p.User)
		w.raw("</strong></a>\n      <form method=\"post\" action=\"/logout\" class=\"inline-form\"><input type=\"hidden\" name=\"csrf_token\" value=\"")
		w.text(p.CSRF)
		w.raw(`">`)
		if p.Lesson != nil {
			w.raw(`<input type="hidden" name="next" value="/lessons/`)
			w.text(p.Lesson.Slug)
			w.raw(`">`)
		}
		w.raw("<button type=\"submit\" class=\"btn btn-small\">Log out</button></form>\n    ")
	} else {
		w.raw("\n      <span class=\"who-anon\">Anonymous visitor</span> <a class=\"btn btn-small\" href=\"/login\">Log in</a>")
		if p.Signup {
			w.raw(` <a class="btn btn-small" href="/signup">Sign up</a>`)
		}
		w.raw("\n    ")
	}
	return w.cut()
}

// bannerHTML is the "Lesson 4, step 2 of 5" line.
func (l *lessonBanner) bannerHTML(w *frameWriter) template.HTML {
	if l == nil {
		return ""
	}
	w.raw("\n<div class=\"lesson-banner\" role=\"region\" aria-label=\"Your lesson\">\n  <a href=\"/lessons/")
	w.text(url.PathEscape(l.Slug))
	w.raw(`">Lesson `)
	w.int(l.Number)
	w.raw(", step ")
	w.int(l.StepIndex)
	w.raw(" of ")
	w.int(l.Steps)
	w.raw(":</a> ")
	w.text(l.StepTitle)
	if l.HintsUsed != 0 {
		w.raw(` <span class="muted">(`)
		w.int(l.HintsUsed)
		w.raw(" hint")
		if l.HintsUsed > 1 {
			w.raw("s")
		}
		w.raw(" used)</span>")
	}
	w.raw("\n</div>\n")
	return w.cut()
}

// stripHTML is the strip's content under its heading: the last form's
// answer, this request's changes, or the line saying nothing changed.
func (p *page) stripHTML(w *frameWriter) template.HTML {
	w.raw("\n  ")
	if l := p.Last; l != nil {
		status := strconv.Itoa(l.Status)
		w.raw("\n  <div class=\"strip-last\" data-exchange=\"last\" data-method=\"")
		w.text(l.Method)
		w.raw(`" data-path="`)
		w.text(l.Path)
		w.raw(`" data-status="`, status, `" data-location="`)
		w.text(l.Location)
		w.raw("\">\n  <p class=\"strip-lead\">Your last request, <code>")
		w.text(l.Method)
		w.raw(" ")
		w.text(l.Path)
		w.raw("</code>, answered <code>", status, " ")
		w.text(l.StatusText)
		w.raw("</code>")
		if l.Location != "" {
			w.raw(" with <code>Location: ")
			w.text(l.Location)
			w.raw("</code>")
			if l.FollowedTo {
				w.raw(", and your browser followed it here")
			}
		}
		w.raw(":</p>\n  <ul class=\"strip-list\">")
		stripItems(w, l.Items)
		if len(l.Items) == 0 {
			w.raw(`<li class="tone-new">Nothing on the server changed.</li>`)
		}
		w.raw("</ul>\n  <ul class=\"strip-wire\">\n    ")
		for _, s := range l.Sent {
			w.raw(`<li data-cookie="`)
			w.text(s.Name)
			w.raw(`" data-prefix="`)
			w.text(s.Prefix)
			w.raw(`">It carried <code>Cookie: `)
			w.text(s.Name)
			w.raw("=")
			w.text(s.Prefix)
			if s.Length > len(s.Prefix) {
				w.raw("…")
			}
			w.raw("</code></li>")
		}
		if len(l.Sent) == 0 {
			w.raw("<li>It carried no Cookie header.</li>")
		}
		w.raw("\n    ")
		for _, s := range l.Set {
			setCookieAttrs(w, s)
			w.raw(`>The answer set <code>Set-Cookie: `)
			w.text(s.Raw)
			w.raw("</code></li>")
		}
		if len(l.Set) == 0 {
			w.raw("<li>The answer set no cookie.</li>")
		}
		w.raw("\n  </ul>\n  </div>\n  ")
	}
	w.raw("\n  ")
	if len(p.Strip) > 0 {
		w.raw("\n  <p class=\"strip-lead\">This request (")
		if p.Last != nil {
			w.raw("the page load")
		} else {
			w.raw("what you just did")
		}
		w.raw("):</p>\n  <ul class=\"strip-list\">")
		stripItems(w, p.Strip)
		w.raw("</ul>\n  ")
	}
	w.raw("\n  ")
	if len(p.Strip) == 0 && p.Last == nil {
		w.raw("\n  <p class=\"strip-quiet\">Nothing changed on the server: this GET only read your session.</p>\n  ")
	}
	w.raw("\n")
	return w.cut()
}

func stripItems(w *frameWriter, items []stripItem) {
	for _, it := range items {
		w.raw(`<li class="tone-`)
		w.text(string(it.Tone))
		w.raw(`" data-kind="`)
		w.text(it.Kind)
		w.raw(`">`)
		w.text(it.Text)
		w.raw("</li>")
	}
}

// setCookieAttrs opens a Set-Cookie's <li> with the hooks the browser
// tests read: its name, prefix and attributes.
func setCookieAttrs(w *frameWriter, s setCookieView) {
	w.raw(`<li data-set-cookie="`)
	w.text(s.Name)
	w.raw(`" data-prefix="`)
	w.text(s.Prefix)
	w.raw(`" data-attrs="`)
	w.text(s.AttrList())
	w.raw(`"`)
}

// sentHTML: the cookies the request carried, and what the server made of them.
func (c *cookiePanel) sentHTML(w *frameWriter) template.HTML {
	if len(c.Sent) > 0 {
		w.raw("\n      <ul class=\"kv\">")
		for _, s := range c.Sent {
			w.raw(`<li data-cookie="`)
			w.text(s.Name)
			w.raw(`" data-prefix="`)
			w.text(s.Prefix)
			w.raw(`"><code>Cookie: `)
			w.text(s.Name)
			w.raw("=")
			w.text(s.Prefix)
			if s.Length > 8 {
				w.raw("…")
			}
			w.raw(`</code> <span class="muted">(`)
			w.int(s.Length)
			w.raw(" chars)</span></li>")
		}
		w.raw("</ul>\n      ")
	} else {
		w.raw("<p><code>(no Cookie header)</code></p>")
	}
	w.raw("\n      <p class=\"state state-")
	w.text(c.State)
	w.raw(`">`)
	w.text(c.Explain)
	w.raw("</p>")
	return w.cut()
}

// setHTML: the Set-Cookie headers of this response.
func (c *cookiePanel) setHTML(w *frameWriter) template.HTML {
	if len(c.Set) == 0 {
		return "<p><code>(no Set-Cookie: the browser keeps what it has)</code></p>"
	}
	w.raw("\n      <ul class=\"kv\">")
	for _, s := range c.Set {
		setCookieAttrs(w, s)
		w.raw(`><code class="setcookie">Set-Cookie: `)
		w.text(s.Raw)
		w.raw("</code>")
		if s.Deletes {
			w.raw(` <span class="tag tag-gone">deletes it</span>`)
		}
		w.raw("</li>")
	}
	w.raw("</ul>\n      ")
	return w.cut()
}

// headHTML: who the record belongs to and when it expires.
func (s *sessionPanel) headHTML(w *frameWriter) template.HTML {
	if s.Authenticated {
		w.raw("<strong>")
		w.text(s.User)
		w.raw(`</strong> <span class="tag tag-good">authenticated</span>`)
	} else {
		w.raw(`<span class="muted">anonymous</span>`)
	}
	w.raw(` · expires <time datetime="`)
	w.text(s.ExpiresAt.Format(time.RFC3339))
	w.raw(`">`)
	w.text(s.ExpiresAt.Format("15:04:05"))
	w.raw(" UTC</time>")
	return w.cut()
}

// rowsHTML: the row, every column as stored, with the hooks the browser
// tests compare with the database.
func (s *sessionPanel) rowsHTML(w *frameWriter) template.HTML {
	for _, r := range s.Row {
		w.raw("<dt>")
		w.text(r.Column)
		w.raw(`</dt><dd data-column="`)
		w.text(r.Column)
		w.raw(`" data-value="`)
		w.text(r.Value)
		w.raw(`"`)
		if r.Cut {
			w.raw(` data-cut="prefix"`)
		}
		w.raw(">")
		if r.Column == "data" {
			w.raw(`<pre class="json"><code>`)
			w.text(r.Value)
			w.raw("</code></pre>")
		} else {
			w.raw("<code>")
			w.text(r.Value)
			w.raw("</code>")
		}
		if r.Note != "" {
			w.raw(` <span class="muted">`)
			w.text(r.Note)
			w.raw("</span>")
		}
		w.raw("</dd>\n        ")
	}
	return w.cut()
}

// panelHTML: the cart panel's body, whoever owns the cart.
func (v *cartView) panelHTML(w *frameWriter) template.HTML {
	if v == nil {
		return ""
	}
	w.raw("\n      <p>Owner: <strong>")
	w.text(v.Owner)
	w.raw("</strong>. ")
	w.text(v.Where)
	w.raw("</p>\n      ")
	if len(v.Items) > 0 {
		w.raw("\n      <ul class=\"kv\">")
		for _, it := range v.Items {
			w.raw("<li>")
			w.int(it.Quantity)
			w.raw(" × ")
			w.text(it.Name)
			w.raw(` <span class="muted">`)
			w.text(money(it.UnitPriceCents))
			w.raw("</span></li>")
		}
		w.raw("</ul>\n      <p>Total: <strong>")
		w.text(money(v.TotalCents))
		w.raw("</strong></p>\n      ")
	} else {
		w.raw(`<p class="muted">Empty.</p>`)
	}
	w.raw("\n      ")
	return w.cut()
}

// TableRows is the /cart page's table body: a row per item with its
// quantity and remove forms (csrf: this session's form token).
func (v *cartView) TableRows(csrf string) template.HTML {
	var w frameWriter
	w.Grow(1200 * len(v.Items))
	csrf = escaped(csrf)
	for _, it := range v.Items {
		id := strconv.FormatInt(it.ProductID, 10)
		name := escaped(it.Name)
		w.raw("\n  <tr>\n    <th scope=\"row\"><a href=\"/products/", id, "\">", name, "</a></th>\n    <td>")
		w.text(money(it.UnitPriceCents))
		w.raw("</td>\n    <td>\n      <form method=\"post\" action=\"/cart/update\" class=\"qty-form\">\n        <input type=\"hidden\" name=\"csrf_token\" value=\"", csrf,
			"\">\n        <input type=\"hidden\" name=\"product_id\" value=\"", id,
			"\">\n        <label class=\"visually-hidden\" for=\"q", id, "\">Quantity of ", name,
			"</label>\n        <input id=\"q", id, "\" name=\"quantity\" type=\"number\" min=\"0\" max=\"99\" value=\"")
		w.int(it.Quantity)
		w.raw("\">\n        <button type=\"submit\" class=\"btn btn-small\">Update</button>\n      </form>\n      <form method=\"post\" action=\"/cart/update\" class=\"qty-form\">\n        <input type=\"hidden\" name=\"csrf_token\" value=\"", csrf,
			"\">\n        <input type=\"hidden\" name=\"product_id\" value=\"", id,
			"\">\n        <input type=\"hidden\" name=\"quantity\" value=\"0\">\n        <button type=\"submit\" class=\"btn btn-small btn-ghost\">Remove<span class=\"visually-hidden\"> ", name,
			"</span></button>\n      </form>\n    </td>\n    <td>")
		w.text(money(it.UnitPriceCents * int64(it.Quantity)))
		w.raw("</td>\n  </tr>\n  ")
	}
	return w.cut()
}

// escaped is s as frameWriter.text writes it.
func escaped(s string) string { return template.HTMLEscapeString(s) }
