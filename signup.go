package main

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/crypto/bcrypt"

	"sessionlab/db"
	"sessionlab/events"
	"sessionlab/ids"
)

// The account rules, in one place: the checks below and the sentences the
// forms show are read from here.
const (
	usernameMin, usernameMax = 3, 32
	// bcrypt reads at most 72 bytes of a password: a longer one would
	// silently match anything with the same first 72.
	passwordMin, passwordMax = 8, 72

	usernameRule = "3 to 32 characters: letters (a–z, A–Z), digits, and . _ - only. Case counts: Alice and alice are two accounts."
	passwordRule = "At least 8 characters and at most 72 bytes (bcrypt reads no further), and not the same as your username."
)

// usernameProblem says what is wrong with a new username ("" if nothing).
// ASCII only: look-alike letters from other scripts would let "аlice"
// (Cyrillic а) pass for alice on the dashboard.
func usernameProblem(u string) string {
	if len(u) < usernameMin || len(u) > usernameMax {
		return "A username is " + usernameRule
	}
	for i := 0; i < len(u); i++ {
		ch := u[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '.' || ch == '_' || ch == '-') {
			return "A username is " + usernameRule
		}
	}
	return ""
}

// passwordProblem says what is wrong with a new password ("" if nothing).
func passwordProblem(username, pw string) string {
	if utf8.RuneCountInString(pw) < passwordMin || len(pw) > passwordMax || pw == username {
		return "A password needs " + strings.ToLower(passwordRule[:1]) + passwordRule[1:]
	}
	return ""
}

// hashPassword computes a new password's bcrypt hash through the hash gate,
// like every other hash: a class signing up at once queues, page views don't.
func (a *app) hashPassword(c *fiber.Ctx, pw string) (string, error) {
	var hash []byte
	err := a.hashes.run(c.UserContext(), func() error {
		var err error
		hash, err = bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
		return err
	})
	var busy errBusy
	if errors.As(err, &busy) {
		return "", busyError(c, busy)
	}
	return string(hash), err
}

// signupOpen answers 404 with the reason when the server runs with
// -signup=false (a public server keeps only the accounts it was given).
func (a *app) signupOpen(c *fiber.Ctx) error {
	if !a.cfg.Signup {
		return fiber.NewError(fiber.StatusNotFound, "Sign-up is turned off on this server (it runs with -signup=false). Log in with an account you were given, or a demo account.")
	}
	return c.Next()
}

func (a *app) signupShow(c *fiber.Ctx) error {
	return a.renderSignup(c, fiber.StatusOK, "", "", safeNext(c.Query("next")))
}

func (a *app) renderSignup(c *fiber.Ctx, status int, username, next, msg string) error {
	return a.render(c, status, "signup", "Sign up", fiber.Map{
		"Error": msg, "Username": username, "Next": next,
		"UsernameRule": usernameRule, "PasswordRule": passwordRule,
		"UsernameMin": usernameMin, "UsernameMax": usernameMax, "PasswordMin": passwordMin, "PasswordMax": passwordMax,
	})
}

// signupPost creates an account and logs this session into it at once,
// through login's own rotation (logIn): the ID changes, the cart comes along.
func (a *app) signupPost(c *fiber.Ctx) error {
	args := c.Request().PostArgs()
	username := strings.TrimSpace(string(args.Peek("username")))
	password := string(args.Peek("password"))
	next := safeNext(string(args.Peek("next")))
	shown := cleanText(username, usernameMax+8) // echoed into the form, never stored
	if msg := usernameProblem(username); msg != "" {
		return a.renderSignup(c, fiber.StatusBadRequest, shown, next, msg+" Nothing was created.")
	}
	if msg := passwordProblem(username, password); msg != "" {
		return a.renderSignup(c, fiber.StatusBadRequest, shown, next, msg+" Nothing was created.")
	}
	taken := func() error {
		return a.renderSignup(c, fiber.StatusBadRequest, shown, next, "The username "+username+" is taken: pick another. Nothing was created.")
	}
	addr := strings.Clone(c.IP()) // kept in the throttle's map past this request
	r, wait, ok := a.throttle.reserve(a.now(), rule{"signup-addr:" + addr, signupPerAddr})
	if !ok {
		return tooMany(c, wait, "Too many sign-ups from your address.")
	}
	// A taken name is refused before the costly hash (the unique index still
	// decides a race, below); that refusal cost nothing, so it is forgiven.
	if _, err := a.db.UserByName(c.UserContext(), username); !errors.Is(err, db.ErrNotFound) {
		a.throttle.release(r)
		if err != nil {
			return err
		}
		return taken()
	}
	hash, err := a.hashPassword(c, password)
	if err != nil {
		a.throttle.release(r)
		return err
	}
	err = a.logIn(c, "signup", func(ctx context.Context, tx *db.Tx) (*db.User, error) {
		u, err := tx.CreateUser(ctx, username, hash, a.now())
		if err != nil {
			return nil, err
		}
		// The learner who signs up is the account's home: a login from any
		// other browser joins it, so their progress follows them.
		if err := tx.SetHomeLearner(ctx, u.ID, state(c).sess.row.Learner); err != nil {
			return nil, err
		}
		state(c).record(events.AccountCreated, map[string]string{"username": username})
		return u, nil
	})
	if errors.Is(err, db.ErrUsernameTaken) {
		return taken()
	}
	if err != nil {
		return err
	}
	return a.redirect(c, next)
}

// accountPassword changes the password: the current one is checked first
// (through login's check and throttle, so a borrowed session cannot guess it
// unthrottled), then in one transaction the hash is replaced, every other
// session of the account ends and this one gets a new ID. Whoever knew the
// old password or held another session is out (ASVS 5.0 7.4.3).
func (a *app) accountPassword(c *fiber.Ctx) error {
	args := c.Request().PostArgs()
	current := string(args.Peek("current_password"))
	next := string(args.Peek("new_password"))
	s := state(c).sess
	username := s.username()
	if current == "" || len(current) > 256 {
		return a.accountFailed(c, fiber.StatusBadRequest, "Enter your current password. Nothing was changed.")
	}
	if msg := passwordProblem(username, next); msg != "" {
		return a.accountFailed(c, fiber.StatusBadRequest, "The new password was refused. "+msg+" Nothing was changed.")
	}
	if _, err := a.checkPassword(c, username, current); errors.Is(err, db.ErrInvalidCredentials) {
		return a.accountFailed(c, fiber.StatusBadRequest, "That is not your current password. Nothing was changed.")
	} else if err != nil {
		return err
	}
	hash, err := a.hashPassword(c, next)
	if err != nil {
		return err
	}
	var newSessionID string
	err = a.change(c, func(ctx context.Context, tx *db.Tx, s *session) error {
		rs := state(c)
		if err := tx.SetPasswordHash(ctx, s.userID(), hash); err != nil {
			return err
		}
		rs.record(events.PasswordChanged, map[string]string{"username": username})
		n, err := tx.DeleteOtherSessions(ctx, s.userID(), s.row.Key)
		if err != nil {
			return err
		}
		rs.record(events.SessionEnded, map[string]string{"by": "password", "count": strconv.FormatInt(n, 10), "username": username})
		newSessionID, err = a.rotate(ctx, c, tx, s, s.userID(), "password")
		return err
	})
	if err != nil {
		return err
	}
	state(c).id = newSessionID
	a.sessionCookie().set(c, newSessionID, 0)
	a.log.Info("password changed", "user", username, "key_prefix", ids.Prefix(state(c).sess.row.Key))
	return a.redirect(c, "/account")
}
