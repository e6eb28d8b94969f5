package main

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"sessionlab/ids"
	"sessionlab/labs"
)

// The client-side lab (issue 17), over real HTTP on both databases: the
// state lives in the lab cookie, so an edit works against the weak server
// and is refused by the signed ones; a copy replayed after logout works
// against the signed server and is refused with revocation, as the shop's
// server-side session refuses it; and the lab's site never reads or sets
// sessionid.

const csCookie = "lab_client_side"

// csLogin logs a browser in on the client-side lab site and returns the
// lab value it got.
func csLogin(t *testing.T, b *browser, mode, user, pass string) string {
	t.Helper()
	r := b.post("/lab/client-side/site/login?mode="+mode, url.Values{"username": {user}, "password": {pass}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("%s: lab login %s: %d\n%s", mode, user, r.Status, r.Body)
	}
	v := labCookie(b, csCookie)
	if v == "" {
		t.Fatalf("%s: the lab login set no %s", mode, csCookie)
	}
	return v
}

// csEditValue edits a value as an attacker does: JSON changed, signature kept.
func csEditValue(t *testing.T, v string, edit func(m map[string]any)) string {
	t.Helper()
	payload, sig, signed := strings.Cut(v, ".")
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		t.Fatalf("the lab value is not base64url: %v", err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("the lab value is not JSON: %v (%s)", err, raw)
	}
	edit(m)
	b, _ := json.Marshal(m)
	out := base64.RawURLEncoding.EncodeToString(b)
	if signed {
		out += "." + sig
	}
	return out
}

// csAccountWith opens the account page with exactly this lab value.
func csAccountWith(s *testServer, t *testing.T, mode, v string) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/lab/client-side/site/account?mode="+mode, nil)
	req.AddCookie(&http.Cookie{Name: csCookie, Value: v})
	return s.newBrowser(t).do(req)
}

func TestClientSideLabTamperingWorksOnlyUnsigned(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		for _, tc := range []struct {
			mode      string
			wantUser  string
			wantState string
		}{{"weak", "bob", labs.VerdictOK}, {"signed", "", labs.VerdictBadSig}, {"revocation", "", labs.VerdictBadSig}} {
			b := s.newBrowser(t)
			csLogin(t, b, tc.mode, "alice", "wonderland")
			if r := b.post("/lab/client-side/site/cart/add?mode="+tc.mode, url.Values{"item": {"Mug"}, "quantity": {"2"}}); r.Status != http.StatusSeeOther {
				t.Fatalf("%s: add: %d", tc.mode, r.Status)
			}
			v := labCookie(b, csCookie)
			if own := csAccountWith(s, t, tc.mode, v); own.Status != http.StatusOK || own.Header.Get("X-Lab-User") != "alice" {
				t.Fatalf("%s: alice's own value: %d user %q", tc.mode, own.Status, own.Header.Get("X-Lab-User"))
			}
			edited := csEditValue(t, v, func(m map[string]any) {
				m["user"] = "bob"
				m["cart"].([]any)[0].(map[string]any)["price_cents"] = 1
			})
			r := csAccountWith(s, t, tc.mode, edited)
			if got := r.Header.Get("X-Lab-User"); got != tc.wantUser || r.Header.Get("X-Lab-State") != tc.wantState {
				t.Errorf("%s: the edited value opened user %q (%s), want %q (%s)", tc.mode, got, r.Header.Get("X-Lab-State"), tc.wantUser, tc.wantState)
			}
			if tc.mode == "weak" {
				if r.Status != http.StatusOK || !strings.Contains(r.Body, `data-total="$0.02"`) || !strings.Contains(r.Body, `data-record="none"`) {
					t.Errorf("weak: the page should charge $0.02 for two mugs at the edited price and say the server has no row:\n%s", r.Body)
				}
			} else if r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, "edited after the server signed it") {
				t.Errorf("%s: an edited value: %d, want 401 saying why", tc.mode, r.Status)
			}
			// The same edit through the lab page's form is recorded for the lessons.
			b.get("/")
			b.setLabMode("client-side", tc.mode)
			use := b.post("/lab/client-side/use", url.Values{"attack": {"tamper"}, "value": {edited}, "csrf_token": {b.csrf("/lab/client-side")}})
			if use.Status != http.StatusSeeOther {
				t.Fatalf("%s: use: %d\n%s", tc.mode, use.Status, use.Body)
			}
			want := map[bool]string{true: "succeeded", false: "failed"}[tc.mode == "weak"]
			if !hasEvent(labEvents(t, s, "lab.attack"), map[string]string{"lab": "client-side", "mode": tc.mode, "attack": "tamper", "outcome": want}) {
				t.Errorf("%s: no lab.attack tamper %s", tc.mode, want)
			}
		}
		// No row was written for any of it: the state is in the cookie.
		if n := countRows(t, s, "lab_sessions"); n != 0 {
			t.Errorf("lab_sessions has %d rows; the weak and signed designs keep none", n)
		}
	})
}

