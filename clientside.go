package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"sessionlab/db"
	"sessionlab/ids"
	"sessionlab/labs"
	"sessionlab/labs/slugs"
)

// The client-side lab (lab 7): the whole session lives in the value the
// browser holds, not in a server row. Its little site under
// /lab/client-side/site never reads or sets sessionid: which of its four
// servers answers is the ?mode= of the URL (the lab page's links say it),
// and who is logged in is whatever the lab value says, as the mode's rules
// read it (labs.Lab.ReadState). The shop pages of the lab (/lab/client-side,
// its sim, use and steal forms) are ordinary shop pages: they record the
// learner's attempts in their own shop session, for the lessons.

// clientSideKeySetting names the signing key in the settings table: every
// instance on one database signs and checks with the same key (lesson 11).
const clientSideKeySetting = "lab.client-side.key"

// clientSideKey is the lab's HMAC key, made once per database.
func (a *app) clientSideKey(ctx context.Context) ([]byte, error) {
	if k := a.csKey.Load(); k != nil {
		return *k, nil
	}
	v, err := a.db.SettingOnce(ctx, clientSideKeySetting, ids.New(), a.now())
	if err != nil {
		return nil, fmt.Errorf("client-side lab: signing key: %w", err)
	}
	k := []byte(v)
	a.csKey.Store(&k)
	return k, nil
}

// csReq is what one client-side lab-site request holds.
type csReq struct {
	lab     labs.Lab
	mode    labs.Mode
	value   string // the value as sent (cookie or Bearer token)
	via     string // "cookie", "bearer" or ""
	read    labs.Read
	looked  bool           // the revocation list was asked
	revoked *db.LabSession // the row that came back, if any
	changes []string       // what this request did
	issued  string         // a value this response issued
}

func (r *csReq) change(s string) { r.changes = append(r.changes, s) }

// csMode is the lab server a site request talks to: ?mode=, else weak.
// Never the shop session's switch: the site does not read sessionid.
func csMode(c *fiber.Ctx, l labs.Lab) (labs.Mode, error) {
	q := c.Query("mode")
	if q == "" {
		return labs.Weak, nil
	}
	m, ok := l.ParseMode(q)
	if !ok {
		return "", fiber.NewError(fiber.StatusBadRequest, "mode must be one of weak, signed, revocation or token. Nothing was changed.")
	}
	return m, nil
}

// csLoad reads the request's client-side value as the mode's server does.
func (a *app) csLoad(c *fiber.Ctx) (*csReq, error) {
	l, _ := labs.Find(slugs.ClientSide)
	m, err := csMode(c, l)
	if err != nil {
		return nil, err
	}
	r := &csReq{lab: l, mode: m}
	if l.TokenInPage(m) {
		if v, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer "); ok {
			r.value, r.via = strings.TrimSpace(v), "bearer"
		}
	} else if v := c.Cookies(l.Cookie()); v != "" {
		r.value, r.via = strings.Clone(v), "cookie"
	}
	r.read, r.looked, r.revoked, err = a.csJudge(c.UserContext(), l, m, r.value)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// csJudge reads a value as the lab server in mode m does, revocation list
// included: looked says whether the list was asked, row is what came back.
func (a *app) csJudge(ctx context.Context, l labs.Lab, m labs.Mode, v string) (read labs.Read, looked bool, row *db.LabSession, err error) {
	key, err := a.clientSideKey(ctx)
	if err != nil {
		return labs.Read{}, false, nil, err
	}
	read = l.ReadState(v, m, key, a.now())
	if !read.Accepted() || !l.ChecksRevocation(m) {
		return read, false, nil, nil
	}
	row, err = a.labs.Revoked(ctx, read.State.ID)
	if err != nil {
		return labs.Read{}, false, nil, err
	}
	if row != nil {
		read.Verdict = labs.VerdictRevoked
		read.Why = "The signature matches, but the revocation list has a row for this token's ID: it logged out at " + row.EndedAt.Time.Format("15:04:05") + " UTC. Refused."
	}
	return read, true, row, nil
}

