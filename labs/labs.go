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

	"sessionlab/labs/slugs"
)

// Mode is a lab's switch: the deliberately weak server or the defended one.
type Mode string

const (
	Weak     Mode = "weak"
	Defended Mode = "defended"
	// The client-side lab's designs, from weakest: the state in a signed
	// cookie, the same with a server-side revocation list, and the signed
	// value kept in the page (localStorage) and sent as a Bearer token.
	Signed     Mode = "signed"
	Revocation Mode = "revocation"
	Token      Mode = "token"
)

// AllModes is every mode any lab has (the event vocabulary's closed set).
var AllModes = []Mode{Weak, Defended, Signed, Revocation, Token}

// ParseMode accepts exactly "weak" or "defended", the two modes of every
// lab but client-side (Lab.ParseMode knows each lab's own).
func ParseMode(s string) (Mode, bool) { return Lab{}.ParseMode(s) }

// Modes are the lab's modes, weakest first: weak and defended, except the
// client-side lab's four designs.
func (l Lab) Modes() []Mode {
	if l.Slug == slugs.ClientSide {
		return []Mode{Weak, Signed, Revocation, Token}
	}
	return []Mode{Weak, Defended}
}

// ParseMode accepts exactly one of the lab's modes.
func (l Lab) ParseMode(s string) (Mode, bool) {
	if m := Mode(s); slices.Contains(l.Modes(), m) {
		return m, true
	}
	return "", false
}