func TestClientSideLabReplayAfterLogout(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		for _, tc := range []struct {
			mode string
			ok   bool
		}{{"weak", true}, {"signed", true}, {"revocation", false}} {
			b := s.newBrowser(t)
			copied := csLogin(t, b, tc.mode, "bob", "builder")
			out := b.post("/lab/client-side/site/logout?mode="+tc.mode, nil)
			if out.Status != http.StatusSeeOther || labCookie(b, csCookie) != "" {
				t.Fatalf("%s: logout: %d, cookie left %q", tc.mode, out.Status, labCookie(b, csCookie))
			}
			r := csAccountWith(s, t, tc.mode, copied)
			if (r.Header.Get("X-Lab-User") == "bob") != tc.ok {
				t.Errorf("%s: the copy replayed after logout opened %q (%s)", tc.mode, r.Header.Get("X-Lab-User"), r.Header.Get("X-Lab-State"))
			}
			if !tc.ok && (r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, `data-record="revoked"`) || !strings.Contains(r.Body, "client-side:revoked")) {
				t.Errorf("%s: the refused replay should show the revocation row that came back:\n%s", tc.mode, r.Body)
			}
			// The same replay by hand, recorded.
			b.get("/")
			b.setLabMode("client-side", tc.mode)
			use := b.post("/lab/client-side/use", url.Values{"attack": {"replay"}, "from": {"partner"}, "value": {csCookie + "=" + copied}, "csrf_token": {b.csrf("/lab/client-side")}})
			if use.Status != http.StatusSeeOther {
				t.Fatalf("%s: use: %d\n%s", tc.mode, use.Status, use.Body)
			}
			want := map[bool]string{true: "succeeded", false: "failed"}[tc.ok]
			if !hasEvent(labEvents(t, s, "lab.attack"), map[string]string{"lab": "client-side", "mode": tc.mode, "attack": "replay", "outcome": want, "via": "pair"}) {
				t.Errorf("%s: no pair lab.attack replay %s", tc.mode, want)
			}
		}
		// The shop, replayed the same way, refuses: its logout deleted the row.
		shop := s.newBrowser(t)
		shop.login("bob", "builder")
		old := shop.sessionID()
		shop.submit("/logout", nil)
		shop.setSessionID(old)
		if r := shop.get("/account"); r.Status != http.StatusSeeOther {
			t.Errorf("the shop's cookie replayed after logout: /account = %d, want a redirect to /login", r.Status)
		}
	})
}

// Alone: the simulator's two cookie jars run both attacks in each mode.
func TestClientSideLabSimulator(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		b := s.newBrowser(t)
		b.get("/")
		for _, tc := range []struct{ mode, tamper, replay string }{
			{"weak", "succeeded", "succeeded"}, {"signed", "failed", "succeeded"}, {"revocation", "failed", "failed"},
		} {
			b.setLabMode("client-side", tc.mode)
			page := b.simulate("client-side", "all", nil)
			if got := pageOutcome(t, page.Body); got != tc.replay {
				t.Errorf("%s: the page says the last attack %s, want %s", tc.mode, got, tc.replay)
			}
			evs := labEvents(t, s, "lab.attack")
			for attack, want := range map[string]string{"tamper": tc.tamper, "replay": tc.replay} {
				if !hasEvent(evs, map[string]string{"lab": "client-side", "mode": tc.mode, "attack": attack, "outcome": want, "via": "solo"}) {
					t.Errorf("%s: no solo %s %s event in %v", tc.mode, attack, want, evs)
				}
			}
			if !strings.Contains(html.UnescapeString(page.Body), `"user":"bob"`) {
				t.Errorf("%s: the panels should show the decoded cookies", tc.mode)
			}
		}
		b.setLabMode("client-side", "token")
		form := url.Values{"step": {"all"}, "csrf_token": {b.csrf("/lab/client-side")}}
		if r := b.post("/lab/client-side/sim", form); r.Status != http.StatusConflict {
			t.Errorf("the simulator in token mode: %d, want 409 (it runs in a real browser)", r.Status)
		}
	})
}

