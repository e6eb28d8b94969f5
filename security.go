package main

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// securityHeaders sets the headers every response carries. The CSP allows no
// inline script at all, so even an escaping bug could not run injected code.
func (a *app) securityHeaders(c *fiber.Ctx) error {
	a.setSecurityHeaders(c)
	return c.Next()
}

// hsts tells a browser that reached us over HTTPS never to use plain HTTP
// here again for a year, so a Secure cookie cannot be stripped by a
// downgrade. Sent only with -secure-cookies (the server is behind HTTPS);
// no includeSubDomains: a class server does not own its domain's other hosts.
// https://cheatsheetseries.owasp.org/cheatsheets/HTTP_Strict_Transport_Security_Cheat_Sheet.html
const hsts = "max-age=31536000"

// setSecurityHeaders is securityHeaders without the chain: the error handler
// calls it too, because errors raised before routing (a body over the limit,
// a request fasthttp cannot parse) never pass through the middleware.
func (a *app) setSecurityHeaders(c *fiber.Ctx) {
	h := &c.Response().Header
	if a.cfg.SecureCookies {
		h.Set(fiber.HeaderStrictTransportSecurity, hsts)
	}
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if !strings.HasPrefix(c.Path(), "/static/") {
		// Pages show session state: never keep them in a cache.
		h.Set("Cache-Control", "no-store")
	}
}
