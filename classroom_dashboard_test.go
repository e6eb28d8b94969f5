package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sessionlab/db"
	"sessionlab/ids"
)

// classState as a script reads GET /instructor/state.
type instructorStateJSON struct {
	Sessions      []json.RawMessage `json:"sessions"`
	Live          int               `json:"live"`
	Authenticated int               `json:"authenticated"`
	Learners      int               `json:"learners"`
	EventCounts   []db.KindCount    `json:"event_counts"`
	Progress      []struct {
		Steps []struct {
			Key  string `json:"key"`
			Done int    `json:"done"`
		} `json:"steps"`
	} `json:"progress"`
}

// done is how many learners the chart says did the step key.
func (st instructorStateJSON) done(key string) int {
	for _, l := range st.Progress {
		for _, s := range l.Steps {
			if s.Key == key {
				return s.Done
			}
		}
	}
	return -1
}

func (b *browser) instructorState() instructorStateJSON {
	b.t.Helper()
	r := b.get("/instructor/state")
	if r.Status != http.StatusOK {
		b.t.Fatalf("/instructor/state: status %d\n%s", r.Status, r.Body)
	}
	var st instructorStateJSON
	if err := json.Unmarshal([]byte(r.Body), &st); err != nil {
		b.t.Fatalf("/instructor/state: %v\n%s", err, r.Body)
	}
	return st
}

// anonymousSessions writes n live anonymous session rows at once, as n
// cookieless clients would leave them (a flood, seen last).
func anonymousSessions(t *testing.T, s *testServer, n int) {
	t.Helper()
	now := s.clock.Now()
	err := s.db.InTx(context.Background(), func(tx *db.Tx) error {
		for i := 0; i < n; i++ {
			id := ids.New()
			row := &db.Session{Key: ids.Hash(id), Data: `{"csrf_token":"` + ids.New() + `"}`, Learner: id[:16],
				Instance: "flood", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(30 * time.Minute)}
			if err := tx.InsertSession(context.Background(), row); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("insert %d anonymous sessions: %v", n, err)
	}
}

// The counts are the database's over the whole class: 3,000 anonymous
// sessions seen after 29 logins push every logged-in row out of the 500
// the table shows, and "logged in" still says 29.
func TestDashboardCountsTheWholeClassNotTheTable(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		early := s.newBrowser(t)
		early.get("/lessons/http-forgets") // lesson 1's first step, then 3,000 sessions seen after it
		for i := 0; i < 29; i++ {
			user := "alice"
			if i%2 == 1 {
				user = "bob"
			}
			pass := map[string]string{"alice": "wonderland", "bob": "builder"}[user]
			b := s.newBrowser(t)
			b.get("/lessons/http-forgets")
			b.login(user, pass)
		}
		s.clock.Advance(time.Minute)
		anonymousSessions(t, s, 3000)
		st := s.instructor(t).instructorState()
		if st.Authenticated != 29 {
			t.Errorf("logged in: %d, want 29", st.Authenticated)
		}
		live := count(t, s, "SELECT COUNT(*) FROM sessions")
		if st.Live != live || live != 3030 {
			t.Errorf("live sessions: %d, want %d (SQL) = 3030", st.Live, live)
		}
		// Learners: the 30 browsers that did a step (29 logins as alice or
		// bob are 29 learners, not two accounts), counted whatever the table
		// shows; the 3,000 cookieless visitors did no step and are none.
		if got := learnersBySQL(t, s); st.Learners != got || got != 30 {
			t.Errorf("learners: %d, SQL counts %d, want 30", st.Learners, got)
		}
		// The chart counts the early learner, long out of the table.
		var owners []string
		if err := s.db.W.Select(&owners, "SELECT owner FROM lesson_progress WHERE lesson = 'http-forgets' AND item = 'open' AND done = 1"); err != nil {
			t.Fatal(err)
		}
		earlyOwner := ""
		if row, err := s.db.SessionByKey(context.Background(), ids.Hash(early.sessionID())); err == nil {
			earlyOwner = row.ProgressOwner()
		}
		want := len(owners) // every browser that opened lesson 1 still lives
		if got := st.done("http-forgets/open"); got != want || want != 30 || !slices.Contains(owners, earlyOwner) {
			t.Errorf("lesson 1 step 1 done by %d, want %d (the early learner %q among %v)", got, want, earlyOwner, owners)
		}
		if len(st.Sessions) != maxClassRows {
			t.Errorf("the table lists %d rows, want the %d seen last", len(st.Sessions), maxClassRows)
		}
	})
}