// The lab's site never sets sessionid and never reads it: a logged-in shop
// session sent along opens nothing there, and is left as it was.
func TestClientSideLabNeverTouchesSessionid(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		alice := s.newBrowser(t)
		alice.login("alice", "wonderland")
		shopID := alice.sessionID()
		var seen time.Time
		readSeen := func() time.Time {
			var got time.Time
			if err := s.db.R.Get(&got, "SELECT last_seen_at FROM sessions WHERE `key` = ?", ids.Hash(shopID)); err != nil {
				t.Fatal(err)
			}
			return got
		}
		seen = readSeen()
		s.clock.Advance(time.Minute)
		sessions := countRows(t, s, "sessions")
		for _, mode := range []string{"weak", "signed", "revocation", "token"} {
			q := "?mode=" + mode
			for _, r := range []response{
				alice.get("/lab/client-side/site" + q),
				alice.get("/lab/client-side/site/account" + q),
				alice.post("/lab/client-side/site/login"+q, url.Values{"username": {"alice"}, "password": {"wonderland"}}),
				alice.post("/lab/client-side/site/cart/add"+q, url.Values{"item": {"Pen"}, "quantity": {"1"}}),
				alice.post("/lab/client-side/site/logout"+q, nil),
				alice.get("/lab/client-side/site/account?mode=nonsense"),
				s.newBrowser(t).get("/lab/client-side/site" + q),
			} {
				for _, h := range r.Header.Values("Set-Cookie") {
					if strings.HasPrefix(h, cookieName+"=") {
						t.Errorf("%s: the lab site set sessionid: %s", mode, h)
					}
				}
			}
			// A logged-in shop cookie opens no lab account: the lab reads only its own value.
			if r := alice.get("/lab/client-side/site/account" + q); r.Status != http.StatusUnauthorized || r.Header.Get("X-Lab-User") != "" {
				t.Errorf("%s: with only sessionid (alice, logged in) the lab account page answered %d as %q", mode, r.Status, r.Header.Get("X-Lab-User"))
			}
		}
		// Even a valid lab value sent under the name sessionid is not read.
		v := csLogin(t, s.newBrowser(t), "signed", "bob", "builder")
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/lab/client-side/site/account?mode=signed", nil)
		req.AddCookie(&http.Cookie{Name: cookieName, Value: v})
		if r := s.newBrowser(t).do(req); r.Status != http.StatusUnauthorized {
			t.Errorf("a lab value in sessionid opened %q", r.Header.Get("X-Lab-User"))
		}
		if got := readSeen(); !got.Equal(seen) {
			t.Errorf("the shop session's last_seen_at moved from %v to %v: the lab site read sessionid", seen, got)
		}
		if n := countRows(t, s, "sessions"); n != sessions {
			t.Errorf("sessions %d → %d: the lab site made shop sessions", sessions, n)
		}
	})
}