// ModeSays is what the lab server does in mode m, for the page's boxes.
func (l Lab) ModeSays(m Mode) string {
	switch {
	case m == Weak:
		return l.Weak
	case l.Slug == slugs.ClientSide:
		return clientSideSays[m]
	}
	return l.Defence
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

// clientSideSays describes the client-side lab's designs after weak.
var clientSideSays = map[Mode]string{
	Signed:     "signs the cookie with HMAC-SHA256 (as Django's signed_cookies backend does): an edited cookie is refused, but logout cannot end a copy, since the server keeps no record to end",
	Revocation: "signs the cookie and, at logout, writes the token's ID to a server-side revocation list that every request checks: a replayed copy is refused, at the cost of a database read per request",
	Token:      "keeps the same signed value in the page (localStorage) and sends it as Authorization: Bearer: any script on the page can read it, where an HttpOnly cookie was out of reach",
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

// All lists the labs in teaching order: slugs.All's order, numbered from 1.
var All = catalog()

// about describes each lab of slugs.All.
var about = map[string]Lab{
	slugs.Fixation: {Title: "Session fixation", Lesson: "session-fixation",
		Summary: "The attacker gets a valid ID from the site, plants it in the victim's browser, waits for the victim to log in, then uses the same ID.",
		Weak:    "accepts an ID from a ?sid= link and keeps the same ID at login",
		Defence: "rotates the ID at login, so the planted ID is worthless afterwards"},
	slugs.LogoutReplay: {Title: "Logout that only forgets in the browser", Lesson: "logging-out",
		Summary: "Copy the cookie (a shared computer, a stolen laptop), log out, replay it.",
		Weak:    "only expires the cookie at logout and keeps the session record, so a copy still works",
		Defence: "ends the session record on the server at logout, so a copied cookie is dead"},
	slugs.CookieTheft: {Title: "Cookie theft by script", Lesson: "cookie-attributes",
		Summary: "A script injected into a page reads document.cookie and sends it to the attacker.",
		Weak:    "sets its cookie without HttpOnly, so any script on the page can read it",
		Defence: "sets its cookie HttpOnly: document.cookie never shows it to a script"},
	slugs.CrossSite: {Title: "Cross-site request", Lesson: "cookie-attributes",
		Summary: "A page on another site auto-submits a form to this one, riding on the victim's cookie.",
		Weak:    "sets its cookie SameSite=None, so it rides along on other sites' requests, and checks no CSRF token",
		Defence: "sets its cookie SameSite=Lax, which keeps it off other sites' POSTs, and requires the CSRF token"},
	slugs.GuessableIDs: {Title: "Guessable session IDs",
		Summary: "Watch a few IDs issued to other shoppers, predict the next one and take over that shopper's session.",
		Weak:    "issues IDs from a counter, so the next one is the last one plus one",
		Defence: "issues 256 random bits from crypto/rand: there is nothing to predict"},
	slugs.Expiry: {Title: "Expiry", Lesson: "timeouts",
		Summary: "Leave a lab session, come back later, and see whether the old ID still works.",
		Weak:    "never expires a session on the server: an old ID works forever",
		Defence: "ends a session after " + IdleTimeout.String() + " without a request (idle) or " + AbsoluteTimeout.String() + " after login (absolute)"},
	slugs.ClientSide: {Title: "Sessions without a server record", Lesson: "sessions-without-a-record",
		Summary: "The state lives in the cookie itself (user, cart, issued-at), not in a server row: edit it, replay it after logout, read it with a script.",
		Weak:    "keeps the session in an unsigned base64 JSON cookie: edit it and you are bob, or the mug costs a cent",
		Defence: "signs the cookie (an edit is refused) and keeps a revocation list on the server so that logout is real again"},
}

// catalog joins the list and the descriptions. A slug without a description,
// or a description of no listed lab, is a programming error: fail at start.
func catalog() []Lab {
	list := slugs.All()
	if len(about) != len(list) {
		panic("labs: the descriptions do not match slugs.All")
	}
	out := make([]Lab, len(list))
	for i, slug := range list {
		l, ok := about[slug]
		if !ok {
			panic("labs: no description of lab " + slug)
		}
		l.Slug, l.Number = slug, i+1
		out[i] = l
	}
	return out
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

// The weak/defended rules. Each lab is weak in exactly one way, so that it
// teaches one weakness at a time: outside its own lab, every rule below
// gives the defended answer. A Lab{} (no lab) is defended throughout.

// AdoptsSIDParam reports whether the lab site takes a session ID from a
// ?sid= link: only the fixation lab, the classic way to plant one, and in
// both modes, so that the defended mode can show rotation making a planted ID
// worthless. A real site should never take an ID from a URL.
func (l Lab) AdoptsSIDParam() bool { return l.Slug == slugs.Fixation }

// RotatesAtLogin reports whether login moves the session to a new ID (the
// defence against fixation). The weak fixation lab keeps the ID, and so does
// the weak guessable-ids lab, so that the ID an attacker predicted is the
// one the victim logs in with.
func (l Lab) RotatesAtLogin(m Mode) bool {
	return m == Defended || (l.Slug != slugs.Fixation && l.Slug != slugs.GuessableIDs)
}

// KeepsRowAtLogout reports whether logout only expires the cookie and keeps
// the session record, so that a copy of the cookie still works: the weak
// logout-replay lab.
func (l Lab) KeepsRowAtLogout(m Mode) bool { return l.Slug == slugs.LogoutReplay && m == Weak }

// HTTPOnly reports whether the lab cookie is hidden from scripts: always,
// except in the weak cookie-theft lab.
func (l Lab) HTTPOnly(m Mode) bool { return !(l.Slug == slugs.CookieTheft && m == Weak) }

// SameSiteNone reports whether the lab cookie is sent on other sites'
// requests (SameSite=None) rather than kept off their POSTs (SameSite=Lax):
// only in the weak cross-site lab.
func (l Lab) SameSiteNone(m Mode) bool { return l.Slug == slugs.CrossSite && m == Weak }

// StateInCookie reports whether the lab keeps the whole session in the
// value the browser holds, with no server row: the client-side lab, in
// every mode. Its other rules are Lab methods below.
func (l Lab) StateInCookie() bool { return l.Slug == slugs.ClientSide }

// SignsState reports whether the client-side value carries an HMAC that the
// server checks: every client-side design but weak.
func (l Lab) SignsState(m Mode) bool { return l.StateInCookie() && m != Weak }

// ChecksRevocation reports whether every request also asks the server's
// revocation list about the token, so that logout ends copies too.
func (l Lab) ChecksRevocation(m Mode) bool { return l.StateInCookie() && m == Revocation }

// TokenInPage reports whether the value lives in localStorage and travels
// as Authorization: Bearer instead of in the HttpOnly lab cookie.
func (l Lab) TokenInPage(m Mode) bool { return l.StateInCookie() && m == Token }

// CounterIDs reports whether the lab issues IDs from a counter instead of
// 256 random bits: only the weak guessable-ids lab.
func (l Lab) CounterIDs(m Mode) bool { return l.Slug == slugs.GuessableIDs && m == Weak }

// HasCSRFToken reports whether the lab's sessions carry a CSRF token for its
// forms: the cross-site lab's, in both modes.
func (l Lab) HasCSRFToken() bool { return l.Slug == slugs.CrossSite }

// ChecksCSRFToken reports whether the lab's forms must carry that token: the
// defended cross-site lab's. The weak one obeys any request with its cookie.
func (l Lab) ChecksCSRFToken(m Mode) bool { return l.HasCSRFToken() && m == Defended }

// ExpiresAt is when a session created at created and last seen at seen
// stops, and false for never. The weak expiry lab never expires a session
// (that is its weakness), the defended one applies the idle and absolute
// timeouts, and every other lab a fixed lifetime.
func (l Lab) ExpiresAt(m Mode, created, seen time.Time) (time.Time, bool) {
	if l.Slug != slugs.Expiry {
		return created.Add(lifetime), true
	}
	if m == Weak {
		return time.Time{}, false
	}
	t := seen.Add(IdleTimeout)
	if abs := created.Add(AbsoluteTimeout); abs.Before(t) {
		t = abs
	}
	return t, true
}
