package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"sessionlab/db"
	"sessionlab/ids"
)

const testToken = "test-instructor-token"

// instructor is a browser that opened the instructor link.
func (s *testServer) instructor(t testing.TB) *browser {
	t.Helper()
	b := s.newBrowser(t)
	if r := b.get("/instructor?token=" + testToken); r.Status != http.StatusOK {
		t.Fatalf("instructor link: status %d\n%s", r.Status, r.Body)
	}
	return b
}

func count(t testing.TB, s *testServer, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.db.W.Get(&n, s.db.W.Rebind(q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestInstructorPagesNeedTheToken(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		student := s.newBrowser(t)
		home := student.get("/")
		if strings.Contains(home.Body, "/instructor") {
			t.Error("a student page links to the instructor's dashboard")
		}
		for _, p := range []string{"/instructor", "/instructor/state", "/instructor/stream", "/instructor/qr.svg"} {
			if r := student.get(p); r.Status != http.StatusForbidden {
				t.Errorf("GET %s without the token: status %d, want 403", p, r.Status)
			}
		}
		if r := student.post("/instructor/end-all", url.Values{}); r.Status != http.StatusForbidden {
			t.Errorf("POST /instructor/end-all without the token: status %d, want 403", r.Status)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM sessions"); n != 1 {
			t.Errorf("sessions after a refused end-all: %d, want 1", n)
		}

		wrong := s.newBrowser(t)
		r := wrong.get("/instructor?token=not-the-token-0123456789")
		if r.Status != http.StatusForbidden {
			t.Errorf("wrong token: status %d, want 403", r.Status)
		}
		if strings.Contains(r.Header.Get("Set-Cookie"), instructorCookieName) {
			t.Error("a wrong token got the instructor cookie")
		}
		if r := wrong.get("/instructor"); r.Status != http.StatusForbidden {
			t.Errorf("after a wrong token: status %d, want 403", r.Status)
		}

		ins := s.newBrowser(t)
		r = ins.get("/instructor?token=" + testToken)
		if r.Status != http.StatusOK {
			t.Fatalf("right token: status %d, want 200\n%s", r.Status, r.Body)
		}
		sc := r.Header.Get("Set-Cookie")
		lsc := strings.ToLower(sc)
		for _, want := range []string{instructorCookieName + "=", "HttpOnly", "SameSite=Strict", "Path=/instructor"} {
			if !strings.Contains(lsc, strings.ToLower(want)) {
				t.Errorf("instructor cookie %q lacks %s", sc, want)
			}
		}
		if strings.Contains(sc, testToken) || strings.Contains(r.Body, testToken) {
			t.Error("the token itself is in the cookie or the page: it should be exchanged, then forgotten")
		}
		if !strings.Contains(r.Body, `url=/instructor"`) {
			t.Errorf("the exchange page does not move on to /instructor without the token:\n%s", r.Body)
		}
		dash := ins.get("/instructor")
		if dash.Status != http.StatusOK || !strings.Contains(dash.Body, "Live sessions") {
			t.Fatalf("dashboard with the cookie: status %d\n%s", dash.Status, dash.Body)
		}
		if strings.Contains(dash.Body, testToken) {
			t.Error("the dashboard shows the token")
		}
		if r := ins.get("/instructor/qr.svg"); r.Status != http.StatusOK || !strings.HasPrefix(r.Body, "<svg") {
			t.Errorf("qr.svg: status %d, body %.40q", r.Status, r.Body)
		}
		// A control without the instructor's CSRF token changes nothing.
		if r := ins.post("/instructor/end-all", url.Values{}); r.Status != http.StatusForbidden {
			t.Errorf("end-all without csrf_token: status %d, want 403", r.Status)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM sessions"); n == 0 {
			t.Error("end-all without a CSRF token deleted the sessions")
		}
		logs := s.logs.String()
		if strings.Contains(logs, testToken) || strings.Contains(logs, "not-the-token") {
			t.Errorf("a token reached the log:\n%s", logs)
		}
		if !strings.Contains(logs, "instructor token refused") {
			t.Errorf("the refused token was not logged (without its value):\n%s", logs)
		}
	})
}

// sseEvent is one Server-Sent Event read by a test.
type sseEvent struct {
	name string
	data string
}

// subscribe opens the instructor's stream and delivers its events.
func (b *browser) subscribe(t testing.TB, query string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.srv.URL+"/instructor/stream"+query, nil)
	client := *b.client
	client.Timeout = 0
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("stream: %v", err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("stream: status %d, type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ch := make(chan sseEvent, 1024)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.name != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data = strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	t.Cleanup(func() { cancel(); resp.Body.Close(); wg.Wait() })
	return ch
}

// waitFor reads the stream until an event satisfies ok, failing after a while.
func waitFor(t testing.TB, ch <-chan sseEvent, what string, ok func(sseEvent) bool) sseEvent {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case ev, open := <-ch:
			if !open {
				t.Fatalf("stream ended while waiting for %s", what)
			}
			if ok(ev) {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s on the stream", what)
		}
	}
}

func kindIs(kind string) func(sseEvent) bool {
	return func(ev sseEvent) bool {
		if ev.name != "ev" {
			return false
		}
		var v classEventView
		return json.Unmarshal([]byte(ev.data), &v) == nil && v.Kind == kind
	}
}

func TestInstructorStreamShowsALoginThenALogout(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		ins := s.instructor(t)
		stream := ins.subscribe(t, "")
		waitFor(t, stream, "first state", func(ev sseEvent) bool { return ev.name == "state" })

		student := s.newBrowser(t)
		student.login("alice", "wonderland")
		login := waitFor(t, stream, "login.succeeded", kindIs("login.succeeded"))
		if !strings.Contains(login.data, "alice") {
			t.Errorf("login event without the user: %s", login.data)
		}
		waitFor(t, stream, "a table with alice logged in", func(ev sseEvent) bool {
			return ev.name == "state" && strings.Contains(ev.data, `"user":"alice","authenticated":true`)
		})
		key := ids.Hash(student.sessionID())
		if strings.Contains(login.data, key) || strings.Contains(login.data, student.sessionID()) {
			t.Error("the stream carries a whole key or ID")
		}
		if r := student.submit("/logout", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("logout: %d", r.Status)
		}
		waitFor(t, stream, "logout", kindIs("logout"))
		waitFor(t, stream, "a table without alice", func(ev sseEvent) bool {
			return ev.name == "state" && !strings.Contains(ev.data, `"user":"alice"`)
		})
	})
}