func TestClientSideLabBadInput(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		b := s.newBrowser(t)
		b.get("/")
		bad := map[string]string{
			"garbage":     "<script>alert(1)</script>",
			"bad base64":  "!!!notbase64!!!",
			"not JSON":    base64.RawURLEncoding.EncodeToString([]byte("hello")),
			"wrong shape": base64.RawURLEncoding.EncodeToString([]byte(`{"user":1}`)),
			"bad qty":     base64.RawURLEncoding.EncodeToString([]byte(`{"user":"bob","cart":[{"item":"Mug","price_cents":1,"qty":-5}],"iat":1,"jti":"x"}`)),
		}
		for name, v := range bad {
			for _, mode := range []string{"weak", "signed"} {
				req, _ := http.NewRequest(http.MethodGet, s.URL+"/lab/client-side/site?mode="+mode, nil)
				req.AddCookie(&http.Cookie{Name: csCookie, Value: url.QueryEscape(v)})
				r := s.newBrowser(t).do(req)
				if r.Status != http.StatusOK || !strings.Contains(r.Body, `data-verdict="malformed"`) {
					t.Errorf("%s, %s: site page %d, want 200 saying malformed", name, mode, r.Status)
				}
				if strings.Contains(r.Body, "<script>alert") {
					t.Errorf("%s: the page reflects the cookie unescaped", name)
				}
				if a := csAccountWith(s, t, mode, url.QueryEscape(v)); a.Status != http.StatusUnauthorized {
					t.Errorf("%s, %s: account %d, want 401", name, mode, a.Status)
				}
			}
			r := b.post("/lab/client-side/use", url.Values{"attack": {"tamper"}, "value": {v}, "csrf_token": {b.csrf("/lab/client-side")}})
			if r.Status != http.StatusBadRequest && r.Status != http.StatusRequestEntityTooLarge {
				t.Errorf("%s: use → %d, want 400 or 413", name, r.Status)
			}
		}
		// A cookie too big for the request's headers: 431, said plainly.
		// Raw: the server answers before reading the rest, and a net/http
		// client still writing its headers may report a reset instead.
		if r := s.sendRaw(t, "GET /lab/client-side/site/account?mode=weak HTTP/1.1\r\nHost: a\r\nCookie: "+csCookie+"="+strings.Repeat("A", labs.MaxValue+10)+"\r\n\r\n"); r.Status != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("an oversized cookie: %d, want 431", r.Status)
		}
		for _, tc := range []struct {
			path string
			form url.Values
			want int
		}{
			{"/lab/client-side/site?mode=medium", nil, http.StatusBadRequest},
			{"/lab/client-side/site/cart/add", url.Values{"item": {"Car"}, "quantity": {"1"}}, http.StatusBadRequest},
			{"/lab/client-side/site/cart/add", url.Values{"item": {"Mug"}, "quantity": {"0"}}, http.StatusBadRequest},
			{"/lab/client-side/site/cart/add", url.Values{"item": {"Mug"}, "quantity": {"1"}, "lines": {"1000"}}, http.StatusBadRequest},
			{"/lab/client-side/site/login", url.Values{"username": {"alice"}}, http.StatusBadRequest},
			{"/lab/client-side/site/login", url.Values{"username": {"alice"}, "password": {"nope"}}, http.StatusUnauthorized},
			{"/lab/client-side/use", url.Values{"attack": {"steal"}, "value": {"x"}}, http.StatusBadRequest},
			{"/lab/client-side/steal", url.Values{"token": {strings.Repeat("A", labs.MaxValue+1)}}, http.StatusRequestEntityTooLarge},
		} {
			var r response
			if tc.form == nil {
				r = b.get(tc.path)
			} else {
				if strings.HasPrefix(tc.path, "/lab/client-side/use") || strings.HasPrefix(tc.path, "/lab/client-side/steal") {
					tc.form.Set("csrf_token", b.csrf("/lab/client-side"))
				}
				r = b.post(tc.path, tc.form)
			}
			if r.Status != tc.want {
				t.Errorf("%s %v: %d, want %d", tc.path, tc.form, r.Status, tc.want)
			}
		}
		// Growing the cart past what the lab will issue: 413, nothing set.
		c := s.newBrowser(t)
		var last response
		for i := 0; i < 20; i++ {
			last = c.post("/lab/client-side/site/cart/add?mode=signed", url.Values{"item": {"Umbrella"}, "quantity": {"1"}, "lines": {"40"}})
			if last.Status != http.StatusSeeOther {
				break
			}
		}
		if last.Status != http.StatusRequestEntityTooLarge || len(last.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("a cart past %d bytes: %d with Set-Cookie %v, want 413 and no cookie", labs.MaxValue, last.Status, last.Header.Values("Set-Cookie"))
		}
	})
}

// The size: the cart grows in the cookie, and the page says what came back.
func TestClientSideLabCookieSize(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		b := s.newBrowser(t)
		var sent []int
		for i := 0; i < 3; i++ {
			r := b.post("/lab/client-side/site/cart/add?mode=weak", url.Values{"item": {"Mug"}, "quantity": {"1"}, "lines": {"40"}})
			if r.Status != http.StatusSeeOther {
				t.Fatalf("add: %d", r.Status)
			}
			u, _ := url.Parse(r.Header.Get("Location"))
			n := len(csCookie) + 1 + len(labCookie(b, csCookie))
			if u.Query().Get("sent") != strconv.Itoa(n) {
				t.Errorf("the link says sent=%s, the Set-Cookie was %d bytes", u.Query().Get("sent"), n)
			}
			sent = append(sent, n)
			page := b.get(r.Header.Get("Location"))
			if !strings.Contains(page.Body, `data-cookie-size="`+strconv.Itoa(n)+`"`) || !strings.Contains(page.Body, "sent it back whole") {
				t.Errorf("after add %d: the page should show the %d bytes the browser sent back", i+1, n)
			}
		}
		if sent[len(sent)-1] <= labs.CookieLimit || sent[0] >= labs.CookieLimit {
			t.Errorf("sizes %v: the test should cross %d", sent, labs.CookieLimit)
		}
		// A browser that dropped the oversized cookie sends back the old
		// one (Go's jar keeps anything; Chromium's is in the browser test).
		old := csEditValue(t, labCookie(b, csCookie), func(m map[string]any) { m["cart"] = m["cart"].([]any)[:40] })
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/lab/client-side/site?mode=weak&did=add&sent="+strconv.Itoa(sent[2]), nil)
		req.AddCookie(&http.Cookie{Name: csCookie, Value: old})
		if r := s.newBrowser(t).do(req); !strings.Contains(r.Body, "Your browser dropped that cookie") {
			t.Errorf("the page should say the browser dropped the cookie:\n%s", r.Body)
		}
	})
}

