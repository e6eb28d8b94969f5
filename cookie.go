package main

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"sessionlab/labs"
)

// Every cookie Session Lab sets or expires is described here, once, as a
// cookieSpec: everything but the value and the lifetime. A cookie is set and
// expired from the same spec, so the two always agree: a browser replaces a
// cookie only with one of the same name, domain and path, and never lets a
// plain-HTTP response overwrite a Secure one (RFC 6265bis §5.7,
// https://httpwg.org/http-extensions/draft-ietf-httpbis-rfc6265bis.html).
//
// The defaults are the secure ones, as in scs: HttpOnly (scripts cannot read
// it), SameSite=Lax (not sent on other sites' POSTs) and Secure when the site
// is served over HTTPS (-secure-cookies). A spec below says only where a
// cookie differs, and why.

// cookieSpec is one cookie's name and attributes.
type cookieSpec struct {
	name     string
	path     string
	httpOnly bool
	sameSite string // a fiber.CookieSameSite* value
	secure   bool
}

// set sends the cookie with value. A zero maxAge makes it a session cookie,
// which the browser forgets when it closes.
func (s cookieSpec) set(c *fiber.Ctx, value string, maxAge time.Duration) {
	ck := s.cookie(value)
	ck.MaxAge = int(maxAge / time.Second)
	c.Cookie(ck)
}

// expire tells the browser to drop the cookie now: an empty value that
// expired in 1970.
func (s cookieSpec) expire(c *fiber.Ctx) {
	ck := s.cookie("")
	ck.MaxAge, ck.Expires = -1, time.Unix(0, 0)
	c.Cookie(ck)
}

func (s cookieSpec) cookie(value string) *fiber.Cookie {
	return &fiber.Cookie{Name: s.name, Value: value, Path: s.path, HTTPOnly: s.httpOnly, SameSite: s.sameSite, Secure: s.secure}
}

// secureCookie is a cookie with the secure defaults.
func (a *app) secureCookie(name, path string) cookieSpec {
	return cookieSpec{name: name, path: path, httpOnly: true, sameSite: fiber.CookieSameSiteLaxMode, secure: a.cfg.SecureCookies}
}

// sessionCookie is the shop's session cookie (sessionid), for the whole
// site. It is set without Max-Age: the server's timeouts end a session anyway.
func (a *app) sessionCookie() cookieSpec { return a.secureCookie(cookieName, "/") }

// instructorCookie proves the instructor token. SameSite=Strict: no other
// site can make a request that carries it; Path=/instructor: the shop's pages
// never receive it.
func (a *app) instructorCookie() cookieSpec {
	s := a.secureCookie(instructorCookieName, "/instructor")
	s.sameSite = fiber.CookieSameSiteStrictMode
	return s
}

// labCookie is a lab site's own cookie (lab_<slug>, Path=/lab), never the
// shop's. Only two attributes ever weaken, each in its own lab, as package
// labs decides: HttpOnly in cookie-theft, SameSite in cross-site.
func (a *app) labCookie(l labs.Lab, mode labs.Mode) cookieSpec {
	s := a.secureCookie(l.Cookie(), "/lab")
	s.httpOnly = l.HTTPOnly(mode)
	if l.SameSiteNone(mode) {
		// SameSite=None is what lets a cookie ride along on another site's
		// POST. Browsers accept it only with Secure, and Chromium and Firefox
		// accept Secure cookies from http://localhost, which they treat as a
		// secure origin. (fasthttp adds Secure to SameSite=None by itself.)
		s.sameSite, s.secure = fiber.CookieSameSiteNoneMode, true
	}
	return s
}
