package main

import (
	"encoding/json"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"sessionlab/db"
)

// reqState is what this request knows about its session and what it changed.
type reqState struct {
	sess        *session
	id          string // the session's raw ID: only in memory, never shown whole
	cookieSent  string // the sessionid value the request carried, if any
	cookieState string // cookieNone, cookieValid, ...
	pending     []db.Event
	done        []db.Event // persisted events of this request, for the strip
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
func (rs *reqState) record(kind string, detail map[string]string) {
	b, _ := json.Marshal(detail)
	rs.pending = append(rs.pending, db.Event{Kind: kind, Detail: string(b)})
}

// commitEvents saves this request's pending events in tx, bound to the
// session's (possibly new) key and user.
func (a *app) commitEvents(c *fiber.Ctx, tx *db.Tx, s *session, rs *reqState) error {
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
	if err := a.loadSession(c, rs); err != nil {
		return err
	}
	if rs.sess == nil {
		if err := a.createSession(c, rs); err != nil {
			return err
		}
	} else if err := a.touch(c, rs); err != nil {
		return err
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
	if !checkCSRF(c, rs.sess) {
		a.recordNow(c, "csrf.refused", map[string]string{"path": c.Path()})
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

// recordNow saves an event on its own, outside any change (a refused token,
// a failed login): best effort, a failure is logged, not shown.
func (a *app) recordNow(c *fiber.Ctx, kind string, detail map[string]string) {
	rs := state(c)
	if rs.sess == nil {
		return
	}
	rs.record(kind, detail)
	err := a.db.InTx(c.UserContext(), func(tx *db.Tx) error {
		return a.commitEvents(c, tx, rs.sess, rs)
	})
	if err != nil {
		rs.pending = rs.pending[:0]
		a.log.Error("record event", "kind", kind, "err", err)
	}
}
