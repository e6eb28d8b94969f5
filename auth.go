package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"sessionlab/db"
	"sessionlab/events"
	"sessionlab/ids"
)

func (a *app) loginShow(c *fiber.Ctx) error {
	return a.render(c, fiber.StatusOK, "login", "Log in", fiber.Map{"Next": safeNext(c.Query("next"))})
}

// loginPost checks the password, then rotates the session ID, sets the user
// and merges the anonymous cart into the account, all in one transaction.
func (a *app) loginPost(c *fiber.Ctx) error {
	args := c.Request().PostArgs()
	username := strings.TrimSpace(string(args.Peek("username")))
	password := string(args.Peek("password"))
	next := safeNext(string(args.Peek("next")))
	if username == "" || password == "" || len(username) > 64 || len(password) > 256 {
		return a.loginFailed(c, fiber.StatusBadRequest, username, next, "Enter a username and a password (at most 64 and 256 characters).")
	}
	user, err := a.checkPassword(c, username, password)
	if errors.Is(err, db.ErrInvalidCredentials) {
		a.recordNow(c, events.LoginFailed, map[string]string{"username": ids.Cut(username, 64)})
		return a.loginFailed(c, fiber.StatusUnauthorized, username, next, "That username and password do not match. Your session stays anonymous.")
	}
	if err != nil {
		return err
	}
	if err := a.logIn(c, "login", func(context.Context, *db.Tx) (*db.User, error) { return user, nil }); err != nil {
		return err
	}
	return a.redirect(c, next)
}

// logIn makes this session the user's, at login and at sign-up alike: in one
// transaction the ID rotates (the old row is deleted: a planted ID is worth
// nothing after), the user is set and the anonymous cart merges into the
// account. account runs first inside the transaction: login has the user
// already, sign-up creates the account there, so a name taken meanwhile
// leaves nothing behind. why ("login", "signup") is what the strip names.
func (a *app) logIn(c *fiber.Ctx, why string, account func(context.Context, *db.Tx) (*db.User, error)) error {
	var newSessionID string
	var user *db.User
	err := a.change(c, func(ctx context.Context, tx *db.Tx, s *session) error {
		rs := state(c)
		var err error
		if user, err = account(ctx, tx); err != nil {
			return err
		}
		id, err := a.rotate(ctx, c, tx, s, user.ID, why)
		if err != nil {
			return err
		}
		newSessionID = id
		s.row.Username.String, s.row.Username.Valid = user.Username, true
		rs.record(events.LoginSucceeded, map[string]string{"username": user.Username})
		if n := len(s.data.Cart); n > 0 {
			for _, l := range s.data.Cart {
				if err := tx.AddToCart(ctx, user.ID, l.ProductID, l.Quantity); err != nil {
					return err
				}
			}
			s.data.Cart = nil
			rs.record(events.CartMerged, map[string]string{"items": strconv.Itoa(n), "username": user.Username})
		}
		return nil // the lesson progress merges as the change commits
	})
	if err != nil {
		return err
	}
	state(c).id = newSessionID
	a.sessionCookie().set(c, newSessionID, 0)
	a.log.Info(why, "user", user.Username, "key_prefix", ids.Prefix(state(c).sess.row.Key))
	return nil
}

// checkPassword is every password check at login, the shop's and the lab
// site's: the attempt is reserved under the throttle (throttle.go) before
// bcrypt runs, then the hash runs through the gate. It answers the user, or
// db.ErrInvalidCredentials (the attempt stays counted), or a *fiber.Error
// that says when to retry: 429 when a limit is full, 503 when the hash queue
// is too long (nothing was checked, so nothing is counted).
func (a *app) checkPassword(c *fiber.Ctx, username, password string) (*db.User, error) {
	addr := strings.Clone(c.IP()) // kept in the throttle's map past this request
	r, wait, ok := a.throttle.reserve(a.now(), loginRules(username, addr)...)
	if !ok {
		return nil, tooMany(c, wait, "Too many login attempts for this account or from your address.")
	}
	user, err := a.authenticate(c.UserContext(), username, password)
	if errors.Is(err, db.ErrInvalidCredentials) {
		return nil, err
	}
	// A success is forgiven; so is a check that never ran.
	a.throttle.release(r)
	var busy errBusy
	if errors.As(err, &busy) {
		return nil, busyError(c, busy)
	}
	return user, err
}

