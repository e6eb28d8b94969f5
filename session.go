package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"sessionlab/db"
	"sessionlab/events"
	"sessionlab/ids"
	"sessionlab/lessons"
)

// cookieName is the session cookie, named as Django names it.
const cookieName = "sessionid"

// sessionData is the JSON kept in the session record's data column: what a
// shop's session holds, and nothing else. Lesson progress, lab switches and
// the server's bookkeeping (learner, boot, copy_seen) have their own columns
// and tables, so the session panel shows a shop's session, as stored.
type sessionData struct {
	CSRF string     `json:"csrf_token"`
	Cart []cartLine `json:"cart,omitempty"` // the anonymous cart; a user's lives in cart_items
}

type cartLine struct {
	ProductID int64 `json:"product_id"`
	Quantity  int   `json:"quantity"`
}

// session is the request's view of its session record, with what hangs off
// it: the progress of its owner (db.Session.ProgressOwner) and the learner's
// lab switches, read with the row.
type session struct {
	row      *db.Session
	data     sessionData
	progress lessons.Progress
	labModes map[string]string
}

func (s *session) userID() int64  { return s.row.UserID.Int64 }
func (s *session) loggedIn() bool { return s.row.UserID.Valid }
func (s *session) username() string {
	if s.row.Username.Valid {
		return s.row.Username.String
	}
	return ""
}

func decodeSession(row *db.Session) (*session, error) {
	s := &session{row: row}
	if err := json.Unmarshal([]byte(row.Data), &s.data); err != nil {
		return nil, fmt.Errorf("session: decode data: %w", err)
	}
	return s, nil
}

func (s *session) encode() error {
	b, err := json.Marshal(s.data)
	if err != nil {
		return fmt.Errorf("session: encode data: %w", err)
	}
	s.row.Data = string(b)
	return nil
}

// Cookie states of a request, shown in the cookie panel and recorded.
const (
	cookieNone      = "none"      // no sessionid sent
	cookieValid     = "valid"     // a live session
	cookieUnknown   = "unknown"   // well-formed, but no such row: forged, logged out or swept
	cookieExpired   = "expired"   // the row exists but its time is up
	cookieMalformed = "malformed" // not an ID we would ever issue
)

// expired applies the idle and absolute timeouts with the current settings,
// so an instructor who shortens them sees the effect at once.
func (a *app) expired(row *db.Session, now time.Time) bool {
	t := a.timeouts()
	return !now.Before(row.ExpiresAt) || !now.Before(row.CreatedAt.Add(t.Absolute)) || !now.Before(row.LastSeenAt.Add(t.Idle))
}

// expiry is when a session seen now stops being valid: the earlier of the
// idle deadline and the absolute one.
func (a *app) expiry(created, now time.Time) time.Time {
	t := a.timeouts()
	idle, abs := now.Add(t.Idle), created.Add(t.Absolute)
	if idle.Before(abs) {
		return idle
	}
	return abs
}

// maxSessionCookies bounds how many well-formed sessionid values of one
// request are looked up in the database: a browser sends two when a page
// planted a shadow; dozens are a script, and the rest are ignored.
const maxSessionCookies = 4

// sessionCookies lists the distinct sessionid values the request carried, in
// the order sent. c.Cookies returns only the first, and a browser puts a
// cookie with a narrower Path first (RFC 6265 §5.4): a "shadow" sessionid
// planted under /lab would otherwise hide the real one.
func sessionCookies(c *fiber.Ctx) []string {
	var vs []string
	c.Request().Header.VisitAllCookie(func(k, v []byte) {
		if string(k) != cookieName || len(v) == 0 || slices.Contains(vs, string(v)) {
			return
		}
		// fasthttp reuses this buffer for the next request on the
		// connection: keep a copy, once, here.
		vs = append(vs, string(v))
	})
	return vs
}

// loadSession finds the live session named by the request's cookie. It never
// creates one and never adopts an ID it did not issue: an unknown, expired or
// malformed ID just yields no session (and the state says why). Every
// sessionid sent is tried and a live one wins, so a bogus twin never costs
// the learner their session (answering it with a fresh Path=/ cookie would
// overwrite the real one in the browser); with none live, the first says why.
func (a *app) loadSession(c *fiber.Ctx, rs *reqState) error {
	sent := sessionCookies(c)
	rs.cookiesSent = len(sent)
	if len(sent) == 0 {
		rs.cookieState = cookieNone
		return nil
	}
	lookups := 0
	for i, raw := range sent {
		if ids.Valid(raw) {
			if lookups == maxSessionCookies {
				break
			}
			lookups++
		}
		st, err := a.loadSessionID(c, rs, raw)
		if err != nil {
			return err
		}
		if i == 0 || st == cookieValid {
			rs.cookieState, rs.cookieSent = st, raw
		}
		if st == cookieValid {
			return nil
		}
	}
	return nil
}

