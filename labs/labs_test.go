package labs

import (
	"context"
	"strings"
	"testing"
	"time"

	"sessionlab/db"
	"sessionlab/ids"
)

func TestLabCookieNamesAreTheLabsOwnAndNeverTheShops(t *testing.T) {
	seen := map[string]bool{}
	for _, l := range All {
		c := l.Cookie()
		if c == "sessionid" || !strings.HasPrefix(c, "lab_") || strings.Contains(c, "-") || seen[c] {
			t.Errorf("lab %s has cookie %q", l.Slug, c)
		}
		seen[c] = true
		if got, ok := Find(l.Slug); !ok || got.Slug != l.Slug {
			t.Errorf("Find(%q) = %v, %v", l.Slug, got, ok)
		}
	}
	if _, ok := Find("teleport"); ok {
		t.Error("Find found a lab that does not exist")
	}
}

func TestParseModeAcceptsOnlyWeakAndDefended(t *testing.T) {
	for in, ok := range map[string]bool{"weak": true, "defended": true, "": false, "Weak": false, "medium": false} {
		if _, got := ParseMode(in); got != ok {
			t.Errorf("ParseMode(%q) ok = %v, want %v", in, got, ok)
		}
	}
}

func TestValidIDRefusesWhatNoLabIssues(t *testing.T) {
	for in, ok := range map[string]bool{ids.New(): true, "58492005": true, "": false, strings.Repeat("a", 65): false, "<script>": false, "a b": false, "a;b": false} {
		if ValidID(in) != ok {
			t.Errorf("ValidID(%q) = %v, want %v", in, !ok, ok)
		}
	}
}

// The store, on a real SQLite database.
func newTestStore(t *testing.T) (*Store, *time.Time) {
	t.Helper()
	d, err := db.Open(context.Background(), "sqlite:"+t.TempDir()+"/labs.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	now := time.Now().UTC().Truncate(time.Microsecond)
	return NewStore(d, func() time.Time { return now }), &now
}

func TestWeakGuessableIDsCountUpAndEveryOtherIDIsRandom(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	a, _, _ := s.Issue(ctx, "guessable-ids", Weak, "")
	b, _, _ := s.Issue(ctx, "guessable-ids", Weak, "")
	if next := predictNext(t, a); next != b {
		t.Errorf("weak IDs %s then %s: not a counter", a, b)
	}
	for _, tc := range []struct {
		lab  string
		mode Mode
	}{{"guessable-ids", Defended}, {"fixation", Weak}, {"expiry", Weak}} {
		id, _, err := s.Issue(ctx, tc.lab, tc.mode, "")
		if err != nil || len(id) != 43 {
			t.Errorf("%s %s: ID %q (%v), want 256 random bits", tc.lab, tc.mode, id, err)
		}
	}
}

func predictNext(t *testing.T, id string) string {
	t.Helper()
	var n int64
	for _, c := range id {
		if c < '0' || c > '9' {
			t.Fatalf("weak ID %q is not a number", id)
		}
		n = n*10 + int64(c-'0')
	}
	s := ""
	for n++; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

func TestLoginRotatesOnlyWhenAsked(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	for _, rotate := range []bool{false, true} {
		id, sess, _ := s.Issue(ctx, "fixation", Weak, "attacker")
		newID, _, err := s.Login(ctx, sess, id, "alice", "victim", rotate)
		if err != nil {
			t.Fatal(err)
		}
		if (newID != id) != rotate {
			t.Errorf("rotate=%v: ID %s → %s", rotate, id, newID)
		}
		old, st, _ := s.Lookup(ctx, "fixation", id)
		if want := map[bool]string{false: StateValid, true: StateEnded}[rotate]; st != want || old.User() != "alice" {
			t.Errorf("rotate=%v: the old ID is %s as %q, want %s as alice", rotate, st, old.User(), want)
		}
		if _, st, _ := s.Lookup(ctx, "fixation", newID); st != StateValid {
			t.Errorf("rotate=%v: the new ID is %s", rotate, st)
		}
	}
}

func TestExpiryLabTimesOutOnlyWhenDefended(t *testing.T) {
	s, now := newTestStore(t)
	ctx := context.Background()
	for _, tc := range []struct {
		mode Mode
		want string
	}{{Weak, StateValid}, {Defended, StateExpired}} {
		busyID, _, _ := s.Issue(ctx, "expiry", tc.mode, "")
		start := *now
		// The busy one is used every few seconds: only the absolute timeout ends it.
		for *now = start; now.Sub(start) < AbsoluteTimeout; *now = now.Add(IdleTimeout / 2) {
			if _, st, _ := s.Lookup(ctx, "expiry", busyID); st != StateValid {
				t.Fatalf("%s: a busy session ended after %s (%s)", tc.mode, now.Sub(start), st)
			}
			sess, _, _ := s.Lookup(ctx, "expiry", busyID)
			s.Touch(ctx, sess)
		}
		if _, st, _ := s.Lookup(ctx, "expiry", busyID); st != tc.want {
			t.Errorf("%s: after the absolute timeout the busy session is %s, want %s", tc.mode, st, tc.want)
		}
		idleID, _, _ := s.Issue(ctx, "expiry", tc.mode, "")
		*now = now.Add(IdleTimeout - time.Second)
		sess, st, _ := s.Lookup(ctx, "expiry", idleID)
		if st != StateValid {
			t.Fatalf("%s: before the idle timeout the session is %s", tc.mode, st)
		}
		s.Touch(ctx, sess) // a request: the idle clock restarts, the absolute one does not
		*now = now.Add(IdleTimeout + time.Second)
		if _, st, _ := s.Lookup(ctx, "expiry", idleID); st != tc.want {
			t.Errorf("%s: after the idle timeout the idle session is %s, want %s", tc.mode, st, tc.want)
		}
		*now = start
	}
}

func TestWeakLogoutKeepsTheRowAndDefendedEndsIt(t *testing.T) {
	s, _ := newTestStore(t)
	ctx := context.Background()
	for _, keep := range []bool{true, false} {
		id, sess, _ := s.Issue(ctx, "logout-replay", Weak, "")
		if err := s.Logout(ctx, sess, keep); err != nil {
			t.Fatal(err)
		}
		if _, st, _ := s.Lookup(ctx, "logout-replay", id); (st == StateValid) != keep {
			t.Errorf("keep=%v: after logout the ID is %s", keep, st)
		}
	}
}
