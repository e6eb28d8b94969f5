package main

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"sessionlab/db"
	"sessionlab/ids"
)

// linkCodeRe is the code in a lesson page's link command.
var linkCodeRe = regexp.MustCompile(`-d code=([0-9a-z-]{24}) `)

// linkCode reads this view's link code off a lesson page.
func (b *browser) linkCode(slug string) string {
	b.t.Helper()
	r := b.get("/lessons/" + slug)
	m := linkCodeRe.FindStringSubmatch(r.Body)
	if r.Status != http.StatusOK || m == nil {
		b.t.Fatalf("no link code on /lessons/%s (%d)", slug, r.Status)
	}
	return m[1]
}

// link sends a link code from this client, as the lesson's command does
// (with its own session's CSRF token).
func (b *browser) link(code string) response {
	b.t.Helper()
	return b.submit("/lessons/link", url.Values{"code": {code}})
}

// sessionRow reads a client's session row straight from the table.
func sessionRow(t *testing.T, s *testServer, b *browser) (learner string, linkedAt sql.NullTime, user sql.NullInt64) {
	t.Helper()
	row := s.db.W.QueryRow(s.db.W.Rebind("SELECT learner, linked_at, user_id FROM sessions WHERE `key` = ?"), ids.Hash(b.sessionID()))
	if err := row.Scan(&learner, &linkedAt, &user); err != nil {
		t.Fatalf("session row of %s…: %v", ids.Prefix(b.sessionID()), err)
	}
	return learner, linkedAt, user
}

