package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"sessionlab/db"
	"sessionlab/events"
	"sessionlab/ids"
)

// reqState is what this request knows about its session and what it changed.
type reqState struct {
	sess        *session
	id          string // the session's raw ID: only in memory, never shown whole
	cookieSent  string // the sessionid value the request carried (the live one among several), if any
	cookiesSent int    // how many distinct sessionid values it carried
	notSaved    bool   // no session was issued: the address is over its budget (newSessionBurst)
	cookieState string // cookieNone, cookieValid, ...
	pending     []db.Event
	done        []db.Event    // persisted events of this request, for the strip
	rec         *db.Recorder  // the statements this request ran, for the lesson diagram
	requestSeen bool          // the "request" pseudo-event was given to the lessons
	savedCart   []db.CartItem // the user's cart, read with the session; valid until a change
	cartLoaded  bool
	// lastExchange is the session's exchanges record (JSON), read with it:
	// what its last form POST did (exchange.go).
	lastExchange string
	keepTimes    bool // a change that only records (a lab outcome): last_seen_at and expires_at stay
}

func state(c *fiber.Ctx) *reqState {
	if rs, ok := c.Locals("rs").(*reqState); ok {
		return rs
	}
	rs := &reqState{cookieState: cookieNone}
	c.Locals("rs", rs)
	return rs
}

// record notes an event; it is saved with the transaction that made the change.
func (rs *reqState) record(kind events.Kind, detail map[string]string) {
	b, _ := json.Marshal(detail)
	rs.pending = append(rs.pending, db.Event{Kind: kind.String(), Detail: string(b)})
}

// commitEvents saves this request's pending events in tx, bound to the
// session's (possibly new) key and user, after giving them to the lesson
// engine (observe adds the "request" pseudo-event, once per request). The
// caller saves the session record afterwards, so progress lands with it.
func (a *app) commitEvents(c *fiber.Ctx, tx *db.Tx, s *session, rs *reqState, observe bool) error {
	if err := a.advanceLessons(c.UserContext(), c, tx, s, rs, observe && !rs.requestSeen); err != nil {
		return err
	}
	now := a.now()
	for i := range rs.pending {
		e := &rs.pending[i]
		e.SessionKey, e.UserID, e.Instance, e.At = s.row.Key, s.row.UserID, a.cfg.Instance, now
		if err := tx.AddEvent(c.UserContext(), e); err != nil {
			return fmt.Errorf("record %s: %w", e.Kind, err)
		}
	}
	rs.done = append(rs.done, rs.pending...)
	rs.pending = rs.pending[:0]
	return nil
}

// withSession loads the request's session, or issues a new one when the
// request carried none (or one we refuse). Every shop page has a session.
func (a *app) withSession(c *fiber.Ctx) error {
	rs := state(c)
	ctx, rec := db.WithRecorder(c.UserContext())
	c.SetUserContext(ctx)
	rs.rec = rec
	if err := a.loadSession(c, rs); err != nil {
		return err
	}
	switch {
	case rs.sess == nil && c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead:
		// A POST without a live session cannot carry a valid CSRF token, so
		// it is refused next; issuing a row for it would let any bot's junk
		// fill the sessions table. (The refusal itself is logged, not stored.)
	case rs.sess == nil && !a.mayIssue(c):
		// This address started too many sessions lately: a script's flood,
		// not a class (see newSessionBurst). The page still renders, with
		// no row, no event and no Set-Cookie; the panels say why.
		rs.notSaved = true
	case rs.sess == nil:
		if err := a.createSession(c, rs); err != nil {
			return err
		}
	case rs.sess.row.Boot != a.boot || rs.sess.row.Instance != a.cfg.Instance:
		// First request of this session since the server (re)started, or
		// served by another instance than the last one: say so, because
		// "your session survived a restart" and "any instance can serve
		// you" are lessons.
		err := a.change(c, func(_ context.Context, _ *db.Tx, s *session) error {
			if cr := a.lastCopy; cr != nil && cr.Complete() && s.row.CopySeen != cr.ID && !s.row.CreatedAt.After(cr.StartedAt) {
				// This session was a row in the copy's source: it moved.
				s.row.CopySeen = cr.ID
				rs.record(events.DBCopied, map[string]string{"from": cr.SourceDialect(), "to": a.db.Dialect(), "key": ids.Prefix(s.row.Key)})
			}
			switch {
			case s.row.Instance != "" && s.row.Instance != a.cfg.Instance:
				rs.record(events.InstanceChanged, map[string]string{"from": s.row.Instance, "to": a.cfg.Instance})
			case s.row.Boot != a.boot:
				rs.record(events.ServerStarted, map[string]string{"db": a.db.Dialect(), "instance": a.cfg.Instance})
			}
			s.row.Boot = a.boot // change() sets the instance
			return nil
		})
		if err != nil {
			return err
		}
	default:
		if err := a.touch(c, rs); err != nil {
			return err
		}
	}
	return c.Next()
}

// withExistingSession loads a session if the request has a live one.
func (a *app) withExistingSession(c *fiber.Ctx) error {
	if err := a.loadSession(c, state(c)); err != nil {
		return err
	}
	return c.Next()
}

// csrfProtect refuses any POST whose csrf_token does not match the session's
// (synchronizer token pattern). The refusal changes nothing but the event log.
// https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html
func (a *app) csrfProtect(c *fiber.Ctx) error {
	if c.Method() != fiber.MethodPost {
		return c.Next()
	}
	rs := state(c)
	if rs.sess == nil {
		return fiber.NewError(fiber.StatusForbidden, "This form has no live session behind it (it expired, was ended, or your browser sends no cookies), so its CSRF token cannot match. Nothing was changed. Reload the page to get a fresh session and try again.")
	}
	if !checkCSRF(c, rs.sess) {
		a.recordNow(c, events.CSRFRefused, map[string]string{"path": c.Path()})
		return fiber.NewError(fiber.StatusForbidden, "This form was missing its CSRF token, or the token did not match your session (did you log in or out in another tab?). Nothing was changed. Go back, reload the page and try again.")
	}
	return c.Next()
}

// requireUser sends anonymous visitors to the login form, coming back here after.
func (a *app) requireUser(c *fiber.Ctx) error {
	if rs := state(c); rs.sess != nil && rs.sess.loggedIn() {
		return c.Next()
	}
	if c.Method() != fiber.MethodGet {
		return fiber.NewError(fiber.StatusUnauthorized, "You need to log in to do that.")
	}
	return c.Redirect("/login?next="+c.Path(), fiber.StatusSeeOther)
}

// recordNow saves an event that changes nothing else (a refused token, a
// failed login), with any lesson step it completes: best effort, a failure
// is logged, not shown.
func (a *app) recordNow(c *fiber.Ctx, kind events.Kind, detail map[string]string) {
	rs := state(c)
	if rs.sess == nil {
		return
	}
	err := a.change(c, func(context.Context, *db.Tx, *session) error {
		rs.record(kind, detail)
		return nil
	})
	if err != nil {
		rs.pending = rs.pending[:0]
		a.log.Error("record event", "kind", kind.String(), "err", err)
	}
}
