// Package slugs is the one list of the attack labs, by slug, in teaching
// order. The slugs are public: they name the labs' URLs (/lab/{slug},
// docs/CONTRACT.md).
//
// It is a package of its own, on the standard library alone, so that lesson
// validation and the event vocabulary can check a lab's name without
// importing package labs, whose session store brings in the database drivers.
// Package labs builds its descriptions of the labs from this list.
package slugs

import "slices"

// The labs, for code that must name one.
const (
	Fixation     = "fixation"
	LogoutReplay = "logout-replay"
	CookieTheft  = "cookie-theft"
	CrossSite    = "cross-site"
	GuessableIDs = "guessable-ids"
	Expiry       = "expiry"
	ClientSide   = "client-side"
)

var all = []string{Fixation, LogoutReplay, CookieTheft, CrossSite, GuessableIDs, Expiry, ClientSide}

// All returns every lab's slug in teaching order (lab 1 first). The slice
// is the caller's to keep.
func All() []string { return slices.Clone(all) }