// csUse is the learner's own attack, by hand (or with a partner's value):
// the value pasted is judged by the lab server of the learner's mode, the
// outcome recorded, and, in the cookie designs, the value set as this
// browser's lab cookie so that the account page shows what it opens.
//   - tamper: an edited value. It succeeded when the server believes a
//     user or price that differs from what this browser's own value says;
//     it failed when the signature refused it.
//   - replay: a copy (after logout, or a partner's). It succeeded when it
//     still opens an account; it failed when it was refused.
func (a *app) csUse(c *fiber.Ctx) error {
	l, _ := labs.Find(slugs.ClientSide)
	rs := state(c)
	args := c.Request().PostArgs()
	v := strings.TrimSpace(string(args.Peek("value")))
	v = strings.TrimPrefix(v, l.Cookie()+"=")
	v = strings.TrimPrefix(v, "Bearer ")
	attack := string(args.Peek("attack"))
	if attack != "tamper" && attack != "replay" {
		return fiber.NewError(fiber.StatusBadRequest, "attack must be tamper or replay. Nothing was recorded.")
	}
	if v == "" {
		return fiber.NewError(fiber.StatusBadRequest, "Paste a value of the lab (the "+l.Cookie()+" cookie or the token). Nothing was recorded.")
	}
	if len(v) > labs.MaxValue {
		return fiber.NewError(fiber.StatusRequestEntityTooLarge, fmt.Sprintf("That is %d bytes, more than this lab reads (%d). Nothing was recorded.", len(v), labs.MaxValue))
	}
	mode := labMode(rs.sess, l.Slug)
	read, _, _, err := a.csJudge(c.UserContext(), l, mode, v)
	if err != nil {
		return err
	}
	if read.Verdict == labs.VerdictMalformed {
		return fiber.NewError(fiber.StatusBadRequest, "That is not a value this lab issues: "+read.Why+" Nothing was recorded.")
	}
	outcome := "failed"
	switch attack {
	case "tamper":
		if read.Accepted() {
			own, _, _, err := a.csJudge(c.UserContext(), l, mode, c.Cookies(l.Cookie()))
			if err != nil {
				return err
			}
			if read.State.User == own.State.User && len(read.State.Repriced()) == 0 {
				return fiber.NewError(fiber.StatusBadRequest, "That value says what this browser's own value says (same user, catalog prices): edit the user or a price first. Nothing was recorded.")
			}
			outcome = "succeeded"
		}
	case "replay":
		if read.Accepted() && read.State.User == "" {
			return fiber.NewError(fiber.StatusBadRequest, "That value is accepted but logs nobody in: replay one from a logged-in browser. Nothing was recorded.")
		}
		if read.Accepted() {
			outcome = "succeeded"
		}
	}
	// Whose value it was is the learner's word: the value carries no owner.
	via := "solo"
	if string(args.Peek("from")) == "partner" {
		via = "pair"
	}
	if err := a.recordAttempt(c, map[string]string{"lab": l.Slug, "mode": string(mode), "outcome": outcome, "via": via, "attack": attack}); err != nil {
		return err
	}
	if l.TokenInPage(mode) {
		return a.redirect(c, "/lab/"+l.Slug)
	}
	a.labCookie(l, mode).set(c, v, 0)
	return c.Redirect("/lab/"+l.Slug+"/site/account?mode="+string(mode), fiber.StatusSeeOther)
}

// csSteal is the attacker's log for the script injected into the lab
// page: it posts what it could read, localStorage's token and
// document.cookie. A real browser decides what that is; the server checks
// whether it is a live value of the learner's lab server.
func (a *app) csSteal(c *fiber.Ctx) error {
	l, _ := labs.Find(slugs.ClientSide)
	args := c.Request().PostArgs()
	tok, cookies := string(args.Peek("token")), string(args.Peek("cookies"))
	if len(tok) > labs.MaxValue || len(cookies) > labs.MaxValue {
		return fiber.NewError(fiber.StatusRequestEntityTooLarge, "That is more than the lab ever stores. Nothing was recorded.")
	}
	mode := labMode(state(c).sess, l.Slug)
	stolen, where := tok, "localStorage"
	if stolen == "" {
		where = "document.cookie"
		for _, part := range strings.Split(cookies, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok && k == l.Cookie() {
				stolen = v
			}
		}
	}
	outcome, explain, captured := "failed", "The script found no token in localStorage and no "+l.Cookie()+" in document.cookie: the lab cookie is HttpOnly, out of a script's reach.", ""
	if stolen != "" {
		read, _, _, err := a.csJudge(c.UserContext(), l, mode, stolen)
		if err != nil {
			return err
		}
		captured = ids.Prefix(stolen) + "…"
		if read.Accepted() && read.State.User != "" {
			outcome = "succeeded"
			explain = "The script read the token from " + where + " and sent it here: it opens " + read.State.User + "'s account on the " + string(mode) + " server. The attacker can use it from anywhere until it expires."
		} else {
			explain = "The script sent a value from " + where + ", but the " + string(mode) + " server does not accept it as a logged-in session (" + read.Verdict + ")."
		}
	}
	if err := a.recordAttempt(c, map[string]string{"lab": l.Slug, "mode": string(mode), "outcome": outcome, "via": "solo", "attack": "steal"}); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"outcome": outcome, "mode": mode, "captured": captured, "explain": explain})
}

