package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"sessionlab/ids"
)

// userRows is every account as "username" lines, by id.
func userRows(t *testing.T, s *testServer) []string {
	t.Helper()
	var names []string
	if err := s.db.W.Select(&names, "SELECT username FROM users ORDER BY id"); err != nil {
		t.Fatal(err)
	}
	return names
}

// sessionUser is the username the session row under this cookie belongs to.
func sessionUser(t *testing.T, s *testServer, id string) string {
	t.Helper()
	var name string
	err := s.db.W.Get(&name, s.db.W.Rebind("SELECT u.username FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.`key` = ?"), ids.Hash(id))
	if err != nil {
		t.Fatalf("no logged-in session row for the cookie: %v", err)
	}
	return name
}

// signup submits the sign-up form.
func (b *browser) signup(user, pass string) response {
	b.t.Helper()
	return b.submit("/signup", url.Values{"username": {user}, "password": {pass}})
}

// Sign-up creates the account and logs this session in at once, through
// login's rotation: a new ID, the old row gone, the row now the new user's,
// the anonymous cart carried over, and the strip says so.
func TestSignupCreatesTheAccountAndLogsInWithANewID(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		b := s.newBrowser(t)
		if r := b.get("/login"); !strings.Contains(r.Body, `href="/signup"`) {
			t.Error("the login page does not link to sign-up")
		}
		wantFields(t, "/signup", "/signup", b.get("/signup").Body, "username", "password", "csrf_token", "next")
		b.add("2", "1")
		before := b.sessionID()
		r := b.signup("learner-07", "correct horse")
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/" {
			t.Fatalf("sign-up: %d → %q\n%s", r.Status, r.Header.Get("Location"), r.Body)
		}
		after := b.sessionID()
		if after == "" || after == before {
			t.Fatalf("the session ID was not rotated at sign-up (%q → %q)", ids.Prefix(before), ids.Prefix(after))
		}
		if got := sessionUser(t, s, after); got != "learner-07" {
			t.Errorf("the session row belongs to %q, want learner-07", got)
		}
		var old int
		s.db.W.Get(&old, s.db.W.Rebind("SELECT COUNT(*) FROM sessions WHERE `key` = ?"), ids.Hash(before))
		if old != 0 {
			t.Error("the pre-sign-up session row is still there")
		}
		st := b.apiState()
		if st.Session == nil || !st.Session.Authenticated || st.Session.User == nil || *st.Session.User != "learner-07" || st.quantities()[2] != 1 || st.Cart.Owner != "learner-07" {
			t.Errorf("after sign-up: %s", st.raw)
		}
		page := b.get("/")
		for _, want := range []string{"Account created", "ID rotated at sign-up", "authenticated as learner-07"} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("the strip after sign-up does not say %q", want)
			}
		}
		b.submit("/logout", nil)
		b.login("learner-07", "correct horse")
		if rows := userRows(t, s); strings.Join(rows, ",") != "alice,bob,learner-07" {
			t.Errorf("users: %v (the demo accounts stay)", rows)
		}
	})
}

// Usernames are exact bytes on both databases: Alice is not alice, and each
// logs in with its own password.
func TestSignupAliceAndAliceLowercaseAreTwoAccounts(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		if r := s.newBrowser(t).signup("Alice", "looking-glass"); r.Status != http.StatusSeeOther {
			t.Fatalf("sign-up as Alice next to alice: %d\n%s", r.Status, r.Body)
		}
		s.newBrowser(t).login("Alice", "looking-glass")
		s.newBrowser(t).login("alice", "wonderland")
		if r := s.newBrowser(t).submit("/login", url.Values{"username": {"Alice"}, "password": {"wonderland"}}); r.Status != http.StatusUnauthorized {
			t.Errorf("Alice with alice's password: %d, want 401", r.Status)
		}
		if r := s.newBrowser(t).signup("Alice", "another-pass"); r.Status != http.StatusBadRequest || !strings.Contains(r.Body, "taken") {
			t.Errorf("Alice again: %d, want 400 taken", r.Status)
		}
		if rows := userRows(t, s); strings.Join(rows, ",") != "alice,bob,Alice" {
			t.Errorf("users: %v", rows)
		}
	})
}

// Bad names, weak passwords and taken names get 400 with the form and the
// rule, and change nothing.
func TestSignupRefusesBadInputWithTheRuleAndNoRow(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		b := s.newBrowser(t)
		b.get("/signup")
		cases := []struct{ user, pass, want string }{
			{"ab", "long enough", "3 to 32 characters"},
			{strings.Repeat("a", 33), "long enough", "3 to 32 characters"},
			{"al ice", "long enough", "letters"},
			{"ａｌｉｃｅ", "long enough", "letters"},
			{"alice<script>", "long enough", "letters"},
			{"alice", "long enough", "taken"},
			{"bob", "long enough", "taken"},
			{"newbie", "short", "At least 8 characters"},
			{"newbie", strings.Repeat("x", 73), "72 bytes"},
			{"newbie1", "newbie1", "not the same as your username"},
			{"", "", "3 to 32 characters"},
		}
		for _, tc := range cases {
			before := dbSnapshot(t, s)
			id := b.sessionID()
			r := b.signup(tc.user, tc.pass)
			if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, tc.want) || !strings.Contains(r.Body, `action="/signup"`) {
				t.Errorf("sign-up %q / %d-byte password: %d, want 400 with the form saying %q", tc.user, len(tc.pass), r.Status, tc.want)
			}
			if dbSnapshot(t, s) != before || b.sessionID() != id {
				t.Errorf("sign-up %q changed the database or the session", tc.user)
			}
		}
	})
}