// loadSessionID looks one sessionid value up and says what it named; only a
// live session becomes the request's.
func (a *app) loadSessionID(c *fiber.Ctx, rs *reqState, raw string) (cookieState string, err error) {
	if !ids.Valid(raw) {
		return cookieMalformed, nil
	}
	// The session, the user's saved cart and the owner's lesson progress
	// come back in one query: a page view's only round trip to the database.
	st, err := a.db.SessionState(c.UserContext(), ids.Hash(raw))
	if errors.Is(err, db.ErrNotFound) {
		return cookieUnknown, nil
	}
	if err != nil {
		return "", fmt.Errorf("session: load: %w", err)
	}
	row := st.Session
	now := a.now()
	if a.expired(row, now) {
		if _, err := a.db.DeleteSession(c.UserContext(), row.Key); err != nil {
			return "", fmt.Errorf("session: delete expired: %w", err)
		}
		return cookieExpired, nil
	}
	s, err := decodeSession(row)
	if err != nil {
		return "", err
	}
	s.progress, s.labModes = a.progressFrom(st.Progress), st.LabModes
	rs.sess = s
	rs.id = raw
	rs.savedCart, rs.cartLoaded = st.Cart, true
	rs.lastExchange = st.Exchange
	return cookieValid, nil
}

// createSession issues a new ID with a new row. It is the only way a session
// comes to exist, so every ID a browser holds was minted here (OWASP: never
// accept an ID the server did not generate).
func (a *app) createSession(c *fiber.Ctx, rs *reqState) error {
	now := a.now()
	id := ids.New()
	row := &db.Session{
		Key:        ids.Hash(id),
		UserAgent:  cleanText(string(c.Request().Header.UserAgent()), 250),
		Instance:   a.cfg.Instance,
		CreatedAt:  now,
		LastSeenAt: now,
		ExpiresAt:  a.expiry(now, now),
		Learner:    ids.New()[:16],
		Boot:       a.boot,
	}
	s := &session{row: row, data: sessionData{CSRF: ids.New()}, progress: a.progressFrom(nil), labModes: map[string]string{}}
	if rs.cookieState != cookieNone {
		rs.record(events.SessionRefused, map[string]string{"reason": rs.cookieState, "prefix": ids.Prefix(rs.cookieSent)})
	}
	rs.record(events.SessionCreated, map[string]string{"reason": rs.cookieState, "new": ids.Prefix(id)})
	mark := len(rs.pending)
	err := a.db.InTx(c.UserContext(), func(tx *db.Tx) error {
		rs.pending = rs.pending[:mark]
		if err := a.commitEvents(c, tx, s, rs, false); err != nil {
			return err
		}
		if err := s.encode(); err != nil {
			return err
		}
		return tx.InsertSession(c.UserContext(), row)
	})
	if err != nil {
		return fmt.Errorf("session: create: %w", err)
	}
	rs.sess, rs.id = s, id
	a.sessionCookie().set(c, id, 0)
	return nil
}

// touch moves last_seen_at forward at most once per throttle period: the only
// write a GET makes, so a page view costs one read, not a read and a write.
func (a *app) touch(c *fiber.Ctx, rs *reqState) error {
	s := rs.sess
	now := a.now()
	if now.Sub(s.row.LastSeenAt) < a.touchEvery() && s.row.Instance == a.cfg.Instance {
		return nil
	}
	s.row.LastSeenAt = now
	s.row.ExpiresAt = a.expiry(s.row.CreatedAt, now)
	s.row.Instance = a.cfg.Instance
	if err := a.db.Touch(c.UserContext(), s.row.Key, a.cfg.Instance, now, s.row.ExpiresAt); err != nil {
		return fmt.Errorf("session: touch: %w", err)
	}
	return nil
}

func (a *app) touchEvery() time.Duration {
	every := a.timeouts().Idle / 10
	if every > time.Minute {
		every = time.Minute
	}
	return every
}

