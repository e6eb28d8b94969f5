package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The load tool's modes. Each returns an result: latencies per route,
// errors, and the server CPU it cost.

type result struct {
	mode      string
	elapsed   time.Duration
	st        *stats
	serverCPU time.Duration
	clientCPU time.Duration
	notes     []string // extra lines for the report
	figures   map[string]float64
	bytes     int64 // body bytes received, for the throughput modes
}

func (r *result) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// measure runs body for the mode's duration and wraps its figures.
func (rn *runner) measure(mode string, st *stats, body func(ctx context.Context)) *result {
	ctx, cancel := context.WithTimeout(context.Background(), rn.cfg.duration)
	defer cancel()
	cpu0, self0 := procCPU(rn.srv.pid), procCPU(selfPID)
	start := time.Now()
	body(ctx)
	res := &result{mode: mode, st: st, elapsed: time.Since(start), figures: map[string]float64{}}
	res.serverCPU = procCPU(rn.srv.pid) - cpu0
	res.clientCPU = procCPU(selfPID) - self0
	if rn.srv.pid == selfPID {
		res.clientCPU = 0 // one process: the CPU figure is the sum of both
	}
	return res
}

// loop runs fn in n goroutines until ctx ends.
func loop(ctx context.Context, n int, fn func(ctx context.Context, i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				fn(ctx, i)
			}
		}()
	}
	wg.Wait()
}

// parallel runs fn once in each of n goroutines and waits.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); fn(i) }()
	}
	wg.Wait()
}

// ceiling: the same server answering a static file — what the machine,
// Fiber and the client can do at best.
func (rn *runner) ceiling() *result {
	st := newStats()
	ls := rn.learners(rn.cfg.learners, st)
	for _, l := range ls {
		l.skim = true
	}
	var bytes atomic.Int64
	res := rn.measure("ceiling", st, func(ctx context.Context) {
		loop(ctx, len(ls), func(ctx context.Context, i int) {
			if r, err := ls[i].get(ctx, "/static/app.css", "GET /static/app.css"); err == nil {
				bytes.Add(int64(r.bytes))
			}
		})
	})
	res.bytes = bytes.Load()
	return res
}

// read: established sessions with two items in the cart GET /cart with all
// three panels, as fast as they can (auth: logged in, cart in cart_items).
func (rn *runner) read(auth bool) *result {
	setup := newStats()
	ls := rn.learners(rn.cfg.learners, setup)
	parallel(len(ls), func(i int) {
		l, ctx := ls[i], context.Background()
		if auth {
			u := rn.user(i)
			if _, err := l.get(ctx, "/login", "setup"); err == nil {
				rn.login(ctx, l, u, "/") // waits as told when the login queue is full
			}
		}
		for _, p := range []string{"1", "2"} {
			if _, err := l.get(ctx, "/products/"+p, "setup"); err == nil {
				l.post(ctx, "/cart/add", "setup", url.Values{"product_id": {p}, "quantity": {"1"}}, "")
			}
		}
	})
	st := newStats()
	for _, l := range ls {
		l.st, l.skim = st, true
	}
	mode := "read"
	if auth {
		mode = "read-auth"
	}
	var bytes atomic.Int64
	res := rn.measure(mode, st, func(ctx context.Context) {
		loop(ctx, len(ls), func(ctx context.Context, i int) {
			if r, err := ls[i].get(ctx, "/cart", "GET /cart"); err == nil {
				bytes.Add(int64(r.bytes))
			}
		})
	})
	res.bytes = bytes.Load()
	rn.mergeSetup(res, setup)
	return res
}

// mergeSetup counts setup failures as the run's errors.
func (rn *runner) mergeSetup(res *result, setup *stats) {
	if n := setup.nErrs.Load(); n > 0 {
		setup.mu.Lock()
		for _, e := range setup.errs {
			res.st.fail("setup", fmt.Errorf("%s", e))
		}
		setup.mu.Unlock()
	}
}

// flow: the whole story of a visit, with the checks a tutorial relies on.
func (rn *runner) flow() *result {
	st := newStats()
	ls := rn.learners(rn.cfg.learners, st)
	rn.resetLogins()
	res := rn.measure("flow", st, func(ctx context.Context) {
		loop(ctx, len(ls), func(ctx context.Context, i int) {
			if rn.oneFlow(ctx, ls[i], rn.user(i)) == nil {
				st.flows.Add(1)
			}
		})
	})
	res.note("%s", rn.loginNote())
	res.figures["wrong503"] = float64(rn.wrong)
	return res
}

