package labs

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"sessionlab/db"
	"sessionlab/ids"
	"sessionlab/labs/slugs"
)

// The client-side lab keeps the whole session in the value the browser
// holds: base64url(JSON), and in the signed designs a dot and an HMAC-SHA256
// of the payload (the shape of Django's signing and of a JWT, without their
// headers). Nothing of it is in a server row, except, in the revocation
// design, the IDs of tokens that logged out.

// State is what the client-side value carries.
type State struct {
	User     string `json:"user,omitempty"`
	Cart     []Line `json:"cart,omitempty"`
	IssuedAt int64  `json:"iat"` // Unix seconds
	ID       string `json:"jti"` // the token's ID: the revocation list names it
}

// Line is an item of the client-side cart, with the price the cookie says.
type Line struct {
	Item       string `json:"item"`
	PriceCents int    `json:"price_cents"`
	Qty        int    `json:"qty"`
}

// Catalog is the client-side lab shop's price list: the server's own
// prices, to compare with what a cookie claims.
var Catalog = map[string]int{"Mug": 1200, "Umbrella": 2500, "Notebook": 450, "Pen": 150}

// CatalogItems are the catalog's items in the order the page offers them.
var CatalogItems = []string{"Mug", "Umbrella", "Notebook", "Pen"}

// TokenLifetime bounds a client-side token from its issued-at: without a
// server record, an expiry written into the token is the only end it has.
const TokenLifetime = lifetime

// CookieLimit is the size browsers keep a cookie to: its name and value
// together at most 4096 bytes (RFC 6265 §6.1 asks for at least that much;
// Chromium, Firefox and Safari store no more, and drop a larger one whole).
const CookieLimit = 4096

// MaxValue bounds what the lab will decode or issue: twice the browser's
// limit, so that an oversized cookie can be shown, and no more.
const MaxValue = 2 * CookieLimit

// Verdicts: what the server made of a client-side value.
const (
	VerdictNone      = "none"      // nothing sent
	VerdictOK        = "accepted"  // decoded (and, signed, verified): the server believes it
	VerdictMalformed = "malformed" // not base64url JSON of this shape
	VerdictUnsigned  = "unsigned"  // a signed server got a value without a signature
	VerdictBadSig    = "bad-signature"
	VerdictExpired   = "expired" // issued-at older than TokenLifetime, or in the future
	VerdictRevoked   = "revoked" // on the revocation list
)

// Read is a decoded client-side value and what the server thinks of it.
type Read struct {
	State   State
	Verdict string
	Why     string // one sentence: why the verdict
	Payload string // the decoded JSON as sent ("" when it did not decode)
	Sig     string // the signature part as sent ("" when none)
}

// Accepted reports whether the server acts on the value.
func (r Read) Accepted() bool { return r.Verdict == VerdictOK }

// sign is the HMAC of a payload for one design: the mode is under the MAC,
// so a token of one lab server is no token of another.
func sign(key []byte, m Mode, payload string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(slugs.ClientSide + "." + string(m) + "." + payload))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// EncodeState is the value the lab server in mode m issues for st.
func (l Lab) EncodeState(st State, m Mode, key []byte) (string, error) {
	b, err := json.Marshal(st)
	if err != nil {
		return "", fmt.Errorf("labs: encode client-side state: %w", err)
	}
	payload := base64.RawURLEncoding.EncodeToString(b)
	if !l.SignsState(m) {
		return payload, nil
	}
	return payload + "." + sign(key, m, payload), nil
}

