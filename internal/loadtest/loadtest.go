// Package loadtest is the classroom load benchmark (issue 7): simulated
// learners, each with its own cookie jar, against a real Session Lab on
// 127.0.0.1. By default the server runs as a child process (the same binary,
// "serve"), so its CPU and memory are read from /proc apart from the client's.
//
//	go run . loadtest -mode all                     # SQLite in a temp dir
//	go run . loadtest -mode all -db mysql://root@127.0.0.1:3306/sessionlab_load
package loadtest

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"

	"sessionlab/db"
	"sessionlab/ids"
)

// config is what the flags decide.
type config struct {
	dbURL     string
	mode      string
	learners  int
	browsers  int
	storm     int
	sessions  int
	duration  time.Duration
	think     time.Duration
	url       string
	inprocess bool
	strict    bool
	keep      bool
	cpuprof   string
	srvprof   string
	oneAddr   bool // every learner from 127.0.0.1, as behind one NAT
}

type account struct{ name, pass string }

// server is the server under test.
type server struct {
	url     string
	pid     int // whose CPU and memory are the server's (0: unknown)
	dialect string
	startup time.Duration // start → first 200 from /healthz
	stop    func() error
	logPath string
}

// StartFunc starts Session Lab inside this process on a free loopback port,
// on the database at dbURL (already migrated and seeded), and returns its
// base URL and the function that stops it. The web app lives in package
// main, which this package cannot import: main hands its start in.
type StartFunc func(dbURL string) (url string, stop func() error, err error)

// runner is one run of the tool: its flags, the server under test and the
// learners' shared transport.
type runner struct {
	cfg    config
	out    io.Writer
	inProc StartFunc
	srv    *server
	tr     *http.Transport
	users  []account

	machinesMu sync.Mutex
	machines   []*http.Transport // one per learner sent from an address of its own

	loginOK, loginBusy, loginDeferred atomic.Int64
	login503, login429                atomic.Int64
	waitMu                            sync.Mutex
	loginWaits                        []time.Duration // first try → logged in, retries included
	attempts                          []loginTry      // every POST /login of the mode
	wrong                             int             // 503s the queue proved wrong (wrongRefusals)
	stormNote                         string
	stormOK                           bool
	startupFirst                      time.Duration
}

var selfPID = os.Getpid()

const password = "loadtest-password"