func TestInstructorStreamReplaysWhatAReconnectMissed(t *testing.T) {
	s := startServer(t, freshDatabase(t, db.SQLite))
	ins := s.instructor(t)
	last, err := s.db.LastEventID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	student := s.newBrowser(t)
	student.login("bob", "builder") // while no dashboard is connected
	stream := ins.subscribe(t, "?after="+strconv.FormatInt(last, 10))
	waitFor(t, stream, "the missed login", kindIs("login.succeeded"))
}

func TestClassControlsEmptyTheTables(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		alice := s.newBrowser(t)
		alice.login("alice", "wonderland")
		alice.submit("/cart/add", url.Values{"product_id": {"1"}, "quantity": {"2"}})
		alice.submit("/notes", url.Values{"text": {"remember the milk"}})
		anon := s.newBrowser(t)
		anon.submit("/cart/add", url.Values{"product_id": {"2"}, "quantity": {"1"}})
		anon.get("/lessons/http-forgets")
		for _, tbl := range []string{"cart_items", "notes", "lesson_progress", "events"} {
			if n := count(t, s, "SELECT COUNT(*) FROM "+tbl); n == 0 {
				t.Fatalf("setup: %s is empty before the reset", tbl)
			}
		}

		ins := s.instructor(t)
		csrf := ins.csrf("/instructor")
		if r := ins.post("/instructor/reset", url.Values{"csrf_token": {csrf}}); r.Status != http.StatusSeeOther {
			t.Fatalf("reset: status %d\n%s", r.Status, r.Body)
		}
		for _, tbl := range []string{"cart_items", "notes", "lesson_progress"} {
			if n := count(t, s, "SELECT COUNT(*) FROM "+tbl); n != 0 {
				t.Errorf("after reset, %s has %d rows", tbl, n)
			}
		}
		if n := count(t, s, "SELECT COUNT(*) FROM events WHERE kind <> 'class.reset'"); n != 0 {
			t.Errorf("after reset, %d events besides the reset itself", n)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM sessions WHERE data LIKE '%\"cart\"%' OR data LIKE '%lessons_done%'"); n != 0 {
			t.Errorf("after reset, %d sessions still hold a cart or progress", n)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM sessions"); n < 2 {
			t.Errorf("reset ended sessions (%d left): it should only clear demo data", n)
		}

		if r := ins.post("/instructor/end-all", url.Values{"csrf_token": {csrf}}); r.Status != http.StatusSeeOther {
			t.Fatalf("end-all: status %d\n%s", r.Status, r.Body)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM sessions"); n != 0 {
			t.Errorf("after end-all, %d sessions remain", n)
		}
		if r := alice.get("/account"); r.Status != http.StatusSeeOther {
			t.Errorf("alice after end-all: /account status %d, want 303 to login", r.Status)
		}

		// Timeouts: bad input changes nothing; good input applies at once.
		if r := ins.post("/instructor/timeouts", url.Values{"csrf_token": {csrf}, "idle": {"soon"}, "absolute": {"2h"}}); r.Status != http.StatusBadRequest {
			t.Errorf("timeouts idle=soon: status %d, want 400", r.Status)
		}
		if r := ins.post("/instructor/timeouts", url.Values{"csrf_token": {csrf}, "idle": {"1s"}, "absolute": {"2h"}}); r.Status != http.StatusBadRequest {
			t.Errorf("timeouts idle=1s: status %d, want 400", r.Status)
		}
		if n := count(t, s, "SELECT COUNT(*) FROM settings"); n != 0 {
			t.Errorf("refused timeouts wrote %d settings", n)
		}
		if r := ins.post("/instructor/timeouts", url.Values{"csrf_token": {csrf}, "idle": {"1m"}, "absolute": {"2h"}, "confirm": {"1"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("timeouts: status %d\n%s", r.Status, r.Body)
		}
		if got := s.app.timeouts(); got.Idle != time.Minute || got.Absolute != 2*time.Hour {
			t.Errorf("timeouts now %+v, want 1m / 2h", got)
		}
		bob := s.newBrowser(t)
		bob.login("bob", "builder")
		s.clock.Advance(61 * time.Second)
		if r := bob.get("/account"); r.Status != http.StatusSeeOther {
			t.Errorf("bob idle 61 s with a 1 min idle timeout: /account status %d, want 303", r.Status)
		}
		if r := ins.post("/instructor/timeouts", url.Values{"csrf_token": {csrf}, "reset": {"1"}, "confirm": {"1"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("timeouts reset: status %d", r.Status)
		}
		if got := s.app.timeouts(); got.Idle != 30*time.Minute {
			t.Errorf("after reset, idle %s, want the flag's 30m", got.Idle)
		}
	})
}

func TestTwoInstancesServeOneClass(t *testing.T) {
	dbURL := freshDatabase(t, db.MariaDB)
	// Two instances starting at once on an empty database: the startup
	// lock lets one migrate and seed; the other finds it done.
	var A, B *testServer
	opened := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() {
			d, err := db.Open(context.Background(), dbURL)
			if err == nil {
				d.Close()
			}
			opened <- err
		}()
	}
	for i := 0; i < 2; i++ {
		if err := <-opened; err != nil {
			t.Fatalf("concurrent start: %v", err)
		}
	}
	A = startServer(t, dbURL, withInstance("A"))
	B = startServer(t, dbURL, withInstance("B"))
	if n := count(t, A, "SELECT COUNT(*) FROM users"); n != len(db.SeedUsers) {
		t.Fatalf("users after two concurrent starts: %d, want %d (seeded once)", n, len(db.SeedUsers))
	}

	onA := A.newBrowser(t)
	onA.login("alice", "wonderland")
	onB := *onA // the same browser (one cookie jar); the proxy sent it to B
	onB.srv = B
	r := onB.get("/account")
	if r.Status != http.StatusOK || !strings.Contains(r.Body, "alice") {
		t.Fatalf("logged in on A, /account on B: status %d", r.Status)
	}
	if !strings.Contains(r.Body, `class="instance-badge"`) || !strings.Contains(r.Body, ">B<") {
		t.Error("B's page does not show its instance badge")
	}
	key := ids.Hash(onA.sessionID())
	if n := count(t, A, "SELECT COUNT(*) FROM events WHERE kind = 'instance.changed' AND session_key = ? AND detail LIKE ? AND instance = 'B'", key, `%"from":"A"%`); n != 1 {
		t.Errorf("instance.changed A→B events: %d, want 1", n)
	}
	// Both instances' traffic is on each dashboard.
	carol := A.newBrowser(t)
	carol.get("/")
	var st classState
	if err := json.Unmarshal([]byte(A.instructor(t).get("/instructor/state").Body), &st); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(st.Instances, ","), "A") || !strings.Contains(strings.Join(st.Instances, ","), "B") {
		t.Errorf("A's dashboard sees instances %v, want A and B", st.Instances)
	}

	// Log out on B; the old cookie replayed on A is refused.
	old := onA.sessionID()
	if r := onB.submit("/logout", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("logout on B: %d", r.Status)
	}
	replay := A.newBrowser(t)
	replay.setSessionID(old)
	if r := replay.get("/account"); r.Status != http.StatusSeeOther {
		t.Errorf("replayed cookie on A after logout on B: /account status %d, want 303", r.Status)
	}

	// A timeout set on A reaches B through the settings table.
	ins := A.instructor(t)
	if r := ins.post("/instructor/timeouts", url.Values{"csrf_token": {ins.csrf("/instructor")}, "idle": {"5m"}, "absolute": {"1h"}, "confirm": {"1"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("timeouts on A: %d", r.Status)
	}
	deadline := time.Now().Add(10 * time.Second)
	for B.app.timeouts().Idle != 5*time.Minute {
		if time.Now().After(deadline) {
			t.Fatalf("B never applied A's timeouts: %+v", B.app.timeouts())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// X-Forwarded-For is believed only from a proxy named by -trusted-proxy:
// anyone else could claim any address.
func TestForwardedForIsTrustedOnlyFromTheProxy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []string
		wantIP  string
	}{
		{"no proxy configured", nil, "ip=127.0.0.1"},
		{"loopback is the proxy", []string{"127.0.0.1"}, "ip=203.0.113.9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, freshDatabase(t, db.SQLite), func(c *config) { c.TrustedProxies = tc.trusted })
			b := s.newBrowser(t)
			req, _ := http.NewRequest(http.MethodGet, s.URL+"/instructor?token=wrong", nil)
			req.Header.Set("X-Forwarded-For", "203.0.113.9")
			if r := b.do(req); r.Status != http.StatusForbidden {
				t.Fatalf("wrong token: %d", r.Status)
			}
			if logs := s.logs.String(); !strings.Contains(logs, tc.wantIP) {
				t.Errorf("log lacks %s:\n%s", tc.wantIP, logs)
			}
		})
	}
}

// On MariaDB an event's id is taken at insert but seen at commit: a
// transaction with a lower id can commit after a higher one was streamed.
// The stream must still deliver it.
func TestInstructorStreamDeliversAnEventCommittedLate(t *testing.T) {
	s := startServer(t, freshDatabase(t, db.MariaDB))
	ins := s.instructor(t)
	stream := ins.subscribe(t, "")
	waitFor(t, stream, "first state", func(ev sseEvent) bool { return ev.name == "state" })
	ctx := context.Background()
	tx, err := s.db.W.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	now := time.Now().UTC()
	if _, err := tx.Exec("INSERT INTO events (session_key, kind, detail, instance, at) VALUES ('', 'test.late', '{}', 'x', ?)", now); err != nil {
		t.Fatal(err)
	}
	if err := s.db.AddEvent(ctx, &db.Event{Kind: "test.early", Detail: "{}", At: now}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, stream, "the early event", kindIs("test.early"))
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, stream, "the event committed late", kindIs("test.late"))
}

// An open dashboard stream must not hold up a graceful shutdown: the server
// says goodbye on the stream and the shutdown finishes before its deadline.
func TestShutdownEndsOpenStreams(t *testing.T) {
	s := startServer(t, freshDatabase(t, db.SQLite), func(c *config) { c.StreamBeat = time.Hour })
	stream := s.instructor(t).subscribe(t, "")
	waitFor(t, stream, "first state", func(ev sseEvent) bool { return ev.name == "state" })
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	if err := s.app.shutdown(ctx); err != nil {
		t.Fatalf("shutdown with a dashboard open: %v (it waited for the stream)", err)
	}
	waitFor(t, stream, "goodbye", func(ev sseEvent) bool { return ev.name == "bye" })
}