// resetLogins starts the login counts afresh for a mode.
func (rn *runner) resetLogins() {
	rn.loginOK.Store(0)
	rn.loginBusy.Store(0)
	rn.loginDeferred.Store(0)
	rn.login503.Store(0)
	rn.login429.Store(0)
	rn.waitMu.Lock()
	rn.loginWaits = nil
	rn.attempts = nil
	rn.waitMu.Unlock()
}

// loginNote says what a person logging in lived through: the refusals, and
// the wait from pressing the button to being in, retries included.
func (rn *runner) loginNote() string {
	rn.waitMu.Lock()
	w := slices.Clone(rn.loginWaits)
	rn.wrong = wrongRefusals(rn.attempts, queueWait)
	rn.waitMu.Unlock()
	slices.Sort(w)
	return fmt.Sprintf("logins in: %d, answered 503: %d (%d of them while a later login was in within %v), answered 429: %d; wait from first try to logged in p50 %v p99 %v max %v",
		rn.loginOK.Load(), rn.login503.Load(), rn.wrong, queueWait, rn.login429.Load(), ms(pct(w, .5)), ms(pct(w, .99)), ms(pct(w, 1)))
}

// oneFlow: catalog → product → add ×3 → cart → login → cart → /api/state →
// logout → /account (must redirect).
func (rn *runner) oneFlow(ctx context.Context, l *learner, u account) error {
	step := func(err error) bool { return err == nil && think(ctx, pause(rn.cfg.think)) }
	if _, err := l.get(ctx, "/", "GET /"); !step(err) {
		return fmt.Errorf("stopped")
	}
	picks := rand.Perm(8)[:3]
	var names []string
	for _, p := range picks {
		id := strconv.Itoa(p + 1)
		r, err := l.get(ctx, "/products/"+id, "GET /products/:id")
		if !step(err) {
			return fmt.Errorf("stopped")
		}
		names = append(names, productName(r.body))
		if _, err := l.post(ctx, "/cart/add", "POST /cart/add", url.Values{"product_id": {id}, "quantity": {"1"}}, "GET /cart"); !step(err) {
			return fmt.Errorf("stopped")
		}
	}
	if _, err := l.get(ctx, "/login?next=/cart", "GET /login"); !step(err) {
		return fmt.Errorf("stopped")
	}
	if _, err := rn.login(ctx, l, u, "/cart"); err != nil {
		return err
	}
	r, err := l.get(ctx, "/cart", "GET /cart")
	if err != nil {
		return err
	}
	for _, n := range names {
		if n == "" || !strings.Contains(r.body, n) {
			err := fmt.Errorf("cart after login lacks %q: the cart did not survive login", n)
			l.st.fail("check: cart survives login", err)
			return err
		}
	}
	if !step(nil) {
		return fmt.Errorf("stopped")
	}
	r, err = l.get(ctx, "/api/state", "GET /api/state")
	if err != nil {
		return err
	}
	var state struct {
		Session *struct {
			Authenticated bool   `json:"authenticated"`
			User          string `json:"user"`
		} `json:"session"`
		Cart struct {
			Owner string `json:"owner"`
			Items []struct {
				ProductID int64 `json:"product_id"`
			} `json:"items"`
		} `json:"cart"`
	}
	if err := json.Unmarshal([]byte(r.body), &state); err != nil || state.Session == nil || !state.Session.Authenticated || state.Session.User != u.name || state.Cart.Owner != u.name || len(state.Cart.Items) < 3 {
		err := fmt.Errorf("/api/state after login: want %s's session and cart with ≥3 items, got %.200s", u.name, r.body)
		l.st.fail("check: /api/state", err)
		return err
	}
	if !step(nil) {
		return fmt.Errorf("stopped")
	}
	if _, err := l.post(ctx, "/logout", "POST /logout", nil, "GET /"); !step(err) {
		return fmt.Errorf("stopped")
	}
	r, err = l.get(ctx, "/account", "GET /account", http.StatusSeeOther)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(r.location, "/login") {
		err := fmt.Errorf("/account after logout redirected to %q, want /login", r.location)
		l.st.fail("check: logged out", err)
		return err
	}
	return nil
}

