package main

import (
	"context"
	"database/sql"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"sessionlab/db"
	"sessionlab/events"
	"sessionlab/ids"
)

// A terminal's work counts for the learner (issue 13). curl with a cookie
// jar is a client of its own: its requests run in its own session, so the
// lesson in the browser would never see them. A lesson page shows a link
// code; the terminal sends it once (POST /lessons/link, with its own
// session's CSRF token), and from then on the terminal's session row has the
// browser's learner in its learner column, and linked_at says when.
//
// That is all a link does: sessions.learner decides whose lesson progress
// (and lab switches) a session counts for, and nothing else. The terminal's
// login, cart and CSRF token stay its own; the browser's logout or "log out
// other sessions" ends the browser's sessions, never a linked terminal's,
// whose link lasts as long as its session (a logout in the terminal, a
// timeout, the instructor's "end all") or until the learner unlinks it from
// a lesson page. The code is minted per lesson page view, kept hashed with
// the logout's resume codes (learner_codes), lives linkFor and works once.

// linkFor is how long a link code lives: long enough to read the lesson,
// open a terminal and paste the command; a copy found later is dead.
const linkFor = 10 * time.Minute

// linkPerAddr limits wrong link codes from one address (a right one is not
// counted). Codes carry 100 bits: with every seat of a class holding a live
// one, this many guesses have no chance; the limit keeps a script from
// turning the link into a database load.
var linkPerAddr = limit{100, 10 * time.Minute}

// terminalBox is what a lesson page says about terminals: the command that
// links one, and the sessions already counting for this learner.
type terminalBox struct {
	Code    string // this view's link code, "" without a session
	Command string // the link command, with the learner's host and code
	Minutes int    // how long the code lives
	Linked  []linkedSession
}

// linkedSession is another session counting for the learner, as the page
// names it: the prefix of its stored key (as the session panel and the
// account page show keys), never its cookie.
type linkedSession struct {
	KeyPrefix string
	User      string // "" while anonymous
	Agent     string
	LinkedAt  time.Time // zero: it counts through a login to the learner's own account
	LastSeen  time.Time
}

// linkCommand is the one command a terminal runs to link its jar; the
// lesson steps that need it quote the same line ({{.LinkCode}}).
func linkCommand(base, code string) string {
	return "TOKEN=$(curl -s -c jar.txt -b jar.txt " + base + "/login | grep -o 'name=\"csrf_token\" value=\"[^\"]*\"' | head -1 | cut -d'\"' -f4)\n" +
		"curl -s -c jar.txt -b jar.txt -d code=" + code + " -d csrf_token=$TOKEN " + base + "/lessons/link"
}

// terminal mints this page view's link code (stored hashed, with the
// learner) and lists the sessions counting for the learner besides this one.
func (a *app) terminal(c *fiber.Ctx) (*terminalBox, error) {
	rs := state(c)
	box := &terminalBox{Minutes: int(linkFor / time.Minute)}
	if rs.sess == nil {
		return box, nil
	}
	s := rs.sess
	code := ids.NewCode()
	now := a.now()
	err := a.db.InTx(c.UserContext(), func(tx *db.Tx) error {
		return tx.AddLearnerCode(c.UserContext(), db.CodeLink, ids.Hash(code), s.row.Learner, "", now.Add(linkFor))
	})
	if err != nil {
		return nil, err
	}
	box.Code, box.Command = code, linkCommand(a.publicBase(c), code)
	rows, err := a.db.LearnerSessions(c.UserContext(), s.row.Learner, s.row.Key, now)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		box.Linked = append(box.Linked, linkedSession{
			KeyPrefix: ids.Prefix(r.Key), User: r.Username.String, Agent: r.UserAgent,
			LinkedAt: r.LinkedAt.Time, LastSeen: r.LastSeenAt,
		})
	}
	return box, nil
}