// errSessionGone: the row vanished between reading it and locking it (a
// logout or "end session" in another tab won the race).
var errSessionGone = fiber.NewError(fiber.StatusConflict, "Your session ended while this request was running (logged out in another tab?). Reload the page to continue.")

// change runs fn on the session inside one transaction: the row is re-read
// and locked first, so concurrent requests of one session apply one after
// another and none is lost; then the record, this request's events and any
// lesson progress they complete are saved together.
func (a *app) change(c *fiber.Ctx, fn func(ctx context.Context, tx *db.Tx, s *session) error) error {
	rs := state(c)
	ctx := c.UserContext()
	mark := len(rs.pending)
	var saved *session
	err := a.db.InTx(ctx, func(tx *db.Tx) error {
		rs.pending = rs.pending[:mark] // a retried transaction records afresh
		row, err := tx.LockSession(ctx, rs.sess.row.Key)
		if errors.Is(err, db.ErrNotFound) {
			return errSessionGone
		}
		if err != nil {
			return err
		}
		s, err := decodeSession(row)
		if err != nil {
			return err
		}
		// Progress is re-read with the row: another of the owner's
		// sessions may have moved it on. Lab switches change only here,
		// through this learner's own requests.
		rows, err := tx.Progress(ctx, row.ProgressOwner())
		if err != nil {
			return err
		}
		s.progress, s.labModes = a.progressFrom(rows), rs.sess.labModes
		if err := fn(ctx, tx, s); err != nil {
			return err
		}
		if !rs.keepTimes {
			now := a.now()
			s.row.LastSeenAt, s.row.ExpiresAt, s.row.Instance = now, a.expiry(s.row.CreatedAt, now), a.cfg.Instance
		}
		if err := a.commitEvents(c, tx, s, rs, true); err != nil {
			return err
		}
		if err := s.encode(); err != nil {
			return err
		}
		if err := tx.UpdateSession(ctx, s.row); err != nil {
			return err
		}
		saved = s
		return nil
	})
	if err != nil {
		return err
	}
	rs.sess = saved
	rs.cartLoaded = false // the change may have touched the saved cart
	return nil
}

// rotate replaces the session's ID at login (and at sign-up, and when the
// password changes; why says which): a new row under a new key takes the
// data (cart), the learner, a fresh CSRF token and the user; the old row is
// deleted, and the learner joins the account's home learner if it has one.
// An ID an attacker planted before login is worth nothing after it:
// this is the defence against session fixation.
// https://owasp.org/www-community/attacks/Session_fixation
func (a *app) rotate(ctx context.Context, c *fiber.Ctx, tx *db.Tx, s *session, userID int64, why string) (newIDValue string, err error) {
	rs := state(c)
	oldKey := s.row.Key
	id := ids.New()
	now := a.now()
	s.row.Key = ids.Hash(id)
	s.row.UserID.Int64, s.row.UserID.Valid = userID, true
	s.row.CreatedAt, s.row.LastSeenAt = now, now
	s.row.ExpiresAt = a.expiry(now, now)
	s.row.Instance = a.cfg.Instance
	s.data.CSRF = ids.New()
	if _, err := tx.DeleteSession(ctx, oldKey); err != nil {
		return "", err
	}
	if err := s.encode(); err != nil {
		return "", err
	}
	if err := tx.InsertSession(ctx, s.row); err != nil {
		return "", err
	}
	if err := a.progressAtLogin(ctx, tx, s); err != nil {
		return "", err
	}
	// old_key: the hashed key's prefix, so the instructor's table can show
	// the row's key changing (old → new) without ever seeing a cookie.
	rs.record(events.SessionRotated, map[string]string{"old": ids.Prefix(rs.id), "new": ids.Prefix(id), "why": why, "old_key": ids.Prefix(oldKey)})
	return id, nil
}

// checkCSRF compares the form's csrf_token (from the POST body only, never
// the query string) with the one in the session record, in constant time.
func checkCSRF(c *fiber.Ctx, s *session) bool {
	got := c.Request().PostArgs().Peek("csrf_token")
	if s == nil || len(got) == 0 || s.data.CSRF == "" {
		return false
	}
	return subtle.ConstantTimeCompare(got, []byte(s.data.CSRF)) == 1
}

// cleanText is text from a request made fit to store: valid UTF-8 (MariaDB
// refuses anything else in a utf8mb4 column, with an error that became a
// 500) and at most n bytes.
func cleanText(s string, n int) string {
	return ids.Cut(strings.ToValidUTF8(s, "\uFFFD"), n)
}
