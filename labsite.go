package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"sessionlab/db"
	"sessionlab/events"
	"sessionlab/ids"
	"sessionlab/labs"
	"sessionlab/labs/slugs"
)

// The lab site: the small, deliberately weak web site each attack lab runs
// under /lab/{slug}/site, with its own cookie (lab_<slug>, Path=/lab) and its
// own session table. Real browsers (a learner, a pair of learners) and the
// server's simulated browsers (labsim.go) use the very same routes.
//
// Every response says what it did in X-Lab-State, X-Lab-User and one
// X-Lab-Change header per change, which the simulated browsers show as their
// "what changed" strip.

// labReq is what one lab-site request knows about its lab session.
type labReq struct {
	lab       labs.Lab
	id        string // the lab cookie's value (a lab ID may be shown: it is a lab)
	state     string // labs.State*
	sess      *labs.Session
	lastSeen  time.Time // before this request touched it
	changes   []string
	fallback  labs.Mode // the mode to show when there is no lab session
	previous  []string  // what this browser's last lab-site POST did (the row's flash), shown once
	forgotten bool      // this response expires the lab cookie
	back      string    // the cross-site lab: where the learner records the outcome
}

func (r *labReq) change(s string) { r.changes = append(r.changes, s) }

func (r *labReq) mode() labs.Mode {
	if r.sess != nil {
		return r.sess.Mode()
	}
	if r.fallback != "" {
		return r.fallback
	}
	return labs.Weak
}

// labFromPath finds the lab named in the URL, or answers 404.
func labFromPath(c *fiber.Ctx) (labs.Lab, error) {
	l, ok := labs.Find(c.Params("slug"))
	if !ok {
		return labs.Lab{}, fiber.NewError(fiber.StatusNotFound, "There is no lab called “"+ids.Cut(c.Params("slug"), 40)+"”. The labs are listed at /lab.")
	}
	return l, nil
}

// labMode is the learner's switch for a lab, read with the shop session.
// Without a session (curl, a simulated browser) a lab starts weak.
func labMode(s *session, slug string) labs.Mode {
	if s != nil {
		l, _ := labs.Find(slug)
		if m, ok := l.ParseMode(s.labModes[slug]); ok {
			return m
		}
	}
	return labs.Weak
}

// learnerOf names the learner of a shop session ("" without one).
func learnerOf(s *session) string {
	if s == nil {
		return ""
	}
	return s.row.Learner
}

// labRequest is loadLab for the lab named in the URL.
func (a *app) labRequest(c *fiber.Ctx) (*labReq, error) {
	l, err := labFromPath(c)
	if err != nil {
		return nil, err
	}
	return a.loadLab(c, l)
}

// loadLab reads the lab cookie and its row; a live one is touched.
func (a *app) loadLab(c *fiber.Ctx, l labs.Lab) (*labReq, error) {
	r := &labReq{lab: l, fallback: labMode(state(c).sess, l.Slug)}
	r.id = strings.Clone(c.Cookies(l.Cookie()))
	sess, st, err := a.labs.Lookup(c.UserContext(), l.Slug, r.id)
	if err != nil {
		return nil, err
	}
	r.sess, r.state = sess, st
	if sess != nil {
		r.lastSeen = sess.Row.LastSeenAt
	}
	switch st {
	case labs.StateValid:
		// The flash is read with the row and cleared by the touch below:
		// shown once, by the next page of this browser.
		r.previous = decodeLabFlash(sess.Row.Flash)
		sess.Row.Flash = ""
		if err := a.labs.Touch(c.UserContext(), sess); err != nil {
			return nil, err
		}
	case labs.StateUnknown:
		r.change("Refused lab ID " + ids.Prefix(r.id) + "…: this lab never issued it, so it is not adopted.")
	case labs.StateEnded:
		r.change("Refused lab ID " + ids.Prefix(r.id) + "…: its session ended (" + sess.Row.Ended + "), so the server turns it away.")
	case labs.StateExpired:
		r.change("Lab ID " + ids.Prefix(r.id) + "… has expired on the server (idle " + labs.IdleTimeout.String() + " / absolute " + labs.AbsoluteTimeout.String() + "): refused.")
	case labs.StateMalformed:
		r.change("Ignored a lab cookie that is not an ID this lab issues.")
	}
	return r, nil
}

