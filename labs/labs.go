// Package labs holds the attack labs' own session store and the rules that
// differ between a lab's weak and defended mode. It knows nothing of HTTP
// frameworks: the web layer asks it what to do and sets the cookies.
//
// Every lab session lives in the lab_sessions table under a lab's own cookie
// (Path=/lab), never in the shop's sessions table: whatever a learner
// toggles here, the real session keeps its secure rules.
package labs

import (
	"slices"
	"time"
)

// Mode is a lab's switch: the deliberately weak server or the defended one.
type Mode string

const (
	Weak     Mode = "weak"
	Defended Mode = "defended"
)

// ParseMode accepts exactly "weak" or "defended".
func ParseMode(s string) (Mode, bool) {
	switch Mode(s) {
	case Weak, Defended:
		return Mode(s), true
	}
	return "", false
}

// Lab describes one attack lab.
type Lab struct {
	Slug    string
	Number  int
	Title   string
	Summary string
	Weak    string // what the weak server does wrong
	Defence string // what the defended server does instead
	Lesson  string // the lesson slug whose steps use this lab ("" if none)
}

// Cookie is the lab's own cookie name: never "sessionid".
func (l Lab) Cookie() string { return "lab_" + cookieSuffix(l.Slug) }

func cookieSuffix(slug string) string {
	b := []byte(slug)
	for i, c := range b {
		if c == '-' {
			b[i] = '_'
		}
	}
	return string(b)
}

// All lists the labs in teaching order; slugs are public (docs/CONTRACT.md).
var All = []Lab{
	{Slug: "fixation", Number: 1, Title: "Session fixation", Lesson: "session-fixation",
		Summary: "The attacker gets a valid ID from the site, plants it in the victim's browser, waits for the victim to log in, then uses the same ID.",
		Weak:    "accepts an ID from a ?sid= link and keeps the same ID at login",
		Defence: "rotates the ID at login, so the planted ID is worthless afterwards"},
	{Slug: "logout-replay", Number: 2, Title: "Logout that only forgets in the browser", Lesson: "logging-out",
		Summary: "Copy the cookie (a shared computer, a stolen laptop), log out, replay it.",
		Weak:    "only expires the cookie at logout and keeps the session record, so a copy still works",
		Defence: "ends the session record on the server at logout, so a copied cookie is dead"},
	{Slug: "cookie-theft", Number: 3, Title: "Cookie theft by script", Lesson: "cookie-attributes",
		Summary: "A script injected into a page reads document.cookie and sends it to the attacker.",
		Weak:    "sets its cookie without HttpOnly, so any script on the page can read it",
		Defence: "sets its cookie HttpOnly: document.cookie never shows it to a script"},
	{Slug: "cross-site", Number: 4, Title: "Cross-site request", Lesson: "cookie-attributes",
		Summary: "A page on another site auto-submits a form to this one, riding on the victim's cookie.",
		Weak:    "sets its cookie SameSite=None, so it rides along on other sites' requests, and checks no CSRF token",
		Defence: "sets its cookie SameSite=Lax, which keeps it off other sites' POSTs, and requires the CSRF token"},
	{Slug: "guessable-ids", Number: 5, Title: "Guessable session IDs",
		Summary: "Watch a few IDs issued to other shoppers, predict the next one and take over that shopper's session.",
		Weak:    "issues IDs from a counter, so the next one is the last one plus one",
		Defence: "issues 256 random bits from crypto/rand: there is nothing to predict"},
	{Slug: "expiry", Number: 6, Title: "Expiry", Lesson: "timeouts",
		Summary: "Leave a lab session, come back later, and see whether the old ID still works.",
		Weak:    "never expires a session on the server: an old ID works forever",
		Defence: "ends a session after " + IdleTimeout.String() + " without a request (idle) or " + AbsoluteTimeout.String() + " after login (absolute)"},
}

// Find returns the lab with that slug.
func Find(slug string) (Lab, bool) {
	i := slices.IndexFunc(All, func(l Lab) bool { return l.Slug == slug })
	if i < 0 {
		return Lab{}, false
	}
	return All[i], true
}

// The expiry lab's timeouts: seconds, not minutes, so a class can watch.
const (
	IdleTimeout     = 10 * time.Second
	AbsoluteTimeout = 30 * time.Second
)

// lifetime bounds every other lab session: labs are short exercises.
const lifetime = 2 * time.Hour