// Run is the loadtest subcommand: it parses args, runs the modes and writes
// the report to out. With -inprocess the server is started by startInProcess.
func Run(args []string, out io.Writer, startInProcess StartFunc) error {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	var cfg config
	fs.StringVar(&cfg.dbURL, "db", "", "database of the server under test: default a fresh SQLite file in a temp dir; or mysql://USER:PASS@HOST:PORT/DBNAME (created if missing)")
	fs.StringVar(&cfg.mode, "mode", "all", "ceiling | read | read-auth | flow | login-storm | sessions | all")
	fs.IntVar(&cfg.learners, "learners", 32, "concurrent learners (ceiling, read, read-auth, flow)")
	fs.IntVar(&cfg.browsers, "browsers", 32, "learners browsing during the login storm")
	fs.IntVar(&cfg.storm, "storm", 64, "learners logging in within one second (login-storm)")
	fs.IntVar(&cfg.sessions, "sessions", 10000, "sessions to create (sessions mode)")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "length of each mode")
	fs.DurationVar(&cfg.think, "think", 100*time.Millisecond, "a learner's mean pause between clicks (flow, login-storm), each drawn from half to one and a half times it so learners do not click in step; read and ceiling never pause")
	fs.StringVar(&cfg.url, "url", "", "test an already running server at this base URL instead of starting one (logs in as alice/bob; no server CPU figures)")
	fs.BoolVar(&cfg.inprocess, "inprocess", false, "run the server inside this process (CPU figures then include the client)")
	fs.BoolVar(&cfg.strict, "strict", false, "exit non-zero when a target is missed (errors always fail the run)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep the temporary SQLite database and server log")
	fs.StringVar(&cfg.cpuprof, "cpuprofile", "", "write a CPU profile of this process to FILE (with -inprocess it covers the server: go tool pprof FILE)")
	fs.StringVar(&cfg.srvprof, "serverprofile", "", "write a CPU profile of the child server to FILE (the first server start)")
	fs.BoolVar(&cfg.oneAddr, "one-address", false, "send every learner from 127.0.0.1, as a class behind one NAT (default toward a loopback server on Linux: each learner from an address of its own, 127.3.x.y, as a class at its own machines)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.cpuprof != "" {
		f, err := os.Create(cfg.cpuprof)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	modes := map[string][]string{
		"all":         {"ceiling", "read", "read-auth", "flow", "login-storm", "sessions"},
		"ceiling":     {"ceiling"},
		"read":        {"ceiling", "read"},
		"read-auth":   {"ceiling", "read-auth"},
		"flow":        {"flow"},
		"login-storm": {"login-storm"},
		"sessions":    {"sessions"},
	}[cfg.mode]
	if modes == nil {
		return fmt.Errorf("unknown -mode %q: ceiling, read, read-auth, flow, login-storm, sessions or all", cfg.mode)
	}
	if cfg.learners < 1 || cfg.browsers < 0 || cfg.storm < 0 || cfg.duration <= 0 {
		return errors.New("-learners must be ≥ 1, -browsers and -storm ≥ 0, -duration > 0")
	}
	rn := &runner{cfg: cfg, out: out, inProc: startInProcess}
	rn.tr = &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 90 * time.Second}
	defer rn.tr.CloseIdleConnections()
	defer rn.closeMachines()

	tmp, err := os.MkdirTemp("", "sessionlab-loadtest-")
	if err != nil {
		return err
	}
	if !cfg.keep {
		defer os.RemoveAll(tmp)
	}
	if err := rn.start(tmp); err != nil {
		return err
	}
	defer func() {
		if rn.srv != nil && rn.srv.stop != nil {
			rn.srv.stop()
		}
	}()
	rn.header()
	var results []*result
	for _, m := range modes {
		var r *result
		switch m {
		case "ceiling":
			r = rn.ceiling()
		case "read":
			r = rn.read(false)
		case "read-auth":
			r = rn.read(true)
		case "flow":
			r = rn.flow()
		case "login-storm":
			r = rn.loginStorm()
		case "sessions":
			r = rn.sessions()
		}
		rn.report(r)
		results = append(results, r)
	}
	// Graceful stop and a start on the now well-filled database: start-up
	// time as a returning class sees it.
	if rn.srv.stop != nil && cfg.url == "" && !cfg.inprocess {
		if err := rn.srv.stop(); err != nil {
			fmt.Fprintf(out, "\nserver stop: %v\n", err)
			results[0].st.fail("graceful stop", err)
		}
		rn.srv.stop = nil
		if err := rn.start(tmp); err != nil {
			return err
		}
	}
	return rn.summary(results)
}

// loginTry is one POST /login: when it left, when its answer came, which.
type loginTry struct {
	start, end time.Time
	status     int
}

// queueWait is the longest wait the server lets a login join (hashgate.go):
// a refusal says the wait would have been longer.
const queueWait = 10 * time.Second

// wrongRefusals counts the 503s the queue proved wrong: a login refused at
// arrival a while another, arriving at or after a, was in by a + limit.
// The server hashes logins first come, first served, so the refused one
// would have been in no later: it was sent away from a wait under limit.
func wrongRefusals(at []loginTry, limit time.Duration) int {
	var in []loginTry
	for _, a := range at {
		if a.status == http.StatusSeeOther {
			in = append(in, a)
		}
	}
	n := 0
	for _, r := range at {
		if r.status != http.StatusServiceUnavailable {
			continue
		}
		for _, a := range in {
			if !a.start.Before(r.start) && a.end.Sub(r.start) <= limit {
				n++
				break
			}
		}
	}
	return n
}

