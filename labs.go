package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"sessionlab/db"
	"sessionlab/events"
	"sessionlab/ids"
	"sessionlab/labs"
	"sessionlab/labs/slugs"
)

// The attack labs' pages in the shop (/lab, /lab/{slug}): explanation, the
// weak/defended switch, the simulated attacker and victim side by side, and
// what to send a partner. The weak behaviour itself lives only on the lab
// site (labsite.go), under its own cookies.

func (a *app) labIndex(c *fiber.Ctx) error {
	rs := state(c)
	type row struct {
		labs.Lab
		Mode string
	}
	var rows []row
	for _, l := range labs.All {
		rows = append(rows, row{l, string(labMode(rs.sess, l.Slug))})
	}
	return a.render(c, fiber.StatusOK, "labs", "Attack labs", fiber.Map{"Labs": rows})
}

// labShow is one lab's page.
func (a *app) labShow(c *fiber.Ctx) error {
	l, err := labFromPath(c)
	if err != nil {
		return err
	}
	rs := state(c)
	mode := labMode(rs.sess, l.Slug)
	run := a.sims.get(learnerOf(rs.sess), l.Slug)
	views, sum, err := a.simViews(c, l, run)
	if err != nil {
		return err
	}
	// The cross-site lab's attempt, shown only to the learner it was issued
	// to: the link to the attacker's page, then its outcome. Reading it
	// changes nothing; recording the outcome is a POST (crossSiteRecord).
	var evilLink, tok string
	var att *labs.Attempt
	if q := c.Query("attempt"); l.Slug == slugs.CrossSite && q != "" {
		got, err := a.labs.Attempt(c.UserContext(), l.Slug, q)
		if err != nil && !errors.Is(err, db.ErrNotFound) {
			return err
		}
		if got != nil && got.Owner != "" && got.Owner == learnerOf(rs.sess) {
			att, tok = got, q
			if evil, _, err := a.otherSite(c); err == nil && !got.Used {
				evilLink = evil + "/lab/" + l.Slug + "/evil?t=" + q
			}
		}
	}
	data := fiber.Map{
		"EvilLink":        evilLink,
		"Attempt":         att,
		"Token":           tok,
		"Views":           views,
		"Sum":             sum,
		"Lab":             l,
		"Mode":            string(mode),
		"Modes":           modeBoxes(l, mode),
		"CookieMode":      cookieMode(l, mode),
		"Site":            "/lab/" + l.Slug + "/site?mode=" + string(mode),
		"Base":            a.publicBase(c),
		"Steps":           simSteps[l.Slug],
		"Idle":            labs.IdleTimeout.Seconds(),
		"Absolute":        labs.AbsoluteTimeout.Seconds(),
		"GuessTime":       guessTime(),
		"AttemptLifetime": shortDuration(labs.AttemptLifetime),
	}
	return a.render(c, fiber.StatusOK, "lab-"+l.Slug, "Lab: "+l.Title, data)
}

// cookieMode is the mode a lab page's cookie commands use: the learner's,
// or signed when the token design keeps no cookie to edit.
func cookieMode(l labs.Lab, m labs.Mode) labs.Mode {
	if l.TokenInPage(m) {
		return labs.Signed
	}
	return m
}

// modeBox is one of a lab's modes as its page's header shows it.
type modeBox struct {
	Mode, Name, Says string
	On               bool
}

func modeBoxes(l labs.Lab, on labs.Mode) []modeBox {
	var out []modeBox
	for _, m := range l.Modes() {
		name := strings.ToUpper(string(m[:1])) + string(m[1:])
		out = append(out, modeBox{Mode: string(m), Name: name, Says: l.ModeSays(m), On: m == on})
	}
	return out
}

// modeList names a lab's modes for an error message: "weak or defended".
func modeList(l labs.Lab) string {
	ms := l.Modes()
	var names []string
	for _, m := range ms[:len(ms)-1] {
		names = append(names, string(m))
	}
	return strings.Join(names, ", ") + " or " + string(ms[len(ms)-1])
}