var (
	previewEndingRe = regexp.MustCompile(`id="preview-ending">(\d+)<`)
	evLineRe        = regexp.MustCompile(`<li class="ev [^"]*" data-group="[^"]*" data-id="(\d+)"( data-fold="[^"]*" data-times="(\d+)")?>`)
	kindCountRe     = regexp.MustCompile(`data-kind="([a-z.]+)"><span class="ev-kind">[a-z.]+</span> <strong>(\d+)</strong>`)
)

// Setting timeouts says first how many live sessions the new values end
// (the database's count), and changes nothing until confirmed.
func TestTimeoutsPreviewTheSessionsTheyWouldEnd(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		for i := 0; i < 3; i++ {
			s.newBrowser(t).get("/")
		}
		s.clock.Advance(10 * time.Minute)
		recent := s.newBrowser(t)
		recent.get("/")
		s.newBrowser(t).login("alice", "wonderland")
		ins := s.instructor(t)
		csrf := ins.csrf("/instructor")

		r := ins.post("/instructor/timeouts", url.Values{"csrf_token": {csrf}, "idle": {"5m"}, "absolute": {"8h"}})
		m := previewEndingRe.FindStringSubmatch(r.Body)
		if r.Status != http.StatusOK || m == nil {
			t.Fatalf("timeouts preview: status %d, no count\n%s", r.Status, r.Body)
		}
		now := s.clock.Now()
		want := count(t, s, "SELECT COUNT(*) FROM sessions WHERE last_seen_at <= ?", now.Add(-5*time.Minute))
		if got, _ := strconv.Atoi(m[1]); got != want || want != 3 {
			t.Errorf("preview says %s sessions end, SQL counts %d (want 3)", m[1], want)
		}
		if !strings.Contains(r.Body, `name="confirm" value="1"`) || !strings.Contains(r.Body, "Live sessions") {
			t.Error("the preview is not on the dashboard with a confirmation")
		}
		if n := count(t, s, "SELECT COUNT(*) FROM settings"); n != 0 || s.app.timeouts().Idle != 30*time.Minute {
			t.Errorf("a preview changed the timeouts: %d settings, idle %s", n, s.app.timeouts().Idle)
		}
		// An absolute timeout shorter than every session's age ends them all.
		r = ins.post("/instructor/timeouts", url.Values{"csrf_token": {csrf}, "idle": {"30m"}, "absolute": {"5m"}})
		all := count(t, s, "SELECT COUNT(*) FROM sessions WHERE created_at <= ?", now.Add(-5*time.Minute))
		if m := previewEndingRe.FindStringSubmatch(r.Body); m == nil || m[1] != strconv.Itoa(all) {
			t.Errorf("absolute 5m: preview %v, SQL counts %d", m, all)
		}
		// Confirmed, the values apply and the three idle sessions are refused.
		r = ins.post("/instructor/timeouts", url.Values{"csrf_token": {csrf}, "idle": {"5m"}, "absolute": {"8h"}, "confirm": {"1"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("confirm: status %d\n%s", r.Status, r.Body)
		}
		if got := s.app.timeouts(); got.Idle != 5*time.Minute || got.Absolute != 8*time.Hour {
			t.Errorf("after confirm: %+v, want 5m / 8h", got)
		}
		if st := ins.instructorState(); st.Live != 2 {
			t.Errorf("live after the change: %d, want 2 (the recent visitor and alice, none of the idle three)", st.Live)
		}
		// Going back to the defaults is previewed too.
		r = ins.post("/instructor/timeouts", url.Values{"csrf_token": {csrf}, "reset": {"1"}})
		if r.Status != http.StatusOK || previewEndingRe.FindStringSubmatch(r.Body) == nil || s.app.timeouts().Idle != 5*time.Minute {
			t.Errorf("reset without confirm: status %d, idle %s; want a preview and no change", r.Status, s.app.timeouts().Idle)
		}
	})
}