// login posts the form; a 503 or 429 with Retry-After ("busy, come back") is
// a correct answer under a storm: the learner waits as told and tries again.
func (rn *runner) login(ctx context.Context, l *learner, u account, next string) (retries int, err error) {
	t0 := time.Now()
	for attempt := 0; ; attempt++ {
		form := url.Values{"username": {u.name}, "password": {u.pass}, "next": {next}, "csrf_token": {l.csrf}}
		sent := time.Now()
		r, err := l.do(ctx, http.MethodPost, "/login", "POST /login", form, http.StatusSeeOther, http.StatusServiceUnavailable, http.StatusTooManyRequests)
		if err != nil {
			return attempt, err
		}
		rn.waitMu.Lock()
		rn.attempts = append(rn.attempts, loginTry{sent, time.Now(), r.status})
		rn.waitMu.Unlock()
		if r.status == http.StatusSeeOther {
			rn.waitMu.Lock()
			rn.loginWaits = append(rn.loginWaits, time.Since(t0))
			rn.waitMu.Unlock()
			rn.loginOK.Add(1)
			if attempt > 0 {
				rn.loginDeferred.Add(1)
			}
			_, err := l.get(ctx, r.location, "GET "+routeOf(r.location))
			return attempt, err
		}
		secs, perr := strconv.Atoi(r.retry)
		if perr != nil || secs < 0 || attempt >= 10 {
			err := fmt.Errorf("login answered %d without a usable Retry-After (%q) or too often", r.status, r.retry)
			l.st.fail("check: login retry", err)
			return attempt, err
		}
		rn.loginBusy.Add(1)
		if r.status == http.StatusServiceUnavailable {
			rn.login503.Add(1)
		} else {
			rn.login429.Add(1)
		}
		if !think(ctx, time.Duration(secs)*time.Second) {
			return attempt, ctx.Err()
		}
	}
}

func routeOf(path string) string {
	path, _, _ = strings.Cut(path, "?")
	if strings.HasPrefix(path, "/products/") {
		return "/products/:id"
	}
	return path
}

var entities = strings.NewReplacer("&amp;", "&", "&#39;", "'")

func productName(body string) string {
	i := strings.Index(body, "<h1>")
	j := strings.Index(body, "</h1>")
	if i < 0 || j < i {
		return ""
	}
	return entities.Replace(body[i+4 : j])
}

// loginStorm: 64 learners log in within one second while 32 others browse.
func (rn *runner) loginStorm() *result {
	setup := newStats()
	browse, storm := newStats(), newStats()
	browsers := rn.learners(rn.cfg.browsers, setup)
	stormers := rn.learners(rn.cfg.storm, setup)
	parallel(len(stormers), func(i int) { stormers[i].get(context.Background(), "/login", "setup") })
	for _, l := range stormers {
		l.st = storm
	}
	var recording atomic.Bool
	warm := newStats()
	res := rn.measure("login-storm", browse, func(context.Context) {
		// The storm runs to its end, however long -duration is.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		bctx, stopBrowsing := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			loop(bctx, len(browsers), func(ctx context.Context, i int) {
				l := browsers[i]
				for _, p := range []string{"/", "/products/" + strconv.Itoa(1+i%8), "/cart"} {
					if recording.Load() {
						l.st = browse
					} else {
						l.st = warm
					}
					if _, err := l.get(ctx, p, "GET "+routeOf(p)); err != nil || !think(ctx, pause(rn.cfg.think)) {
						return
					}
				}
			})
		}()
		think(ctx, 500*time.Millisecond) // browsing is under way
		recording.Store(true)
		t0 := time.Now()
		rn.resetLogins()
		var maxRetries atomic.Int64
		parallel(len(stormers), func(i int) {
			think(ctx, rand.N(time.Second)) // all within one second
			n, _ := rn.login(ctx, stormers[i], rn.user(rn.cfg.browsers+i), "/")
			if int64(n) > maxRetries.Load() {
				maxRetries.Store(int64(n))
			}
		})
		stormTime := time.Since(t0)
		think(ctx, 300*time.Millisecond)
		recording.Store(false)
		stopBrowsing()
		<-done
		lg := storm.merged(func(r string) bool { return r == "POST /login" })
		res := fmt.Sprintf("%d logins: %d succeeded (%d after a 503/429 + Retry-After), %d busy answers, all done in %v; login p50 %v p99 %v max %v",
			len(stormers), rn.loginOK.Load(), rn.loginDeferred.Load(), rn.loginBusy.Load(), stormTime.Round(time.Millisecond), ms(pct(lg, .5)), ms(pct(lg, .99)), ms(pct(lg, 1)))
		rn.stormNote = res + "; " + rn.loginNote()
		rn.stormOK = rn.loginOK.Load() == int64(len(stormers))
	})
	res.note("%s", rn.stormNote)
	res.figures["wrong503"] = float64(rn.wrong)
	// Storm errors count as the run's errors; their latencies show separately.
	storm.mu.Lock()
	for name, r := range storm.routes {
		res.st.mu.Lock()
		res.st.routes["storm: "+name] = r
		res.st.mu.Unlock()
		res.st.nErrs.Add(int64(r.errs))
	}
	res.st.errs = append(res.st.errs, storm.errs...)
	storm.mu.Unlock()
	rn.mergeSetup(res, setup)
	return res
}

