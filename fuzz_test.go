package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"sessionlab/ids"
)

// The fuzz targets run their seed corpus (testdata/fuzz/FuzzX and the f.Add
// lines) with every `go test ./...`; .ci/run fuzzes each for a few seconds,
// and `go test -run '^$' -fuzz '^FuzzX$' -fuzztime 60s .` fuzzes one longer.

// FuzzSessionIDFunctions checks the ID helpers on any string: validID only
// accepts what newID could have produced, hashID is SHA-256 hex, prefix is a
// short, valid-UTF-8 start of its input.
func FuzzSessionIDFunctions(f *testing.F) {
	for _, s := range []string{ids.New(), ids.New()[:42], ids.New() + "A", "", "short", strings.Repeat("=", 43), strings.Repeat("é", 22), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/", "日本語のクッキー値"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ids.Valid(s) {
			if len(s) != ids.Len {
				t.Fatalf("ids.Valid(%q) with length %d", s, len(s))
			}
			b, err := base64.RawURLEncoding.DecodeString(s)
			if err != nil || len(b) != ids.Bytes {
				t.Fatalf("ids.Valid(%q) but it does not decode to %d bytes: %v", s, ids.Bytes, err)
			}
		} else if len(s) == ids.Len {
			if _, err := base64.RawURLEncoding.DecodeString(s); err == nil && strings.IndexFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) < 0 {
				t.Fatalf("validID refused %q, a well-formed 32-byte base64url value", s)
			}
		}
		h := ids.Hash(s)
		sum := sha256.Sum256([]byte(s))
		if h != hex.EncodeToString(sum[:]) || len(h) != 64 {
			t.Fatalf("ids.Hash(%q) = %q", s, h)
		}
		p := ids.Prefix(s)
		if len(p) > 8 || !strings.HasPrefix(s, p) {
			t.Fatalf("ids.Prefix(%q) = %q", s, p)
		}
		if utf8.ValidString(s) && !utf8.ValidString(p) {
			t.Fatalf("ids.Prefix(%q) = %q cuts a character in half", s, p)
		}
		if len(s) > 8 && len(p) == 0 && utf8.ValidString(s) {
			t.Fatalf("ids.Prefix(%q) is empty", s)
		}
	})
}

func TestNewIDIsValidAndUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := ids.New()
		if !ids.Valid(id) || seen[id] {
			t.Fatalf("ids.New() = %q: valid %v, repeated %v", id, ids.Valid(id), seen[id])
		}
		seen[id] = true
	}
}

// FuzzSafeNext: whatever `next=` holds, the login redirect stays on this
// site: "/" or the input itself, a local path that no browser reads as
// another host.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/cart", "/account?x=1#y", "//evil.example", "/\\evil.example", "/\t/evil.example", "https://evil.example/", "javascript:alert(1)", "/%2F%2Fevil.example", " /cart", "/\x00", "\\\\evil", "/..//evil", "http:/evil", "/login?next=//evil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got != "/" && got != next {
			t.Fatalf("safeNext(%q) = %q: neither the input nor /", next, got)
		}
		if !strings.HasPrefix(got, "/") {
			t.Fatalf("safeNext(%q) = %q: not a path", next, got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("safeNext(%q) = %q: control character in a Location header", next, got)
			}
		}
		// What a browser does (WHATWG URL): drop tabs and newlines, treat \ as /.
		browser := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(got)
		if strings.HasPrefix(browser, "//") {
			t.Fatalf("safeNext(%q) = %q: a browser reads it as another host", next, got)
		}
		base, _ := url.Parse("http://shop.test/login")
		ref, err := url.Parse(browser)
		if err != nil {
			t.Fatalf("safeNext(%q) = %q: does not parse: %v", next, got, err)
		}
		if u := base.ResolveReference(ref); u.Host != "shop.test" || u.Scheme != "http" {
			t.Fatalf("safeNext(%q) = %q resolves to %s", next, got, u)
		}
	})
}

var fuzzPaths = []string{"/", "/api/state", "/cart", "/no/such/page", "/account", "/healthz"}