// labSetMode flips a lab between weak and defended. The switch belongs to
// the learner of the shop session (table lab_modes); it changes only what the lab site does with
// lab sessions created afterwards, never the shop's own session rules.
func (a *app) labSetMode(c *fiber.Ctx) error {
	l, err := labFromPath(c)
	if err != nil {
		return err
	}
	m, ok := l.ParseMode(string(c.Request().PostArgs().Peek("mode")))
	if !ok {
		return fiber.NewError(fiber.StatusBadRequest, "mode must be one of "+modeList(l)+". Nothing was changed.")
	}
	err = a.change(c, func(ctx context.Context, tx *db.Tx, s *session) error {
		s.labModes[l.Slug] = string(m)
		state(c).record(events.LabMode, map[string]string{"lab": l.Slug, "mode": string(m)})
		return tx.SetLabMode(ctx, s.row.Learner, l.Slug, string(m), a.now())
	})
	if err != nil {
		return err
	}
	a.sims.drop(learnerOf(state(c).sess), l.Slug) // a run belongs to one mode
	return a.redirect(c, "/lab/"+l.Slug)
}

// labUse is the attacker's move in a pair (or alone, for expiry): try a lab
// ID on the lab site's account page. The ID is one a partner sent (a copied
// cookie, a guess), or, when the form sends none, the one this browser's lab
// cookie already holds (a planted ID, an old one). The attempt's outcome is
// recorded here, in a POST carrying the learner's shop cookie and CSRF
// token; the account page it leads to only shows what the ID opens.
func (a *app) labUse(c *fiber.Ctx) error {
	l, err := labFromPath(c)
	if err != nil {
		return err
	}
	rs := state(c)
	id := strings.TrimSpace(string(c.Request().PostArgs().Peek("id")))
	id = strings.TrimPrefix(id, l.Cookie()+"=")
	pasted := id != ""
	if !pasted {
		id = strings.Clone(c.Cookies(l.Cookie()))
		if id == "" {
			return fiber.NewError(fiber.StatusBadRequest, "This browser holds no "+l.Cookie()+" cookie to try: open the lab site first, or paste an ID. Nothing was changed.")
		}
	}
	if !labs.ValidID(id) {
		return fiber.NewError(fiber.StatusBadRequest, "That is not a lab ID (1 to 64 letters, digits, - or _). Nothing was changed.")
	}
	sess, st, err := a.labs.Lookup(c.UserContext(), l.Slug, id)
	if err != nil {
		return err
	}
	r := &labReq{lab: l, id: id, state: st, sess: sess}
	if sess != nil {
		r.lastSeen = sess.Row.LastSeenAt
	}
	mode := labMode(rs.sess, l.Slug)
	if sess != nil {
		mode = sess.Mode()
	}
	if outcome, via := a.attemptOutcome(learnerOf(rs.sess), r, pasted); outcome != "" {
		if err := a.recordAttempt(c, map[string]string{"lab": l.Slug, "mode": string(mode), "outcome": outcome, "via": via}); err != nil {
			return err
		}
	}
	if pasted {
		a.labCookie(l, labMode(rs.sess, l.Slug)).set(c, id, 0)
	}
	return c.Redirect("/lab/"+l.Slug+"/site/account", fiber.StatusSeeOther)
}

// labSteal is the cookie-theft lab's "attacker's server": the injected demo
// script posts document.cookie here. It is a real browser that decides what
// the script could read; the server only checks whether what arrived is a
// live lab session.
func (a *app) labSteal(c *fiber.Ctx) error {
	l, _ := labs.Find(slugs.CookieTheft)
	got := string(c.Request().PostArgs().Peek("cookies"))
	if len(got) > 4096 {
		return fiber.NewError(fiber.StatusRequestEntityTooLarge, "That is more than a cookie header. Nothing was recorded.")
	}
	rs := state(c)
	mode := labMode(rs.sess, l.Slug)
	var stolen string
	for _, part := range strings.Split(got, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok && k == l.Cookie() {
			stolen = v
		}
	}
	outcome, explain := "failed", "document.cookie held no "+l.Cookie()+": the cookie is HttpOnly, so the script saw nothing to steal."
	captured := ""
	if stolen != "" {
		sess, st, err := a.labs.Lookup(c.UserContext(), l.Slug, stolen)
		if err != nil {
			return err
		}
		captured = l.Cookie() + "=" + ids.Prefix(stolen) + "…"
		if st == labs.StateValid {
			mode = sess.Mode()
			outcome, explain = "succeeded", "The script read "+l.Cookie()+" from document.cookie (no HttpOnly) and sent it here: the attacker can now use that session."
		} else {
			explain = "The script sent a value, but it names no live lab session (" + st + ")."
		}
	}
	if err := a.recordAttempt(c, map[string]string{"lab": l.Slug, "mode": string(mode), "outcome": outcome, "via": "solo"}); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"outcome": outcome, "mode": mode, "captured": captured, "explain": explain, "saw_chars": len(got)})
}