// start starts (or reaches) the server under test, measuring start-up.
func (rn *runner) start(tmp string) error {
	cfg := rn.cfg
	switch {
	case cfg.url != "":
		rn.srv = &server{url: strings.TrimSuffix(cfg.url, "/")}
		rn.users = []account{{"alice", "wonderland"}, {"bob", "builder"}}
		return rn.waitHealthy(time.Now(), 5*time.Second)
	case cfg.dbURL == "":
		cfg.dbURL = "sqlite:" + filepath.Join(tmp, "load.db")
		rn.cfg.dbURL = cfg.dbURL
	}
	if rn.users == nil {
		if err := rn.prepareDB(); err != nil {
			return err
		}
	}
	if cfg.inprocess {
		return rn.startInProcess()
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	logPath := filepath.Join(tmp, "server.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(exe, "serve", "-addr", addr, "-db", cfg.dbURL, "-instance", "loadtest", "-instructor-token", ids.New())
	cmd.Stdout, cmd.Stderr = logf, logf
	if cfg.srvprof != "" {
		cmd.Env = append(os.Environ(), "SESSIONLAB_CPUPROFILE="+cfg.srvprof)
		rn.cfg.srvprof = "" // profile the first start only
	}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start server: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); logf.Close() }()
	rn.srv = &server{url: "http://" + addr, pid: cmd.Process.Pid, logPath: logPath}
	rn.srv.stop = func() error {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			return err
		case <-time.After(25 * time.Second):
			cmd.Process.Kill()
			return errors.New("server did not stop within 25 s of SIGTERM")
		}
	}
	if err := rn.waitHealthy(t0, 10*time.Second); err != nil {
		rn.srv.stop()
		b, _ := os.ReadFile(logPath)
		return fmt.Errorf("%w\nserver log:\n%s", err, tail(string(b), 2000))
	}
	return nil
}

func (rn *runner) startInProcess() error {
	if rn.inProc == nil {
		return errors.New("-inprocess: this build cannot start a server in-process")
	}
	t0 := time.Now()
	url, stop, err := rn.inProc(rn.cfg.dbURL)
	if err != nil {
		return err
	}
	rn.srv = &server{url: url, pid: selfPID, stop: stop}
	return rn.waitHealthy(t0, 10*time.Second)
}

