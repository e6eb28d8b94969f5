// Package events is the vocabulary of "what changed": every kind of event
// Session Lab records, the detail each one carries, the sentence and tone the
// "what changed" strip gives it, and the group the instructor's dashboard
// files it under. It is one table, read by the recorder, the strip, the
// lesson trigger check and the dashboard, so a new kind is added in one place.
//
// It knows no HTTP and no database: the web layer stores Kind.String() in
// the events table and parses it back with Parse.
package events

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"sessionlab/labs/slugs"
)

// Kind is one kind of event. It is a small integer, not a string, so that a
// record site cannot invent a kind with a string literal: only the constants
// below exist, and TestEveryKindIsInTheTable proves each is described.
type Kind uint8

const (
	invalid Kind = iota // the zero Kind names nothing

	Request // the pseudo-event "this page was requested": given to the lessons, never stored
	SessionCreated
	SessionRefused
	SessionRotated
	SessionEnded
	LoginFailed
	LoginSucceeded
	Logout
	AccountCreated
	PasswordChanged
	CSRFRefused
	CartAdded
	CartUpdated
	CartRemoved
	CartMerged
	NoteAdded
	NoteDeleted
	LessonStep
	LessonAnswered
	LessonHint
	LessonReset
	LessonResumed
	LessonLinked
	LessonUnlinked
	LabMode
	LabAttack
	ServerStarted
	InstanceChanged
	DBCopied
	ClassReset
	ClassEnded
	ClassTimeouts

	numKinds
)

// Tone colours a line of the strip.
type Tone string

const (
	New  Tone = "new"
	Good Tone = "good"
	Warn Tone = "warn"
	Gone Tone = "gone"
)

// Group is the dashboard's filter an event falls under.
type Group string

const (
	GroupLogin    Group = "login"
	GroupSession  Group = "session"
	GroupCart     Group = "cart"
	GroupLesson   Group = "lesson"
	GroupLab      Group = "lab"
	GroupInstance Group = "instance"
	GroupClass    Group = "class"
	GroupOther    Group = "other" // shown under "all" only
)

// Groups are the dashboard's filters, in the order it offers them.
var Groups = []Group{GroupLogin, GroupSession, GroupCart, GroupLesson, GroupLab, GroupInstance, GroupClass}

// Fields maps each detail key a kind carries to its closed set of values,
// or to nil when any value can occur (a username, a path, an ID prefix).
type Fields map[string][]string

// Spec describes one kind.
type Spec struct {
	Name   string
	Fields Fields
	Group  Group
	Tone   Tone
	// ToneBy, when set, picks the tone from the detail instead of Tone.
	ToneBy func(d map[string]string) Tone
	// Say is the strip's sentence for one event of this kind.
	Say func(d map[string]string) string
	// Trigger: a lesson step may wait for this kind. Only kinds that reach
	// a learner's session before the lesson engine runs can: a trigger
	// naming any other could never fire.
	Trigger bool
}

// rotatedAt names the moment of a session.rotated event in the strip.
var rotatedAt = map[string]string{"login": "login", "signup": "sign-up", "password": "password change"}

// Closed value sets shared by several kinds.
var (
	dialects = []string{"sqlite", "mariadb"}
	// modes: every lab's modes (weak and defended; the client-side lab's
	// signed, revocation and token designs).
	modes = []string{"weak", "defended", "signed", "revocation", "token"}
	// labSlugs are the labs' public slugs, from the one list package labs
	// is built from (labs/slugs needs only the standard library, so events
	// stays free of labs' database code).
	labSlugs = slugs.All()
)