// crossSiteAttempt starts a cross-site attack: it registers an attempt that
// names the learner's shop session and sends the browser to the attacker's
// page on the other site (127.0.0.1 ↔ localhost).
func (a *app) crossSiteAttempt(c *fiber.Ctx) error {
	l, _ := labs.Find(slugs.CrossSite)
	rs := state(c)
	evil, target, err := a.otherSite(c)
	if err != nil {
		return err
	}
	tok, err := a.labs.NewAttempt(c.UserContext(), l.Slug, labMode(rs.sess, l.Slug), learnerOf(rs.sess), target)
	if err != nil {
		return err
	}
	// Not a redirect to the other site: the shop's CSP (form-action 'self')
	// rightly stops a form from being redirected off-site. The lab page
	// shows a link instead, as an attacker's e-mail would.
	_ = evil
	return a.redirect(c, "/lab/"+l.Slug+"?attempt="+tok)
}

// otherSite returns the attacker's origin and the lab's (victim's) origin:
// http://127.0.0.1:PORT and http://localhost:PORT are different sites to a
// browser, though the same server. Both come from publicBase, so the port
// is this server's own, never a Host header's.
func (a *app) otherSite(c *fiber.Ctx) (evil, target string, err error) {
	u, perr := url.Parse(a.publicBase(c))
	port := ""
	if perr == nil {
		port = u.Port()
	}
	if perr == nil && port != "" && strings.EqualFold(u.Host, c.Hostname()) {
		switch u.Hostname() {
		case "localhost":
			return "http://127.0.0.1:" + port, "http://localhost:" + port, nil
		case "127.0.0.1":
			return "http://localhost:" + port, "http://127.0.0.1:" + port, nil
		}
	}
	if port == "" {
		port = "PORT"
	}
	return "", "", fiber.NewError(fiber.StatusBadRequest, "The cross-site lab plays two sites with http://localhost:"+port+" and http://127.0.0.1:"+port+": open Session Lab as http://localhost:"+port+" on the machine it runs on.")
}

// crossSiteEvil is the attacker's page: served on the other site, it
// auto-submits a form to the lab site (static/lab-evil.js; no inline script).
func (a *app) crossSiteEvil(c *fiber.Ctx) error {
	tok := c.Query("t")
	att, err := a.labs.Attempt(c.UserContext(), slugs.CrossSite, tok)
	if errors.Is(err, db.ErrNotFound) {
		return fiber.NewError(fiber.StatusNotFound, "This attack page has expired or never existed. Start again from the cross-site lab's page.")
	}
	if err != nil {
		return err
	}
	target := att.Target
	// The shop's CSP allows forms to post only to this origin; the attacker's
	// page exists to post to the other one.
	c.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; form-action "+target+"; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
	return c.Render("lab-evil", fiber.Map{"Title": "Totally Legit Prize Site", "Action": target + "/lab/" + slugs.CrossSite + "/site/cart/add", "Token": tok, "Target": target})
}