// user is who the value logs in, "" when refused or anonymous.
func (r *csReq) user() string {
	if !r.read.Accepted() {
		return ""
	}
	return r.read.State.User
}

// csIssue sends a new value for st: the HttpOnly lab cookie, or, in token
// mode, nothing here (the page's script keeps what the body says).
func (a *app) csIssue(c *fiber.Ctx, r *csReq, st labs.State) error {
	key, err := a.clientSideKey(c.UserContext())
	if err != nil {
		return err
	}
	v, err := r.lab.EncodeState(st, r.mode, key)
	if err != nil {
		return err
	}
	if len(v) > labs.MaxValue {
		return fiber.NewError(fiber.StatusRequestEntityTooLarge, fmt.Sprintf("That would make a value of %d bytes; this lab stops at %d (browsers already drop a cookie over %d). Nothing was changed: log out to start an empty cart.", len(v), labs.MaxValue, labs.CookieLimit))
	}
	r.issued = v
	size := len(r.lab.Cookie()) + 1 + len(v)
	if r.lab.TokenInPage(r.mode) {
		r.change(fmt.Sprintf("New token issued in the response body (%d bytes): the page's script keeps it in localStorage and sends it as Authorization: Bearer. No cookie, no server row.", len(v)))
		return nil
	}
	a.labCookie(r.lab, r.mode).set(c, v, 0)
	r.change(fmt.Sprintf("New %s sent in Set-Cookie (%d bytes with its name): the whole session is in it; the server wrote no row.", r.lab.Cookie(), size))
	if size > labs.CookieLimit {
		r.change(fmt.Sprintf("That Set-Cookie is over %d bytes: a browser drops it whole and keeps the cookie it had.", labs.CookieLimit))
	}
	return nil
}

// csHome is the lab site's page: what this browser sent, what the server
// made of it, and the record it did (not) look up.
func (a *app) csHome(c *fiber.Ctx) error {
	r, err := a.csLoad(c)
	if err != nil {
		return err
	}
	return a.csRender(c, r, fiber.StatusOK, "home")
}

// csAccount is the page an attacker wants: whose account the value opens.
func (a *app) csAccount(c *fiber.Ctx) error {
	r, err := a.csLoad(c)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if r.user() == "" {
		status = fiber.StatusUnauthorized
	}
	return a.csRender(c, r, status, "account")
}

// csLogin logs in with a demo account: a new token ID (the client-side
// kind of rotation) and the cart the value already held.
func (a *app) csLogin(c *fiber.Ctx) error {
	args := c.Request().PostArgs()
	username := strings.TrimSpace(string(args.Peek("username")))
	password := string(args.Peek("password"))
	if username == "" || password == "" || len(username) > 64 || len(password) > 256 {
		return fiber.NewError(fiber.StatusBadRequest, "Enter a username and a password (the demo accounts: alice / wonderland, bob / builder).")
	}
	r, err := a.csLoad(c)
	if err != nil {
		return err
	}
	user, err := a.checkPassword(c, username, password)
	if err != nil {
		if errors.Is(err, db.ErrInvalidCredentials) {
			r.change("Login failed: nothing was issued.")
			return a.csRender(c, r, fiber.StatusUnauthorized, "home")
		}
		return err
	}
	st := labs.State{User: user.Username, IssuedAt: a.now().Unix(), ID: ids.New()}
	if r.read.Accepted() {
		st.Cart = r.read.State.Cart
	}
	if err := a.csIssue(c, r, st); err != nil {
		return err
	}
	r.change("Logged in as " + user.Username + ": the server checked the password, then wrote the user into the value itself (token ID " + ids.Prefix(st.ID) + "…).")
	return a.csDone(c, r, "login")
}