// issueLab gives the browser a new lab session.
func (a *app) issueLab(c *fiber.Ctx, r *labReq, mode labs.Mode) error {
	id, sess, err := a.labs.Issue(c.UserContext(), r.lab.Slug, mode, learnerOf(state(c).sess))
	if err != nil {
		return err
	}
	r.id, r.sess, r.state = id, sess, labs.StateValid
	a.labCookie(r.lab, mode).set(c, id, 0)
	r.change("New lab session issued (" + string(mode) + " lab): ID " + ids.Prefix(id) + "… sent in Set-Cookie " + r.lab.Cookie() + ".")
	return nil
}

// newLabMode is the mode a new lab session gets: ?mode= (the lab page's links
// and the simulated browsers say which lab server they open), else the
// learner's switch.
func newLabMode(c *fiber.Ctx, slug string) (labs.Mode, error) {
	if q := c.Query("mode"); q != "" {
		l, _ := labs.Find(slug)
		m, ok := l.ParseMode(q)
		if !ok {
			return "", fiber.NewError(fiber.StatusBadRequest, "mode must be "+modeList(l)+".")
		}
		return m, nil
	}
	return labMode(state(c).sess, slug), nil
}

// labSiteHome is the lab site's front page. It issues a lab session when the
// browser has none; the fixation lab also takes an ID from ?sid=, the
// classic way to plant one in a victim's browser.
func (a *app) labSiteHome(c *fiber.Ctx) error {
	l, err := labFromPath(c)
	if err != nil {
		return err
	}
	mode, err := newLabMode(c, l.Slug)
	if err != nil {
		return err
	}
	sid := c.Query("sid")
	if sid != "" && !l.AdoptsSIDParam() {
		return fiber.NewError(fiber.StatusBadRequest, "Only the fixation lab takes an ID from the link (?sid=).")
	}
	if sid != "" && !labs.ValidID(sid) {
		return fiber.NewError(fiber.StatusBadRequest, "That ?sid= is not a lab ID (1 to 64 letters, digits, - or _). Nothing was changed.")
	}
	r, err := a.loadLab(c, l)
	if err != nil {
		return err
	}
	if sid != "" {
		planted, st, err := a.labs.Lookup(c.UserContext(), l.Slug, sid)
		if err != nil {
			return err
		}
		if st == labs.StateValid {
			// Both modes let the link plant a live ID, so that the defended
			// mode can show rotation making it worthless. A real site should
			// never take an ID from a URL at all.
			r.id, r.sess, r.state = sid, planted, st
			a.labCookie(l, planted.Mode()).set(c, sid, 0)
			r.change("Took the lab ID " + ids.Prefix(sid) + "… from the link (?sid=) and set it as this browser's cookie: the ID was planted.")
		} else {
			r.change("Refused the ?sid= ID " + ids.Prefix(sid) + "… (" + st + "): the lab never adopts an ID it did not issue, in either mode.")
			if r.state != labs.StateValid {
				if err := a.issueLab(c, r, mode); err != nil {
					return err
				}
			}
		}
	} else if r.state != labs.StateValid {
		if err := a.issueLab(c, r, mode); err != nil {
			return err
		}
	} else if r.sess.Mode() != mode {
		// The learner switched modes: a session of the other lab server
		// would show the old behaviour, so this browser gets a new one.
		r.change("The lab is now in " + string(mode) + " mode: a new lab session replaces the " + string(r.sess.Mode()) + " one.")
		if err := a.issueLab(c, r, mode); err != nil {
			return err
		}
	}
	return a.renderLabSite(c, r, fiber.StatusOK, "home")
}

