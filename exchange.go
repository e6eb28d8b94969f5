package main

import (
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"sessionlab/db"
	"sessionlab/ids"
)

// What a form POST did reaches the page its 303 leads to (Post/Redirect/Get)
// through the server, not through a second cookie: the exchanges table keeps
// one record per session, written from the real response once the handler
// is done, in the POST's own transaction, and read with the session on the
// next page, which shows it once. The shop sets exactly one cookie.

// exchangeRecord is one request and its answer as they crossed the wire, with
// secrets cut to prefixes: what the strip and the diagram of the next page
// draw. It is JSON in exchanges.data.
type exchangeRecord struct {
	Method     string          `json:"method"`
	Path       string          `json:"path"`
	Sent       []cookieSeen    `json:"sent"`  // the Cookie header, cookie by cookie
	State      string          `json:"state"` // what the server made of sessionid
	Status     int             `json:"status"`
	Location   string          `json:"location,omitempty"`
	Set        []setCookieView `json:"set_cookie"`
	Events     [][2]string     `json:"events"` // kind, detail JSON, as recorded
	Statements []string        `json:"statements"`
}

// exchangeView is a record as a page shows it.
type exchangeView struct {
	exchangeRecord
	StatusText string
	Items      []stripItem
	FollowedTo bool // this page is where its Location pointed
}

// recordExchange wraps a page POST in one unit of work: its changes and the
// record of its answer commit together when the response is final. A POST
// that ends the session (logout) leaves no record: the browser holds no
// session to read it with.
func (a *app) recordExchange(c *fiber.Ctx) error {
	if c.Method() != fiber.MethodPost {
		return c.Next()
	}
	rs := state(c)
	ctx, w := a.db.WithWork(c.UserContext())
	c.SetUserContext(ctx)
	defer w.Rollback()
	hadOne := rs.lastExchange != ""
	err := c.Next()
	var last func(*db.Tx) error
	switch status := c.Response().StatusCode(); {
	case rs.sess == nil:
	case err == nil && status >= 300 && status < 400:
		rec := a.exchangeOf(c)
		key, now := rs.sess.row.Key, a.now()
		last = func(tx *db.Tx) error { return tx.PutExchange(ctx, key, rec.finished, now) }
	case hadOne:
		// This POST answered with its own page: the older record is no
		// longer the last request, so it must not turn up later.
		key := rs.sess.row.Key
		last = func(*db.Tx) error { return a.db.ForgetExchange(ctx, key) }
	}
	if ferr := w.Finish(ctx, last); ferr != nil {
		if err != nil {
			a.log.Error("finish request after an error", "err", ferr)
			return err
		}
		// Nothing the response promised happened: it must not set cookies
		// or send the browser on.
		c.Response().Header.DelAllCookies()
		c.Response().Header.Del(fiber.HeaderLocation)
		return ferr
	}
	return err
}

// exchangeOf describes this request and the response it is about to send.
func (a *app) exchangeOf(c *fiber.Ctx) exchangeRecord {
	rs := state(c)
	r := exchangeRecord{
		Method: c.Method(), Path: c.Path(), State: rs.cookieState,
		Status:   c.Response().StatusCode(),
		Location: string(c.Response().Header.Peek(fiber.HeaderLocation)),
		Sent:     sentCookies(c), Set: setCookies(c),
	}
	for _, e := range rs.done {
		r.Events = append(r.Events, [2]string{e.Kind, e.Detail})
	}
	r.Statements = rs.rec.Statements()
	return r
}

// finished is the record as JSON with the statements that end the request:
// its own write (an UPDATE, and an INSERT the first time) and the COMMIT,
// which run right after.
func (r exchangeRecord) finished(inserting bool) (string, error) {
	r.Statements = append(r.Statements[:len(r.Statements):len(r.Statements)], "UPDATE exchanges")
	if inserting {
		r.Statements = append(r.Statements, "INSERT exchanges")
	}
	r.Statements = append(r.Statements, "COMMIT")
	b, err := json.Marshal(r)
	return string(b), err
}

// sentCookies is the request's Cookie header, cookie by cookie.
func sentCookies(c *fiber.Ctx) []cookieSeen {
	var out []cookieSeen
	c.Request().Header.VisitAllCookie(func(k, v []byte) {
		out = append(out, cookieSeen{Name: string(k), Prefix: ids.Prefix(string(v)), Length: len(v)})
	})
	return out
}

// setCookies is every Set-Cookie line of the response, as sent.
func setCookies(c *fiber.Ctx) []setCookieView {
	var out []setCookieView
	c.Response().Header.VisitAllCookie(func(_, v []byte) {
		if sc, ok := viewSetCookie(v); ok {
			out = append(out, sc)
		}
	})
	return out
}

// lastExchange is the record of the session's last form POST, shown once: a
// page that shows it forgets it (inside a POST's unit of work, or as the
// one small write of the GET that follows a form).
func (a *app) lastExchange(c *fiber.Ctx) *exchangeView {
	if v, ok := c.Locals("exchange").(*exchangeView); ok || c.Locals("exchangeTaken") != nil {
		return v
	}
	c.Locals("exchangeTaken", true)
	rs := state(c)
	if rs.lastExchange == "" || rs.sess == nil || c.Method() != fiber.MethodGet {
		return nil // a POST's own page is its own last exchange; recordExchange forgets the older one
	}
	var r exchangeRecord
	if err := json.Unmarshal([]byte(rs.lastExchange), &r); err != nil {
		a.log.Warn("unreadable exchange record", "err", err)
		return nil
	}
	if err := a.db.ForgetExchange(c.UserContext(), rs.sess.row.Key); err != nil {
		a.log.Warn("forget shown exchange", "err", err)
	}
	rs.lastExchange = ""
	loc, _, _ := strings.Cut(r.Location, "#") // the fragment never travels
	v := &exchangeView{exchangeRecord: r, StatusText: fasthttp.StatusMessage(r.Status), FollowedTo: loc == c.OriginalURL()}
	for _, e := range r.Events {
		v.Items = append(v.Items, describe(e[0], e[1]))
	}
	c.Locals("exchange", v)
	return v
}