// An invalid timeout comes back on the dashboard, beside its field, with
// what was typed; nothing changes and no learner's error page (with its
// cookie panel) is shown to the projector.
func TestInvalidTimeoutStaysOnTheDashboard(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		s := startServer(t, dbURL)
		ins := s.instructor(t)
		csrf := ins.csrf("/instructor")
		for _, tc := range []struct{ idle, abs, field, says string }{
			{"soon", "2h", "t-idle-err", "&#34;soon&#34; is not a duration"},
			{"1s", "2h", "t-idle-err", "must be between"},
			{"30m", "99999h", "t-abs-err", "must be between"},
			{"", "2h", "t-idle-err", "give a duration"},
		} {
			r := ins.post("/instructor/timeouts", url.Values{"csrf_token": {csrf}, "idle": {tc.idle}, "absolute": {tc.abs}})
			if r.Status != http.StatusBadRequest {
				t.Errorf("idle=%q absolute=%q: status %d, want 400", tc.idle, tc.abs, r.Status)
			}
			errAt := strings.Index(r.Body, `<span class="field-err" id="`+tc.field+`">`)
			if !strings.Contains(r.Body, `id="sess-h"`) || errAt < 0 || !strings.Contains(r.Body[errAt:], tc.says) {
				t.Errorf("idle=%q absolute=%q: not the dashboard with %q in %s\n%s", tc.idle, tc.abs, tc.says, tc.field, r.Body)
			}
			if !strings.Contains(r.Body, `aria-describedby="`+tc.field+`"`) {
				t.Errorf("idle=%q absolute=%q: the field does not point at its error", tc.idle, tc.abs)
			}
			if tc.idle != "" && !strings.Contains(r.Body, `value="`+tc.idle+`"`) {
				t.Errorf("idle=%q: what was typed is gone", tc.idle)
			}
			cookie := s.app.instructorMAC("cookie")
			if strings.Contains(r.Body, cookie[:8]) || strings.Contains(r.Body, "sessionid") {
				t.Errorf("idle=%q: the page shows a cookie", tc.idle)
			}
		}
		if n := count(t, s, "SELECT COUNT(*) FROM settings"); n != 0 || s.app.timeouts().Idle != 30*time.Minute {
			t.Errorf("refused timeouts changed something: %d settings, idle %s", n, s.app.timeouts().Idle)
		}
	})
}

// The event log is newest first on the page as in the stream, a learner
// going back and forth between two instances is one line, and the counts
// per kind are the whole log's.
func TestEventLogIsNewestFirstFoldedAndCounted(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		A := startServer(t, dbURL, withInstance("A"))
		B := startServer(t, dbURL, withInstance("B"))
		learner := A.newBrowser(t)
		learner.get("/lessons/http-forgets") // a new session and a lesson step
		onB := *learner
		onB.srv = B
		for i := 0; i < 3; i++ {
			onB.get("/")
			learner.get("/")
		}
		page := A.instructor(t).get("/instructor")
		lines := evLineRe.FindAllStringSubmatch(page.Body, -1)
		if len(lines) < 3 {
			t.Fatalf("event log lines: %d\n%s", len(lines), page.Body)
		}
		folded := 0
		for i, l := range lines {
			id, _ := strconv.Atoi(l[1])
			if i > 0 {
				if prev, _ := strconv.Atoi(lines[i-1][1]); prev <= id {
					t.Errorf("line %d (event %d) after event %d: not newest first", i, id, prev)
				}
			}
			if l[2] != "" {
				folded++
				if l[3] != "6" {
					t.Errorf("the folded line counts %s instance changes, want 6", l[3])
				}
			}
		}
		if stored := count(t, A, "SELECT COUNT(*) FROM events WHERE kind = 'instance.changed'"); folded != 1 || stored != 6 {
			t.Errorf("instance.changed: %d lines for %d events, want 1 line for 6", folded, stored)
		}
		counts := kindCountRe.FindAllStringSubmatch(page.Body, -1)
		if len(counts) == 0 {
			t.Fatal("no counts per kind on the dashboard")
		}
		for _, c := range counts {
			if want := count(t, A, "SELECT COUNT(*) FROM events WHERE kind = ?", c[1]); c[2] != strconv.Itoa(want) {
				t.Errorf("%s: the dashboard counts %s, the table holds %d", c[1], c[2], want)
			}
		}
	})
}