// ReadState decodes a value as the lab server in mode m does: weak believes
// any payload that decodes; the signed designs first check the signature,
// in constant time. Revocation is the caller's (Store.Revoked), since it is
// the one part that needs the database. Every design refuses an expired
// issued-at, which in weak mode the client can simply rewrite.
func (l Lab) ReadState(v string, m Mode, key []byte, now time.Time) Read {
	if v == "" {
		return Read{Verdict: VerdictNone, Why: "No client-side value was sent."}
	}
	if len(v) > MaxValue {
		return Read{Verdict: VerdictMalformed, Why: fmt.Sprintf("The value is %d bytes, more than this lab reads (%d).", len(v), MaxValue)}
	}
	payload, sig, hasSig := strings.Cut(v, ".")
	r := Read{Sig: sig}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		r.Verdict, r.Why = VerdictMalformed, "The value is not base64url (the part before any dot): it decodes to nothing."
		return r
	}
	r.Payload = string(raw)
	dec := json.NewDecoder(strings.NewReader(r.Payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r.State); err != nil {
		r.Verdict, r.Why = VerdictMalformed, "The value decodes, but not to this lab's JSON (user, cart, iat, jti)."
		r.State = State{}
		return r
	}
	if bad := r.State.check(); bad != "" {
		r.Verdict, r.Why = VerdictMalformed, bad
		r.State = State{}
		return r
	}
	if l.SignsState(m) {
		switch {
		case !hasSig:
			r.Verdict, r.Why = VerdictUnsigned, "The value has no signature, and this server accepts only what it signed itself."
			return r
		case !hmac.Equal([]byte(sig), []byte(sign(key, m, payload))):
			r.Verdict, r.Why = VerdictBadSig, "The signature does not match the content: the value was edited after the server signed it (or signed by another server). Refused, whatever it says."
			return r
		}
	}
	issued := time.Unix(r.State.IssuedAt, 0)
	if now.Sub(issued) > TokenLifetime || issued.After(now.Add(time.Minute)) {
		r.Verdict, r.Why = VerdictExpired, "Its issued-at ("+issued.UTC().Format("15:04:05")+" UTC) is more than "+TokenLifetime.String()+" ago or in the future: the token's own expiry, the only one it has."
		return r
	}
	r.Verdict = VerdictOK
	if l.SignsState(m) {
		r.Why = "The signature matches: the server signed exactly this content, so it believes it. It looked nothing up."
	} else {
		r.Why = "It decoded, so the server believes it: there is no signature to check and no record to compare with."
	}
	return r
}

// check refuses states no lab server would act on (it is the lab, not a
// fuzzer's playground): sane quantities and prices, short names.
func (st State) check() string {
	if len(st.User) > 64 || len(st.ID) > 64 {
		return "The user or token ID is longer than this lab allows (64)."
	}
	for _, ln := range st.Cart {
		if ln.Item == "" || len(ln.Item) > 40 || ln.Qty < 1 || ln.Qty > 99 || ln.PriceCents < 0 || ln.PriceCents > 1_000_000 {
			return "A cart line is out of range (item 1..40 characters, qty 1..99, price 0..1000000 cents)."
		}
	}
	return ""
}

// TotalCents is what the cart costs at the prices the value states.
func (st State) TotalCents() int {
	t := 0
	for _, ln := range st.Cart {
		t += ln.PriceCents * ln.Qty
	}
	return t
}

// Repriced lists the cart's items whose price differs from the catalog's.
func (st State) Repriced() []string {
	var out []string
	for _, ln := range st.Cart {
		if p, ok := Catalog[ln.Item]; !ok || p != ln.PriceCents {
			out = append(out, ln.Item)
		}
	}
	return out
}

// revokedLab is the lab_sessions "lab" of the revocation list's rows.
const revokedLab = slugs.ClientSide + ":revoked"

// Revoke puts a token ID on the revocation list, once: the row lives until
// the token would have expired anyway (then Sweep may take it).
func (s *Store) Revoke(ctx context.Context, st State) (*db.LabSession, error) {
	if row, err := s.Revoked(ctx, st.ID); row != nil || err != nil {
		return row, err
	}
	now := s.now()
	user := sql.NullString{String: st.User, Valid: st.User != ""}
	row := &db.LabSession{Lab: revokedLab, Key: ids.Hash(st.ID), Mode: string(Revocation), IDPrefix: ids.Prefix(st.ID), Username: user, Data: "{}",
		CreatedAt: now, LastSeenAt: now, ExpiresAt: sql.NullTime{Time: time.Unix(st.IssuedAt, 0).Add(TokenLifetime), Valid: true},
		Ended: "logout", EndedAt: sql.NullTime{Time: now, Valid: true}}
	if err := s.db.InsertLabSession(ctx, row); err != nil {
		// Two logouts of one token at once: the other one wrote it.
		if again, rerr := s.Revoked(ctx, st.ID); again != nil {
			return again, nil
		} else if rerr != nil {
			return nil, rerr
		}
		return nil, fmt.Errorf("labs: revoke: %w", err)
	}
	return row, nil
}

// Revoked returns the revocation list's row for a token ID, nil if none.
func (s *Store) Revoked(ctx context.Context, jti string) (*db.LabSession, error) {
	if jti == "" {
		return nil, nil
	}
	row, err := s.db.LabSession(ctx, revokedLab, ids.Hash(jti))
	if errors.Is(err, db.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("labs: revocation list: %w", err)
	}
	return row, nil
}