// ticked says from the table, not the app, whether a learner has a step done.
func ticked(t *testing.T, s *testServer, learner, lesson, step string) bool {
	t.Helper()
	var n int
	if err := s.db.W.Get(&n, s.db.W.Rebind("SELECT COUNT(*) FROM lesson_progress WHERE owner = ? AND lesson = ? AND item = ? AND done = 1"), db.LearnerOwner(learner), lesson, step); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// A terminal linked with a lesson page's code counts for that learner's
// progress and for nothing else: it stays anonymous while the browser is
// logged in, keeps its own cart, cannot use the browser's CSRF token, and
// survives the browser's logout and "log out other sessions"; the lesson
// page names it by its key's prefix. Unlinking gives it a learner of its
// own, and its later work ticks nothing for the browser.
func TestTerminalLinkCountsProgressOnly(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		br := srv.newBrowser(t)
		if r := br.signup("linkstudent", "linkstudent-pw"); r.Status != http.StatusSeeOther {
			t.Fatalf("signup: %d", r.Status)
		}
		br.add("1", "1")
		page := br.get("/lessons/the-session-record")
		if !strings.Contains(page.Body, `data-terminal-status="none"`) {
			t.Fatal("before any link the lesson page should say no terminal is linked")
		}
		code := linkCodeRe.FindStringSubmatch(page.Body)[1]
		learner, _, _ := sessionRow(t, srv, br)

		term := srv.newBrowser(t)
		term.get("/")
		termLearner, linked, _ := sessionRow(t, srv, term)
		if termLearner == learner || linked.Valid {
			t.Fatal("a fresh terminal should be its own learner, unlinked")
		}
		r := term.link(code)
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "Linked") || !strings.Contains(r.Body, "stays anonymous") {
			t.Fatalf("link: %d %s", r.Status, r.Body)
		}
		termLearner, linked, termUser := sessionRow(t, srv, term)
		if termLearner != learner || !linked.Valid || termUser.Valid {
			t.Fatalf("after linking the terminal's row: learner %q (want the browser's %q), linked_at %v, user %v", termLearner, learner, linked, termUser)
		}

		// The terminal's work ticks the browser's steps, in the table.
		term.get("/lessons/the-session-record")
		if !ticked(t, srv, learner, "the-session-record", "open") {
			t.Fatal("the linked terminal opened the lesson, but the browser's learner has no tick")
		}
		term.add("3", "2")
		if !ticked(t, srv, learner, "the-session-record", "add") {
			t.Fatal("the linked terminal added to its cart, but the browser's learner has no tick")
		}

		// Progress only: the terminal is anonymous with its own cart.
		st := term.apiState()
		if st.Session == nil || st.Session.Authenticated || st.Session.User != nil {
			t.Fatalf("the linked terminal should stay anonymous: %s", st.raw)
		}
		if q := st.quantities(); len(q) != 1 || q[3] != 2 {
			t.Errorf("the terminal's cart should be its own (3×2): %v", q)
		}
		if !strings.Contains(st.raw, `"progress_link":{"linked_at":"`) || !strings.Contains(st.raw, `"learner_prefix":"`+ids.Prefix(learner)+`"`) {
			t.Errorf("/api/state should show the terminal it is linked, for progress only: %s", st.raw)
		}
		if q := br.apiState().quantities(); len(q) != 1 || q[1] != 1 {
			t.Errorf("the browser's cart should be its own (1×1): %v", q)
		}
		if r := term.get("/account"); r.Status != http.StatusSeeOther {
			t.Errorf("the linked terminal reached /account: %d", r.Status)
		}
		if strings.Contains(br.apiState().raw, `"progress_link":{`) {
			t.Error("the browser itself is not linked by a code")
		}
		// Nor can the terminal wipe the learner's progress.
		if r := term.submit("/lessons/reset", nil); r.Status != http.StatusConflict {
			t.Errorf("a linked terminal's reset: %d, want 409", r.Status)
		}
		if !ticked(t, srv, learner, "the-session-record", "add") {
			t.Fatal("a linked terminal reset the learner's progress")
		}
		// The browser's CSRF token is no good from the terminal.
		before := dbSnapshot(t, srv)
		tok := br.csrf("/login")
		for path, form := range map[string]url.Values{
			"/cart/add": {"product_id": {"2"}, "quantity": {"1"}},
			"/logout":   {},
			"/notes":    {"text": {"from the terminal"}},
		} {
			form.Set("csrf_token", tok)
			if r := term.post(path, form); r.Status != http.StatusForbidden {
				t.Errorf("POST %s from the terminal with the browser's token: %d, want 403", path, r.Status)
			}
		}
		if after := dbSnapshot(t, srv); after != before {
			t.Errorf("the browser's token changed something from the terminal:\n%s\n→\n%s", before, after)
		}

		// The lesson page names the terminal by its key's prefix.
		page = br.get("/lessons/the-session-record")
		termKey := ids.Prefix(ids.Hash(term.sessionID()))
		if !strings.Contains(page.Body, `data-terminal-status="linked"`) || !strings.Contains(page.Body, `data-linked-key="`+termKey+`"`) {
			t.Fatalf("the lesson page should name the linked terminal %s…", termKey)
		}
		if strings.Contains(page.Body, term.sessionID()) {
			t.Fatal("the lesson page shows the terminal's whole session ID")
		}

		// The browser logs out everywhere else, then logs out mid-lesson:
		// neither ends the terminal, which still counts for the learner.
		if r := br.submit("/account/sessions/end-others", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("end-others: %d", r.Status)
		}
		(&walker{t: t, b: br}).logout("the-session-record")
		if got, _, _ := sessionRow(t, srv, br); got != learner {
			t.Fatalf("the browser's logout did not resume the learner")
		}
		if st := term.apiState(); st.Session == nil || !strings.Contains(st.raw, `"progress_link":{`) {
			t.Fatalf("the browser's logouts ended or unlinked the terminal: %s", st.raw)
		}
		if r := term.submit("/cart/update", url.Values{"product_id": {"3"}, "quantity": {"5"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("terminal cart update: %d", r.Status)
		}
		if !ticked(t, srv, learner, "the-session-record", "change") {
			t.Fatal("after the browser logged out, the terminal's work no longer ticks for the learner")
		}

		// Unlink from the lesson page: the terminal gets a learner of its own.
		if r := br.submit("/lessons/the-session-record/unlink", nil); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/lessons/the-session-record#terminal" {
			t.Fatalf("unlink: %d %q", r.Status, r.Header.Get("Location"))
		}
		termLearner, linked, _ = sessionRow(t, srv, term)
		if termLearner == learner || linked.Valid {
			t.Fatalf("after unlinking, the terminal still counts for the learner (learner %q, linked_at %v)", termLearner, linked)
		}
		if r := term.submit("/cart/update", url.Values{"product_id": {"3"}, "quantity": {"0"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("terminal cart remove: %d", r.Status)
		}
		if ticked(t, srv, learner, "the-session-record", "remove") {
			t.Fatal("an unlinked terminal's work ticked the learner's step")
		}
		if !ticked(t, srv, learner, "the-session-record", "change") {
			t.Fatal("unlinking took back a step the terminal had ticked")
		}
		if page := br.get("/lessons/the-session-record"); !strings.Contains(page.Body, `data-terminal-status="none"`) {
			t.Error("after unlinking the lesson page should say no terminal is linked")
		}
		if q := term.apiState().quantities(); len(q) != 0 {
			t.Errorf("unlinking touched the terminal's cart: %v", q)
		}

		// A second browser logged in to the learner's own account counts
		// too (the account's home learner), and the box says so.
		second := srv.newBrowser(t)
		second.login("linkstudent", "linkstudent-pw")
		br.login("linkstudent", "linkstudent-pw")
		page = br.get("/lessons/the-session-record")
		secondKey := ids.Prefix(ids.Hash(second.sessionID()))
		if !strings.Contains(page.Body, `data-linked-key="`+secondKey+`"`) || !strings.Contains(page.Body, "logged in to your own account as linkstudent") {
			t.Errorf("the lesson page should name the second browser %s… as logged in to the learner's own account", secondKey)
		}
	})
}

// A classmate with a code: one that is malformed, unknown, expired, already
// used, or a logout's resume code is refused with a clear 4xx and links
// nothing; of two racing uses of one code exactly one links; codes are kept
// hashed; wrong guesses from one address are throttled.
func TestLinkCodesCannotBeGuessedOrReplayed(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		br := srv.newBrowser(t)
		code := br.linkCode("http-forgets")
		var stored int
		if err := srv.db.W.Get(&stored, srv.db.W.Rebind("SELECT COUNT(*) FROM learner_codes WHERE code_hash = ? AND purpose = 'link'"), ids.Hash(code)); err != nil || stored != 1 {
			t.Fatalf("the code should be stored hashed, once: %d %v", stored, err)
		}
		var plain int
		srv.db.W.Get(&plain, srv.db.W.Rebind("SELECT COUNT(*) FROM learner_codes WHERE code_hash = ? OR learner = ?"), code, code)
		if plain != 0 {
			t.Fatal("the plain code is in the table")
		}
		learner, _, _ := sessionRow(t, srv, br)

		thief := srv.newBrowser(t)
		thief.get("/")
		own, _, _ := sessionRow(t, srv, thief)
		refused := func(name, c string, want int) {
			t.Helper()
			r := thief.link(c)
			if r.Status != want || !strings.Contains(r.Body, "Nothing was linked") || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
				t.Errorf("%s: %d %q %s, want %d in plain text", name, r.Status, r.Header.Get("Content-Type"), r.Body, want)
			}
			if got, linked, _ := sessionRow(t, srv, thief); got != own || linked.Valid {
				t.Fatalf("%s linked the thief's session", name)
			}
		}
		refused("a malformed code", "1234", http.StatusBadRequest)
		refused("a made-up code", ids.NewCode(), http.StatusNotFound)
		refused("an upper-case near miss", strings.ToUpper(code[:23])+"x", http.StatusNotFound)

		// A logout's resume code is not a link code.
		other := srv.newBrowser(t)
		other.login("alice", "wonderland")
		r := other.submit("/logout", url.Values{"next": {"/lessons/http-forgets"}})
		resume := strings.TrimPrefix(r.Header.Get("Location"), "/lessons/http-forgets?resume=")
		if !ids.Valid(resume) {
			t.Fatalf("logout gave no resume code: %q", r.Header.Get("Location"))
		}
		refused("a resume code", resume, http.StatusBadRequest)

		// An expired code.
		stale := br.linkCode("http-forgets")
		srv.clock.Advance(linkFor + time.Second)
		refused("an expired code", stale, http.StatusNotFound)
		// The minute's sweep forgets it (and the other codes past their time).
		if _, err := srv.db.DeleteExpiredSessions(context.Background(), srv.clock.Now()); err != nil {
			t.Fatal(err)
		}
		var left int
		srv.db.W.Get(&left, srv.db.W.Rebind("SELECT COUNT(*) FROM learner_codes WHERE code_hash = ?"), ids.Hash(stale))
		if left != 0 {
			t.Error("the sweep left an expired link code behind")
		}
		br.get("/") // the browser's session is still live (idle 30 minutes)

		// Two terminals race with one code: exactly one links.
		fresh := br.linkCode("http-forgets")
		a, b := srv.newBrowser(t), srv.newBrowser(t)
		a.get("/")
		b.get("/")
		ta, tb := a.csrf("/login"), b.csrf("/login")
		var wg sync.WaitGroup
		var ra, rb response
		wg.Add(2)
		go func() { defer wg.Done(); ra = a.post("/lessons/link", url.Values{"code": {fresh}, "csrf_token": {ta}}) }()
		go func() { defer wg.Done(); rb = b.post("/lessons/link", url.Values{"code": {fresh}, "csrf_token": {tb}}) }()
		wg.Wait()
		if (ra.Status == http.StatusOK) == (rb.Status == http.StatusOK) {
			t.Fatalf("one code used twice at once: %d and %d, want exactly one 200", ra.Status, rb.Status)
		}
		la, _, _ := sessionRow(t, srv, a)
		lb, _, _ := sessionRow(t, srv, b)
		if (la == learner) == (lb == learner) {
			t.Fatal("one code linked both terminals, or neither")
		}
		refused("a used code", fresh, http.StatusNotFound)

		// Guessing from one address is throttled, the right code included.
		guesser := srv.newBrowserFrom(t, "127.0.0.77")
		guesser.get("/")
		tok := guesser.csrf("/login")
		for i := 0; i < linkPerAddr.n; i++ {
			if r := guesser.post("/lessons/link", url.Values{"code": {ids.NewCode()}, "csrf_token": {tok}}); r.Status != http.StatusNotFound {
				t.Fatalf("guess %d: %d", i, r.Status)
			}
		}
		right := br.linkCode("http-forgets")
		if r := guesser.post("/lessons/link", url.Values{"code": {right}, "csrf_token": {tok}}); r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
			t.Fatalf("after %d wrong codes: %d, want 429 with Retry-After", linkPerAddr.n, r.Status)
		}
		// The code was not spent by the refused attempt: its learner's
		// terminal elsewhere still links with it.
		if r := thief.link(right); r.Status != http.StatusOK {
			t.Fatalf("a code refused by the throttle should still work once: %d %s", r.Status, r.Body)
		}
	})
}

