package main

import (
	"strings"
	"sync"
	"time"

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

// New anonymous sessions per client address: a token bucket of
// newSessionBurst that refills at newSessionsPerSecond. One address can be
// a whole class behind a school's NAT: 200 students opening the site at
// once, each logging in and out a few times within the minute (a logout
// ends the session; the next page starts a new one) make about 1,000 new
// sessions, and a room never keeps that up. A script looping without
// cookies made 1,450 a second: it gets the burst, then 10 a second.
const (
	newSessionBurst      = 1000
	newSessionsPerSecond = 10
)

// notSavedWhy is what the panels and the strip say when the budget refused
// a session: the page is served, nothing is kept.
const notSavedWhy = "No session was saved for this page: your network address (one computer, or a whole room behind one router) started more than 1,000 new sessions in a short time, as a script looping without cookies does. The page is shown, but no session record was written and no cookie was set. In a few seconds a page will start one again."

// mayIssue spends one of the client address's new-session tokens. The
// first refusal of a rush is logged: the instructor sees the prankster's
// address once, not five thousand times.
func (a *app) mayIssue(c *fiber.Ctx) bool {
	ok, first := a.budget.take(c.IP(), a.now())
	if first {
		a.log.Warn("new-session budget spent: pages go out without a session", "remote", c.IP(), "burst", newSessionBurst, "per_second", newSessionsPerSecond)
	}
	return ok
}

// sessionBudget holds each address's bucket. It lives in memory: each
// instance counts its own.
type sessionBudget struct {
	mu      sync.Mutex
	burst   float64
	rate    float64 // tokens per second
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was last brought up to date
	dry    bool      // refused since its last success: logged once per rush
}

func newSessionBudget(burst, perSecond float64) *sessionBudget {
	return &sessionBudget{burst: burst, rate: perSecond, buckets: map[string]*bucket{}}
}

// take spends one of addr's tokens, if it has one. first reports the first
// refusal of a rush, so the log says once that an address ran dry.
func (b *sessionBudget) take(addr string, now time.Time) (ok, first bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k, ok := b.buckets[addr]
	if !ok {
		if len(b.buckets) >= 100_000 {
			b.forgetFull(now)
		}
		k = &bucket{tokens: b.burst, at: now}
		b.buckets[addr] = k
	}
	if now.After(k.at) {
		k.tokens = min(b.burst, k.tokens+now.Sub(k.at).Seconds()*b.rate)
		k.at = now
	}
	if k.tokens < 1 {
		first, k.dry = !k.dry, true
		return false, first
	}
	k.tokens--
	k.dry = false
	return true, false
}

// forgetFull drops the buckets that have refilled: a new one starts full
// anyway, so memory stays bounded without forgiving anyone. If addresses by
// the hundred thousand are all mid-flood, it starts over.
func (b *sessionBudget) forgetFull(now time.Time) {
	for addr, k := range b.buckets {
		if k.tokens+now.Sub(k.at).Seconds()*b.rate >= b.burst {
			delete(b.buckets, addr)
		}
	}
	if len(b.buckets) >= 100_000 {
		clear(b.buckets)
	}
}
