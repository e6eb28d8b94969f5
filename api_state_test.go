package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"sessionlab/ids"
)

// keysOf decodes a JSON object and returns its members.
func keysOf(t *testing.T, raw json.RawMessage) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not a JSON object: %s", raw)
	}
	return m
}

func wantKeys(t *testing.T, what string, m map[string]json.RawMessage, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: key %q missing (docs/CONTRACT.md)", what, k)
		}
	}
}

// GET /api/state has exactly docs/CONTRACT.md's shape in every state: no session,
// anonymous, logged in with an empty and a full cart. items is always a
// list (never null) and session.user is always present (null when anonymous).
func TestAPIStateShape(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		b := srv.newBrowser(t)
		check := func(what string, wantSession bool) map[string]json.RawMessage {
			t.Helper()
			r := b.get("/api/state")
			if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("%s: %d %s", what, r.Status, r.Header.Get("Content-Type"))
			}
			top := keysOf(t, json.RawMessage(r.Body))
			wantKeys(t, what, top, "cookie", "session", "cart")
			wantKeys(t, what+" cookie", keysOf(t, top["cookie"]), "name", "present", "prefix", "length")
			cart := keysOf(t, top["cart"])
			wantKeys(t, what+" cart", cart, "owner", "items", "total_cents")
			if string(cart["items"]) == "null" || !strings.HasPrefix(string(cart["items"]), "[") {
				t.Errorf("%s: cart.items = %s, want a list", what, cart["items"])
			}
			if !wantSession {
				if string(top["session"]) != "null" {
					t.Errorf("%s: session = %s, want null", what, top["session"])
				}
				return nil
			}
			sess := keysOf(t, top["session"])
			wantKeys(t, what+" session", sess, "key_prefix", "authenticated", "user", "created_at", "expires_at", "data")
			for _, k := range []string{"created_at", "expires_at"} {
				var ts string
				json.Unmarshal(sess[k], &ts)
				if _, err := time.Parse(time.RFC3339, ts); err != nil {
					t.Errorf("%s: session.%s = %s, not RFC3339", what, k, sess[k])
				}
			}
			if id := b.sessionID(); id != "" && strings.Contains(r.Body, id) {
				t.Errorf("%s: /api/state echoes the whole session ID", what)
			}
			return sess
		}

		check("no cookie", false)
		if b.sessionID() != "" {
			t.Fatal("/api/state issued a session; it only reads one")
		}
		b.setSessionID(ids.New())
		check("forged cookie", false)

		b = srv.newBrowser(t)
		b.get("/")
		sess := check("anonymous", true)
		if string(sess["user"]) != "null" || string(sess["authenticated"]) != "false" {
			t.Errorf("anonymous: user %s authenticated %s, want null false", sess["user"], sess["authenticated"])
		}
		st := b.apiState()
		if st.Cookie.Name != cookieName || !st.Cookie.Present || st.Cookie.Length != len(b.sessionID()) || !strings.HasPrefix(b.sessionID(), st.Cookie.Prefix) || len(st.Cookie.Prefix) > 8 {
			t.Errorf("cookie = %+v for ID %s…", st.Cookie, ids.Prefix(b.sessionID()))
		}
		if st.Session.KeyPrefix != ids.Prefix(ids.Hash(b.sessionID())) {
			t.Errorf("key_prefix %q is not the prefix of the stored key (SHA-256 of the ID)", st.Session.KeyPrefix)
		}
		if st.Cart.Owner != "anonymous" {
			t.Errorf("cart.owner = %q", st.Cart.Owner)
		}

		b.login("alice", "wonderland")
		sess = check("alice, empty cart", true)
		if string(sess["user"]) != `"alice"` || string(sess["authenticated"]) != "true" {
			t.Errorf("alice: user %s authenticated %s", sess["user"], sess["authenticated"])
		}
		b.add("2", "3")
		check("alice, one line", true)
		st = b.apiState()
		if st.Cart.Owner != "alice" || len(st.Cart.Items) != 1 || st.Cart.Items[0].ProductID != 2 || st.Cart.Items[0].Quantity != 3 || st.Cart.Items[0].Name == "" {
			t.Fatalf("cart = %+v", st.Cart)
		}
		if st.Cart.TotalCents != 3*st.Cart.Items[0].UnitPriceCents || st.Cart.TotalCents <= 0 {
			t.Errorf("total_cents %d for 3 × %d", st.Cart.TotalCents, st.Cart.Items[0].UnitPriceCents)
		}
		var data map[string]any
		json.Unmarshal(st.Session.Data, &data)
		if tok, _ := data["csrf_token"].(string); len(tok) > 12 {
			t.Errorf("session.data.csrf_token shown whole: %q", tok)
		}
		if r := b.get("/api/state"); r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("/api/state Cache-Control = %q", r.Header.Get("Cache-Control"))
		}
	})
}

// GET /healthz answers 200 {"status":"ok","db":dialect}.
func TestHealthz(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		r := srv.newBrowser(t).get("/healthz")
		var h struct{ Status, DB string }
		json.Unmarshal([]byte(r.Body), &h)
		if r.Status != http.StatusOK || h.Status != "ok" || h.DB != srv.db.Dialect() {
			t.Fatalf("healthz: %d %s", r.Status, r.Body)
		}
		srv.db.W.Close() // the database goes away
		r = srv.newBrowser(t).get("/healthz")
		if r.Status != http.StatusServiceUnavailable {
			t.Fatalf("healthz with the database closed: %d %s", r.Status, r.Body)
		}
	})
}
