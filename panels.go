package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"sessionlab/db"
	"sessionlab/events"
	"sessionlab/ids"
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

// sessionPanel is the session record panel: the row of the sessions table
// as stored, every column in the table's order, secrets cut to a prefix.
// The first fields are /api/state's contract (docs/CONTRACT.md); Row extends it.
type sessionPanel struct {
	KeyPrefix     string          `json:"key_prefix"`
	Authenticated bool            `json:"authenticated"`
	User          string          `json:"-"`
	UserJSON      *string         `json:"user"` // null while anonymous: the key is always there (docs/CONTRACT.md)
	CreatedAt     time.Time       `json:"created_at"`
	LastSeenAt    time.Time       `json:"last_seen_at"`
	ExpiresAt     time.Time       `json:"expires_at"`
	Instance      string          `json:"served_by"`
	Data          json.RawMessage `json:"data"` // the data column as stored, csrf_token cut to a prefix
	Row           []rowCell       `json:"row"`  // every column, in the table's order
	// ProgressLink: set when a link code made this session count for its
	// learner (a terminal linked from a lesson page), null otherwise.
	ProgressLink *progressLink `json:"progress_link"`
}

// rowCell is one column of the row as the panel shows it.
type rowCell struct {
	Column string `json:"column"`
	Value  string `json:"value"`          // as stored; NULL for SQL NULL
	Cut    bool   `json:"cut,omitempty"`  // a secret, cut to its first characters
	Note   string `json:"note,omitempty"` // what the column is for
}

// storedTime is how the panel writes a stored time: UTC (the column holds
// UTC), to the microsecond (MariaDB's DATETIME(6)).
const storedTime = "2006-01-02 15:04:05.000000"

type cartView struct {
	Owner      string        `json:"owner"`
	Where      string        `json:"-"` // sentence: where the cart lives now
	Items      []db.CartItem `json:"items"`
	TotalCents int64         `json:"total_cents"`
	Count      int           `json:"-"`
}

type stripItem struct {
	Kind, Text string
	Tone       events.Tone
}

func (a *app) cookiePanel(c *fiber.Ctx) cookiePanel {
	rs := state(c)
	p := cookiePanel{State: rs.cookieState, Explain: explainCookie(rs.cookieState) + explainTwins(rs), Sent: sentCookies(c), Set: setCookies(c)}
	if rs.notSaved {
		p.Explain += " " + notSavedWhy
	}
	p.SetCount = len(p.Set)
	return p
}

// AttrList is the attributes as the header has them, for the page's hooks.
func (v setCookieView) AttrList() string { return strings.Join(v.Attrs, "; ") }