// getWithHost requests path with the Host header set to host, as a
// proxied or forged request would (the connection still goes to the server).
func (b *browser) getWithHost(host, path string) response {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.srv.URL+path, nil)
	req.Host = host
	for _, c := range b.jar.Cookies(req.URL) { // a client would pick them by Host
		req.AddCookie(c)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		b.t.Fatalf("GET %s as %s: %v", path, host, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

// withAddr makes the server listen on addr; withJoinURL sets -join-url.
func withAddr(addr string) serverOption { return func(c *config) { c.Addr = addr } }
func withJoinURL(u string) serverOption { return func(c *config) { c.JoinURL = u } }
func joinURLOf(t *testing.T, body string) string {
	t.Helper()
	m := regexp.MustCompile(`<code id="join-url">([^<]*)</code>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no join URL on the dashboard\n%s", body)
	}
	return m[1]
}

// The join box names an address students can open: on 127.0.0.1 it says
// they cannot and how to restart; on 0.0.0.0 it is this machine's LAN
// address (never the Host header the dashboard was opened with);
// -join-url wins. The QR code encodes the same address.
func TestJoinBoxNamesAnAddressTheRoomCanOpen(t *testing.T) {
	dbURL := freshDatabase(t, db.SQLite)
	checkQR := func(t *testing.T, ins *browser, want string) {
		t.Helper()
		r := ins.get("/instructor/qr.svg")
		if got, err := decodeQR(r.Body); r.Status != http.StatusOK || got != want {
			t.Errorf("the QR code says %q (status %d, %v), not %s", got, r.Status, err, want)
		}
	}

	t.Run("loopback", func(t *testing.T) {
		s := startServer(t, dbURL)
		ins := s.instructor(t)
		page := ins.getWithHost("evil.example", "/instructor")
		if got := joinURLOf(t, page.Body); got != s.URL+"/" {
			t.Errorf("join URL %q, want the listener's %q", got, s.URL+"/")
		}
		if !strings.Contains(page.Body, `id="join-warn"`) || !strings.Contains(page.Body, "Students cannot reach this address") ||
			!strings.Contains(page.Body, "<code>-addr 0.0.0.0:") {
			t.Errorf("on 127.0.0.1 the join box does not say students cannot reach it and how to fix it\n%s", page.Body)
		}
		checkQR(t, ins, s.URL+"/")
	})

	t.Run("all interfaces", func(t *testing.T) {
		lan := lanAddress()
		if lan == nil {
			t.Fatal("this machine has no non-loopback address to test with")
		}
		s := startServer(t, dbURL, withAddr("0.0.0.0:0"))
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(*s.app.baseURL.Load(), "http://"))
		s.URL = "http://127.0.0.1:" + port
		ins := s.instructor(t)
		want := "http://" + net.JoinHostPort(lan.String(), port) + "/"
		for _, host := range []string{"localhost:" + port, "evil.example"} {
			page := ins.getWithHost(host, "/instructor")
			if got := joinURLOf(t, page.Body); got != want {
				t.Errorf("opened as %s: join URL %q, want the LAN address %q", host, got, want)
			}
			if strings.Contains(page.Body, `id="join-warn"`) {
				t.Errorf("opened as %s: a reachable server is said to be unreachable", host)
			}
		}
		isLAN := false
		addrs, _ := net.InterfaceAddrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.Equal(lan) && !lan.IsLoopback() {
				isLAN = true
			}
		}
		if !isLAN {
			t.Errorf("%s is not a non-loopback address of this machine", lan)
		}
		checkQR(t, ins, want)
	})

	t.Run("join-url wins", func(t *testing.T) {
		s := startServer(t, dbURL, withJoinURL("https://class.example.org/"))
		ins := s.instructor(t)
		page := ins.get("/instructor")
		if got := joinURLOf(t, page.Body); got != "https://class.example.org/" || strings.Contains(page.Body, `id="join-warn"`) {
			t.Errorf("with -join-url: %q (warning shown: %v)", got, strings.Contains(page.Body, `id="join-warn"`))
		}
		checkQR(t, ins, "https://class.example.org/")
	})
}