// A classmate who read a learner's link code off a screen links their own
// terminal, then logs it in to their own account: the terminal joins their
// account's learner, without the learner's ticks. A link lends the
// terminal's work to the learner; it never lets the learner's progress out.
func TestALinkedTerminalCannotCarryProgressAway(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		victim := srv.newBrowser(t)
		victim.get("/lessons/the-session-record")
		victim.add("1", "1")
		learner, _, _ := sessionRow(t, srv, victim)
		if !ticked(t, srv, learner, "the-session-record", "add") {
			t.Fatal("setup: the victim's add step should be ticked")
		}
		code := victim.linkCode("the-session-record")

		thief := srv.newBrowser(t)
		if r := thief.signup("classmate", "classmate-pw"); r.Status != http.StatusSeeOther {
			t.Fatalf("signup: %d", r.Status)
		}
		home, _, _ := sessionRow(t, srv, thief)
		thief.submit("/logout", nil)
		term := srv.newBrowser(t)
		term.get("/")
		if r := term.link(code); r.Status != http.StatusOK {
			t.Fatalf("link: %d %s", r.Status, r.Body)
		}
		term.login("classmate", "classmate-pw")
		got, linked, _ := sessionRow(t, srv, term)
		if got != home || linked.Valid {
			t.Fatalf("after logging in to their own account the terminal should be its home learner, unlinked: learner %q (home %q), linked_at %v", got, home, linked)
		}
		for _, step := range []string{"open", "add"} {
			if ticked(t, srv, home, "the-session-record", step) {
				t.Errorf("the victim's %s tick was copied into the classmate's account", step)
			}
		}
		if !ticked(t, srv, learner, "the-session-record", "add") {
			t.Error("the victim lost a tick")
		}
	})
}