// crossSiteAdd is the lab site's "add to cart": the target of the forged
// form. Weak: any request with the lab cookie is obeyed. Defended: the
// cookie is SameSite=Lax (so a cross-site POST arrives without it) and the
// form must carry the session's CSRF token.
func (a *app) crossSiteAdd(c *fiber.Ctx) error {
	l, _ := labs.Find(slugs.CrossSite)
	args := c.Request().PostArgs()
	item := strings.TrimSpace(string(args.Peek("item")))
	qty, ok := quantity(string(args.Peek("quantity")))
	if item == "" || len(item) > 60 || !ok {
		return fiber.NewError(fiber.StatusBadRequest, "item (1..60 characters) and quantity (1..99) are required. Nothing was changed.")
	}
	r, err := a.loadLab(c, l)
	if err != nil {
		return err
	}
	var att *labs.Attempt
	if tok := string(args.Peek("attempt")); tok != "" {
		if att, err = a.labs.Attempt(c.UserContext(), l.Slug, tok); err != nil && !errors.Is(err, db.ErrNotFound) {
			return err
		}
	}
	mode := labMode(state(c).sess, l.Slug)
	switch {
	case r.sess != nil:
		mode = r.sess.Mode()
	case att != nil:
		mode = att.Mode
	}
	r.fallback = mode
	outcome, status := "failed", fiber.StatusForbidden
	switch {
	case r.state != labs.StateValid:
		r.change("The request arrived without a live " + l.Cookie() + " cookie: to the lab site it came from a stranger, so nothing was added.")
		if att != nil && r.state == labs.StateNone {
			r.change("What the browser did: it withheld " + l.Cookie() + " from another site's POST, because the cookie is SameSite=Lax (sent on top-level GET navigations from other sites, never on their POSTs).")
		}
	case l.ChecksCSRFToken(mode) && !labs.TokenOK(r.sess, string(args.Peek("csrf_token"))):
		r.change("The cookie arrived, but the form had no valid CSRF token: refused, nothing was added.")
	default:
		r.sess.Data.Cart = append(r.sess.Data.Cart, labs.CartLine{Item: item, Quantity: qty})
		if err := a.labs.Save(c.UserContext(), r.sess); err != nil {
			return err
		}
		outcome, status = "succeeded", fiber.StatusOK
		r.change(fmt.Sprintf("Added %d × %s to the lab cart of the session the cookie named.", qty, item))
		if att != nil && l.SameSiteNone(mode) {
			r.change("What the browser did: it sent " + l.Cookie() + " along with another site's POST, because the cookie is SameSite=None; and the weak lab checked no CSRF token.")
		}
	}
	if att != nil {
		// The attempt is used once, atomically: a replayed form is obeyed
		// or refused like any other (it is the lab), but its outcome is
		// not kept. Nothing reaches a shop session from here: this request
		// carries no shop cookie, so it cannot say whose lessons it is for.
		used, err := a.labs.UseAttempt(c.UserContext(), l.Slug, string(args.Peek("attempt")), outcome)
		if err != nil {
			return err
		}
		if used {
			r.change("This request came from the attacker's page (attempt " + att.IDPrefix + "…): the attack " + outcome + ". Go back to the lab page to record the outcome in your lessons.")
			r.back = "/lab/" + l.Slug + "?attempt=" + url.QueryEscape(string(args.Peek("attempt")))
		} else {
			r.change("This request carried attempt " + att.IDPrefix + "…, which was already used: the attack " + outcome + ", but nothing is recorded for it.")
		}
	}
	return a.renderLabSite(c, r, status, "cart")
}

// crossSiteRecord takes a cross-site attempt's outcome into the learner's
// lessons: a POST with their own shop cookie and CSRF token, for an attempt
// issued to them and used by the attacker's form, once.
func (a *app) crossSiteRecord(c *fiber.Ctx) error {
	l, _ := labs.Find(slugs.CrossSite)
	tok := string(c.Request().PostArgs().Peek("attempt"))
	att, err := a.labs.RecordAttempt(c.UserContext(), l.Slug, tok, learnerOf(state(c).sess))
	if err != nil {
		return err
	}
	if att == nil {
		return fiber.NewError(fiber.StatusConflict, "There is no outcome to record for this attempt: it is not yours, the attacker's page has not used it yet, it was already recorded, or it expired ("+shortDuration(labs.AttemptLifetime)+"). Nothing was recorded.")
	}
	if err := a.recordAttempt(c, map[string]string{"lab": l.Slug, "mode": string(att.Mode), "outcome": att.Outcome, "via": "solo"}); err != nil {
		return err
	}
	return a.redirect(c, "/lab/"+l.Slug+"?attempt="+url.QueryEscape(tok))
}

// quantity parses the lab cart's 1..99 quantity.
func quantity(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= 99
}

// guessTime says how long guessing one of n live 256-bit IDs takes at a
// billion guesses a second: 2^256 / (2n) guesses on average.
func guessTime() string {
	const perSecond = 1e9
	const yearSecs = 365.25 * 24 * 3600
	years := math.Pow(2, 256) / 2 / 1000 / perSecond / yearSecs // with a thousand live sessions
	return fmt.Sprintf("about 10^%d years", int(math.Log10(years)))
}
