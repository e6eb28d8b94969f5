package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"sessionlab/db"
)

// The three panels and the "what changed" strip, built from this very
// response: what the request carried, what the handler saved, what the
// response sets.

type cookieSeen struct {
	Name, Prefix string
	Length       int
}

type setCookieView struct {
	Name, Prefix string
	Length       int
	Attrs        []string // every attribute, in order
	Deletes      bool     // expires the cookie
	Raw          string   // the header with the value cut to its prefix
}

type cookiePanel struct {
	Sent     []cookieSeen // every cookie the request carried
	State    string       // cookieNone, cookieValid, ...
	Explain  string
	SetCount int
	Set      []setCookieView
}

type sessionPanel struct {
	KeyPrefix     string    `json:"key_prefix"`
	Authenticated bool      `json:"authenticated"`
	User          string    `json:"-"`
	UserJSON      *string   `json:"user"` // null while anonymous: the key is always there (CONTRACT.md)
	CreatedAt     time.Time `json:"created_at"`
	LastSeenAt    time.Time `json:"last_seen_at"`
	ExpiresAt     time.Time `json:"expires_at"`
	Instance      string    `json:"served_by"`
	Data          any       `json:"data"`
	DataJSON      string    `json:"-"`
}

type cartView struct {
	Owner      string        `json:"owner"`
	Where      string        `json:"-"` // sentence: where the cart lives now
	Items      []db.CartItem `json:"items"`
	TotalCents int64         `json:"total_cents"`
	Count      int           `json:"-"`
}

type stripItem struct {
	Kind, Text string
	Tone       string // "new", "good", "warn", "gone"
}

type flashView struct {
	Method, Path string
	Items        []stripItem
	Statements   []string
	Raw          [][2]string // the events as sent: kind, detail JSON
}

const flashCookie = "sessionlab_flash"

func (a *app) cookiePanel(c *fiber.Ctx) cookiePanel {
	rs := state(c)
	p := cookiePanel{State: rs.cookieState, Explain: explainCookie(rs.cookieState)}
	c.Request().Header.VisitAllCookie(func(k, v []byte) {
		p.Sent = append(p.Sent, cookieSeen{Name: string(k), Prefix: prefix(string(v)), Length: len(v)})
	})
	c.Response().Header.VisitAllCookie(func(k, v []byte) {
		var ck fasthttp.Cookie
		if ck.ParseBytes(v) != nil {
			return
		}
		p.Set = append(p.Set, viewSetCookie(&ck))
	})
	p.SetCount = len(p.Set)
	return p
}

func viewSetCookie(ck *fasthttp.Cookie) setCookieView {
	val := string(ck.Value())
	v := setCookieView{Name: string(ck.Key()), Prefix: prefix(val), Length: len(val)}
	if ck.Path() != nil {
		v.Attrs = append(v.Attrs, "Path="+string(ck.Path()))
	}
	if ck.HTTPOnly() {
		v.Attrs = append(v.Attrs, "HttpOnly")
	}
	if ck.Secure() {
		v.Attrs = append(v.Attrs, "Secure")
	}
	switch ck.SameSite() {
	case fasthttp.CookieSameSiteLaxMode:
		v.Attrs = append(v.Attrs, "SameSite=Lax")
	case fasthttp.CookieSameSiteStrictMode:
		v.Attrs = append(v.Attrs, "SameSite=Strict")
	case fasthttp.CookieSameSiteNoneMode:
		v.Attrs = append(v.Attrs, "SameSite=None")
	}
	if ck.MaxAge() != 0 {
		v.Attrs = append(v.Attrs, fmt.Sprintf("Max-Age=%d", ck.MaxAge()))
	}
	if exp := ck.Expire(); !exp.Equal(fasthttp.CookieExpireUnlimited) {
		v.Attrs = append(v.Attrs, "Expires="+exp.UTC().Format(time.RFC1123))
		v.Deletes = exp.Before(time.Now())
	}
	if ck.MaxAge() < 0 || val == "" {
		v.Deletes = true
	}
	shown := v.Prefix
	if len(val) > len(v.Prefix) {
		shown += "…"
	}
	v.Raw = strings.Join(append([]string{v.Name + "=" + shown}, v.Attrs...), "; ")
	return v
}

func explainCookie(state string) string {
	switch state {
	case cookieNone:
		return "Your browser sent no session cookie: to the server you are a stranger."
	case cookieValid:
		return "Your browser sent the session cookie; the server found its record."
	case cookieUnknown:
		return "Your browser sent a session ID the server has no record of (forged, logged out or swept). It was not adopted."
	case cookieExpired:
		return "Your browser sent an ID whose session had expired. The record was deleted; the ID was not reused."
	case cookieMalformed:
		return "Your browser sent something that is not a session ID this server issues. It was ignored."
	}
	return ""
}