// With -signup=false (SIGNUP=0) there is no sign-up: a 404 that says why,
// no account made, and no link to it.
func TestSignupOffIsAClear404AndNoLink(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL, func(c *config) { c.Signup = false })
		b := s.newBrowser(t)
		for _, path := range []string{"/", "/login"} {
			if r := b.get(path); strings.Contains(r.Body, `href="/signup`) {
				t.Errorf("%s links to sign-up while it is off", path)
			}
		}
		before := dbSnapshot(t, s)
		if r := b.get("/signup"); r.Status != http.StatusNotFound || !strings.Contains(r.Body, "Sign-up is turned off") {
			t.Errorf("GET /signup: %d, want 404 saying sign-up is off", r.Status)
		}
		if r := b.signup("newbie", "long enough"); r.Status != http.StatusNotFound || !strings.Contains(r.Body, "-signup=false") {
			t.Errorf("POST /signup: %d, want 404 saying sign-up is off", r.Status)
		}
		if dbSnapshot(t, s) != before {
			t.Error("a sign-up while it is off changed the database")
		}
	})
}

func TestSignupFlagAndEnvironment(t *testing.T) {
	t.Setenv("SIGNUP", "")
	if cfg, err := serveFlags(nil); err != nil || !cfg.Signup {
		t.Errorf("default: signup %v, %v; want on", cfg.Signup, err)
	}
	t.Setenv("SIGNUP", "0")
	if cfg, err := serveFlags(nil); err != nil || cfg.Signup {
		t.Errorf("SIGNUP=0: signup %v, %v; want off", cfg.Signup, err)
	}
	if cfg, err := serveFlags([]string{"-signup=true"}); err != nil || !cfg.Signup {
		t.Errorf("-signup=true over SIGNUP=0: %v, %v", cfg.Signup, err)
	}
	t.Setenv("SIGNUP", "")
	if cfg, err := serveFlags([]string{"-signup=false"}); err != nil || cfg.Signup {
		t.Errorf("-signup=false: %v, %v", cfg.Signup, err)
	}
	t.Setenv("SIGNUP", "maybe")
	if _, err := serveFlags(nil); err == nil || !strings.Contains(err.Error(), "SIGNUP") {
		t.Errorf("SIGNUP=maybe: %v, want an error naming SIGNUP", err)
	}
}

// Changing the password ends every other session of the account (another
// browser's cookie is refused after) and gives this one a new ID; the old
// password stops working, the new one works; the strip says both.
func TestPasswordChangeEndsOtherSessionsAndRotatesThisOne(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		b := s.newBrowser(t)
		b.signup("learner-01", "first password")
		other := s.newBrowser(t)
		other.login("learner-01", "first password")
		bystander := s.newBrowser(t)
		bystander.login("alice", "wonderland")
		wantFields(t, "/account", "/account/password", b.get("/account").Body, "current_password", "new_password", "csrf_token")
		before := b.sessionID()
		r := b.submit("/account/password", url.Values{"current_password": {"first password"}, "new_password": {"second password"}})
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/account" {
			t.Fatalf("change: %d → %q\n%s", r.Status, r.Header.Get("Location"), r.Body)
		}
		if after := b.sessionID(); after == before || sessionUser(t, s, after) != "learner-01" {
			t.Errorf("this session was not rotated (%s → %s)", ids.Prefix(before), ids.Prefix(b.sessionID()))
		}
		if st := other.apiState(); st.Session != nil {
			t.Errorf("the other browser's session survived the password change: %s", st.raw)
		}
		if r := other.get("/account"); r.Status != http.StatusSeeOther {
			t.Errorf("the other browser's cookie still opens /account: %d", r.Status)
		}
		if st := bystander.apiState(); st.Session == nil || !st.Session.Authenticated {
			t.Error("another account's session ended")
		}
		page := b.get("/account")
		for _, want := range []string{"Password changed", "Ended 1 other session(s) of learner-01 because the password changed", "ID rotated at password change"} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("the strip after the change does not say %q", want)
			}
		}
		if r := s.newBrowser(t).submit("/login", url.Values{"username": {"learner-01"}, "password": {"first password"}}); r.Status != http.StatusUnauthorized {
			t.Errorf("the old password: %d, want 401", r.Status)
		}
		s.newBrowser(t).login("learner-01", "second password")
	})
}

// A wrong current password, or a weak new one, is a 400 on the account page
// with the reason, and changes nothing: not the hash, not a session.
func TestPasswordChangeWithTheWrongCurrentChangesNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		b := s.newBrowser(t)
		b.login("bob", "builder")
		other := s.newBrowser(t)
		other.login("bob", "builder")
		for _, tc := range []struct{ current, next, want string }{
			{"not-builder", "a fine new one", "not your current password"},
			{"", "a fine new one", "Enter your current password"},
			{"builder", "short", "At least 8 characters"},
		} {
			before := dbSnapshot(t, s)
			id := b.sessionID()
			r := b.submit("/account/password", url.Values{"current_password": {tc.current}, "new_password": {tc.next}})
			if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, tc.want) || !strings.Contains(r.Body, `action="/account/password"`) {
				t.Errorf("current %q new %q: %d, want 400 with the form saying %q", tc.current, tc.next, r.Status, tc.want)
			}
			if dbSnapshot(t, s) != before || b.sessionID() != id {
				t.Errorf("current %q new %q changed the database or the session ID", tc.current, tc.next)
			}
		}
		if st := other.apiState(); st.Session == nil || !st.Session.Authenticated {
			t.Error("a refused change ended the other session")
		}
		s.newBrowser(t).login("bob", "builder")
	})
}
