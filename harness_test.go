package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sessionlab/db"
	"sessionlab/internal/dbtest"
)

// The behaviour suite runs every test body against each database: SQLite
// always, MariaDB when it is reachable (and mandatory when CI=true). The
// databases come from package dbtest; these are the suite's short names.

// dialects lists the databases to run a behaviour test on.
func dialects(t *testing.T) []string { return dbtest.Dialects() }

// forEachDB runs fn once per database, each with a fresh, empty database.
func forEachDB(t *testing.T, fn func(t *testing.T, url string)) {
	t.Helper()
	dbtest.ForEach(t, fn)
}

// freshDatabase returns the URL of a new empty database of that dialect,
// dropped when the test ends.
func freshDatabase(t testing.TB, dialect string) string {
	t.Helper()
	return dbtest.Fresh(t, dialect)
}

// testServer is a real Session Lab on a real loopback listener, started by
// startApp like `serve` starts it.
type testServer struct {
	URL   string
	app   *app
	db    *db.DB
	clock *testClock
	logs  *strings.Builder
	srv   *server

	stopOnce sync.Once
}

// testClock is the injectable clock: tests move time instead of sleeping.
type testClock struct{ now atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Unix(0, c.now.Load()).UTC() }
func (c *testClock) Advance(d time.Duration) { c.now.Add(int64(d)) }

type serverOption func(*config)

// withInstance names the server instance (the badge, events' instance).
func withInstance(name string) serverOption { return func(c *config) { c.Instance = name } }

// startServer starts the app on the database at url, on 127.0.0.1:0, with
// the defaults of `serve`, a test clock and the log in a buffer, and stops it
// when the test ends.
func startServer(t testing.TB, url string, opts ...serverOption) *testServer {
	t.Helper()
	clock := &testClock{}
	clock.now.Store(time.Now().UTC().Truncate(time.Microsecond).UnixNano())
	cfg := defaultConfig()
	cfg.Addr, cfg.DBURL, cfg.Instance, cfg.InstructorToken, cfg.Now = "127.0.0.1:0", url, "test", "test-instructor-token", clock.Now
	for _, o := range opts {
		o(&cfg)
	}
	logs := &strings.Builder{}
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: logs}, nil))
	srv, err := startApp(context.Background(), cfg, logger)
	if err != nil {
		t.Fatalf("start the server on %s: %v", url, err)
	}
	s := &testServer{URL: srv.URL, app: srv.app, db: srv.db, clock: clock, logs: logs, srv: srv}
	t.Cleanup(s.stop)
	return s
}

// stop shuts the server down gracefully and closes its database, as a
// restart would; it is safe to call more than once.
func (s *testServer) stop() {
	s.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.srv.stop(ctx)
	})
}

// lockedWriter lets concurrent requests log into one buffer the test reads.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// browser is one client with its own cookie jar, like one browser profile.
type browser struct {
	t      testing.TB
	srv    *testServer
	client *http.Client
	jar    *cookiejar.Jar
}

func (s *testServer) newBrowser(t testing.TB) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, srv: s, jar: jar, client: &http.Client{
		Jar:     jar,
		Timeout: 30 * time.Second,
		// Redirects are part of what we test: never follow them silently.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// response is a read response.
type response struct {
	Status int
	Header http.Header
	Body   string
}

func (b *browser) do(req *http.Request) response {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

func (b *browser) get(path string) response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
	return b.do(req)
}

// post submits a form as-is (add csrf_token yourself, or use submit).
func (b *browser) post(path string, form url.Values) response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// csrf loads a page and extracts the CSRF token from its first form.
func (b *browser) csrf(page string) string {
	b.t.Helper()
	r := b.get(page)
	m := csrfRe.FindStringSubmatch(r.Body)
	if m == nil {
		b.t.Fatalf("no csrf_token on %s (status %d)", page, r.Status)
	}
	return m[1]
}

// submit posts a form with the CSRF token taken from page (default /).
func (b *browser) submit(path string, form url.Values) response {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", b.csrf("/login"))
	return b.post(path, form)
}

// login logs in through the form and checks it worked.
func (b *browser) login(user, pass string) response {
	b.t.Helper()
	r := b.submit("/login", url.Values{"username": {user}, "password": {pass}})
	if r.Status != http.StatusSeeOther {
		b.t.Fatalf("login %s: status %d, want 303\n%s", user, r.Status, r.Body)
	}
	return r
}

// sessionID is the sessionid cookie the jar holds ("" if none).
func (b *browser) sessionID() string {
	u, _ := url.Parse(b.srv.URL)
	for _, c := range b.jar.Cookies(u) {
		if c.Name == cookieName {
			return c.Value
		}
	}
	return ""
}

// setSessionID plants a cookie value in the jar, as an attacker (or a replay) would.
func (b *browser) setSessionID(v string) {
	u, _ := url.Parse(b.srv.URL)
	b.jar.SetCookies(u, []*http.Cookie{{Name: cookieName, Value: v, Path: "/"}})
}
