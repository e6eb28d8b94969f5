package main

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// getAs requests path with the Host header set to host (the connection
// still goes to the test server), as a forged or proxied request would.
func (b *browser) getAs(host, path string) response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
	return b.doAs(host, req)
}

// doAs sends req with Host set to host and the browser's cookies for the
// server (the client would pick cookies by the Host header instead).
func (b *browser) doAs(host string, req *http.Request) response {
	b.t.Helper()
	req.Host = host
	for _, c := range b.jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

// Where a page hands out an address (the lab share link, the join URL and
// its QR code, the lessons' commands), the address is one the server knows
// it is reachable as: a forged Host header never reaches the page.
func TestForgedHostNeverReachesAPage(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		u, _ := url.Parse(s.URL)
		port := u.Port()
		own := "http://127.0.0.1:" + port
		ins := s.instructor(t)
		learner := s.newBrowser(t)
		learner.get("/")
		learner.get("/lab/fixation/site?mode=weak")
		for _, forged := range []string{"evil.example", "evil.example:" + port, "localhost:1", "127.0.0.1:1", "[::1]:1"} {
			for _, p := range []struct {
				who  *browser
				path string
				want string // what the page shows instead
			}{
				{learner, "/lab/fixation/site", own + "/lab/fixation/site?sid="},
				{learner, "/lab/fixation", own},
				{learner, "/lessons/http-forgets", "curl -i " + own + "/"},
				{ins, "/instructor", `id="join-url">` + own + "/<"},
			} {
				r := p.who.getAs(forged, p.path)
				body := html.UnescapeString(r.Body)
				if r.Status != http.StatusOK || strings.Contains(body, forged) {
					t.Errorf("Host %s, %s: %d, the page shows the forged host", forged, p.path, r.Status)
				}
				if !strings.Contains(body, p.want) {
					t.Errorf("Host %s, %s: the page lacks %q", forged, p.path, p.want)
				}
			}
			qr := ins.getAs(forged, "/instructor/qr.svg")
			if got, err := decodeQR(qr.Body); qr.Status != http.StatusOK || got != own+"/" {
				t.Errorf("Host %s: the QR code says %q (status %d, %v), not the server's own join URL %s/", forged, got, qr.Status, err, own)
			}
			r := learner.getAs(forged, "/lab/cross-site")
			if r.Status != http.StatusOK || strings.Contains(r.Body, forged) {
				t.Errorf("Host %s, cross-site lab: %d", forged, r.Status)
			}
		}
		// The cross-site lab refuses to start an attack on a host it does
		// not know: the attacker's link would name it.
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/lab/cross-site/attempt", strings.NewReader(url.Values{"csrf_token": {learner.csrf("/lab/cross-site")}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r := learner.doAs("localhost:1", req); r.Status != http.StatusBadRequest || strings.Contains(r.Body, "localhost:1") {
			t.Errorf("cross-site attempt on Host localhost:1: %d\n%.300s", r.Status, r.Body)
		}
	})
}

// A learner gets commands for the address they are actually on, when it is
// one of the server's own: localhost and 127.0.0.1 both work, and stay apart.
func TestLessonCommandsKeepTheLearnersKnownHost(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		u, _ := url.Parse(s.URL)
		b := s.newBrowser(t)
		for _, host := range []string{"localhost:" + u.Port(), "127.0.0.1:" + u.Port(), "[::1]:" + u.Port(), "LOCALHOST:" + u.Port()} {
			r := b.getAs(host, "/lessons/http-forgets")
			// (The lesson quotes an address with brackets for the shell.)
			if want := "http://" + strings.ToLower(host); !strings.Contains(html.UnescapeString(r.Body), "curl -i "+want+"/") && !strings.Contains(html.UnescapeString(r.Body), "curl -i '"+want+"'/") {
				t.Errorf("Host %s: the lesson lacks %q", host, want)
			}
		}
	})
}

// -join-url names the address students open, and its host is a known one.
func TestJoinURLFlagIsTheJoinAddressAndAKnownHost(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL, func(c *config) { c.JoinURL = "http://class.example:8080/" })
		ins := s.instructor(t)
		if r := ins.getAs("evil.example", "/instructor"); !strings.Contains(r.Body, `id="join-url">http://class.example:8080/<`) {
			t.Errorf("the dashboard does not show -join-url:\n%.500s", r.Body)
		}
		b := s.newBrowser(t)
		if r := b.getAs("class.example:8080", "/lessons/http-forgets"); !strings.Contains(html.UnescapeString(r.Body), "curl -i http://class.example:8080/") {
			t.Error("a learner on the -join-url host does not get commands for it")
		}
		if r := b.getAs("evil.example", "/lessons/http-forgets"); !strings.Contains(html.UnescapeString(r.Body), "curl -i http://class.example:8080/") || strings.Contains(r.Body, "evil.example") {
			t.Error("an unknown host does not fall back to the -join-url address")
		}
	})
}
