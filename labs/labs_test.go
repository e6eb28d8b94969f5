package labs

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"testing"
	"time"

	"sessionlab/db"
	"sessionlab/ids"
	"sessionlab/labs/slugs"
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

// Each lab accepts only its own modes: the client-side lab its four designs.
func TestLabParseModeKnowsEachLabsModes(t *testing.T) {
	cs, _ := Find("client-side")
	fix, _ := Find("fixation")
	for _, tc := range []struct {
		l    Lab
		in   string
		want bool
	}{{cs, "signed", true}, {cs, "revocation", true}, {cs, "token", true}, {cs, "weak", true}, {cs, "defended", false},
		{fix, "defended", true}, {fix, "signed", false}, {fix, "token", false}} {
		if _, ok := tc.l.ParseMode(tc.in); ok != tc.want {
			t.Errorf("%s.ParseMode(%q) ok = %v, want %v", tc.l.Slug, tc.in, ok, tc.want)
		}
	}
}

// ReadState: weak believes any payload that decodes; the signed designs
// refuse an edit, a missing signature, another design's signature and an
// expired issued-at.
func TestClientSideReadState(t *testing.T) {
	l, _ := Find("client-side")
	key, now := []byte("k"), time.Unix(1_800_000_000, 0)
	st := State{User: "alice", IssuedAt: now.Unix(), ID: "j"}
	signed, _ := l.EncodeState(st, Signed, key)
	weak, _ := l.EncodeState(st, Weak, key)
	payload, sig, _ := strings.Cut(signed, ".")
	edited, _ := l.EncodeState(State{User: "bob", IssuedAt: now.Unix(), ID: "j"}, Weak, key)
	old, _ := l.EncodeState(State{User: "alice", IssuedAt: now.Add(-3 * time.Hour).Unix(), ID: "j"}, Signed, key)
	revSigned, _ := l.EncodeState(st, Revocation, key)
	for _, tc := range []struct {
		name, v string
		m       Mode
		want    string
	}{
		{"weak own", weak, Weak, VerdictOK},
		{"weak edited", edited, Weak, VerdictOK},
		{"signed own", signed, Signed, VerdictOK},
		{"signed edited", edited + "." + sig, Signed, VerdictBadSig},
		{"signed without signature", payload, Signed, VerdictUnsigned},
		{"another design's signature", revSigned, Signed, VerdictBadSig},
		{"signed, too old", old, Signed, VerdictExpired},
		{"garbage", "%%%", Signed, VerdictMalformed},
		{"oversized", strings.Repeat("A", MaxValue+1), Weak, VerdictMalformed},
	} {
		if got := l.ReadState(tc.v, tc.m, key, now).Verdict; got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
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

// All is slugs.All's list, in its order, each lab described and numbered.
func TestAllIsTheOneListOfSlugsDescribed(t *testing.T) {
	list := slugs.All()
	if len(All) != len(list) {
		t.Fatalf("All has %d labs, slugs.All %d", len(All), len(list))
	}
	for i, l := range All {
		if l.Slug != list[i] || l.Number != i+1 || l.Title == "" || l.Summary == "" || l.Weak == "" || l.Defence == "" {
			t.Errorf("All[%d] = %+v: want lab %d, %s, described", i, l, i+1, list[i])
		}
	}
}

// Each lab is weak in one way only: a rule gives its weak answer in its own
// lab (in weak mode, except where the lab needs it in both) and the defended
// answer everywhere else, so a lab teaches one weakness at a time.
func TestEachRuleIsWeakOnlyInItsOwnLab(t *testing.T) {
	type at struct {
		lab  string
		mode Mode
	}
	rules := []struct {
		name string
		weak func(Lab, Mode) bool
		in   []at
	}{
		{"takes an ID from ?sid=", func(l Lab, _ Mode) bool { return l.AdoptsSIDParam() },
			[]at{{slugs.Fixation, Weak}, {slugs.Fixation, Defended}}},
		{"keeps the ID at login", func(l Lab, m Mode) bool { return !l.RotatesAtLogin(m) },
			[]at{{slugs.Fixation, Weak}, {slugs.GuessableIDs, Weak}}},
		{"keeps the row at logout", Lab.KeepsRowAtLogout, []at{{slugs.LogoutReplay, Weak}}},
		{"cookie readable by scripts", func(l Lab, m Mode) bool { return !l.HTTPOnly(m) }, []at{{slugs.CookieTheft, Weak}}},
		{"cookie sent cross-site", Lab.SameSiteNone, []at{{slugs.CrossSite, Weak}}},
		{"forms need no CSRF token", func(l Lab, m Mode) bool { return l.HasCSRFToken() && !l.ChecksCSRFToken(m) }, []at{{slugs.CrossSite, Weak}}},
		{"IDs from a counter", Lab.CounterIDs, []at{{slugs.GuessableIDs, Weak}}},
		{"never expires", func(l Lab, m Mode) bool { _, ok := l.ExpiresAt(m, time.Now(), time.Now()); return !ok }, []at{{slugs.Expiry, Weak}}},
	}
	for _, r := range rules {
		for _, l := range append(All, Lab{}) {
			for _, m := range []Mode{Weak, Defended} {
				if got, want := r.weak(l, m), slices.Contains(r.in, at{l.Slug, m}); got != want {
					t.Errorf("%q in lab %q, %s: %v, want %v", r.name, l.Slug, m, got, want)
				}
			}
		}
	}
}

// The defended expiry lab ends a session at the earlier of its idle and
// absolute deadlines; every other lab after a fixed lifetime.
func TestExpiresAtAppliesTheLabsTimeouts(t *testing.T) {
	created := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	expiry, _ := Find(slugs.Expiry)
	fixation, _ := Find(slugs.Fixation)
	for _, tc := range []struct {
		lab  Lab
		mode Mode
		seen time.Time
		want time.Time
	}{
		{expiry, Defended, created, created.Add(IdleTimeout)},
		{expiry, Defended, created.Add(AbsoluteTimeout - time.Second), created.Add(AbsoluteTimeout)},
		{fixation, Weak, created.Add(time.Hour), created.Add(lifetime)},
		{fixation, Defended, created, created.Add(lifetime)},
	} {
		if got, ok := tc.lab.ExpiresAt(tc.mode, created, tc.seen); !ok || !got.Equal(tc.want) {
			t.Errorf("%s %s seen at +%s: expires %v (%v), want +%s", tc.lab.Slug, tc.mode, tc.seen.Sub(created), got.Sub(created), ok, tc.want.Sub(created))
		}
	}
}

// FuzzReadState: whatever a browser sends as the client-side value, every
// design answers with a verdict (never a panic), and only a value it
// accepted carries a state.
func FuzzReadState(f *testing.F) {
	l, _ := Find("client-side")
	key, now := []byte("k"), time.Unix(1_800_000_000, 0)
	good, _ := l.EncodeState(State{User: "alice", Cart: []Line{{Item: "Mug", PriceCents: 1200, Qty: 1}}, IssuedAt: now.Unix(), ID: "j"}, Signed, key)
	badQty := base64.RawURLEncoding.EncodeToString([]byte(`{"user":"x","cart":[{"item":"Mug","price_cents":1,"qty":-5}],"iat":1,"jti":"j"}`))
	for _, seed := range []string{"", good, good + "x", "e30", "e30.", ".", "%%%", `eyJ1c2VyIjoxfQ`, badQty, strings.Repeat("A", 100)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, m := range l.Modes() {
			r := l.ReadState(v, m, key, now)
			if r.Verdict == "" || r.Why == "" {
				t.Fatalf("%s: %q gave no verdict", m, v)
			}
			if !r.Accepted() && (r.State.User != "" || len(r.State.Cart) > 0) && r.Verdict == VerdictMalformed {
				t.Fatalf("%s: a malformed value kept a state: %+v", m, r.State)
			}
		}
	})
}