// labSiteLogin logs the lab session in with a demo account. The weak
// fixation (and guessable-ids) server keeps the ID; every other one rotates.
func (a *app) labSiteLogin(c *fiber.Ctx) error {
	l, err := labFromPath(c)
	if err != nil {
		return err
	}
	args := c.Request().PostArgs()
	username := strings.TrimSpace(string(args.Peek("username")))
	password := string(args.Peek("password"))
	if username == "" || password == "" || len(username) > 64 || len(password) > 256 {
		return fiber.NewError(fiber.StatusBadRequest, "Enter a username and a password (the demo accounts: alice / wonderland, bob / builder).")
	}
	r, err := a.loadLab(c, l)
	if err != nil {
		return err
	}
	if r.state != labs.StateValid {
		return a.renderLabSite(c, r, fiber.StatusBadRequest, "nosession")
	}
	// The lab logs in the shop's real accounts, so it shares the shop's
	// password check and its throttle: a weak lab must not become an
	// unthrottled password oracle.
	user, err := a.checkPassword(c, username, password)
	if errors.Is(err, db.ErrInvalidCredentials) {
		r.change("Login failed: the lab session stays anonymous.")
		return a.renderLabSite(c, r, fiber.StatusUnauthorized, "home")
	}
	if err != nil {
		return err
	}
	rotate := l.RotatesAtLogin(r.mode())
	old := r.id
	id, sess, err := a.labs.Login(c.UserContext(), r.sess, r.id, user.Username, learnerOf(state(c).sess), rotate)
	if err != nil {
		return err
	}
	r.id, r.sess = id, sess
	if rotate {
		a.labCookie(l, sess.Mode()).set(c, id, 0)
		r.change("Logged in as " + user.Username + ". ID rotated at login: " + ids.Prefix(old) + "… → " + ids.Prefix(id) + "…; the old ID is now refused.")
	} else {
		r.change("Logged in as " + user.Username + ". The ID stayed " + ids.Prefix(id) + "… (no rotation): whoever else holds it is now logged in too.")
	}
	return a.labSiteRedirect(c, r, "/lab/"+l.Slug+"/site/account")
}

// labSiteLogout: the weak logout-replay server only expires the cookie and
// keeps the row; every other one ends the session on the server.
func (a *app) labSiteLogout(c *fiber.Ctx) error {
	r, err := a.labRequest(c)
	if err != nil {
		return err
	}
	l := r.lab
	if r.state == labs.StateValid {
		keep := l.KeepsRowAtLogout(r.mode())
		if err := a.labs.Logout(c.UserContext(), r.sess, keep); err != nil {
			return err
		}
		if keep {
			r.change("Logged out in the browser only: the cookie was expired, but the server kept the session record. A copy of the ID still works.")
		} else {
			r.change("Logged out: the session record ended on the server and the cookie was expired. A copy of the ID is now refused.")
		}
	}
	a.labCookie(l, r.mode()).expire(c)
	r.forgotten = true
	return a.labSiteRedirect(c, r, "/lab/"+l.Slug+"/site")
}

// labSiteAccount is the page an attacker wants: it shows whose account the
// lab cookie opens. It records nothing: a GET has no side effect beyond the
// lab session's own last-seen. An attempt is recorded by the lab page's
// "use" form (labUse), a POST with the learner's shop cookie and CSRF token.
func (a *app) labSiteAccount(c *fiber.Ctx) error {
	r, err := a.labRequest(c)
	if err != nil {
		return err
	}
	if r.state != labs.StateValid || r.sess.User() == "" {
		return a.renderLabSite(c, r, fiber.StatusUnauthorized, "account")
	}
	return a.renderLabSite(c, r, fiber.StatusOK, "account")
}

