package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strconv"
	"strings"
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

// instructorSignIn is how long the instructor cookie lasts: a school day.
// The value carries its expiry and an HMAC over it keyed by the token, so
// every instance with the same token checks it without shared state, and a
// copied cookie stops working the same evening instead of never.
const instructorSignIn = 12 * time.Hour

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

// instructorOnly lets through requests carrying a live instructor cookie; a
// GET of /instructor?token=… with the right token gets the cookie first.
// Anything else is refused: students never reach these pages.
func (a *app) instructorOnly(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if tok := c.Query("token"); tok != "" {
		if c.Method() != fiber.MethodGet || c.Path() != "/instructor" {
			return fiber.NewError(fiber.StatusForbidden, "The instructor token is only accepted on the instructor link itself.")
		}
		return a.instructorSignIn(c, tok)
	}
	v := c.Cookies(instructorCookieName)
	if v == "" {
		return fiber.NewError(fiber.StatusForbidden, "This page is for the instructor. Open the instructor link the server printed when it started.")
	}
	exp, ok := a.instructorCookieExpiry(v)
	switch {
	case !ok:
		a.instructorCookie().expire(c)
		return fiber.NewError(fiber.StatusForbidden, "This instructor sign-in is not one this server issued (it was altered, or the server's instructor token changed). Sign in again: open the instructor link the server printed when it started ("+a.publicBase(c)+"/instructor?token=…).")
	case !a.now().Before(exp):
		a.instructorCookie().expire(c)
		return fiber.NewError(fiber.StatusForbidden, "Your instructor sign-in expired at "+exp.UTC().Format("15:04 UTC")+" (it lasts "+strconv.Itoa(int(instructorSignIn.Hours()))+" hours). Sign in again: open the instructor link the server printed when it started ("+a.publicBase(c)+"/instructor?token=…).")
	}
	return c.Next()
}

// instructorSignIn swaps the token for the instructor cookie. Guesses are
// counted per client address (instructorPerAddr, throttle.go); past the
// limit that address gets 429, even with the right token (else the limit
// would not stop a guessing loop), while the instructor on another machine
// signs in as usual. The right token is forgiven its count.
func (a *app) instructorSignIn(c *fiber.Ctx, tok string) error {
	res, wait, ok := a.throttle.reserve(a.now(), rule{"instructor-addr:" + c.IP(), instructorPerAddr})
	if !ok {
		return tooMany(c, wait, "Too many wrong instructor tokens from your address.")
	}
	if !sameSecret(tok, a.cfg.InstructorToken) {
		// Log who tried, never what they sent.
		a.log.Warn("instructor token refused", "ip", c.IP())
		return fiber.NewError(fiber.StatusForbidden, "That instructor link is not valid for this server. Use the link the server printed when it started (or the -instructor-token it was given).")
	}
	a.throttle.release(res)
	a.instructorCookie().set(c, a.instructorCookieValue(a.now().Add(instructorSignIn)), instructorSignIn)
	a.log.Info("instructor signed in", "ip", c.IP())
	// A page that moves on by itself, not a 303: after a link opened
	// from another site, a redirect is still cross-site and a
	// SameSite=Strict cookie would not be sent with it.
	c.Type("html", "utf-8")
	return c.SendString(instructorContinue)
}

// instructorCookieValue is "EXPIRY.MAC": the expiry in Unix seconds and an
// HMAC over it keyed by the token.
func (a *app) instructorCookieValue(exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	return e + "." + a.instructorMAC("cookie until "+e)
}

// instructorCookieExpiry checks a cookie's MAC and returns its expiry; ok is
// false for anything this token did not sign (altered, forged, or the old
// fixed value).
func (a *app) instructorCookieExpiry(v string) (exp time.Time, ok bool) {
	e, mac, found := strings.Cut(v, ".")
	n, err := strconv.ParseInt(e, 10, 64)
	if !found || err != nil || !sameSecret(mac, a.instructorMAC("cookie until "+e)) {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
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
