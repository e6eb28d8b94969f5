// Package ids mints, hashes and shows session IDs: the shop's sessions and
// the attack labs' sessions use the same few lines, so they live here once.
package ids

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// Bytes is the entropy of an ID: 256 bits from crypto/rand, far past
// OWASP's 64-bit minimum, so guessing a live ID is hopeless.
// https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html#session-id-entropy
const Bytes = 32

// Len is the length of an ID in unpadded base64url.
var Len = base64.RawURLEncoding.EncodedLen(Bytes)

// New returns a fresh random ID (or CSRF token), base64url.
func New() string {
	b := make([]byte, Bytes)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error()) // the OS has no randomness: nothing is safe to do
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash is the key under which an ID is stored: SHA-256 hex. A table of
// hashes holds no cookie that could be replayed.
func Hash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// Base64URL reports whether v is non-empty and made only of base64url
// characters: the shape of an ID worth looking up.
func Base64URL(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Valid reports whether v has the shape of an ID this package mints: Len
// base64url characters. Anything else is refused before it reaches a
// database.
func Valid(v string) bool { return len(v) == Len && Base64URL(v) }

// Prefix shows the start of a secret: enough to tell two apart, far too
// little to use. Pages never echo a whole ID (that would defeat HttpOnly).
// It cuts at a character boundary, so an odd cookie value stays valid UTF-8.
func Prefix(s string) string { return Cut(s, 8) }

// Cut shortens s to at most n bytes at a character boundary, so what is
// shown or stored stays valid UTF-8.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// codeAlphabet is Crockford's base32 in lower case: no i, l, o or u, so a
// code read off a screen is not misread.
const codeAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// CodeLen is the length of a code NewCode mints: 20 characters of 5 bits
// (100 bits) in five groups of four, dash-separated.
const CodeLen = 24

// NewCode returns a fresh one-time code, such as the link code a lesson page
// shows for a terminal: 100 bits from crypto/rand, so no one guesses a live
// one within any number of tries a throttle lets through, yet short enough
// to read aloud. Visibly not a session ID: a page may show it whole.
func NewCode() string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	out := make([]byte, 0, CodeLen)
	for i, v := range b {
		if i > 0 && i%4 == 0 {
			out = append(out, '-')
		}
		out = append(out, codeAlphabet[v&31])
	}
	return string(out)
}

// CodeValid reports whether v has the shape NewCode mints (lower case).
func CodeValid(v string) bool {
	if len(v) != CodeLen {
		return false
	}
	for i := 0; i < len(v); i++ {
		if i%5 == 4 {
			if v[i] != '-' {
				return false
			}
		} else if !strings.ContainsRune(codeAlphabet, rune(v[i])) {
			return false
		}
	}
	return true
}