// attemptOutcome decides whether using a lab ID was an attack by the
// learner me, and how it went ("" when it was no attack, e.g. one's own
// session):
//   - a live, logged-in session that another learner logged in: succeeded (pair)
//   - a session that another learner logged in, but which ended: failed (pair)
//   - an ID pasted into the lab page (pasted) that names nothing: failed (pair)
//   - the expiry lab: an ID left idle past the timeout that still works:
//     succeeded; one the server expired: failed (solo)
func (a *app) attemptOutcome(me string, r *labReq, pasted bool) (outcome, via string) {
	if r.lab.Slug == slugs.Expiry {
		switch {
		case r.state == labs.StateValid && r.sess.User() != "" && a.now().Sub(r.lastSeen) >= labs.IdleTimeout:
			return "succeeded", "solo"
		case r.sess != nil && r.sess.User() != "" && (r.state == labs.StateExpired || r.sess.Row.Ended == "expired"):
			return "failed", "solo"
		}
		return "", ""
	}
	switch {
	case r.state == labs.StateValid && r.sess.User() != "" && r.sess.Row.LoginLearner != me:
		return "succeeded", "pair"
	case r.state == labs.StateEnded && r.sess.Row.LoginLearner != "" && r.sess.Row.LoginLearner != me:
		return "failed", "pair"
	case pasted && r.state != labs.StateValid:
		return "failed", "pair"
	}
	return "", ""
}