func (a *app) sessionPanel(rs *reqState) *sessionPanel {
	s := rs.sess
	if s == nil {
		return nil
	}
	var data any
	json.Unmarshal([]byte(s.row.Data), &data)
	if m, ok := data.(map[string]any); ok {
		for _, k := range []string{"csrf_token", "learner"} {
			if v, ok := m[k].(string); ok {
				m[k] = prefix(v) + "…"
			}
		}
	}
	pretty, _ := json.MarshalIndent(data, "", "  ")
	var user *string
	if s.loggedIn() {
		name := s.username()
		user = &name
	}
	return &sessionPanel{
		UserJSON:      user,
		KeyPrefix:     prefix(s.row.Key),
		Authenticated: s.loggedIn(),
		User:          s.username(),
		CreatedAt:     s.row.CreatedAt,
		LastSeenAt:    s.row.LastSeenAt,
		ExpiresAt:     s.row.ExpiresAt,
		Instance:      s.row.Instance,
		Data:          data,
		DataJSON:      string(pretty),
	}
}

// cart returns the request's cart, reading a user's saved cart at most once.
func (a *app) cart(c *fiber.Ctx) (*cartView, error) {
	if v, ok := c.Locals("cart").(*cartView); ok {
		return v, nil
	}
	rs := state(c)
	v := &cartView{Owner: "anonymous", Items: []db.CartItem{}}
	switch {
	case rs.sess == nil:
		v.Where = "No session, so no cart."
	case rs.sess.loggedIn():
		items := rs.savedCart
		if !rs.cartLoaded {
			var err error
			if items, err = a.db.CartItems(c.UserContext(), rs.sess.userID()); err != nil {
				return nil, fmt.Errorf("cart: %w", err)
			}
		}
		v.Owner = rs.sess.username()
		v.Items = append(v.Items, items...) // [] in JSON when empty, never null
		v.Where = "Saved in the cart_items table under " + rs.sess.username() + "'s account: it outlives this session."
	default:
		for _, l := range rs.sess.data.Cart {
			p, ok := a.byID[l.ProductID]
			if !ok {
				continue
			}
			v.Items = append(v.Items, db.CartItem{ProductID: p.ID, Name: p.Name, Quantity: l.Quantity, UnitPriceCents: p.PriceCents})
		}
		v.Where = "Kept inside your session record (the data column): it lives as long as this session."
	}
	for _, it := range v.Items {
		v.TotalCents += it.UnitPriceCents * int64(it.Quantity)
		v.Count += it.Quantity
	}
	c.Locals("cart", v)
	return v, nil
}

