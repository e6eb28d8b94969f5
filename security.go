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
	setSecurityHeaders(c)
	return c.Next()
}

// setSecurityHeaders is securityHeaders without the chain: the error handler
// calls it too, because errors raised before routing (a body over the limit,
// a request fasthttp cannot parse) never pass through the middleware.
func setSecurityHeaders(c *fiber.Ctx) {
	h := &c.Response().Header
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

// loginLimiter counts failed logins per key (a username, a client address)
// in a sliding window. It lives in memory: each instance counts its own.
type loginLimiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	fails  map[string][]time.Time
}

func newLoginLimiter(limit int, window time.Duration) *loginLimiter {
	return &loginLimiter{limit: limit, window: window, fails: map[string][]time.Time{}}
}

// blocked reports whether any key is over the limit, and when to retry.
func (l *loginLimiter) blocked(now time.Time, keys ...string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		ts := l.prune(k, now)
		if len(ts) >= l.limit {
			return true, ts[0].Add(l.window).Sub(now)
		}
	}
	return false, 0
}

func (l *loginLimiter) fail(now time.Time, keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) > 100_000 { // a flood of made-up usernames cannot grow memory without bound
		l.fails = map[string][]time.Time{}
	}
	for _, k := range keys {
		l.fails[k] = append(l.prune(k, now), now)
	}
}

func (l *loginLimiter) prune(k string, now time.Time) []time.Time {
	ts := l.fails[k]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, k)
		return nil
	}
	l.fails[k] = ts
	return ts
}
