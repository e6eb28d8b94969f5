package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"sessionlab/db"
	"sessionlab/ids"
)

// Faults: the server is stopped mid-load, its database vanishes mid-load,
// its SQLite file cannot be written. Real processes, real sockets.

// TestMain lets the fault tests run this test binary as a server child
// process ("serve" with the flags in SESSIONLAB_TEST_SERVE), so SIGTERM and
// a start-up failure are the real thing.
func TestMain(m *testing.M) {
	if raw := os.Getenv("SESSIONLAB_TEST_SERVE"); raw != "" {
		var args []string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			fmt.Fprintln(os.Stderr, "SESSIONLAB_TEST_SERVE:", err)
			os.Exit(2)
		}
		if err := serve(args, slog.New(slog.NewTextHandler(os.Stderr, nil))); err != nil {
			fmt.Fprintln(os.Stderr, "sessionlab:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// childServer is Session Lab running as a separate process.
type childServer struct {
	URL  string
	cmd  *exec.Cmd
	out  *lockedWriter
	buf  *strings.Builder
	done chan error
}

// childCommand prepares this test binary to run "serve" with args.
func childCommand(t *testing.T, bin string, args ...string) (*exec.Cmd, *strings.Builder, *lockedWriter) {
	t.Helper()
	raw, _ := json.Marshal(args)
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), "SESSIONLAB_TEST_SERVE="+string(raw))
	buf := &strings.Builder{}
	w := &lockedWriter{w: buf}
	cmd.Stdout, cmd.Stderr = w, w
	return cmd, buf, w
}

// startChild starts a server process on dbURL and waits until /healthz is 200.
func startChild(t *testing.T, dbURL string) *childServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd, buf, w := childCommand(t, os.Args[0], "-addr", addr, "-db", dbURL, "-instance", "child", "-instructor-token", "test-instructor-token")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &childServer{URL: "http://" + addr, cmd: cmd, out: w, buf: buf, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-c.done
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(c.URL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c
			}
		}
		select {
		case err := <-c.done:
			t.Fatalf("server exited at start: %v\n%s", err, c.logs())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("server not healthy within 15 s\n%s", c.logs())
	return nil
}

func (c *childServer) logs() string {
	c.out.mu.Lock()
	defer c.out.mu.Unlock()
	return c.buf.String()
}

// stop sends SIGTERM and waits for the process to end.
func (c *childServer) stop(t *testing.T) error {
	t.Helper()
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.done:
		return err
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		return errors.New("did not stop within 30 s of SIGTERM")
	}
}

// loadClient is one learner of a fault test: a cookie jar, no redirects
// followed, errors returned (not fatal: it runs in its own goroutine).
type loadClient struct {
	base string
	c    *http.Client
	csrf string
}

