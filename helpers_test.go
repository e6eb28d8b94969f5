package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// apiStateJSON is GET /api/state as docs/CONTRACT.md specifies it.
type apiStateJSON struct {
	Cookie struct {
		Name    string `json:"name"`
		Present bool   `json:"present"`
		Prefix  string `json:"prefix"`
		Length  int    `json:"length"`
	} `json:"cookie"`
	Session *struct {
		KeyPrefix     string          `json:"key_prefix"`
		Authenticated bool            `json:"authenticated"`
		User          *string         `json:"user"`
		CreatedAt     string          `json:"created_at"`
		ExpiresAt     string          `json:"expires_at"`
		Data          json.RawMessage `json:"data"`
	} `json:"session"`
	Cart struct {
		Owner string `json:"owner"`
		Items []struct {
			ProductID      int64  `json:"product_id"`
			Name           string `json:"name"`
			Quantity       int    `json:"quantity"`
			UnitPriceCents int64  `json:"unit_price_cents"`
		} `json:"items"`
		TotalCents int64 `json:"total_cents"`
	} `json:"cart"`
	raw string
}

// apiState reads /api/state; it fails the test unless it is 200 JSON.
func (b *browser) apiState() apiStateJSON {
	b.t.Helper()
	r := b.get("/api/state")
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		b.t.Fatalf("/api/state: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	var s apiStateJSON
	if err := json.Unmarshal([]byte(r.Body), &s); err != nil {
		b.t.Fatalf("/api/state: %v\n%s", err, r.Body)
	}
	s.raw = r.Body
	return s
}

// quantities is the cart as product → quantity.
func (s apiStateJSON) quantities() map[int64]int {
	m := map[int64]int{}
	for _, it := range s.Cart.Items {
		m[it.ProductID] = it.Quantity
	}
	return m
}

// add puts q of a product in the cart through the form and checks the 303.
func (b *browser) add(productID, q string) {
	b.t.Helper()
	r := b.submit("/cart/add", url.Values{"product_id": {productID}, "quantity": {q}})
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/cart" {
		b.t.Fatalf("add %s×%s: %d → %q", productID, q, r.Status, r.Header.Get("Location"))
	}
}

// dbSnapshot is every row the shop's state lives in, as text, to prove that
// a refused request changed nothing. Of a session row it keeps what the
// learner owns (key, user, the anonymous cart, the CSRF token, whose
// progress it counts for and whether by a link), not the
// last-seen time or lesson progress, which a refusal may move on.
func dbSnapshot(t *testing.T, s *testServer) string {
	t.Helper()
	var out []string
	var sessions []struct {
		Key  string        `db:"key"`
		User sql.NullInt64 `db:"user_id"`
		Data string        `db:"data"`
		// Whose progress it counts for, and whether through a link code.
		Learner  string       `db:"learner"`
		LinkedAt sql.NullTime `db:"linked_at"`
	}
	if err := s.db.W.Select(&sessions, "SELECT `key`, user_id, data, learner, linked_at FROM sessions ORDER BY `key`"); err != nil {
		t.Fatalf("snapshot sessions: %v", err)
	}
	for _, r := range sessions {
		var d struct {
			CSRF string          `json:"csrf_token"`
			Cart json.RawMessage `json:"cart"`
		}
		json.Unmarshal([]byte(r.Data), &d)
		out = append(out, fmt.Sprintf("session %s user=%v csrf=%s cart=%s learner=%s linked=%v", r.Key, r.User, d.CSRF, d.Cart, r.Learner, r.LinkedAt.Valid))
	}
	for _, q := range []string{
		"SELECT user_id, product_id, quantity FROM cart_items ORDER BY user_id, product_id",
		"SELECT id, user_id, body FROM notes ORDER BY id",
		"SELECT id, username, password_hash FROM users ORDER BY id",
	} {
		rows, err := s.db.W.Queryx(q)
		if err != nil {
			t.Fatalf("snapshot %s: %v", q, err)
		}
		for rows.Next() {
			cols, err := rows.SliceScan()
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, c := range cols {
				if b, ok := c.([]byte); ok {
					c = string(b)
				}
				parts = append(parts, fmt.Sprint(c))
			}
			out = append(out, strings.Join(parts, "|"))
		}
		rows.Close()
		out = append(out, "--")
	}
	return strings.Join(out, "\n")
}

var noteIDRe = regexp.MustCompile(`/notes/(\d+)/delete`)

// noteIDs are the delete links on the /notes page.
func (b *browser) noteIDs() []string {
	b.t.Helper()
	r := b.get("/notes")
	var ids []string
	for _, m := range noteIDRe.FindAllStringSubmatch(r.Body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// newBrowserFrom is a browser whose requests come from the loopback address
// ip (any 127.x.y.z is this machine on Linux): one machine of a class, a
// script or a learner, as the server's per-address limits see them
// (TECH-NOTES.md).
func (s *testServer) newBrowserFrom(t testing.TB, ip string) *browser {
	t.Helper()
	b := s.newBrowser(t)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	b.client.Transport = &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4}
	return b
}

// classAddress is the i-th of a block of loopback addresses (127.0.1.1 on),
// one per learner of a room.
func classAddress(i int) string {
	return net.IPv4(127, 0, byte(1+i/250), byte(1+i%250)).String()
}