// stealClientSideToken logs a page in on the token server and posts its
// token to the lab's attacker log as the injected script does, with b's
// shop session and token (the lessons' walk).
func stealClientSideToken(t testing.TB, s *testServer, b *browser) response {
	t.Helper()
	page := s.newBrowser(t)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/lab/client-side/site/login?mode=token", strings.NewReader("username=alice&password=wonderland"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	r := page.do(req)
	var got struct{ Token string }
	if err := json.Unmarshal([]byte(r.Body), &got); err != nil || got.Token == "" {
		t.Fatalf("token login: %d %s", r.Status, r.Body)
	}
	st := b.post("/lab/client-side/steal", url.Values{"token": {got.Token}, "cookies": {""}, "csrf_token": {b.csrf("/lab/client-side")}})
	if st.Status != http.StatusOK || !strings.Contains(st.Body, `"outcome":"succeeded"`) {
		t.Fatalf("steal: %d %s", st.Status, st.Body)
	}
	return st
}

// Two instances on one database sign with one key and read one revocation
// list (lesson 11's trade-off, lesson 12's quiz): a value one issued opens
// the account on the other, and a logout on one is refused on the other.
func TestClientSideLabTwoInstancesShareTheKeyAndTheList(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		left := startServer(t, dbURL)
		right := startServer(t, dbURL, withInstance("right"))
		for _, mode := range []string{"signed", "revocation"} {
			b := left.newBrowser(t)
			v := csLogin(t, b, mode, "alice", "wonderland")
			if r := csAccountWith(right, t, mode, v); r.Header.Get("X-Lab-User") != "alice" {
				t.Errorf("%s: a value issued by one instance, on the other: %d %s", mode, r.Status, r.Header.Get("X-Lab-State"))
			}
			b.post("/lab/client-side/site/logout?mode="+mode, nil)
			want := map[string]string{"signed": "alice", "revocation": ""}[mode]
			if r := csAccountWith(right, t, mode, v); r.Header.Get("X-Lab-User") != want {
				t.Errorf("%s: replayed on the other instance after logout: user %q (%s), want %q", mode, r.Header.Get("X-Lab-User"), r.Header.Get("X-Lab-State"), want)
			}
		}
	})
}

// BenchmarkClientSideLabAccount is one request to the lab's account page
// (JSON, so the page's rendering is out of it) in each design, on each
// database: what checking a signature costs next to believing a payload,
// and what the revocation list's read on every request adds. Compare the
// modes as ratios on one machine, not the absolute times.
func BenchmarkClientSideLabAccount(b *testing.B) {
	for _, dialect := range []string{"sqlite", "mariadb"} {
		b.Run(dialect, func(b *testing.B) {
			s := startServer(b, freshDatabase(b, dialect))
			for _, mode := range []string{"weak", "signed", "revocation"} {
				br := s.newBrowser(b)
				if r := br.post("/lab/client-side/site/login?mode="+mode, url.Values{"username": {"alice"}, "password": {"wonderland"}}); r.Status != http.StatusSeeOther {
					b.Fatalf("%s: login %d", mode, r.Status)
				}
				b.Run(mode, func(b *testing.B) {
					for b.Loop() {
						// A request each time: the jar adds its Cookie header to the one it sends.
						req, _ := http.NewRequest(http.MethodGet, s.URL+"/lab/client-side/site/account?mode="+mode, nil)
						req.Header.Set("Accept", "application/json")
						if r := br.do(req); r.Status != http.StatusOK {
							b.Fatalf("%s: account %d", mode, r.Status)
						}
					}
				})
			}
		})
	}
}