func newLoadClient(base string) *loadClient {
	jar, _ := cookiejar.New(nil)
	return &loadClient{base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (l *loadClient) do(method, path string, form url.Values) (int, string, error) {
	var body io.Reader
	if form != nil {
		form.Set("csrf_token", l.csrf)
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, l.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := l.c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if m := csrfRe.FindSubmatch(b); m != nil {
		l.csrf = string(m[1])
	}
	return resp.StatusCode, string(b), err
}

func (l *loadClient) state(t *testing.T) apiStateJSON {
	t.Helper()
	code, body, err := l.do(http.MethodGet, "/api/state", nil)
	if err != nil || code != http.StatusOK {
		t.Fatalf("/api/state: %d %v\n%s", code, err, body)
	}
	var s apiStateJSON
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func (l *loadClient) progress(t *testing.T) map[string]bool {
	t.Helper()
	code, body, err := l.do(http.MethodGet, "/api/progress", nil)
	if err != nil || code != http.StatusOK {
		t.Fatalf("/api/progress: %d %v", code, err)
	}
	var p struct {
		Lessons []struct {
			Slug  string `json:"slug"`
			Steps []struct {
				ID   string `json:"id"`
				Done bool   `json:"done"`
			} `json:"steps"`
		} `json:"lessons"`
	}
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	done := map[string]bool{}
	for _, l := range p.Lessons {
		for _, s := range l.Steps {
			if s.Done {
				done[l.Slug+"/"+s.ID] = true
			}
		}
	}
	return done
}

// cartLoad has learners add to their carts until stop is closed, counting
// every add the server acknowledged with 303. Any 5xx other than the
// allowed one, and any other unexpected status, is a failure.
type cartLoad struct {
	learners []*loadClient
	acked    []map[int64]int // learner → product → acknowledged quantity
	mu       sync.Mutex
	statuses map[int]int
	bad      []string
	answered atomic.Int64
}

func newCartLoad(t *testing.T, base string, n int) *cartLoad {
	t.Helper()
	cl := &cartLoad{statuses: map[int]int{}}
	for i := range n {
		l := newLoadClient(base)
		if code, _, err := l.do(http.MethodGet, "/products/"+fmt.Sprint(1+i%8), nil); err != nil || code != http.StatusOK {
			t.Fatalf("learner %d: GET product: %d %v", i, code, err)
		}
		cl.learners = append(cl.learners, l)
		cl.acked = append(cl.acked, map[int64]int{})
	}
	return cl
}

// run loops until stop closes; allowed lists the statuses that are fine.
func (cl *cartLoad) run(stop <-chan struct{}, allowed ...int) *sync.WaitGroup {
	var wg sync.WaitGroup
	for i, l := range cl.learners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				p := int64(1 + (i+n)%8)
				code, _, err := l.do(http.MethodPost, "/cart/add", url.Values{"product_id": {fmt.Sprint(p)}, "quantity": {"1"}})
				if err == nil {
					cl.note(code, "POST /cart/add", allowed)
					if code == http.StatusSeeOther {
						cl.mu.Lock()
						cl.acked[i][p]++
						cl.mu.Unlock()
					}
				}
				code, _, err = l.do(http.MethodGet, "/cart", nil)
				if err == nil {
					cl.note(code, "GET /cart", allowed)
				} else {
					time.Sleep(10 * time.Millisecond) // refused: the server is gone
				}
			}
		}()
	}
	return &wg
}

func (cl *cartLoad) note(code int, what string, allowed []int) {
	cl.answered.Add(1)
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.statuses[code]++
	ok := code == http.StatusOK || code == http.StatusSeeOther
	for _, a := range allowed {
		ok = ok || code == a
	}
	if !ok && len(cl.bad) < 10 {
		cl.bad = append(cl.bad, fmt.Sprintf("%s → %d", what, code))
	}
}

// checkCarts: every acknowledged add is in the learner's cart.
func (cl *cartLoad) checkCarts(t *testing.T) {
	t.Helper()
	total := 0
	for i, l := range cl.learners {
		got := l.state(t).quantities()
		for p, q := range cl.acked[i] {
			total += q
			if got[p] < min(q, db.MaxQuantity) {
				t.Errorf("learner %d: product %d has quantity %d, but %d adds were answered 303", i, p, got[p], q)
			}
		}
	}
	if total == 0 {
		t.Fatal("no cart change was acknowledged: the load did not run")
	}
	t.Logf("%d acknowledged cart changes all present; statuses %v", total, cl.statuses)
}

// SIGTERM with 50 learners active: requests in flight finish, nobody sees a
// 5xx, the process exits cleanly, and a restart finds every session, cart
// and lesson step as it was.
func TestGracefulShutdownUnderLoadKeepsEverything(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startChild(t, dbURL)
		load := newCartLoad(t, srv.URL, 50)
		// A few learners log in; every learner's lesson progress so far is noted.
		users := map[int]string{0: "alice", 1: "bob", 2: "alice"}
		for i, u := range users {
			l := load.learners[i]
			l.do(http.MethodGet, "/login", nil)
			pass := map[string]string{"alice": "wonderland", "bob": "builder"}[u]
			if code, _, err := l.do(http.MethodPost, "/login", url.Values{"username": {u}, "password": {pass}}); err != nil || code != http.StatusSeeOther {
				t.Fatalf("login %s: %d %v", u, code, err)
			}
			l.do(http.MethodGet, "/products/1", nil)
		}
		before := make([]map[string]bool, len(load.learners))
		for i, l := range load.learners {
			before[i] = l.progress(t)
		}

		stop := make(chan struct{})
		wg := load.run(stop)
		// The SIGTERM must meet requests in flight: wait until the load is
		// really running (a loaded machine takes longer to get going).
		for deadline := time.Now().Add(30 * time.Second); load.answered.Load() < 50 && time.Now().Before(deadline); {
			time.Sleep(50 * time.Millisecond)
		}
		answered := load.answered.Load()
		exit := srv.stop(t)
		close(stop)
		wg.Wait()
		if exit != nil {
			t.Fatalf("server exit after SIGTERM: %v\n%s", exit, srv.logs())
		}
		if len(load.bad) > 0 {
			t.Fatalf("answers during shutdown: %v (all: %v)", load.bad, load.statuses)
		}
		if answered < 10 {
			t.Fatalf("only %d requests answered before SIGTERM: no load", answered)
		}
		if !strings.Contains(srv.logs(), "shutting down") {
			t.Errorf("no shutdown message in the log:\n%s", srv.logs())
		}

		again := startChild(t, dbURL)
		for _, l := range load.learners {
			l.base = again.URL // cookies are per host, not per port: the jar still sends them
		}
		load.checkCarts(t)
		for i, l := range load.learners {
			s := l.state(t)
			if s.Session == nil {
				t.Fatalf("learner %d lost its session across the restart", i)
			}
			if u, ok := users[i]; ok && (s.Session.User == nil || *s.Session.User != u) {
				t.Errorf("learner %d was %s before the restart, now %v", i, u, s.Session.User)
			}
			after := l.progress(t)
			for k := range before[i] {
				if !after[k] {
					t.Errorf("learner %d lost lesson step %s across the restart", i, k)
				}
			}
		}
		if err := again.stop(t); err != nil {
			t.Errorf("second stop: %v", err)
		}
	})
}