// sessions: 10,000 live sessions in the table and in the server's care;
// how much memory the server holds, and whether a page view slows down.
func (rn *runner) sessions() *result {
	st := newStats()
	probe := rn.learners(1, newStats())[0]
	sample := func(n int) time.Duration {
		s := newStats()
		probe.st = s
		for range n {
			probe.get(context.Background(), "/cart", "GET /cart")
		}
		return pct(s.merged(nil), .5)
	}
	probe.get(context.Background(), "/", "GET /")
	before := sample(200)
	rss0 := procRSS(rn.srv.pid)
	var made atomic.Int64
	res := rn.measure("sessions", st, func(ctx context.Context) {
		// A client without a cookie jar: every GET / mints a new session.
		// 10,000 of them stand for a school's machines, and the server
		// budgets new sessions per client address (a script's flood gets
		// the first thousand): on loopback, each request comes from its own.
		cl := &http.Client{Transport: manyClients(rn.srv.url, rn.tr), Timeout: 30 * time.Second}
		parallel(8, func(int) {
			for made.Load() < int64(rn.cfg.sessions) {
				made.Add(1)
				start := time.Now()
				resp, err := cl.Get(rn.srv.url + "/")
				if err == nil {
					resp.Body.Close()
					switch {
					case resp.StatusCode != http.StatusOK:
						err = fmt.Errorf("GET / → %d", resp.StatusCode)
					case resp.Header.Get("Set-Cookie") == "":
						err = errors.New("GET / issued no session (over the server's budget of new sessions for this address)")
					}
				}
				st.add("GET / (new session)", time.Since(start), err)
			}
		})
	})
	after := sample(200)
	rss := procRSS(rn.srv.pid)
	res.figures["rss_mb"] = float64(rss) / (1 << 20)
	res.note("%d sessions created; server RSS %s before → %s after; GET /cart p50 %v with few rows → %v with %d more",
		rn.cfg.sessions, mb(rss0), mb(rss), ms(before), ms(after), rn.cfg.sessions)
	return res
}

// manyClients is tr, except that toward a loopback server each request
// comes from its own 127.x.y.z address (all loopback on Linux), as from
// that many machines.
func manyClients(base string, tr *http.Transport) http.RoundTripper {
	if !loopbackV4(base) {
		return tr
	}
	var n atomic.Uint32
	t := tr.Clone()
	t.DisableKeepAlives = true // a connection is one client address
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		i := n.Add(1)
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 1+byte(i>>16), byte(i>>8), byte(i))}}
		return d.DialContext(ctx, network, addr)
	}
	return t
}

// loopbackV4 says whether base is an IPv4 loopback address, toward which a
// client may send from any 127.x.y.z (on Linux, all of 127.0.0.0/8 is the
// machine's).
func loopbackV4(base string) bool {
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.To4() != nil && ip.IsLoopback()
}

func mb(b int64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f MB", float64(b)/(1<<20))
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
}