// viewSetCookie shows a Set-Cookie header as it was sent, attributes in
// their order and spelling, the value cut to its prefix.
func viewSetCookie(raw []byte) (setCookieView, bool) {
	var ck fasthttp.Cookie
	if ck.ParseBytes(raw) != nil {
		return setCookieView{}, false
	}
	val := string(ck.Value())
	v := setCookieView{Name: string(ck.Key()), Prefix: ids.Prefix(val), Length: len(val)}
	_, attrs, _ := strings.Cut(string(raw), ";")
	for _, at := range strings.Split(attrs, ";") {
		if at = strings.TrimSpace(at); at != "" {
			v.Attrs = append(v.Attrs, at)
		}
	}
	exp := ck.Expire()
	v.Deletes = val == "" || ck.MaxAge() < 0 || (!exp.Equal(fasthttp.CookieExpireUnlimited) && exp.Before(time.Now()))
	shown := v.Prefix
	if len(val) > len(v.Prefix) {
		shown += "…"
	}
	v.Raw = strings.Join(append([]string{v.Name + "=" + shown}, v.Attrs...), "; ")
	return v, true
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

// explainTwins says what the server made of several sessionid cookies in
// one request (loadSession tries each).
func explainTwins(rs *reqState) string {
	switch {
	case rs.cookiesSent < 2:
		return ""
	case rs.cookieState == cookieValid:
		return fmt.Sprintf(" It sent %d sessionid cookies (a second one set under a narrower Path is sent first and can shadow the real one): the server tried each, used the one starting %s…, whose session is live, and ignored the rest. Your real cookie was not replaced.", rs.cookiesSent, ids.Prefix(rs.cookieSent))
	default:
		return fmt.Sprintf(" It sent %d sessionid cookies, and none of them named a live session.", rs.cookiesSent)
	}
}

func (a *app) sessionPanel(rs *reqState) *sessionPanel {
	s := rs.sess
	if s == nil {
		return nil
	}
	r := s.row
	// The data column exactly as stored, but for the CSRF token's value:
	// the token is the form's secret, so only its prefix is shown.
	data := r.Data
	if tok := s.data.CSRF; tok != "" {
		data = strings.ReplaceAll(data, tok, ids.Prefix(tok)+"…")
	}
	var user *string
	userID := "NULL"
	if s.loggedIn() {
		name := s.username()
		user = &name
		userID = strconv.FormatInt(r.UserID.Int64, 10)
	}
	userNote := "NULL: anonymous; set at login"
	if s.loggedIn() {
		userNote = "users.username: " + s.username()
	}
	p := &sessionPanel{
		UserJSON:      user,
		KeyPrefix:     ids.Prefix(r.Key),
		Authenticated: s.loggedIn(),
		User:          s.username(),
		CreatedAt:     r.CreatedAt,
		LastSeenAt:    r.LastSeenAt,
		ExpiresAt:     r.ExpiresAt,
		Instance:      r.Instance,
		Data:          json.RawMessage(data),
		Row: []rowCell{
			{Column: "key", Value: ids.Prefix(r.Key) + "…", Cut: true, Note: "SHA-256 of your cookie's ID, not the ID"},
			{Column: "user_id", Value: userID, Note: userNote},
			{Column: "data", Value: data, Note: "JSON: what this shop session holds"},
			{Column: "user_agent", Value: r.UserAgent, Note: "the client that made it (your devices)"},
			{Column: "instance", Value: r.Instance, Note: "the server instance that last served it"},
			{Column: "created_at", Value: r.CreatedAt.UTC().Format(storedTime), Note: "UTC"},
			{Column: "last_seen_at", Value: r.LastSeenAt.UTC().Format(storedTime), Note: "UTC; moved at most once a minute by a page view"},
			{Column: "expires_at", Value: r.ExpiresAt.UTC().Format(storedTime), Note: "UTC; the earlier of the idle and absolute timeouts"},
			{Column: "learner", Value: ids.Prefix(r.Learner) + "…", Cut: true, Note: "links this browser to its lesson progress and lab switches (their own tables); kept when the ID rotates"},
			{Column: "boot", Value: r.Boot, Note: "the server start that last served it: a new one means the server restarted and the session survived"},
			{Column: "copy_seen", Value: strconv.FormatInt(r.CopySeen, 10), Note: "the db copy run this session was told about (0: none)"},
			linkedAtCell(r),
		},
		ProgressLink: progressLinkOf(s),
	}
	return p
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

// describe turns a stored event into the strip's line, from package events'
// table. A kind the table does not know (a row from another version) still
// gets a true sentence, never a raw name on screen.
func describe(kind, detailJSON string) stripItem {
	k, ok := events.Parse(kind)
	if !ok {
		return stripItem{Kind: kind, Text: "The server recorded a change to your session.", Tone: events.New}
	}
	d := map[string]string{}
	json.Unmarshal([]byte(detailJSON), &d)
	text, tone := k.Describe(d)
	return stripItem{Kind: kind, Text: text, Tone: tone}
}

func (a *app) strip(rs *reqState) []stripItem {
	var out []stripItem
	if rs.notSaved {
		out = append(out, stripItem{Kind: "session.not_saved", Text: notSavedWhy, Tone: events.Warn})
	}
	for _, e := range rs.done {
		out = append(out, describe(e.Kind, e.Detail))
	}
	return out
}