// table is the whole vocabulary, indexed by Kind.
var table = [numKinds]Spec{
	Request: {
		Name:    "request",
		Fields:  Fields{"method": {"GET", "POST"}, "path": nil, "cookie": {"sent", "none"}, "status": nil},
		Group:   GroupOther,
		Tone:    New,
		Say:     func(d map[string]string) string { return "Requested " + d["method"] + " " + d["path"] + "." },
		Trigger: true,
	},
	SessionCreated: {
		Name:   "session.created",
		Fields: Fields{"reason": {"none", "unknown", "expired", "malformed"}, "new": nil},
		Group:  GroupSession,
		Tone:   New,
		Say: func(d map[string]string) string {
			if d["reason"] == "none" {
				return "New session issued: you sent no cookie, so the server minted ID " + d["new"] + "… and sent it in Set-Cookie."
			}
			return "New session issued (" + d["new"] + "…) because the ID you sent was " + d["reason"] + "."
		},
		Trigger: true,
	},
	SessionRefused: {
		Name:   "session.refused",
		Fields: Fields{"reason": {"unknown", "expired", "malformed"}, "prefix": nil},
		Group:  GroupSession,
		Tone:   Warn,
		Say: func(d map[string]string) string {
			if d["reason"] == "unknown" {
				return "Forged or stale ID refused (" + d["prefix"] + "…): no live session has it, so it was not adopted."
			}
			return "Refused the ID you sent (" + d["prefix"] + "…): " + d["reason"] + ". The server never adopts an ID it did not issue."
		},
		Trigger: true,
	},
	SessionRotated: {
		Name:   "session.rotated",
		Fields: Fields{"old": nil, "new": nil, "why": {"login", "signup", "password"}, "old_key": nil},
		Group:  GroupLogin,
		Tone:   New,
		Say: func(d map[string]string) string {
			return "ID rotated at " + rotatedAt[d["why"]] + ": " + d["old"] + "… → " + d["new"] + "…. The old row was deleted, so a planted ID is now worthless."
		},
		Trigger: true,
	},
	SessionEnded: {
		Name:   "session.ended",
		Fields: Fields{"by": {"account", "password"}, "count": nil, "username": nil, "prefix": nil},
		Group:  GroupLogin,
		Tone:   Gone,
		Say: func(d map[string]string) string {
			why := ""
			if d["by"] == "password" {
				why = " because the password changed"
			}
			return "Ended " + d["count"] + " other session(s) of " + d["username"] + why + ": those rows are deleted, those browsers are logged out."
		},
		Trigger: true,
	},
	LoginFailed: {
		Name:   "login.failed",
		Fields: Fields{"username": nil},
		Group:  GroupLogin,
		Tone:   Warn,
		Say: func(d map[string]string) string {
			return "Login failed for “" + d["username"] + "”: the session stays anonymous."
		},
		Trigger: true,
	},
	LoginSucceeded: {
		Name:   "login.succeeded",
		Fields: Fields{"username": nil},
		Group:  GroupLogin,
		Tone:   Good,
		Say: func(d map[string]string) string {
			return "User set: the session is now authenticated as " + d["username"] + "."
		},
		Trigger: true,
	},
	Logout: {
		Name:   "logout",
		Fields: Fields{"username": nil, "prefix": nil},
		Group:  GroupLogin,
		Tone:   Gone,
		Say: func(map[string]string) string {
			return "Logged out: session row deleted and the cookie expired. Replaying the old cookie now gets nothing."
		},
		Trigger: true,
	},
	AccountCreated: {
		Name:   "account.created",
		Fields: Fields{"username": nil},
		Group:  GroupLogin,
		Tone:   Good,
		Say: func(d map[string]string) string {
			return "Account created: a users row for " + d["username"] + " with a bcrypt hash of the password (never the password itself)."
		},
		Trigger: true,
	},
	PasswordChanged: {
		Name:   "password.changed",
		Fields: Fields{"username": nil},
		Group:  GroupLogin,
		Tone:   Good,
		Say: func(d map[string]string) string {
			return "Password changed for " + d["username"] + ": the users row holds a new bcrypt hash."
		},
		Trigger: true,
	},
	CSRFRefused: {
		Name:   "csrf.refused",
		Fields: Fields{"path": nil},
		Group:  GroupSession,
		Tone:   Warn,
		Say: func(map[string]string) string {
			return "POST refused: the csrf_token was missing or wrong. Nothing changed."
		},
		Trigger: true,
	},
	CartAdded: {
		Name:   "cart.added",
		Fields: Fields{"product_id": nil, "name": nil, "quantity": nil, "where": nil},
		Group:  GroupCart,
		Tone:   Good,
		Say: func(d map[string]string) string {
			return "Cart changed: added " + d["quantity"] + " × " + d["name"] + " (" + d["where"] + ")."
		},
		Trigger: true,
	},
	CartUpdated: {
		Name:   "cart.updated",
		Fields: Fields{"product_id": nil, "name": nil, "quantity": nil, "where": nil},
		Group:  GroupCart,
		Tone:   Good,
		Say: func(d map[string]string) string {
			return "Cart changed: " + d["name"] + " quantity set to " + d["quantity"] + " (" + d["where"] + ")."
		},
		Trigger: true,
	},
	CartRemoved: {
		Name:   "cart.removed",
		Fields: Fields{"product_id": nil, "name": nil, "quantity": {"0"}, "where": nil},
		Group:  GroupCart,
		Tone:   Gone,
		Say: func(d map[string]string) string {
			return "Cart changed: removed " + d["name"] + " (" + d["where"] + ")."
		},
		Trigger: true,
	},
	CartMerged: {
		Name:   "cart.merged",
		Fields: Fields{"items": nil, "username": nil},
		Group:  GroupCart,
		Tone:   Good,
		Say: func(d map[string]string) string {
			return "Cart merged: " + d["items"] + " item(s) moved from the anonymous session into " + d["username"] + "'s saved cart."
		},
		Trigger: true,
	},
	NoteAdded: {
		Name:    "note.added",
		Fields:  Fields{"id": nil},
		Group:   GroupOther,
		Tone:    Good,
		Say:     func(d map[string]string) string { return "Note saved (row " + d["id"] + " in the notes table)." },
		Trigger: true,
	},
	NoteDeleted: {
		Name:    "note.deleted",
		Fields:  Fields{"id": nil},
		Group:   GroupOther,
		Tone:    Gone,
		Say:     func(d map[string]string) string { return "Note " + d["id"] + " deleted." },
		Trigger: true,
	},
	// The lesson.* kinds are what the lessons themselves did: recorded for
	// the strip and the dashboard, never a trigger (a step completing on a
	// step would be circular).
	LessonStep: {
		Name:   "lesson.step",
		Fields: Fields{"lesson": nil, "step": nil, "title": nil},
		Group:  GroupLesson,
		Tone:   Good,
		Say:    func(d map[string]string) string { return "Lesson step done: " + d["title"] + "." },
	},
	LessonAnswered: {
		Name:   "lesson.answered",
		Fields: Fields{"lesson": nil, "question": nil, "choice": nil, "correct": {"true", "false"}},
		Group:  GroupLesson,
		Tone:   New,
		Say:    func(map[string]string) string { return "Answer recorded (checked on the server, not in your browser)." },
	},
	LessonHint: {
		Name:   "lesson.hint",
		Fields: Fields{"lesson": nil, "step": nil, "hints": nil},
		Group:  GroupLesson,
		Tone:   New,
		Say: func(d map[string]string) string {
			return "Hint " + d["hints"] + " revealed (counted in your lesson progress)."
		},
	},
	LessonReset: {
		Name:   "lesson.reset",
		Fields: Fields{},
		Group:  GroupLesson,
		Tone:   Gone,
		Say:    func(map[string]string) string { return "Lesson progress reset." },
	},
	LessonResumed: {
		Name:   "lesson.resumed",
		Fields: Fields{},
		Group:  GroupLesson,
		Tone:   Good,
		Say: func(map[string]string) string {
			return "Lesson progress resumed: the logout handed this new session a one-time code, so it continues your lessons. Your login and cart ended with the old session."
		},
	},
	LessonLinked: {
		Name:   "lesson.linked",
		Fields: Fields{"learner": nil},
		Group:  GroupLesson,
		Tone:   Good,
		Say: func(d map[string]string) string {
			return "Linked by a one-time code: this session's lesson steps now count for learner " + d["learner"] + "…, whose lesson page showed the code. Only the progress: this session's login, cart and CSRF token stay its own."
		},
	},
	LessonUnlinked: {
		Name:   "lesson.unlinked",
		Fields: Fields{"sessions": nil},
		Group:  GroupLesson,
		Tone:   Gone,
		Say: func(d map[string]string) string {
			return "Terminal link ended: " + d["sessions"] + " linked session(s) no longer count for your lessons (the steps they ticked stay ticked)."
		},
	},
	LabMode: {
		Name:   "lab.mode",
		Fields: Fields{"lab": labSlugs, "mode": modes},
		Group:  GroupLab,
		Tone:   New,
		Say: func(d map[string]string) string {
			return "Lab " + d["lab"] + " switched to " + d["mode"] + " mode (only the lab site changes; this shop session keeps its rules)."
		},
		Trigger: true,
	},
	LabAttack: {
		Name: "lab.attack",
		// attack: which attack of a lab with several (the client-side lab:
		// tamper with the value, replay it after logout, steal it by script).
		Fields: Fields{"lab": labSlugs, "mode": modes, "outcome": {"succeeded", "failed"}, "via": {"solo", "pair"}, "attack": {"tamper", "replay", "steal"}},
		Group:  GroupLab,
		Tone:   Warn,
		// An attack that failed is the defence working: good news.
		ToneBy: func(d map[string]string) Tone {
			if d["outcome"] == "failed" {
				return Good
			}
			return Warn
		},
		Say: func(d map[string]string) string {
			if a := d["attack"]; a != "" {
				return "Lab " + d["lab"] + " (" + d["mode"] + " mode, " + d["via"] + "): the " + a + " attack " + d["outcome"] + "."
			}
			return "Lab " + d["lab"] + " (" + d["mode"] + " mode, " + d["via"] + "): the attack " + d["outcome"] + "."
		},
		Trigger: true,
	},
	ServerStarted: {
		Name:   "server.started",
		Fields: Fields{"db": dialects, "instance": nil},
		Group:  GroupInstance,
		Tone:   New,
		Say: func(d map[string]string) string {
			return "The server restarted since your last request (" + d["db"] + ", " + d["instance"] + "), and your session is still here: it lives in the database, not in the server's memory."
		},
		Trigger: true,
	},
	InstanceChanged: {
		Name:   "instance.changed",
		Fields: Fields{"from": nil, "to": nil},
		Group:  GroupInstance,
		Tone:   New,
		Say: func(d map[string]string) string {
			return "Another server instance answered this time: " + d["to"] + " served this request, " + d["from"] + " the one before. Your session is the same row in the shared database, so either can serve you."
		},
		Trigger: true,
	},
	DBCopied: {
		Name:   "db.copied",
		Fields: Fields{"from": dialects, "to": dialects, "key": nil},
		Group:  GroupOther,
		Tone:   Good,
		Say: func(d map[string]string) string {
			from, to := dbName(d["from"]), dbName(d["to"])
			return "Your session moved with db copy from " + from + " to " + to + ": its key started " + d["key"] + "… in " + from + ", and this server found the same key, " + d["key"] + "…, in " + to + ". Same row, same ID: you did not have to log in again."
		},
		Trigger: true,
	},
	// The class.* kinds are what the instructor did: they belong to no
	// session, so only the dashboard shows them.
	ClassReset: {
		Name:   "class.reset",
		Fields: Fields{"sessions_cleared": nil},
		Group:  GroupClass,
		Tone:   Gone,
		Say:    func(map[string]string) string { return "The instructor reset the demo data." },
	},
	ClassEnded: {
		Name:   "class.ended",
		Fields: Fields{"sessions": nil},
		Group:  GroupClass,
		Tone:   Gone,
		Say:    func(d map[string]string) string { return "The instructor ended every session (" + d["sessions"] + ")." },
	},
	ClassTimeouts: {
		Name:   "class.timeouts",
		Fields: Fields{"idle": nil, "absolute": nil, "reset": {"1"}},
		Group:  GroupClass,
		Tone:   New,
		Say: func(d map[string]string) string {
			return "The instructor set the timeouts: idle " + d["idle"] + ", absolute " + d["absolute"] + "."
		},
	},
}