// lessonLink takes a link code from a terminal: the code's learner becomes
// this session's (progress only, see above). The answer is a sentence for
// the terminal that sent it, not a page: curl prints it.
func (a *app) lessonLink(c *fiber.Ctx) error {
	code := strings.ToLower(strings.TrimSpace(string(c.Request().PostArgs().Peek("code"))))
	if !ids.CodeValid(code) {
		return fiber.NewError(fiber.StatusBadRequest, "That is not a link code (five groups of four letters and digits, like k7qm-2xrd-9fht-w3pb-4cde). Copy the command from a lesson page again. Nothing was linked.")
	}
	addr := strings.Clone(c.IP()) // kept in the throttle's map past this request
	r, wait, ok := a.throttle.reserve(a.now(), rule{"link-addr:" + addr, linkPerAddr})
	if !ok {
		return tooMany(c, wait, "Too many wrong link codes from your address.")
	}
	var learner string
	err := a.change(c, func(ctx context.Context, tx *db.Tx, s *session) error {
		now := a.now()
		l, _, err := tx.TakeLearnerCode(ctx, db.CodeLink, ids.Hash(code), now)
		if err != nil || l == "" {
			return err
		}
		learner = l
		if err := tx.LinkSession(ctx, s.row.Key, l, now); err != nil {
			return err
		}
		rows, err := tx.Progress(ctx, db.LearnerOwner(l))
		if err != nil {
			return err
		}
		s.row.Learner, s.row.LinkedAt, s.progress = l, sql.NullTime{Time: now, Valid: true}, a.progressFrom(rows)
		state(c).record(events.LessonLinked, map[string]string{"learner": ids.Prefix(l)})
		return nil
	})
	if err != nil {
		return err
	}
	if learner == "" {
		return fiber.NewError(fiber.StatusNotFound, "That link code is unknown, expired (codes live "+strconv.Itoa(int(linkFor/time.Minute))+" minutes) or already used. Reload the lesson page for a fresh one. Nothing was linked.")
	}
	a.throttle.release(r)
	s := state(c).sess
	user := "anonymous"
	if s.loggedIn() {
		user = "logged in as " + s.username()
	}
	a.log.Info("terminal linked", "key_prefix", ids.Prefix(s.row.Key), "learner", ids.Prefix(learner))
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.SendString("Linked: this terminal's session (key " + ids.Prefix(s.row.Key) + "…, as key_prefix in its /api/state) now counts for the lesson progress of learner " + ids.Prefix(learner) +
		"… (the browser whose lesson page showed the code). Only the progress: this session stays " + user +
		", with its own cart and CSRF token. Its steps tick on that lesson page; /api/state shows the link under session.progress_link.\n")
}

// lessonUnlink ends every link to this learner (from the lesson page's
// button): each linked session gets a learner of its own again, with no
// progress. The steps they ticked stay ticked; nothing else of theirs
// changes (they stay logged in or not, with their carts).
func (a *app) lessonUnlink(c *fiber.Ctx) error {
	l, ok := a.lessons.Lesson(c.Params("slug"))
	if !ok {
		return fiber.NewError(fiber.StatusNotFound, "There is no such lesson.")
	}
	err := a.change(c, func(ctx context.Context, tx *db.Tx, s *session) error {
		n, err := tx.UnlinkSessions(ctx, s.row.Learner, func() string { return ids.New()[:16] })
		if err != nil {
			return err
		}
		state(c).record(events.LessonUnlinked, map[string]string{"sessions": strconv.Itoa(n)})
		return nil
	})
	if err != nil {
		return err
	}
	return a.redirect(c, "/lessons/"+url.PathEscape(l.Slug)+"#terminal")
}

// progressLink is /api/state's session.progress_link: present when a link
// code made this session count for its learner, so a terminal can read
// that it is linked, and for what.
type progressLink struct {
	LinkedAt      string `json:"linked_at"`
	LearnerPrefix string `json:"learner_prefix"`
	Scope         string `json:"scope"`
	Explain       string `json:"explain"`
}

func progressLinkOf(s *session) *progressLink {
	if s == nil || !s.row.LinkedAt.Valid {
		return nil
	}
	return &progressLink{
		LinkedAt:      s.row.LinkedAt.Time.UTC().Format(time.RFC3339),
		LearnerPrefix: ids.Prefix(s.row.Learner),
		Scope:         "lessons",
		Explain:       "A link code made this session's lesson steps (and lab switches) count for the learner of the browser that showed the code. Only that: this session's login, cart and CSRF token are its own.",
	}
}

// linkedAtCell is the linked_at column as the session record panel shows it.
func linkedAtCell(r *db.Session) rowCell {
	if !r.LinkedAt.Valid {
		return rowCell{Column: "linked_at", Value: "NULL", Note: "NULL: no link code; this session counts for its own learner (or its account's)"}
	}
	return rowCell{Column: "linked_at", Value: r.LinkedAt.Time.UTC().Format(storedTime), Note: "UTC; a link code made this session count for the learner above: lesson progress only, never the login, cart or CSRF token"}
}