// tcpProxy stands between the server and MariaDB so a test can cut the
// network and restore it.
type tcpProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *tcpProxy) pipe(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // cut while dialling
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	go func() { io.Copy(up, c); up.Close(); c.Close() }()
	io.Copy(c, up)
	c.Close()
	up.Close()
}

// cut closes the listener and every connection: the database is gone.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// restore listens again on the same address.
func (p *tcpProxy) restore(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("restore proxy on %s: %v", p.addr, err)
}

// The network to MariaDB is cut mid-load: pages answer a clear 503 that says
// the data is safe, /healthz says 503; when the network is back the server
// recovers by itself, and every cart change answered 303 is still there.
func TestDatabaseOutageAnswers503AndRecoversWithoutLosingCarts(t *testing.T) {
	dbURL := freshDatabase(t, db.MariaDB)
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, u.Host)
	u.Host = proxy.addr
	srv := startServer(t, u.String())
	load := newCartLoad(t, srv.URL, 8)

	stop := make(chan struct{})
	wg := load.run(stop, http.StatusServiceUnavailable)
	time.Sleep(400 * time.Millisecond)
	proxy.cut()
	cutAt := time.Now()

	// While it is down: a clear page for a known session and for a newcomer.
	time.Sleep(100 * time.Millisecond)
	for _, b := range []*loadClient{load.learners[0], newLoadClient(srv.URL)} {
		code, body, err := b.do(http.MethodGet, "/cart", nil)
		if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(body, "database is unavailable") || !strings.Contains(body, "your data is safe") {
			t.Errorf("GET /cart during the outage: %d %v, want 503 saying the database is unavailable and the data safe\n%s", code, err, ids.Cut(body, 400))
		}
	}
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("/healthz during the outage: %v %v, want 503", resp, err)
	}
	resp.Body.Close()
	time.Sleep(300 * time.Millisecond) // the load keeps knocking

	proxy.restore(t)
	restored := time.Now()
	var recovered time.Duration
	for time.Since(restored) < 10*time.Second {
		if resp, err := http.Get(srv.URL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				recovered = time.Since(restored)
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if recovered == 0 {
		t.Fatal("the server did not recover within 10 s of the network coming back")
	}
	if recovered > 3*time.Second {
		t.Errorf("recovery took %v, want a second or two", recovered)
	}
	time.Sleep(300 * time.Millisecond) // the load runs on the restored database
	close(stop)
	wg.Wait()
	t.Logf("outage %v; healthy again %v after the network came back", restored.Sub(cutAt).Round(time.Millisecond), recovered.Round(time.Millisecond))
	if len(load.bad) > 0 {
		t.Fatalf("unexpected answers: %v (all: %v)", load.bad, load.statuses)
	}
	if load.statuses[http.StatusServiceUnavailable] == 0 {
		t.Error("no request saw the outage: the cut did not happen under load")
	}
	for i, l := range load.learners {
		if code, _, err := l.do(http.MethodGet, "/cart", nil); err != nil || code != http.StatusOK {
			t.Fatalf("learner %d after recovery: GET /cart %d %v", i, code, err)
		}
	}
	load.checkCarts(t)
}

// A SQLite file the server cannot write stops the start with one clear
// sentence, not a panic and not a server that fails on the first click:
// whether the file alone is read-only or its folder too.
func TestUnwritableSQLiteFileIsAClearStartupError(t *testing.T) {
	for _, readOnlyDir := range []bool{false, true} {
		t.Run(map[bool]string{false: "file", true: "file-and-folder"}[readOnlyDir], func(t *testing.T) {
			startOnReadOnlySQLite(t, readOnlyDir)
		})
	}
}

func startOnReadOnlySQLite(t *testing.T, readOnlyDir bool) {
	dir, err := os.MkdirTemp("", "sessionlab-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o755); os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "class.db")
	d, err := db.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	bin := os.Args[0]
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		// root writes anything: run the server as nobody, from a copy of
		// this binary it can read.
		cred = &syscall.Credential{Uid: 65534, Gid: 65534}
		b, err := os.ReadFile(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		bin = filepath.Join(dir, "server.test")
		if err := os.WriteFile(bin, b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	if readOnlyDir {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
	}
	cmd, buf, _ := childCommand(t, bin, "-addr", "127.0.0.1:0", "-db", "sqlite:"+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the server started on a read-only database file (or hung)")
	}
	out := buf.String()
	t.Logf("exit %v, output:\n%s", err, out)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("exit = %v, want status 1", err)
	}
	if strings.Contains(out, "panic") || strings.Contains(out, "goroutine ") {
		t.Fatal("a panic, not a clear error")
	}
	if !strings.Contains(out, path) || !strings.Contains(out, "read-only") {
		t.Errorf("the error does not name the file and say it is read-only:\n%s", out)
	}
}
