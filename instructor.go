package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"time"

	"github.com/gofiber/fiber/v2"
)

// The instructor's pages sit behind a token, the way Jupyter guards a
// notebook server: a random one is printed at start as a link (or
// -instructor-token fixes it, so several instances accept the same link).
// Opening the link swaps the token for a cookie and drops it from the
// address bar, so it does not linger in history, screenshots or Referer.
// The token is never logged.

// instructorCookieName holds proof of the token, not the token itself.
const instructorCookieName = "sl_instructor"

// instructorMAC derives a value from the token for one purpose: the cookie
// and the controls' CSRF token. Every instance with the same token derives
// the same values, and neither reveals the token.
func (a *app) instructorMAC(purpose string) string {
	m := hmac.New(sha256.New, []byte(a.cfg.InstructorToken))
	m.Write([]byte("sessionlab instructor " + purpose))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// sameSecret compares two secrets in constant time, whatever their lengths.
func sameSecret(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1 && want != ""
}

// instructorOnly lets through requests carrying the instructor cookie; a GET
// of /instructor?token=… with the right token gets the cookie first. Anything
// else is refused: students never reach these pages.
func (a *app) instructorOnly(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if tok := c.Query("token"); tok != "" {
		if c.Method() != fiber.MethodGet || c.Path() != "/instructor" {
			return fiber.NewError(fiber.StatusForbidden, "The instructor token is only accepted on the instructor link itself.")
		}
		if !sameSecret(tok, a.cfg.InstructorToken) {
			// Log who tried, never what they sent.
			a.log.Warn("instructor token refused", "ip", c.IP())
			return fiber.NewError(fiber.StatusForbidden, "That instructor link is not valid for this server. Use the link the server printed when it started (or the -instructor-token it was given).")
		}
		a.instructorCookie().set(c, a.instructorMAC("cookie"), 12*time.Hour)
		a.log.Info("instructor signed in", "ip", c.IP())
		// A page that moves on by itself, not a 303: after a link opened
		// from another site, a redirect is still cross-site and a
		// SameSite=Strict cookie would not be sent with it.
		c.Type("html", "utf-8")
		return c.SendString(instructorContinue)
	}
	if sameSecret(c.Cookies(instructorCookieName), a.instructorMAC("cookie")) {
		return c.Next()
	}
	return fiber.NewError(fiber.StatusForbidden, "This page is for the instructor. Open the instructor link the server printed when it started.")
}

const instructorContinue = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0;url=/instructor">
<title>Instructor · Session Lab</title></head>
<body><p>Signed in as the instructor. <a href="/instructor">Continue to the dashboard</a>.</p></body></html>
`

// instructorCSRF checks the controls' csrf_token (from the POST body only).
func (a *app) instructorCSRF(c *fiber.Ctx) error {
	if c.Method() != fiber.MethodPost {
		return c.Next()
	}
	got := string(c.Request().PostArgs().Peek("csrf_token"))
	if got == "" || !sameSecret(got, a.instructorMAC("csrf")) {
		return fiber.NewError(fiber.StatusForbidden, "This control's form was missing its CSRF token, or it did not match. Nothing was changed. Reload the dashboard and try again.")
	}
	return c.Next()
}

// instructorURL is the link printed at start.
func instructorURL(base, token string) string {
	return base + "/instructor?token=" + token
}