// csDone answers a site POST. The page's script (token design, or curl
// asking for JSON) gets the value as JSON; a browser without it, in the
// token design, the page carrying the token for its script. The cookie
// designs answer 303 to the site page, whose GET shows the value as the
// browser really sent it back: a browser may have refused what this
// response set (over 4 KB). The link says what was done and how big the
// Set-Cookie was, from a fixed list of sentences: this site keeps nothing
// to say it with, and a crafted link can only pick one of them.
func (a *app) csDone(c *fiber.Ctx, r *csReq, did string) error {
	a.csHeaders(c, r)
	if wantsJSON(c) {
		return c.JSON(fiber.Map{"token": r.issued, "bytes": len(r.issued), "changes": r.changes})
	}
	if r.lab.TokenInPage(r.mode) {
		return a.csRender(c, r, fiber.StatusOK, "done")
	}
	to := "/lab/" + r.lab.Slug + "/site?mode=" + string(r.mode) + "&did=" + did
	if r.issued != "" {
		to += "&sent=" + strconv.Itoa(len(r.lab.Cookie())+1+len(r.issued))
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

// csDid are the sentences a site page may say about the request before it.
var csDid = map[string]string{
	"login":   "You logged in: the server checked the password and wrote the user into the value it sent back. It wrote no row.",
	"add":     "You added to the cart: the server wrote the new cart into the value it sent back. It wrote no row.",
	"logout":  "You logged out: the server told the browser to drop its value. It had no record to end, so a copy of the value still works.",
	"revoked": "You logged out: the server told the browser to drop its value and wrote the token's ID to its revocation list, which every request checks.",
}

// csPrevious is what the page says about the POST that led to it.
func csPrevious(c *fiber.Ctx, r *csReq) []string {
	did, ok := csDid[c.Query("did")]
	if !ok {
		return nil
	}
	out := []string{did}
	sent, err := strconv.Atoi(c.Query("sent"))
	if err != nil || sent <= 0 || sent > 2*labs.MaxValue {
		return out
	}
	back := 0
	if r.via == "cookie" {
		back = len(r.lab.Cookie()) + 1 + len(r.value)
	}
	out = append(out, fmt.Sprintf("Its Set-Cookie was %d bytes (name and value); this request sent back %d.", sent, back))
	switch {
	case sent > labs.CookieLimit && back != sent:
		out = append(out, fmt.Sprintf("Your browser dropped that cookie: it was over %d bytes, so the browser ignored the Set-Cookie whole and kept what it had. The server has no copy of the cart you lost.", labs.CookieLimit))
	case back == sent:
		out = append(out, "Your browser kept it and sent it back whole.")
	}
	return out
}

// csLogout: the browser forgets its value; the revocation design also
// writes the token's ID to the server's list. Nothing else can end a copy.
func (a *app) csLogout(c *fiber.Ctx) error {
	r, err := a.csLoad(c)
	if err != nil {
		return err
	}
	did := "logout"
	switch {
	case r.read.Accepted() && r.lab.ChecksRevocation(r.mode):
		did = "revoked"
		row, err := a.labs.Revoke(c.UserContext(), r.read.State)
		if err != nil {
			return err
		}
		r.revoked, r.looked = row, true
		r.change("Logged out: token ID " + ids.Prefix(r.read.State.ID) + "… written to the revocation list (a server row, at last). Every request checks that list, so a copy of this value is now refused.")
	case r.read.Accepted():
		r.change("Logged out in the browser only: its value was expired. The server had nothing to end, so a copy of the value still works until its issued-at is " + labs.TokenLifetime.String() + " old.")
	default:
		r.change("Nothing to log out: the value was " + r.read.Verdict + ".")
	}
	if !r.lab.TokenInPage(r.mode) {
		a.labCookie(r.lab, r.mode).expire(c)
	}
	r.read, r.value = labs.Read{Verdict: labs.VerdictNone, Why: "This browser no longer holds a value."}, ""
	return a.csDone(c, r, did)
}

// maxLinesPerAdd bounds one add: enough to cross 4 KB in a few clicks.
const maxLinesPerAdd = 40

// csCartAdd adds lines to the cart in the value, at the catalog's price.
func (a *app) csCartAdd(c *fiber.Ctx) error {
	args := c.Request().PostArgs()
	item := string(args.Peek("item"))
	price, ok := labs.Catalog[item]
	qty, qok := quantity(string(args.Peek("quantity")))
	lines := 1
	if v := string(args.Peek("lines")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLinesPerAdd {
			ok = false
		}
		lines = n
	}
	if !ok || !qok {
		return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("item must be one of %s, quantity 1..99 and lines 1..%d. Nothing was changed.", strings.Join(labs.CatalogItems, ", "), maxLinesPerAdd))
	}
	r, err := a.csLoad(c)
	if err != nil {
		return err
	}
	st := r.read.State
	if !r.read.Accepted() {
		if r.value != "" {
			r.change("The value sent was " + r.read.Verdict + ", so the cart starts empty in a new anonymous value.")
		}
		st = labs.State{IssuedAt: a.now().Unix(), ID: ids.New()}
	}
	for range lines {
		st.Cart = append(st.Cart, labs.Line{Item: item, PriceCents: price, Qty: qty})
	}
	if err := a.csIssue(c, r, st); err != nil {
		return err
	}
	r.change(fmt.Sprintf("Added %d line(s) of %d × %s at %s, written into the value: the cart now has %d lines.", lines, qty, item, cents(price), len(st.Cart)))
	return a.csDone(c, r, "add")
}

func cents(n int) string { return fmt.Sprintf("$%d.%02d", n/100, n%100) }

func (a *app) csHeaders(c *fiber.Ctx, r *csReq) {
	c.Set("X-Lab-State", r.read.Verdict)
	c.Set("X-Lab-Mode", string(r.mode))
	if u := r.user(); u != "" {
		c.Set("X-Lab-User", u)
	}
	for _, ch := range r.changes {
		c.Response().Header.Add("X-Lab-Change", ch)
	}
}

// csCartLineRow is a cart line as the page shows it: the cookie's price
// beside the catalog's.
type csCartLineRow struct {
	Item, Price, Catalog string
	Qty                  int
	Changed              bool
}

// csRender shows the site page (page: home, account or done).
func (a *app) csRender(c *fiber.Ctx, r *csReq, status int, page string) error {
	a.csHeaders(c, r)
	if wantsJSON(c) && c.Method() == fiber.MethodGet {
		c.Status(status)
		return c.JSON(fiber.Map{"mode": r.mode, "verdict": r.read.Verdict, "why": r.read.Why, "user": r.user(), "payload": r.read.Payload,
			"bytes": len(r.value), "total": cents(r.read.State.TotalCents()), "revocation_row": r.revoked != nil, "changes": r.changes})
	}
	var cart []csCartLineRow
	for _, ln := range r.read.State.Cart {
		p, ok := labs.Catalog[ln.Item]
		row := csCartLineRow{Item: ln.Item, Qty: ln.Qty, Price: cents(ln.PriceCents), Catalog: "not in the catalog", Changed: !ok || p != ln.PriceCents}
		if ok {
			row.Catalog = cents(p)
		}
		cart = append(cart, row)
	}
	size := 0
	if r.value != "" {
		size = len(r.lab.Cookie()) + 1 + len(r.value)
	}
	var rec *labRecordView
	if r.revoked != nil {
		rec = viewLabRecord(&labs.Session{Row: r.revoked})
	}
	var sc []string
	c.Response().Header.VisitAllCookie(func(k, val []byte) {
		sc = append(sc, setCookieLine(string(val)))
	})
	pretty := r.read.Payload
	var buf bytes.Buffer
	if json.Indent(&buf, []byte(r.read.Payload), "", "  ") == nil {
		pretty = buf.String()
	}
	c.Status(status)
	return c.Render("labsite-client-side", fiber.Map{
		"Title":      r.lab.Title + " — lab site",
		"Lab":        r.lab,
		"Mode":       string(r.mode),
		"Modes":      r.lab.Modes(),
		"Page":       page,
		"Read":       r.read,
		"Pretty":     pretty,
		"Value":      r.value,
		"Via":        r.via,
		"User":       r.user(),
		"Accepted":   r.read.Accepted(),
		"Signed":     r.lab.SignsState(r.mode),
		"Revocation": r.lab.ChecksRevocation(r.mode),
		"Token":      r.lab.TokenInPage(r.mode),
		"Issued":     r.issued,
		"Looked":     r.looked,
		"Record":     rec,
		"Cart":       cart,
		"Total":      cents(r.read.State.TotalCents()),
		"Repriced":   r.read.State.Repriced(),
		"Size":       size,
		"Limit":      labs.CookieLimit,
		"Over":       size > labs.CookieLimit,
		"Items":      labs.CatalogItems,
		"MaxLines":   maxLinesPerAdd,
		"Changes":    r.changes,
		"Previous":   csPrevious(c, r),
		"SetCookies": sc,
		"JTI":        ids.Prefix(r.read.State.ID),
		"Base":       a.publicBase(c),
		"Scripts":    csScripts(r),
	})
}

// csScripts: the token design's page keeps its token with a script of its own.
func csScripts(r *csReq) []string {
	if r.lab.TokenInPage(r.mode) {
		return []string{"/static/lab-token.js"}
	}
	return nil
}

// The simulator's steps for the client-side lab (labsim.go): the attacker
// tampers with a value of her own, then replays the victim's after he
// logged out. Each attack's outcome is recorded on its own.
var csSimSteps = []simStep{
	{"Attacker logs in as alice (her own account) and puts a mug in the cart", func(ctx context.Context, a *app, l labs.Lab, r *simRun, _ *fiber.Ctx) error {
		q := "?mode=" + string(r.Mode)
		if _, err := r.Attacker.do(ctx, "POST", r.base, sitePath(l, "/login"+q), loginAlice); err != nil {
			return err
		}
		_, err := r.Attacker.do(ctx, "POST", r.base, sitePath(l, "/cart/add"+q), url.Values{"item": {"Mug"}, "quantity": {"1"}})
		return err
	}},
	{"Attacker edits her cookie (user alice → bob, the mug at 1 cent) and opens the account page", func(ctx context.Context, a *app, l labs.Lab, r *simRun, _ *fiber.Ctx) error {
		edited, err := csEdit(r.Attacker.cookie(r.base, l), func(st *labs.State) {
			st.User = "bob"
			for i := range st.Cart {
				st.Cart[i].PriceCents = 1
			}
		})
		if err != nil {
			return err
		}
		r.Attacker.setCookie(r.base, l, edited)
		return csAttack(ctx, l, r, "tamper")
	}},
	{"Victim logs in as bob; the attacker copies his cookie (a shared computer)", func(ctx context.Context, a *app, l labs.Lab, r *simRun, _ *fiber.Ctx) error {
		if _, err := r.Victim.do(ctx, "POST", r.base, sitePath(l, "/login?mode="+string(r.Mode)), loginBob); err != nil {
			return err
		}
		r.planted = r.Victim.cookie(r.base, l)
		r.Attacker.setCookie(r.base, l, r.planted)
		return nil
	}},
	{"Victim logs out", func(ctx context.Context, a *app, l labs.Lab, r *simRun, _ *fiber.Ctx) error {
		_, err := r.Victim.do(ctx, "POST", r.base, sitePath(l, "/logout?mode="+string(r.Mode)), url.Values{})
		return err
	}},
	{"Attacker replays the copied cookie", func(ctx context.Context, a *app, l labs.Lab, r *simRun, _ *fiber.Ctx) error {
		return csAttack(ctx, l, r, "replay")
	}},
}

// csEdit is the attacker's edit: decode the payload, change it, encode it
// again. A signature, if there was one, is kept as it was: the attacker
// has no key to sign with.
func csEdit(v string, edit func(*labs.State)) (string, error) {
	payload, sig, signed := strings.Cut(v, ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	var st labs.State
	if err == nil {
		err = json.Unmarshal(raw, &st)
	}
	if err != nil {
		return "", fmt.Errorf("client-side sim: the attacker's cookie does not decode: %w", err)
	}
	edit(&st)
	b, _ := json.Marshal(st)
	out := base64.RawURLEncoding.EncodeToString(b)
	if signed {
		out += "." + sig
	}
	return out, nil
}

// csAttack opens the account page in the attacker's browser: the attack
// succeeded when it opens bob's account.
func csAttack(ctx context.Context, l labs.Lab, r *simRun, attack string) error {
	if _, err := r.Attacker.do(ctx, "GET", r.base, sitePath(l, "/account?mode="+string(r.Mode)), nil); err != nil {
		return err
	}
	r.Outcome = "failed"
	r.Note = "The " + attack + " attack failed: the server refused the value (" + r.Attacker.State + ")."
	if r.Attacker.User == "bob" {
		r.Outcome = "succeeded"
		r.Note = "The " + attack + " attack succeeded: the attacker's browser opened bob's account."
	}
	r.pending = append(r.pending, map[string]string{"lab": l.Slug, "mode": string(r.Mode), "outcome": r.Outcome, "via": "solo", "attack": attack})
	return nil
}
