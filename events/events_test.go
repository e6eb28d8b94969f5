package events

import (
	"slices"
	"strings"
	"testing"
)

// Every Kind constant has a complete row: a unique name that parses back,
// a sentence, a tone and a dashboard group. Only the constants exist (Kind is
// not a string), so this covers everything a record site can pass.
func TestEveryKindIsInTheTable(t *testing.T) {
	tones := []Tone{New, Good, Warn, Gone}
	groups := append(slices.Clone(Groups), GroupOther)
	seen := map[string]Kind{}
	for k := invalid + 1; k < numKinds; k++ {
		s := table[k]
		if s.Name == "" {
			t.Errorf("kind %d has no row in the table", k)
			continue
		}
		if other, dup := seen[s.Name]; dup {
			t.Errorf("kinds %d and %d are both named %q", other, k, s.Name)
		}
		seen[s.Name] = k
		if got, ok := Parse(s.Name); !ok || got != k || k.String() != s.Name {
			t.Errorf("Parse(%q) = %d, %v; String = %q", s.Name, got, ok, k.String())
		}
		if s.Say == nil {
			t.Errorf("%s has no sentence", s.Name)
		} else if text, tone := k.Describe(example(s)); strings.TrimSpace(text) == "" || !slices.Contains(tones, tone) {
			t.Errorf("%s describes as %q, tone %q", s.Name, text, tone)
		}
		if !slices.Contains(tones, s.Tone) {
			t.Errorf("%s has tone %q, want one of %v", s.Name, s.Tone, tones)
		}
		if !slices.Contains(groups, s.Group) {
			t.Errorf("%s has group %q, want one of %v", s.Name, s.Group, groups)
		}
		if s.Fields == nil {
			t.Errorf("%s declares no fields (use Fields{} for none)", s.Name)
		}
		for key, values := range s.Fields {
			if values != nil && len(values) == 0 {
				t.Errorf("%s: %s has an empty closed set: no value could ever be recorded", s.Name, key)
			}
		}
	}
	if len(All()) != len(seen) {
		t.Errorf("All() has %d kinds, the table %d", len(All()), len(seen))
	}
}

// example is a detail with every field set (the first closed value, or "x").
func example(s Spec) map[string]string {
	d := map[string]string{}
	for key, values := range s.Fields {
		d[key] = "x"
		if len(values) > 0 {
			d[key] = values[0]
		}
	}
	return d
}

func TestAKindOutsideTheTableIsNoKind(t *testing.T) {
	for _, k := range []Kind{invalid, numKinds, 255} {
		if s := k.Spec(); s.Name != "" {
			t.Errorf("Kind(%d) has a row: %q", k, s.Name)
		}
		if err := k.Check(map[string]string{}); err == nil {
			t.Errorf("Kind(%d).Check accepted a detail", k)
		}
		if !strings.HasPrefix(k.String(), "events.Kind(") {
			t.Errorf("Kind(%d).String() = %q", k, k.String())
		}
	}
	if _, ok := Parse("cart.exploded"); ok {
		t.Error("Parse accepted a name the table does not have")
	}
	if g := GroupOf("fixture"); g != GroupOther {
		t.Errorf("GroupOf(unknown) = %q, want other", g)
	}
}

func TestCheckRefusesUndeclaredKeysAndImpossibleValues(t *testing.T) {
	for _, tc := range []struct {
		kind    Kind
		detail  map[string]string
		wantErr string
	}{
		{SessionCreated, map[string]string{"reason": "none", "new": "Xk3f9a2b"}, ""},
		{LessonReset, map[string]string{}, ""},
		{SessionCreated, map[string]string{"reason": "none", "sku": "1"}, `has no detail "sku"`},
		{SessionCreated, map[string]string{"reason": "bored"}, `reason="bored" is not one of none, unknown`},
		{LabAttack, map[string]string{"lab": "teleport"}, `lab="teleport"`},
		{LabAttack, map[string]string{"lab": "client-side", "mode": "token", "attack": "steal"}, ""},
		{LabAttack, map[string]string{"lab": "client-side", "attack": "guess"}, `attack="guess"`},
	} {
		err := tc.kind.Check(tc.detail)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s.Check(%v) = %v, want nil", tc.kind, tc.detail, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s.Check(%v) = %v, want %q", tc.kind, tc.detail, err, tc.wantErr)
		}
	}
}

// The strip's sentences and tones, as the web layer showed them before the
// table existed (panels.go's switch): spot checks of the detail-dependent ones.
func TestDescribeReadsTheDetail(t *testing.T) {
	for _, tc := range []struct {
		kind     Kind
		detail   map[string]string
		wantText string
		wantTone Tone
	}{
		{SessionCreated, map[string]string{"reason": "none", "new": "abc"}, "New session issued: you sent no cookie, so the server minted ID abc… and sent it in Set-Cookie.", New},
		{SessionCreated, map[string]string{"reason": "expired", "new": "abc"}, "New session issued (abc…) because the ID you sent was expired.", New},
		{SessionRefused, map[string]string{"reason": "unknown", "prefix": "abc"}, "Forged or stale ID refused (abc…): no live session has it, so it was not adopted.", Warn},
		{LabAttack, map[string]string{"lab": "fixation", "mode": "weak", "outcome": "succeeded", "via": "solo"}, "Lab fixation (weak mode, solo): the attack succeeded.", Warn},
		{LabAttack, map[string]string{"lab": "fixation", "mode": "defended", "outcome": "failed", "via": "solo"}, "Lab fixation (defended mode, solo): the attack failed.", Good},
		{LabAttack, map[string]string{"lab": "client-side", "mode": "revocation", "outcome": "failed", "via": "pair", "attack": "replay"}, "Lab client-side (revocation mode, pair): the replay attack failed.", Good},
		{DBCopied, map[string]string{"from": "sqlite", "to": "mariadb", "key": "k"}, "Your session moved with db copy from SQLite to MariaDB: its key started k… in SQLite, and this server found the same key, k…, in MariaDB. Same row, same ID: you did not have to log in again.", Good},
		{CartRemoved, map[string]string{"name": "Mug", "where": "kept in the session record"}, "Cart changed: removed Mug (kept in the session record).", Gone},
	} {
		text, tone := tc.kind.Describe(tc.detail)
		if text != tc.wantText || tone != tc.wantTone {
			t.Errorf("%s: got %q (%s)\nwant %q (%s)", tc.kind, text, tone, tc.wantText, tc.wantTone)
		}
	}
}
