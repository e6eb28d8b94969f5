package ids

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf8"
)

// alphabet is base64url's: what Base64URL must accept, and nothing else.
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func TestLenIsTheEncodedLengthOf256Bits(t *testing.T) {
	if Bytes != 32 || Len != 43 {
		t.Fatalf("Bytes = %d, Len = %d; want 32 bytes (256 bits), 43 characters", Bytes, Len)
	}
}

func TestNewIsRandomBase64URLOfLen(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := New()
		if len(id) != Len || !Base64URL(id) {
			t.Fatalf("New() = %q: want %d base64url characters", id, Len)
		}
		if b, err := base64.RawURLEncoding.DecodeString(id); err != nil || len(b) != Bytes {
			t.Fatalf("New() = %q decodes to %d bytes (%v), want %d", id, len(b), err, Bytes)
		}
		if seen[id] {
			t.Fatalf("New() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestHashIsSHA256Hex(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{"sessionid", "a781fe2dc1a122c6d4c683752d382749a62850eaef5cedb0681c97fa0b6a370d"},
	} {
		if got := Hash(c.in); got != c.want {
			t.Errorf("Hash(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestBase64URLAcceptsOnlyTheURLSafeAlphabet(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"", false},
		{"a", true},
		{alphabet, true},
		{"a-b_c", true},
		{"a+b", false}, // standard base64, not URL-safe
		{"a/b", false},
		{"abc=", false}, // padding
		{"a b", false},
		{"abc\n", false},
		{"é", false},
		{"abc\x00", false},
		{"%41", false},
	} {
		if got := Base64URL(c.in); got != c.want {
			t.Errorf("Base64URL(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestPrefixCutsAtACharacterBoundary(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"short", "short"},
		{"12345678", "12345678"},
		{"123456789", "12345678"},
		{"kB_IDDB8dSD28H5L", "kB_IDDB8"},
		{"123456éx", "123456é"},                      // é ends at byte 8: kept whole
		{"1234567é", "1234567"},                      // byte 8 is inside é: cut before it
		{"éééééé", "éééé"},                           // 2-byte runes end exactly at 8
		{"日本語のクッキー", "日本"},                           // 3-byte runes: 6 bytes, not 8
		{"🍵🧣🍵", "🍵🧣"},                                // 4-byte runes
		{"\x80\x80\x80\x80\x80\x80\x80\x80\x80", ""}, // no rune starts: nothing to show
		{"\xff\xff\xff\xff\xff\xff\xff\xff\xff", "\xff\xff\xff\xff\xff\xff\xff\xff"},
	} {
		if got := Prefix(c.in); got != c.want {
			t.Errorf("Prefix(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// FuzzIDs checks, for any string, what the rest of the program relies on:
// Base64URL agrees with the alphabet, Hash is 64 hex digits, Prefix is a
// short start of the value that never cuts a character in half.
func FuzzIDs(f *testing.F) {
	for _, s := range []string{New(), "", "short", "a+b/c=", "1234567éx", "日本語のクッキー値", "🍵🧣🍵", "\x80\x80\x80\x80\x80\x80\x80\x80\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := s != "" && strings.Trim(s, alphabet) == ""
		if got := Base64URL(s); got != want {
			t.Fatalf("Base64URL(%q) = %v, want %v", s, got, want)
		}
		if h := Hash(s); len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" || Hash(s) != h {
			t.Fatalf("Hash(%q) = %q: want the same 64 lowercase hex digits every time", s, h)
		}
		p := Prefix(s)
		if len(p) > 8 || !strings.HasPrefix(s, p) {
			t.Fatalf("Prefix(%q) = %q: want at most 8 bytes from its start", s, p)
		}
		if len(s) <= 8 && p != s {
			t.Fatalf("Prefix(%q) = %q: a short value is shown whole", s, p)
		}
		if utf8.ValidString(s) {
			if !utf8.ValidString(p) {
				t.Fatalf("Prefix(%q) = %q cuts a character in half", s, p)
			}
			if len(s) > 8 && len(p) < 8-(utf8.UTFMax-1) {
				t.Fatalf("Prefix(%q) = %q cuts more than one character", s, p)
			}
		}
	})
}

func TestValidIsTheShapeNewMints(t *testing.T) {
	for _, c := range []struct {
		v    string
		want bool
	}{
		{New(), true},
		{New()[:Len-1], false},
		{New() + "A", false},
		{strings.Repeat("A", Len-1) + "+", false},
		{strings.Repeat("-", Len), true},
		{"", false},
	} {
		if got := Valid(c.v); got != c.want {
			t.Errorf("Valid(%q) = %v, want %v", c.v, got, c.want)
		}
	}
}

func TestCutStopsAtACharacterBoundary(t *testing.T) {
	for _, c := range []struct {
		s    string
		n    int
		want string
	}{
		{"hello", 10, "hello"},
		{"hello", 3, "hel"},
		{"héllo", 2, "h"}, // é is two bytes: never half of it
		{"日本語", 4, "日"},
		{"abc", 0, ""},
	} {
		got := Cut(c.s, c.n)
		if got != c.want || !utf8.ValidString(got) {
			t.Errorf("Cut(%q, %d) = %q, want %q", c.s, c.n, got, c.want)
		}
	}
}

// A code is 100 random bits in five readable groups; every one of the 32
// characters turns up, each position varies, and CodeValid takes exactly
// that shape (lower case, dashes where NewCode puts them).
func TestNewCodeIsRandomReadableAndValid(t *testing.T) {
	seen := map[string]bool{}
	chars := map[rune]bool{}
	for range 2000 {
		c := NewCode()
		if len(c) != CodeLen || !CodeValid(c) || strings.Count(c, "-") != 4 {
			t.Fatalf("NewCode() = %q: want %d characters in five groups of four, valid", c, CodeLen)
		}
		if seen[c] {
			t.Fatalf("NewCode() repeated %q", c)
		}
		seen[c] = true
		for _, r := range strings.ReplaceAll(c, "-", "") {
			chars[r] = true
		}
	}
	if len(chars) != 32 || chars['i'] || chars['l'] || chars['o'] || chars['u'] {
		t.Fatalf("codes use %d characters (want Crockford's 32, no i l o u)", len(chars))
	}
	good := NewCode()
	for _, bad := range []string{"", good[:23], good + "0", strings.ToUpper(good), strings.ReplaceAll(good, "-", "_"),
		"i" + good[1:], "0000-0000-0000-0000-000-", New()} {
		if CodeValid(bad) {
			t.Errorf("CodeValid(%q) = true", bad)
		}
	}
}