// describe turns an event into the strip's sentence.
func describe(kind, detailJSON string) stripItem {
	d := map[string]string{}
	json.Unmarshal([]byte(detailJSON), &d)
	it := stripItem{Kind: kind, Tone: "new"}
	switch kind {
	case "session.created":
		switch d["reason"] {
		case cookieNone:
			it.Text = "New session issued: you sent no cookie, so the server minted ID " + d["new"] + "… and sent it in Set-Cookie."
		default:
			it.Text = "New session issued (" + d["new"] + "…) because the ID you sent was " + d["reason"] + "."
		}
	case "session.refused":
		it.Tone = "warn"
		it.Text = "Refused the ID you sent (" + d["prefix"] + "…): " + d["reason"] + ". The server never adopts an ID it did not issue."
		if d["reason"] == cookieUnknown {
			it.Text = "Forged or stale ID refused (" + d["prefix"] + "…): no live session has it, so it was not adopted."
		}
	case "session.rotated":
		it.Text = "ID rotated at login: " + d["old"] + "… → " + d["new"] + "…. The old row was deleted, so a planted ID is now worthless."
	case "login.succeeded":
		it.Tone = "good"
		it.Text = "User set: the session is now authenticated as " + d["username"] + "."
	case "login.failed":
		it.Tone = "warn"
		it.Text = "Login failed for “" + d["username"] + "”: the session stays anonymous."
	case "cart.added":
		it.Tone = "good"
		it.Text = "Cart changed: added " + d["quantity"] + " × " + d["name"] + " (" + d["where"] + ")."
	case "cart.updated":
		it.Tone = "good"
		it.Text = "Cart changed: " + d["name"] + " quantity set to " + d["quantity"] + " (" + d["where"] + ")."
	case "cart.removed":
		it.Tone = "gone"
		it.Text = "Cart changed: removed " + d["name"] + " (" + d["where"] + ")."
	case "cart.merged":
		it.Tone = "good"
		it.Text = "Cart merged: " + d["items"] + " item(s) moved from the anonymous session into " + d["username"] + "'s saved cart."
	case "logout":
		it.Tone = "gone"
		it.Text = "Logged out: session row deleted and the cookie expired. Replaying the old cookie now gets nothing."
	case "session.ended":
		it.Tone = "gone"
		it.Text = "Ended " + d["count"] + " other session(s) of " + d["username"] + ": those rows are deleted, those browsers are logged out."
	case "note.added":
		it.Tone = "good"
		it.Text = "Note saved (row " + d["id"] + " in the notes table)."
	case "note.deleted":
		it.Tone = "gone"
		it.Text = "Note " + d["id"] + " deleted."
	case "csrf.refused":
		it.Tone = "warn"
		it.Text = "POST refused: the csrf_token was missing or wrong. Nothing changed."
	case "lesson.step":
		it.Tone = "good"
		it.Text = "Lesson step done: " + d["title"] + "."
	case "lesson.answered":
		it.Text = "Answer recorded (checked on the server, not in your browser)."
	case "lesson.hint":
		it.Text = "Hint " + d["hints"] + " revealed (counted in your session)."
	case "lesson.reset":
		it.Tone = "gone"
		it.Text = "Lesson progress reset."
	case "db.copied":
		it.Tone = "good"
		it.Text = "Your session moved with db copy from " + dbName(d["from"]) + " to " + dbName(d["to"]) + ": its key started " + d["key"] + "… in " + dbName(d["from"]) + ", and this server found the same key, " + d["key"] + "…, in " + dbName(d["to"]) + ". Same row, same ID: you did not have to log in again."
	case "lab.mode":
		it.Text = "Lab " + d["lab"] + " switched to " + d["mode"] + " mode (only the lab site changes; this shop session keeps its rules)."
	case "lab.attack":
		it.Tone = "warn"
		if d["outcome"] == "failed" {
			it.Tone = "good"
		}
		it.Text = "Lab " + d["lab"] + " (" + d["mode"] + " mode, " + d["via"] + "): the attack " + d["outcome"] + "."
	case "server.started":
		it.Text = "The server restarted since your last request (" + d["db"] + ", " + d["instance"] + "), and your session is still here: it lives in the database, not in the server's memory."
	default:
		it.Text = kind
	}
	return it
}

func (a *app) strip(rs *reqState) []stripItem {
	var out []stripItem
	for _, e := range rs.done {
		out = append(out, describe(e.Kind, e.Detail))
	}
	return out
}

// The flash cookie carries what a POST changed to the page it redirects to
// (Post/Redirect/Get): the strip of the page after a form shows what the form
// did. It holds only sentences, no identity, and lives a minute.
type flashData struct {
	M string      `json:"m"`
	P string      `json:"p"`
	E [][2]string `json:"e"`
	S []string    `json:"s,omitempty"` // statement kinds, for the lesson diagram
}

func (a *app) setFlash(c *fiber.Ctx) {
	rs := state(c)
	f := flashData{M: c.Method(), P: c.Path(), S: rs.rec.Statements()}
	for _, e := range rs.done {
		f.E = append(f.E, [2]string{e.Kind, e.Detail})
	}
	b, _ := json.Marshal(f)
	if len(b) > 3000 {
		return
	}
	c.Cookie(&fiber.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString(b), Path: "/", MaxAge: 60, HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: a.cfg.SecureCookies})
}

// takeFlash reads and clears the flash cookie. A damaged one is ignored.
func (a *app) takeFlash(c *fiber.Ctx) *flashView {
	if c.Locals("flashTaken") != nil {
		f, _ := c.Locals("flash").(*flashView)
		return f
	}
	c.Locals("flashTaken", true)
	raw := c.Cookies(flashCookie)
	if raw == "" {
		return nil
	}
	c.Cookie(&fiber.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(0, 0), HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: a.cfg.SecureCookies})
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) > 3000 {
		return nil
	}
	var f flashData
	if json.Unmarshal(b, &f) != nil || len(f.E) > 20 {
		return nil
	}
	v := &flashView{Method: truncate(f.M, 8), Path: truncate(f.P, 80)}
	for _, st := range f.S {
		if len(v.Statements) < 32 {
			v.Statements = append(v.Statements, truncate(st, 48))
		}
	}
	for _, e := range f.E {
		if it := describe(e[0], e[1]); it.Text != "" {
			v.Items = append(v.Items, it)
		}
	}
	v.Raw = f.E
	c.Locals("flash", v)
	return v
}

// dbName is how the strip names a database kind.
func dbName(dialect string) string {
	switch dialect {
	case db.SQLite:
		return "SQLite"
	case db.MariaDB:
		return "MariaDB"
	}
	return dialect
}
