package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"sessionlab/ids"
	"sessionlab/labs"
	"sessionlab/labs/slugs"
)

// The simulated attacker and victim: for a learner alone, the server plays
// both browsers by making real HTTP requests to the lab site's own routes,
// each browser with its own cookie jar. Nothing about the attack is faked:
// what the jars hold and what the lab site answers is what a browser would
// get. Runs live in memory for a while, keyed by learner and lab.

// simBrowser is one simulated browser.
type simBrowser struct {
	Name       string
	jar        *cookiejar.Jar
	client     *http.Client
	Requests   []string // "GET /lab/…/site → 200", this step's
	SetCookies []string
	Changes    []string
	State      string
	User       string
}

func newSimBrowser(name string) *simBrowser {
	jar, _ := cookiejar.New(nil)
	return &simBrowser{Name: name, jar: jar, client: &http.Client{
		Jar:           jar,
		Timeout:       15 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// simRun is one learner's run of one lab.
type simRun struct {
	mu       sync.Mutex
	Mode     labs.Mode
	Done     int // steps done
	Outcome  string
	Note     string
	Attacker *simBrowser
	Victim   *simBrowser
	Others   []*simBrowser // the guessable-ids lab's other shoppers
	planted  string        // the ID the attacker holds or copied (full: it is a lab ID)
	victimAt time.Time     // the victim's last request, for the expiry lab
	base     string
	used     time.Time           // guarded by the registry's lock, for eviction
	pending  []map[string]string // lab.attack details a step decided, to record (labs with several attacks)
}

// cookie returns the browser's lab cookie value ("" if none).
func (b *simBrowser) cookie(base string, l labs.Lab) string {
	u, _ := url.Parse(base + "/lab/" + l.Slug + "/site")
	for _, c := range b.jar.Cookies(u) {
		if c.Name == l.Cookie() {
			return c.Value
		}
	}
	return ""
}

func (b *simBrowser) setCookie(base string, l labs.Lab, v string) {
	u, _ := url.Parse(base + "/lab/")
	b.jar.SetCookies(u, []*http.Cookie{{Name: l.Cookie(), Value: v, Path: "/lab"}})
	b.Changes = append(b.Changes, "Lab cookie set by hand to "+ids.Prefix(v)+"… (copied, planted or guessed).")
}

// do makes one real request and keeps what the lab site said it changed.
func (b *simBrowser) do(ctx context.Context, method, base, path string, form url.Values) (*http.Response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("User-Agent", "SessionLab-simulated-"+strings.ToLower(b.Name))
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("simulated %s: %s %s: %w", b.Name, method, path, err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	shown := path
	if i := strings.Index(shown, "sid="); i >= 0 {
		shown = shown[:i] + "sid=" + ids.Prefix(shown[i+4:]) + "…"
	}
	b.Requests = append(b.Requests, fmt.Sprintf("%s %s → %d", method, shown, resp.StatusCode))
	for _, h := range resp.Header.Values("Set-Cookie") {
		b.SetCookies = append(b.SetCookies, setCookieLine(h))
	}
	b.Changes = append(b.Changes, resp.Header.Values("X-Lab-Change")...)
	b.State, b.User = resp.Header.Get("X-Lab-State"), resp.Header.Get("X-Lab-User")
	return resp, nil
}

func (b *simBrowser) resetStep() { b.Requests, b.SetCookies, b.Changes = nil, nil, nil }

// simStep is one numbered button of a lab's simulation.
type simStep struct {
	Title string
	run   func(ctx context.Context, a *app, l labs.Lab, r *simRun, form *fiber.Ctx) error
}

var (
	loginAlice = url.Values{"username": {"alice"}, "password": {"wonderland"}}
	loginBob   = url.Values{"username": {"bob"}, "password": {"builder"}}
)

func sitePath(l labs.Lab, rest string) string { return "/lab/" + l.Slug + "/site" + rest }

// attack opens the lab's account page in the attacker's browser: success is
// seeing someone else logged in.
func attack(ctx context.Context, l labs.Lab, r *simRun) error {
	if _, err := r.Attacker.do(ctx, "GET", r.base, sitePath(l, "/account"), nil); err != nil {
		return err
	}
	if r.Attacker.User != "" {
		r.Outcome = "succeeded"
		r.Note = "The attacker's browser opened the account page as " + r.Attacker.User + "."
	} else {
		r.Outcome = "failed"
		r.Note = "The attacker's browser was refused: " + labStatus(r.Attacker.State) + "."
	}
	return nil
}

var simSteps = map[string][]simStep{
	slugs.Fixation: {
		{"Attacker opens the lab site and gets a valid ID", func(ctx context.Context, a *app, l labs.Lab, r *simRun, _ *fiber.Ctx) error {
			_, err := r.Attacker.do(ctx, "GET", r.base, sitePath(l, "?mode="+string(r.Mode)), nil)
			r.planted = r.Attacker.cookie(r.base, l)
			return err
		}},
		{"Attacker plants it: the victim opens the link …/site?sid=ID (a forged ID is tried first)", func(ctx context.Context, a *app, l labs.Lab, r *simRun, _ *fiber.Ctx) error {
			if _, err := r.Victim.do(ctx, "GET", r.base, sitePath(l, "?mode="+string(r.Mode)+"&sid="+ids.New()), nil); err != nil {
				return err
			}
			_, err := r.Victim.do(ctx, "GET", r.base, sitePath(l, "?mode="+string(r.Mode)+"&sid="+r.planted), nil)
			return err
		}},
		{"Victim logs in as alice", func(ctx context.Context, a *app, l labs.Lab, r *simRun, _ *fiber.Ctx) error {
			_, err := r.Victim.do(ctx, "POST", r.base, sitePath(l, "/login"), loginAlice)
			return err
		}},
		{"Attacker opens the account page with the planted ID", func(ctx context.Context, a *app, l labs.Lab, r *simRun, _ *fiber.Ctx) error {
			return attack(ctx, l, r)
		}},
	},
	slugs.LogoutReplay: {
		{"Victim opens the lab site and logs in as alice", func(ctx context.Context, a *app, l labs.Lab, r *simRun, _ *fiber.Ctx) error {
			if _, err := r.Victim.do(ctx, "GET", r.base, sitePath(l, "?mode="+string(r.Mode)), nil); err != nil {
				return err
			}
			_, err := r.Victim.do(ctx, "POST", r.base, sitePath(l, "/login"), loginAlice)
			return err
		}},
		{"Attacker copies the victim's cookie (a shared computer)", func(ctx context.Context, a *app, l labs.Lab, r *simRun, _ *fiber.Ctx) error {
			r.planted = r.Victim.cookie(r.base, l)
			r.Attacker.setCookie(r.base, l, r.planted)
			return nil
		}},
		{"Victim logs out", func(ctx context.Context, a *app, l labs.Lab, r *simRun, _ *fiber.Ctx) error {
			_, err := r.Victim.do(ctx, "POST", r.base, sitePath(l, "/logout"), url.Values{})
			return err
		}},
		{"Attacker replays the copied cookie", func(ctx context.Context, a *app, l labs.Lab, r *simRun, _ *fiber.Ctx) error {
			return attack(ctx, l, r)
		}},
	},
	slugs.GuessableIDs: {
		{"Three shoppers and the attacker visit: the attacker notes their IDs", func(ctx context.Context, a *app, l labs.Lab, r *simRun, _ *fiber.Ctx) error {
			r.Others = nil
			for i := 1; i <= 3; i++ {
				b := newSimBrowser("Shopper " + strconv.Itoa(i))
				if _, err := b.do(ctx, "GET", r.base, sitePath(l, "?mode="+string(r.Mode)), nil); err != nil {
					return err
				}
				r.Others = append(r.Others, b)
			}
			_, err := r.Attacker.do(ctx, "GET", r.base, sitePath(l, "?mode="+string(r.Mode)), nil)
			return err
		}},
		{"A new shopper (the victim) arrives and logs in as bob", func(ctx context.Context, a *app, l labs.Lab, r *simRun, _ *fiber.Ctx) error {
			if _, err := r.Victim.do(ctx, "GET", r.base, sitePath(l, "?mode="+string(r.Mode)), nil); err != nil {
				return err
			}
			_, err := r.Victim.do(ctx, "POST", r.base, sitePath(l, "/login"), loginBob)
			return err
		}},
		{"Attacker predicts the victim's ID and tries it", func(ctx context.Context, a *app, l labs.Lab, r *simRun, c *fiber.Ctx) error {
			guesses := predict(r.Attacker.cookie(r.base, l))
			if g := strings.TrimSpace(string(c.Request().PostArgs().Peek("guess"))); g != "" {
				if !labs.ValidID(g) {
					return fiber.NewError(fiber.StatusBadRequest, "A guess is a lab ID: 1 to 64 letters, digits, - or _.")
				}
				guesses = []string{g}
			}
			for _, g := range guesses {
				r.Attacker.setCookie(r.base, l, g)
				if err := attack(ctx, l, r); err != nil {
					return err
				}
				if r.Outcome == "succeeded" {
					r.planted = g
					break
				}
			}
			r.Note += fmt.Sprintf(" (%d guess(es) tried)", len(guesses))
			return nil
		}},
	},
	slugs.ClientSide: csSimSteps,
	slugs.Expiry: {
		{"Victim logs in as alice; the attacker copies the cookie and waits", func(ctx context.Context, a *app, l labs.Lab, r *simRun, _ *fiber.Ctx) error {
			if _, err := r.Victim.do(ctx, "GET", r.base, sitePath(l, "?mode="+string(r.Mode)), nil); err != nil {
				return err
			}
			if _, err := r.Victim.do(ctx, "POST", r.base, sitePath(l, "/login"), loginAlice); err != nil {
				return err
			}
			r.victimAt = a.now()
			r.planted = r.Victim.cookie(r.base, l)
			r.Attacker.setCookie(r.base, l, r.planted)
			return nil
		}},
		{"After the idle timeout, the attacker uses the old ID", func(ctx context.Context, a *app, l labs.Lab, r *simRun, _ *fiber.Ctx) error {
			if left := labs.IdleTimeout - a.now().Sub(r.victimAt); left > 0 {
				return errWait{left}
			}
			return attack(ctx, l, r)
		}},
	},
}

// errWait: the expiry lab's second step came too early.
type errWait struct{ left time.Duration }

func (e errWait) Error() string { return "wait" }

// predict is the attacker's guess at the next counter ID: the next few
// numbers after the attacker's own (other visitors may have come between).
// A random ID predicts nothing, so the guesses are just that: guesses.
func predict(own string) []string {
	n, err := strconv.ParseInt(own, 10, 64)
	var out []string
	for i := int64(1); i <= 5; i++ {
		if err == nil {
			out = append(out, strconv.FormatInt(n+i, 10))
		} else {
			out = append(out, ids.New())
		}
	}
	return out
}

// simRegistry keeps the runs; bounded, the oldest go first.
type simRegistry struct {
	mu   sync.Mutex
	runs map[string]*simRun
}

const maxRuns = 2000

func newSimRegistry() *simRegistry { return &simRegistry{runs: map[string]*simRun{}} }

func (s *simRegistry) get(learner, slug string) *simRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.runs[learner+"/"+slug]
	if r != nil {
		r.used = time.Now()
	}
	return r
}

// done is how many steps the run has done.
func (r *simRun) done() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.Done
}

func (s *simRegistry) drop(learner, slug string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.runs, learner+"/"+slug)
}

func (s *simRegistry) fresh(learner, slug string, mode labs.Mode, base string) *simRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.runs) >= maxRuns {
		var oldest string
		var t time.Time
		for k, r := range s.runs {
			if oldest == "" || r.used.Before(t) {
				oldest, t = k, r.used
			}
		}
		delete(s.runs, oldest)
	}
	r := &simRun{Mode: mode, Attacker: newSimBrowser("Attacker"), Victim: newSimBrowser("Victim"), base: base, used: time.Now()}
	s.runs[learner+"/"+slug] = r
	return r
}