// recordAttempt saves lab.attack events in the request's own shop session
// (and the lesson steps they complete), in one change: a lesson ticks at
// most one step for them, as for any one request. The session's
// last_seen_at and expires_at stay as they were: an attack's outcome is not
// the learner's activity, and must never keep a session alive.
func (a *app) recordAttempt(c *fiber.Ctx, details ...map[string]string) error {
	rs := state(c)
	if rs.sess == nil || len(details) == 0 {
		return nil
	}
	rs.keepTimes = true
	defer func() { rs.keepTimes = false }()
	err := a.change(c, func(context.Context, *db.Tx, *session) error {
		for _, d := range details {
			rs.record(events.LabAttack, d)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("lab: record attempt: %w", err)
	}
	return nil
}

// labSiteRedirect answers a lab-site POST with 303, carrying its changes in
// headers (for the simulated browsers) and in the lab session's row (for
// people), so the strip of the next page says what the POST did. Neither in
// the URL nor in a cookie: a crafted link or cookie could then put words in
// the lab's mouth. A POST that ended this browser's lab session (logout)
// leaves nothing: the next page has no lab session to read it from.
func (a *app) labSiteRedirect(c *fiber.Ctx, r *labReq, to string) error {
	a.labHeaders(c, r)
	if len(r.changes) > 0 && r.state == labs.StateValid && r.sess.Row.Ended == "" && !r.forgotten {
		b, _ := json.Marshal(r.changes[:min(len(r.changes), 4)])
		r.sess.Row.Flash = string(b)
		if err := a.labs.Save(c.UserContext(), r.sess); err != nil {
			return err
		}
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

// decodeLabFlash reads a lab row's flash; one that does not decode is not shown.
func decodeLabFlash(s string) []string {
	var prev []string
	if s == "" || json.Unmarshal([]byte(s), &prev) != nil || len(prev) > 4 {
		return nil
	}
	return prev
}

func (a *app) labHeaders(c *fiber.Ctx, r *labReq) {
	c.Set("X-Lab-State", r.state)
	c.Set("X-Lab-Mode", string(r.mode()))
	if u := r.sess.User(); u != "" && r.state == labs.StateValid {
		c.Set("X-Lab-User", u)
	}
	for _, ch := range r.changes {
		c.Response().Header.Add("X-Lab-Change", ch)
	}
}

// renderLabSite shows a lab-site page: what this browser's lab cookie is,
// the lab session record read back from the database, and what changed.
func (a *app) renderLabSite(c *fiber.Ctx, r *labReq, status int, view string) error {
	a.labHeaders(c, r)
	v := labView{Who: "This browser", State: r.state, Changes: r.changes}
	if r.sess != nil {
		v.Record = viewLabRecord(r.sess)
	}
	if r.id != "" && r.state == labs.StateValid {
		v.Jar = []jarCookie{{Name: r.lab.Cookie(), Prefix: ids.Prefix(r.id), Length: len(r.id)}}
	}
	c.Response().Header.VisitAllCookie(func(k, val []byte) {
		v.SetCookies = append(v.SetCookies, setCookieLine(string(val)))
	})
	v.Previous = r.previous
	c.Status(status)
	return c.Render("labsite", fiber.Map{
		"Title": r.lab.Title + " — lab site",
		"Lab":   r.lab,
		"Mode":  string(r.mode()),
		"View":  v,
		"Page":  view,
		"User":  r.sess.User(),
		"Valid": r.state == labs.StateValid,
		"CSRF":  labCSRF(r),
		"Cart":  labCart(r),
		"Steal": r.lab.Slug == slugs.CookieTheft,
		"Base":  a.publicBase(c),
		"ID":    labID(r),
		"Back":  r.back,
		// The injected script's "attacker's server" records the outcome in
		// the learner's lessons: a POST, so it carries the shop's token.
		"ShopCSRF": shopCSRF(state(c).sess, r.lab.Slug == slugs.CookieTheft),
	})
}

// shopCSRF is the shop session's CSRF token for a lab page whose script
// posts to the shop ("" otherwise, or without a shop session).
func shopCSRF(s *session, wanted bool) string {
	if s == nil || !wanted {
		return ""
	}
	return s.data.CSRF
}

// labID is the whole lab ID, shown on the lab site so a learner can send it
// to a partner: these pages are the labelled, deliberately weak lab.
func labID(r *labReq) string {
	if r.state != labs.StateValid {
		return ""
	}
	return r.id
}

func labCSRF(r *labReq) string {
	if r.sess == nil || r.state != labs.StateValid {
		return ""
	}
	return r.sess.Data.CSRF
}

func labCart(r *labReq) []labs.CartLine {
	if r.sess == nil || r.state != labs.StateValid {
		return nil
	}
	return r.sess.Data.Cart
}

// labStatus is a short label for a lab cookie state.
func labStatus(st string) string {
	switch st {
	case labs.StateValid:
		return "live session"
	case labs.StateNone:
		return "no lab cookie"
	case labs.StateUnknown:
		return "never issued: refused"
	case labs.StateEnded:
		return "ended: refused"
	case labs.StateExpired:
		return "expired: refused"
	case labs.StateMalformed:
		return "malformed: ignored"
	}
	return st
}

// labRecordView is the lab_sessions row as the panels show it.
type labRecordView struct {
	KeyPrefix, IDPrefix, Mode, User, LoginLearner string
	Created, LastSeen, Expires, Ended             string
	Data                                          string
}

func viewLabRecord(s *labs.Session) *labRecordView {
	row := s.Row
	v := &labRecordView{KeyPrefix: ids.Prefix(row.Key), IDPrefix: row.IDPrefix, Mode: row.Mode, User: s.User(),
		Created: row.CreatedAt.Format("15:04:05"), LastSeen: row.LastSeenAt.Format("15:04:05"), Expires: "never (no server-side expiry)", Data: row.Data}
	if row.ExpiresAt.Valid {
		v.Expires = row.ExpiresAt.Time.Format("15:04:05")
	}
	if row.Ended != "" {
		v.Ended = row.Ended + " at " + row.EndedAt.Time.Format("15:04:05")
	}
	if len(row.LoginLearner) > 8 {
		v.LoginLearner = row.LoginLearner[:8] + "…"
	}
	return v
}

// setCookieLine is a Set-Cookie header with its value cut to a prefix.
func setCookieLine(h string) string {
	name, rest, ok := strings.Cut(h, "=")
	if !ok {
		return ids.Cut(h, 200)
	}
	val, attrs, _ := strings.Cut(rest, ";")
	shown := ids.Prefix(val)
	if len(val) > len(shown) {
		shown += "…"
	}
	if attrs != "" {
		attrs = ";" + attrs
	}
	return ids.Cut(name+"="+shown+attrs, 300)
}