// waitHealthy polls /healthz until 200; the time from t0 is the start-up.
func (rn *runner) waitHealthy(t0 time.Time, limit time.Duration) error {
	cl := &http.Client{Transport: rn.tr, Timeout: time.Second}
	for time.Since(t0) < limit {
		resp, err := cl.Get(rn.srv.url + "/healthz")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				rn.srv.startup = time.Since(t0)
				switch {
				case strings.Contains(string(b), db.MariaDB):
					rn.srv.dialect = db.MariaDB
				case strings.Contains(string(b), db.SQLite):
					rn.srv.dialect = db.SQLite
				}
				if rn.startupFirst == 0 {
					rn.startupFirst = rn.srv.startup
				}
				return nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return fmt.Errorf("server at %s not healthy within %v", rn.srv.url, limit)
}

// prepareDB migrates and seeds the database, and adds the learners' accounts
// (one per learner, so each checks its own cart), all with one bcrypt hash.
func (rn *runner) prepareDB() error {
	ctx := context.Background()
	if cfg, err := db.ParseURL(rn.cfg.dbURL); err == nil && cfg.Dialect == db.MariaDB {
		if err := createMariaDB(ctx, cfg); err != nil {
			return err
		}
	}
	d, err := db.Open(ctx, rn.cfg.dbURL)
	if err != nil {
		return err
	}
	defer d.Close()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	ins := "INSERT OR IGNORE"
	if d.Dialect() == db.MariaDB {
		ins = "INSERT IGNORE"
	}
	n := rn.cfg.learners + rn.cfg.browsers + rn.cfg.storm
	for i := range n {
		u := account{fmt.Sprintf("learner%03d", i+1), password}
		if _, err := d.W.ExecContext(ctx, ins+" INTO users (username, password_hash, created_at) VALUES (?, ?, ?)", u.name, string(hash), time.Now().UTC()); err != nil {
			return fmt.Errorf("create load users: %w", err)
		}
		rn.users = append(rn.users, u)
	}
	return nil
}

// createMariaDB creates the named database if it is missing.
func createMariaDB(ctx context.Context, cfg db.Config) error {
	dsn := strings.Replace(cfg.DSN, "/"+cfg.Name+"?", "/?", 1)
	conn, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+strings.ReplaceAll(cfg.Name, "`", "")+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
	if err != nil {
		return fmt.Errorf("create database %s: %w", cfg.Name, err)
	}
	return nil
}

func (rn *runner) user(i int) account { return rn.users[i%len(rn.users)] }

func (rn *runner) learners(n int, st *stats) []*learner {
	ls := make([]*learner, n)
	for i := range ls {
		ls[i] = newLearner(rn.srv.url, rn.machine(), st)
	}
	return ls
}

// spread says whether learners are sent from addresses of their own: toward
// a loopback server on Linux, where all of 127.0.0.0/8 is this machine's,
// unless -one-address. A class at its own machines is what the server's
// per-address limits are made for; from one address, a load run's learners
// log in far more often than a class behind one NAT and meet the limit of
// logins a minute from one address (throttle.go).
func (rn *runner) spread() bool {
	return !rn.cfg.oneAddr && runtime.GOOS == "linux" && loopbackV4(rn.srv.url)
}

// machine is the transport of the next learner: with spread, one of its own
// whose connections all leave from the next address 127.3.x.y (every
// learner of the run a machine of its own, across modes), else the shared
// one.
func (rn *runner) machine() *http.Transport {
	if !rn.spread() {
		return rn.tr
	}
	rn.machinesMu.Lock()
	defer rn.machinesMu.Unlock()
	i := len(rn.machines) + 1
	ip := net.IPv4(127, 3, byte(i>>8), byte(i))
	t := rn.tr.Clone()
	t.DialContext = (&net.Dialer{LocalAddr: &net.TCPAddr{IP: ip}}).DialContext
	rn.machines = append(rn.machines, t)
	return t
}

// closeMachines closes every learner's idle connections.
func (rn *runner) closeMachines() {
	rn.machinesMu.Lock()
	defer rn.machinesMu.Unlock()
	for _, t := range rn.machines {
		t.CloseIdleConnections()
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

func (rn *runner) header() {
	host, _ := os.Hostname()
	fmt.Fprintf(rn.out, "Session Lab load test — %s, %d CPU cores (GOMAXPROCS %d), %s/%s, %s\n", host, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version())
	where := "child process (server CPU and RSS from /proc)"
	switch {
	case rn.cfg.url != "":
		where = "existing server (no server CPU figures)"
	case rn.cfg.inprocess:
		where = "in this process (CPU figures include the client)"
	}
	fmt.Fprintf(rn.out, "server: %s, database %s (%s), %s; learners %d, think %v, %v per mode\n",
		rn.srv.url, rn.srv.dialect, maskedDB(rn.cfg.dbURL), where, rn.cfg.learners, rn.cfg.think, rn.cfg.duration)
	from := "each learner from an address of its own (127.3.x.y), as a class at its own machines"
	if !rn.spread() {
		from = "every learner from one address, as a class behind one NAT (the server's per-address limits apply to all together)"
	}
	fmt.Fprintf(rn.out, "learners: %s\n", from)
	fmt.Fprintf(rn.out, "start-up (fresh database: migrate + seed): first /healthz 200 after %v\n", ms(rn.startupFirst))
	fmt.Fprintf(rn.out, "machine load average at start: %s (other processes share these cores: compare ratios, not absolutes)\n", loadAvg())
}

// loadAvg is the 1/5/15-minute load average, or "n/a".
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}

func maskedDB(raw string) string {
	if cfg, err := db.ParseURL(raw); err == nil {
		return cfg.Display
	}
	return "?"
}

func (rn *runner) report(r *result) {
	w := rn.out
	reqs := r.st.count(nil)
	secs := r.elapsed.Seconds()
	fmt.Fprintf(w, "\n== %s: %d requests in %.1f s = %.0f req/s", r.mode, reqs, secs, float64(reqs)/secs)
	if f := r.st.flows.Load(); f > 0 {
		fmt.Fprintf(w, ", %d flows = %.1f flows/s", f, float64(f)/secs)
	}
	fmt.Fprintf(w, ", errors %d\n", r.st.nErrs.Load())
	if r.bytes > 0 && reqs > 0 {
		fmt.Fprintf(w, "   response size %.1f KB\n", float64(r.bytes)/float64(reqs)/1024)
	}
	r.figures["rps"] = float64(reqs) / secs
	if reqs > 0 && r.serverCPU > 0 {
		per := r.serverCPU / time.Duration(reqs)
		fmt.Fprintf(w, "   server CPU %v per request (%.0f%% of %d cores)", per.Round(time.Microsecond), 100*r.serverCPU.Seconds()/secs/float64(runtime.NumCPU()), runtime.NumCPU())
		if r.clientCPU > 0 {
			fmt.Fprintf(w, "; client CPU %v per request", (r.clientCPU / time.Duration(reqs)).Round(time.Microsecond))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "   %-28s %7s %9s %9s %9s %9s %5s\n", "route", "n", "p50", "p90", "p99", "max", "err")
	for _, name := range r.st.routeNames() {
		lat := r.st.merged(func(n string) bool { return n == name })
		r.st.mu.Lock()
		e := r.st.routes[name].errs
		r.st.mu.Unlock()
		fmt.Fprintf(w, "   %-28s %7d %9s %9s %9s %9s %5d\n", name, len(lat), ms(pct(lat, .5)), ms(pct(lat, .9)), ms(pct(lat, .99)), ms(pct(lat, 1)), e)
	}
	for _, n := range r.notes {
		fmt.Fprintf(w, "   %s\n", n)
	}
	for _, e := range r.st.errs {
		fmt.Fprintf(w, "   ERROR %s\n", e)
	}
}

// summary prints the targets of issue 7 with the figures of this run, and
// fails the run on any error (and, with -strict, on a missed target).
func (rn *runner) summary(results []*result) error {
	w := rn.out
	by := map[string]*result{}
	var errs int64
	for _, r := range results {
		by[r.mode] = r
		errs += r.st.nErrs.Load()
	}
	fmt.Fprintf(w, "\n== targets (%s, %d cores; load average now %s)\n", rn.srv.dialect, runtime.NumCPU(), loadAvg())
	missed := 0
	check := func(name string, ok bool, got string) {
		mark := "ok  "
		if !ok {
			mark = "MISS"
			missed++
		}
		fmt.Fprintf(w, "   %s %-52s %s\n", mark, name, got)
	}
	if c := by["ceiling"]; c != nil {
		for _, m := range []string{"read", "read-auth"} {
			if r := by[m]; r != nil {
				ratio := r.figures["rps"] / c.figures["rps"]
				check(m+" /cart req/s ≥ 30% of the static ceiling", ratio >= 0.30, fmt.Sprintf("%.0f%% (%.0f vs %.0f req/s)", 100*ratio, r.figures["rps"], c.figures["rps"]))
			}
		}
	}
	notLogin := func(n string) bool { return n != "POST /login" && !strings.HasPrefix(n, "check") && n != "setup" }
	if r := by["flow"]; r != nil {
		p := pct(r.st.merged(notLogin), .99)
		lg := r.st.merged(func(n string) bool { return n == "POST /login" })
		check(fmt.Sprintf("flow p99 of non-login requests ≤ 50 ms (%d learners)", rn.cfg.learners), p <= 50*time.Millisecond, fmt.Sprintf("%s; login p99 %s", ms(p), ms(pct(lg, .99))))
		check("flow: no 503 while a later login was in within 10 s", r.figures["wrong503"] == 0, fmt.Sprintf("%.0f", r.figures["wrong503"]))
	}
	if r := by["login-storm"]; r != nil {
		p := pct(r.st.merged(func(n string) bool { return strings.HasPrefix(n, "GET") }), .99)
		check(fmt.Sprintf("storm: browsing p99 ≤ 50 ms (%d log in, %d browse)", rn.cfg.storm, rn.cfg.browsers), p <= 50*time.Millisecond, ms(p))
		check("storm: every login succeeds or gets 503/429 + Retry-After", rn.stormOK, rn.stormNote[:strings.Index(rn.stormNote, ";")])
		check("storm: no 503 while a later login was in within 10 s", r.figures["wrong503"] == 0, fmt.Sprintf("%.0f", r.figures["wrong503"]))
	}
	if r := by["sessions"]; r != nil && r.figures["rss_mb"] > 0 {
		check(fmt.Sprintf("RSS ≤ 150 MB with %d live sessions", rn.cfg.sessions), r.figures["rss_mb"] <= 150, fmt.Sprintf("%.0f MB", r.figures["rss_mb"]))
	}
	if rn.cfg.url == "" {
		check("start-up ≤ 1 s on an existing database", rn.srv.startup <= time.Second, ms(rn.srv.startup))
	}
	check("no errors, no unexpected status", errs == 0, fmt.Sprintf("%d", errs))
	if rn.srv.logPath != "" && rn.cfg.keep {
		fmt.Fprintf(w, "   server log: %s\n", rn.srv.logPath)
	}
	switch {
	case errs > 0:
		return fmt.Errorf("load test: %d errors", errs)
	case missed > 0 && rn.cfg.strict:
		return fmt.Errorf("load test: %d targets missed", missed)
	}
	return nil
}