// localBase is where the server reaches itself: the address it listens on.
func (a *app) localBase(c *fiber.Ctx) string {
	if b := a.baseURL.Load(); b != nil && *b != "" {
		return *b
	}
	return "http://" + c.Context().LocalAddr().String()
}

// labSim runs the next step (or every remaining step) of the simulation.
func (a *app) labSim(c *fiber.Ctx) error {
	l, err := labFromPath(c)
	if err != nil {
		return err
	}
	steps := simSteps[l.Slug]
	if steps == nil {
		return fiber.NewError(fiber.StatusNotFound, "This lab runs in your real browser, not in the simulator: follow the steps on its page.")
	}
	rs := state(c)
	if l.TokenInPage(labMode(rs.sess, l.Slug)) {
		return fiber.NewError(fiber.StatusConflict, "The token design runs in your real browser, not in the simulator: only a browser decides what a script can read. Follow the steps on the lab page. Nothing was changed.")
	}
	me := learnerOf(rs.sess)
	what := string(c.Request().PostArgs().Peek("step"))
	run := a.sims.get(me, l.Slug)
	var from, to int
	switch what {
	case "reset":
		a.sims.drop(me, l.Slug)
		return a.redirect(c, "/lab/"+l.Slug)
	case "all":
		if run == nil || run.done() == len(steps) {
			run = nil
		}
		to = len(steps)
	default:
		n, err := strconv.Atoi(what)
		if err != nil || n < 1 || n > len(steps) {
			return fiber.NewError(fiber.StatusBadRequest, "step must be a step number, all or reset. Nothing was changed.")
		}
		if n == 1 {
			run = nil
		} else if run == nil || run.done() != n-1 {
			return fiber.NewError(fiber.StatusConflict, "Run the steps in order: step "+strconv.Itoa(n)+" comes after step "+strconv.Itoa(n-1)+". Nothing was changed.")
		}
		to = n
	}
	if run == nil {
		run = a.sims.fresh(me, l.Slug, labMode(rs.sess, l.Slug), a.localBase(c))
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	from = run.Done
	if what != "all" && from != to-1 {
		return fiber.NewError(fiber.StatusConflict, "Another request ran a step of this lab at the same moment: reload the page. Nothing was changed.")
	}
	for _, b := range append([]*simBrowser{run.Attacker, run.Victim}, run.Others...) {
		b.resetStep()
	}
	for i := from; i < to; i++ {
		err := steps[i].run(c.UserContext(), a, l, run, c)
		if w, ok := err.(errWait); ok {
			run.Note = fmt.Sprintf("Not yet: the attacker has to wait %.0f more seconds for the idle timeout (%s) to pass. Then run step %d.", w.left.Seconds()+0.5, labs.IdleTimeout, i+1)
			return a.redirect(c, "/lab/"+l.Slug)
		}
		if err != nil {
			return err
		}
		run.Done = i + 1
	}
	if err := a.recordAttempt(c, run.pending...); err != nil {
		return err
	}
	run.pending = nil
	if !l.StateInCookie() && run.Done == len(steps) && run.Outcome != "" {
		if err := a.recordAttempt(c, map[string]string{"lab": l.Slug, "mode": string(run.Mode), "outcome": run.Outcome, "via": "solo"}); err != nil {
			return err
		}
	}
	return a.redirect(c, "/lab/"+l.Slug)
}

// simViews is the side-by-side view of a run: each browser's jar, its lab
// session record read back from the database now, and what changed.
func (a *app) simViews(c *fiber.Ctx, l labs.Lab, r *simRun) ([]labView, *simSummary, error) {
	if r == nil {
		return nil, nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	sum := &simSummary{Done: r.Done, Outcome: r.Outcome, Note: r.Note, Mode: string(r.Mode), Next: r.Done + 1}
	var out []labView
	for _, b := range append([]*simBrowser{r.Attacker, r.Victim}, r.Others...) {
		v := labView{Who: b.Name, State: b.State, User: b.User, Requests: b.Requests, SetCookies: b.SetCookies, Changes: b.Changes}
		if id := b.cookie(r.base, l); id != "" && l.StateInCookie() {
			v.Jar = append(v.Jar, jarCookie{Name: l.Cookie(), Prefix: ids.Prefix(id), Length: len(id)})
			read, looked, row, err := a.csJudge(c.UserContext(), l, r.Mode, id)
			if err != nil {
				return nil, nil, err
			}
			v.Decoded, v.RecordState = read.Payload, read.Verdict
			v.NoRecord = "No server row: the whole session is this cookie, and the server looked nothing up."
			if looked {
				v.NoRecord = "The revocation list was asked about this token's ID: no row came back, so it is not revoked."
			}
			if row != nil {
				v.Record = viewLabRecord(&labs.Session{Row: row})
			}
		} else if id != "" {
			// The guessable-ids lab shows whole IDs: seeing them is the attack.
			jc := jarCookie{Name: l.Cookie(), Prefix: ids.Prefix(id), Length: len(id)}
			if l.Slug == slugs.GuessableIDs && len(id) <= 20 {
				jc.Whole = id
			}
			v.Jar = append(v.Jar, jc)
			sess, st, err := a.labs.Peek(c.UserContext(), l.Slug, id)
			if err != nil {
				return nil, nil, err
			}
			v.RecordState = st
			if sess != nil {
				v.Record = viewLabRecord(sess)
			}
		}
		if id := b.cookie(r.base, l); id == "" && l.StateInCookie() {
			v.NoRecord = "No lab cookie, so nothing to read, and no server row either: the server keeps none."
		}
		if b == r.Attacker {
			v.Role = "attacker"
		} else if b == r.Victim {
			v.Role = "victim"
		}
		if len(r.Others) > 0 && b != r.Attacker && b != r.Victim {
			v.Role = "other"
		}
		if !slices.Contains([]string{"attacker", "victim"}, v.Role) && len(v.Changes) == 0 && len(v.Requests) == 0 && v.Jar == nil {
			continue
		}
		out = append(out, v)
	}
	return out, sum, nil
}

// simSummary is where a run stands, copied out under its lock.
type simSummary struct {
	Done, Next          int
	Outcome, Note, Mode string
}

// labView is one browser's view: the lab site's pages and the simulator
// both show it.
type labView struct {
	Who, Role   string
	State       string
	User        string
	Jar         []jarCookie
	Requests    []string
	SetCookies  []string
	Record      *labRecordView
	RecordState string
	Changes     []string
	Previous    []string // what the POST before this page did
	Decoded     string   // the client-side lab: the cookie's JSON as sent
	NoRecord    string   // the client-side lab: why no record is shown
}

type jarCookie struct {
	Name, Prefix, Whole string
	Length              int
}
