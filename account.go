package main

import (
	"context"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"sessionlab/db"
	"sessionlab/events"
	"sessionlab/ids"
)

// deviceView is one of the user's live sessions, as "your devices" shows it.
// Key is only a reference for the End form, the key's first keyRefLen hex
// digits: pages never carry a whole key or ID.
type deviceView struct {
	Key, KeyPrefix, UserAgent, Instance string
	Current                             bool
	Session                             db.Session
}

func (a *app) accountShow(c *fiber.Ctx) error {
	return a.accountFailed(c, fiber.StatusOK, "")
}

// accountFailed shows the account page with msg beside the password form
// (none: the plain page).
func (a *app) accountFailed(c *fiber.Ctx, status int, msg string) error {
	rs := state(c)
	rows, err := a.db.SessionsOfUser(c.UserContext(), rs.sess.userID(), a.now())
	if err != nil {
		return err
	}
	devices := make([]deviceView, 0, len(rows))
	for _, r := range rows {
		devices = append(devices, deviceView{Key: r.Key[:keyRefLen], KeyPrefix: ids.Prefix(r.Key), UserAgent: browserName(r.UserAgent), Instance: r.Instance, Current: r.Key == rs.sess.row.Key, Session: r})
	}
	return a.render(c, status, "account", "Your account", fiber.Map{"Devices": devices, "Error": msg, "PasswordRule": passwordRule, "PasswordMin": passwordMin, "PasswordMax": passwordMax})
}

// accountEndSession ends one of the user's own sessions (a lost phone).
func (a *app) accountEndSession(c *fiber.Ctx) error {
	ref := string(c.Request().PostArgs().Peek("session"))
	// A reference is the start of a stored key (SHA-256 hex). Checking the
	// shape here also keeps other bytes away from MariaDB, whose ascii_bin
	// key column answers a non-ASCII comparison with an error ("illegal mix
	// of collations").
	if !isKeyRef(ref) {
		return fiber.NewError(fiber.StatusBadRequest, "Pick a session from the list to end. Nothing was changed.")
	}
	var ended bool
	err := a.change(c, func(ctx context.Context, tx *db.Tx, s *session) error {
		// Only this user's rows can match, so nobody ends a stranger's session.
		keys, err := tx.UserSessionKeys(ctx, s.userID(), ref)
		if err != nil || len(keys) != 1 {
			return err // none (or, by a 1-in-2^64 chance, two): not found
		}
		key := keys[0]
		if key == s.row.Key {
			return fiber.NewError(fiber.StatusBadRequest, "That is the session you are using: log out instead.")
		}
		ended, err = tx.DeleteUserSession(ctx, s.userID(), key)
		if err != nil {
			return err
		}
		if ended {
			state(c).record(events.SessionEnded, map[string]string{"by": "account", "count": "1", "username": s.username(), "prefix": ids.Prefix(key)})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !ended {
		return fiber.NewError(fiber.StatusNotFound, "No such session of yours (it may have ended already). Nothing was changed.")
	}
	return a.redirect(c, "/account")
}

// accountEndOthers logs out every other browser of this user.
func (a *app) accountEndOthers(c *fiber.Ctx) error {
	err := a.change(c, func(ctx context.Context, tx *db.Tx, s *session) error {
		n, err := tx.DeleteOtherSessions(ctx, s.userID(), s.row.Key)
		if err != nil {
			return err
		}
		state(c).record(events.SessionEnded, map[string]string{"by": "account", "count": strconv.FormatInt(n, 10), "username": s.username()})
		return nil
	})
	if err != nil {
		return err
	}
	return a.redirect(c, "/account")
}

// keyRefLen is how much of a session key the End form carries: 64 bits,
// enough to single out one of a user's sessions.
const keyRefLen = 16

// isKeyRef reports whether k looks like the start of a session key:
// 16 to 64 lowercase hex digits.
func isKeyRef(k string) bool {
	if len(k) < keyRefLen || len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if !(k[i] >= '0' && k[i] <= '9' || k[i] >= 'a' && k[i] <= 'f') {
			return false
		}
	}
	return true
}

// browserName gives a readable name for a User-Agent ("your devices").
func browserName(ua string) string {
	switch {
	case ua == "":
		return "unknown client"
	case strings.Contains(ua, "curl/"):
		return "curl"
	case strings.Contains(ua, "HeadlessChrome"):
		return "Headless Chrome"
	case strings.Contains(ua, "Edg/"):
		return "Edge"
	case strings.Contains(ua, "Firefox/"):
		return "Firefox"
	case strings.Contains(ua, "Chrome/"):
		return "Chrome"
	case strings.Contains(ua, "Safari/"):
		return "Safari"
	case strings.Contains(ua, "Go-http-client"):
		return "Go program"
	}
	return ids.Cut(ua, 40)
}