// FuzzCookieHeader sends arbitrary Cookie headers through a real server:
// never a 5xx, never an adopted ID (a fresh one is issued instead), never the
// whole cookie value echoed back.
func FuzzCookieHeader(f *testing.F) {
	srv := startServer(f, freshDatabase(f, "sqlite"))
	live := srv.newBrowser(f)
	live.get("/")
	liveID := live.sessionID()
	for _, s := range []string{"", "sessionid=" + ids.New(), "sessionid=" + liveID, "sessionid=" + liveID + "; sessionid=" + ids.New(), "sessionid=", "sessionid", "=;=;;", "sessionid=\"quoted\"", "sessionid=" + strings.Repeat("A", 4000), "a=b; sessionid=%00; c", "sessionid=é日本", "sessionlab_flash=eyJlIjpbWyJsb2dvdXQiLCJ7fSJdXX0", "sessionlab_flash=%%%", "sessionid=" + liveID + "\x00"} {
		for i := range fuzzPaths {
			f.Add(s, uint8(i))
		}
	}
	baseline := map[string]string{}
	for _, p := range fuzzPaths {
		baseline[p] = srv.newBrowser(f).get(p).Body
	}
	f.Fuzz(func(t *testing.T, cookie string, which uint8) {
		if strings.ContainsAny(cookie, "\r\n") {
			return // that would be another header, not a cookie
		}
		path := fuzzPaths[int(which)%len(fuzzPaths)]
		r, ok := srv.trySendRaw(t, "GET "+path+" HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\nCookie: "+cookie+"\r\n\r\n")
		if !ok {
			t.Fatalf("GET %s with Cookie %q: no HTTP response (%q)", path, ids.Cut(cookie, 100), ids.Cut(r.Raw, 100))
		}
		if r.Status >= 500 {
			t.Fatalf("GET %s with Cookie %q: status %d\n%s", path, ids.Cut(cookie, 100), r.Status, ids.Cut(r.Body, 500))
		}
		sent := cookieValues(cookie)
		for _, sc := range r.Header.Values("Set-Cookie") {
			c, err := http.ParseSetCookie(sc)
			if err != nil || c.Name != cookieName || c.Value == "" {
				continue
			}
			if !ids.Valid(c.Value) {
				t.Fatalf("issued a malformed ID %q", ids.Prefix(c.Value))
			}
			for _, v := range sent {
				if v == c.Value {
					t.Fatalf("GET %s adopted the ID the client sent (%s…)", path, ids.Prefix(v))
				}
			}
		}
		for _, v := range sent {
			if len(v) >= 20 && echoable.MatchString(v) && !strings.Contains(baseline[path], v) && strings.Contains(r.Body, v) {
				t.Fatalf("GET %s echoes the whole cookie value %q", path, ids.Cut(v, 60))
			}
		}
	})
}

var echoable = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// cookieValues are the sessionid values in a Cookie header, read loosely.
func cookieValues(header string) []string {
	var out []string
	for _, part := range strings.Split(header, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.TrimSpace(k) == cookieName {
			out = append(out, strings.Trim(strings.TrimSpace(v), `"`))
		}
	}
	return out
}

// FuzzCartForm posts arbitrary form bodies (with a valid CSRF token) to
// /cart/add and /cart/update: a 303 or a 4xx, never a 5xx; a refusal changes
// nothing; and whatever is accepted leaves a cart of catalog products with
// quantities 1..99.
func FuzzCartForm(f *testing.F) {
	srv := startServer(f, freshDatabase(f, "sqlite"))
	b := srv.newBrowser(f)
	tok := b.csrf("/login")
	for _, s := range []string{"product_id=1&quantity=1", "product_id=2&quantity=99", "product_id=1&quantity=0", "product_id=1&quantity=100", "product_id=1&quantity=-1", "product_id=999&quantity=1", "product_id=abc&quantity=1", "product_id=1&quantity=1e2", "product_id=1&quantity=%201", "product_id=1&product_id=2&quantity=3", "product_id=1;quantity=1", "quantity=5", "product_id=%00&quantity=%ff", "product_id=9223372036854775808&quantity=1", "product_id=1&quantity=99999999999999999999", "product_id=+1&quantity=+1", "product_id=0x1&quantity=0x1"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	known := map[int64]bool{}
	for _, p := range srv.app.products {
		known[p.ID] = true
	}
	f.Fuzz(func(t *testing.T, body string, update bool) {
		b.t = t
		path := "/cart/add"
		if update {
			path = "/cart/update"
		}
		before := b.apiState()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body+"&csrf_token="+tok))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r := b.do(req)
		after := b.apiState()
		switch {
		case r.Status >= 500:
			t.Fatalf("POST %s %q: status %d\n%s", path, body, r.Status, ids.Cut(r.Body, 500))
		case r.Status == http.StatusSeeOther:
			for _, it := range after.Cart.Items {
				if !known[it.ProductID] || it.Quantity < 1 || it.Quantity > 99 {
					t.Fatalf("POST %s %q left a bad cart line %+v", path, body, it)
				}
			}
		case r.Status >= 400:
			if before.Cart.TotalCents != after.Cart.TotalCents || len(before.Cart.Items) != len(after.Cart.Items) {
				t.Fatalf("POST %s %q was refused (%d) but the cart changed: %+v → %+v", path, body, r.Status, before.Cart.Items, after.Cart.Items)
			}
		default:
			t.Fatalf("POST %s %q: status %d", path, body, r.Status)
		}
	})
}