// byName finds a Kind by its stored name.
var byName = func() map[string]Kind {
	m := make(map[string]Kind, numKinds)
	for k := invalid + 1; k < numKinds; k++ {
		m[table[k].Name] = k
	}
	return m
}()

// All returns every kind, in table order.
func All() []Kind {
	out := make([]Kind, 0, numKinds-1)
	for k := invalid + 1; k < numKinds; k++ {
		out = append(out, k)
	}
	return out
}

// Parse finds the kind stored under name.
func Parse(name string) (Kind, bool) {
	k, ok := byName[name]
	return k, ok
}

// Spec returns the kind's row of the table (the zero Spec for an invalid Kind).
func (k Kind) Spec() Spec {
	if k <= invalid || k >= numKinds {
		return Spec{}
	}
	return table[k]
}

// String is the name stored in the events table and named by triggers.
func (k Kind) String() string {
	if s := k.Spec(); s.Name != "" {
		return s.Name
	}
	return fmt.Sprintf("events.Kind(%d)", uint8(k))
}

// Describe is the strip's line for one event of this kind.
func (k Kind) Describe(d map[string]string) (string, Tone) {
	s := k.Spec()
	if s.Say == nil {
		return k.String(), New
	}
	tone := s.Tone
	if s.ToneBy != nil {
		tone = s.ToneBy(d)
	}
	return s.Say(d), tone
}

// Check reports the first way d is not a detail this kind carries: an
// undeclared key, or a value outside a closed set.
func (k Kind) Check(d map[string]string) error {
	s := k.Spec()
	if s.Name == "" {
		return fmt.Errorf("events: unknown kind %d", uint8(k))
	}
	keys := make([]string, 0, len(d))
	for key := range d {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		allowed, ok := s.Fields[key]
		if !ok {
			return fmt.Errorf("events: %s has no detail %q", s.Name, key)
		}
		if allowed != nil && !slices.Contains(allowed, d[key]) {
			return fmt.Errorf("events: %s: %s=%q is not one of %s", s.Name, key, d[key], strings.Join(allowed, ", "))
		}
	}
	return nil
}

// GroupOf is the dashboard group of an event stored under name; a name the
// table does not know (an old row, a test's fixture) is GroupOther.
func GroupOf(name string) Group {
	if k, ok := Parse(name); ok {
		return k.Spec().Group
	}
	return GroupOther
}

// dbName is how the strip names a database kind.
func dbName(dialect string) string {
	switch dialect {
	case "sqlite":
		return "SQLite"
	case "mariadb":
		return "MariaDB"
	}
	return dialect
}