// busyError is the 503 for a hash queue too long to join, with Retry-After
// and a page that says how long.
func busyError(c *fiber.Ctx, busy errBusy) error {
	secs := strconv.Itoa(int((busy.Retry + time.Second - 1) / time.Second))
	c.Set(fiber.HeaderRetryAfter, secs)
	return fiber.NewError(fiber.StatusServiceUnavailable, "The server is busy checking other passwords. Nothing was changed: try again in "+secs+" seconds.")
}

// authenticate reads the user, then runs the bcrypt comparison through the
// hash gate: a burst of logins queues instead of starving page views, and a
// login that would wait too long gets errBusy at once (503 with
// Retry-After), never a timeout. The read comes first so that a hash slot
// never holds its core's turn while the database answers.
func (a *app) authenticate(ctx context.Context, username, password string) (*db.User, error) {
	u, err := a.db.UserByName(ctx, username)
	if err != nil && !errors.Is(err, db.ErrNotFound) {
		return nil, err
	}
	var user *db.User
	err = a.hashes.run(ctx, func() error {
		var err error
		user, err = db.CheckPassword(u, password)
		return err
	})
	return user, err
}

func (a *app) loginFailed(c *fiber.Ctx, status int, username, next, msg string) error {
	return a.render(c, status, "login", "Log in", fiber.Map{"Error": msg, "Username": username, "Next": next})
}

// logoutPost deletes the session row and expires the cookie: the ID is dead
// on the server, so a copy of the cookie replayed later is just unknown.
//
// A lesson page's logout form sends next (the lesson): the learner is
// mid-lesson and must not lose their place. Their progress hangs off the
// learner id of the row being deleted, and the browser keeps no cookie
// after logout, so the redirect carries a resume code instead: random,
// stored hashed, single use, two minutes, and good for one thing only,
// linking the next fresh session to the same learner's progress (never to
// the login or the cart). The record of this logout travels with the code,
// so the lesson page can show what the logout did (no session is left to
// keep it). Without next, logout answers 303 / as docs/CONTRACT.md says.
func (a *app) logoutPost(c *fiber.Ctx) error {
	rs := state(c)
	s := rs.sess
	next := safeNext(string(c.Request().PostArgs().Peek("next")))
	err := a.db.InTx(c.UserContext(), func(tx *db.Tx) error {
		rs.pending = rs.pending[:0] // a retried transaction records afresh
		rs.record(events.Logout, map[string]string{"username": s.username(), "prefix": ids.Prefix(rs.id)})
		if _, err := tx.DeleteSession(c.UserContext(), s.row.Key); err != nil {
			return err
		}
		return a.commitEvents(c, tx, s, rs, true)
	})
	if err != nil {
		return err
	}
	a.log.Info("logout", "user", s.username(), "key_prefix", ids.Prefix(s.row.Key))
	rs.sess, rs.id = nil, ""
	a.sessionCookie().expire(c)
	if !resumable(next) || s.row.Learner == "" {
		return a.redirect(c, "/")
	}
	code := ids.New()
	if err := a.redirect(c, next+"?resume="+code); err != nil {
		return err
	}
	record, err := json.Marshal(a.exchangeOf(c))
	if err != nil {
		return err
	}
	now := a.now()
	return a.db.InTx(c.UserContext(), func(tx *db.Tx) error {
		return tx.AddLearnerCode(c.UserContext(), db.CodeResume, ids.Hash(code), s.row.Learner, string(record), now.Add(resumeFor))
	})
}

// resumeFor is how long a logout's resume code lives: the redirect follows
// at once, so minutes are plenty and a copy found later in history is dead.
const resumeFor = 2 * time.Minute

// resumable: the lesson pages take a resume code (a path without a query,
// so the code is the only parameter).
func resumable(next string) bool {
	return strings.HasPrefix(next, "/lessons/") && !strings.ContainsAny(next, "?#")
}

// safeNext keeps a post-login redirect on this site: a local path only, so a
// crafted link cannot send a fresh login to another site (open redirect).
func safeNext(next string) string {
	if next == "" || len(next) > 512 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return "/"
	}
	// No control characters anywhere: url.Parse lets them through in a
	// fragment ("/#\x00"), and they have no business in a Location header.
	if strings.IndexFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.IsAbs() || u.Host != "" {
		return "/"
	}
	return next
}
