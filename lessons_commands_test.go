package main

import (
	"context"
	"html"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"sessionlab/ids"
	"sessionlab/lessons"
)

// Every command a lesson shows is run: each lesson page is rendered for a
// learner over real HTTP, the commands of its "From a terminal" blocks are
// taken from the page as the learner sees them (their host, their database
// URL), and run with bash in one folder, in order, as a learner pasting them
// would, against the running server.
//
// Not run here, and why (each is in a lesson's text, not a terminal block):
//   - lesson 10's install and database commands (apt, systemctl, the mariadb
//     shell, CREATE USER): they need root on a machine with a package manager;
//     the db commands themselves are tested in dbcmd_test.go.
//   - "sessionlab -addr …" (lesson 11) and "sessionlab -db …" (lesson 10):
//     they start a server; this test starts the second instance itself, on
//     the address the lesson names.

// terminalBlockRe finds a step's terminal block on a lesson page.
var terminalBlockRe = regexp.MustCompile(`<code data-terminal="([^"]+)">([^<]*)</code>`)

// terminalBlocks returns each step's commands as the page shows them.
func terminalBlocks(page string) map[string]string {
	out := map[string]string{}
	for _, m := range terminalBlockRe.FindAllStringSubmatch(page, -1) {
		out[html.UnescapeString(m[1])] = html.UnescapeString(m[2])
	}
	return out
}

// tokenGrabRe is a line that fetches a CSRF token into $TOKEN.
var tokenGrabRe = regexp.MustCompile(`(?m)^TOKEN=\$\(.*\)$`)

// runTerminal runs one step's commands with bash in dir, with stdin what
// the learner types at its prompts (their username and password). After
// each token grab it checks that exactly one token was found: an empty or
// multi-line $TOKEN is the grab failing, whatever curl's exit status says next.
func runTerminal(t *testing.T, dir, script, stdin string) (string, error) {
	t.Helper()
	script = tokenGrabRe.ReplaceAllStringFunc(script, func(line string) string {
		return line + "\n[[ $TOKEN =~ ^[A-Za-z0-9_-]+$ ]] || { echo \"token grab found: [$TOKEN]\"; exit 97; }"
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-e", "-c", script)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "LC_ALL=C"}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// jarSession is the sessionid a curl cookie jar holds ("" if none).
func jarSession(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, "\t")
		if len(f) == 7 && f[5] == cookieName {
			return f[6]
		}
	}
	return ""
}

// refusedRe is a status line no lesson command should get: a refused form
// (a bad token grab answers 403), bad input, or a server error.
var refusedRe = regexp.MustCompile(`(?m)^HTTP/1\.1 (400|403|404|409|5\d\d)`)

// commandOutcome checks what a lesson's text promises the commands do,
// beyond exiting 0. The key is lesson/step.
var commandOutcome = map[string]func(t *testing.T, dir, out string){
	"http-forgets/jar": func(t *testing.T, dir, out string) {
		id := jarSession(t, filepath.Join(dir, "jar.txt"))
		if id == "" {
			t.Fatalf("the lesson says jar.txt now holds a cookie; it holds none:\n%s", out)
		}
		if !strings.Contains(out, `"prefix":"`+ids.Prefix(id)+`"`) {
			t.Errorf("/api/state should name the jar's session %s…:\n%s", ids.Prefix(id), out)
		}
	},
	"logging-in/log-in": func(t *testing.T, dir, out string) {
		if !strings.Contains(out, "HTTP/1.1 303") || jarSession(t, filepath.Join(dir, "jar.txt")) == "" {
			t.Errorf("curl's login should answer 303 with a new cookie:\n%s", out)
		}
	},
	"logging-out/second-device": func(t *testing.T, dir, out string) {
		if !strings.Contains(out, "HTTP/1.1 303") || jarSession(t, filepath.Join(dir, "jar.txt")) == "" {
			t.Errorf("curl's login as a second device should answer 303 with a cookie:\n%s", out)
		}
	},
	"logging-out/curl-logout": func(t *testing.T, dir, out string) {
		if jarSession(t, filepath.Join(dir, "old-jar.txt")) == "" {
			t.Errorf("old-jar.txt should keep the cookie from before the logout")
		}
		if id := jarSession(t, filepath.Join(dir, "jar.txt")); id != "" {
			t.Errorf("the logout's Set-Cookie should have emptied jar.txt; it holds %s…:\n%s", ids.Prefix(id), out)
		}
	},
	// Lesson 12: the edit works on weak and is refused signed; a copy
	// replayed after logout works signed and is refused with revocation.
	"sessions-without-a-record/tamper-weak":       lastLine("200"),
	"sessions-without-a-record/tamper-signed":     lastLine("X-Lab-State: bad-signature"),
	"sessions-without-a-record/replay-signed":     lastLine("200"),
	"sessions-without-a-record/replay-revocation": lastLine("401"),
	"sessions-without-a-record/token-steal": func(t *testing.T, dir, out string) {
		if !strings.Contains(out, `"user":"alice"`) || !strings.Contains(out, `"verdict":"accepted"`) {
			t.Errorf("the Bearer token should open alice's account:\n%s", out)
		}
	},
	"session-fixation/see-rotation": func(t *testing.T, dir, out string) {
		lines := regexp.MustCompile(`(?m)\tsessionid\t(\S+)$`).FindAllStringSubmatch(out, -1)
		if len(lines) != 2 || lines[0][1] == lines[1][1] {
			t.Errorf("the two greps should show the ID before and after login, different:\n%s", out)
		}
	},
}

// lastLine checks the commands' last line of output.
func lastLine(want string) func(t *testing.T, dir, out string) {
	return func(t *testing.T, dir, out string) {
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if got := strings.TrimSpace(lines[len(lines)-1]); got != want {
			t.Errorf("the last line should be %q:\n%s", want, out)
		}
	}
}

// ownJar are steps whose promise must hold from their own commands alone,
// in a folder without a jar: a learner may start the terminal there.
var ownJar = map[string]bool{"http-forgets/jar": true}

// terminalTicks are the steps whose evidence is terminal work: once the
// lesson's first block has linked the jar, the step's own commands tick it
// for the browser's learner. Every other step is done as the learner does
// it in the browser (curriculumWalk), so the lesson keeps its order.
var terminalTicks = map[string]bool{
	"http-forgets/visit-cart":            true,
	"the-cookie/sent-back":               true,
	"the-session-record/add":             true,
	"the-session-record/change":          true,
	"the-session-record/remove":          true,
	"logging-in/anonymous-cart":          true,
	"logging-in/wrong-password":          true,
	"logging-in/log-in":                  true,
	"logging-in/merged":                  true,
	"come-back-later/log-in":             true,
	"come-back-later/note":               true,
	"come-back-later/save-cart":          true,
	"come-back-later/log-out":            true,
	"come-back-later/back-again":         true,
	"logging-out/account":                true,
	"logging-out/browser-logout":         true,
	"session-fixation/see-rotation":      true,
	"beyond-one-machine/second-instance": true,
	"beyond-one-machine/shop-there":      true,
	"beyond-one-machine/back-again":      true,
}

// setCookieIDRe is the start of an ID in a Set-Cookie line curl printed.
var setCookieIDRe = regexp.MustCompile(`(?im)^set-cookie: sessionid=([A-Za-z0-9_-]{6})`)

// typedFromTerminal: observe steps whose value the learner reads off the
// terminal (its output, its jar), as the lesson tells them to.
var typedFromTerminal = map[string]func(t *testing.T, dir, out string) string{
	"http-forgets/strangers": func(t *testing.T, dir, out string) string {
		ms := setCookieIDRe.FindAllStringSubmatch(out, -1)
		if len(ms) != 2 {
			t.Fatalf("the two runs should print two Set-Cookie lines:\n%s", out)
		}
		return ms[0][1] + " " + ms[1][1]
	},
	"http-forgets/jar":          jarPrefix("jar.txt"),
	"logging-out/second-device": jarPrefix("jar.txt"),
	"logging-out/curl-logout":   jarPrefix("old-jar.txt"),
	"logging-out/replay":        jarPrefix("old-jar.txt"),
}

func jarPrefix(file string) func(t *testing.T, dir, out string) string {
	return func(t *testing.T, dir, out string) string {
		id := jarSession(t, filepath.Join(dir, file))
		if id == "" {
			t.Fatalf("%s holds no sessionid:\n%s", file, out)
		}
		return id[:6]
	}
}

// TestEveryLessonCommandRuns walks the curriculum as one learner with a
// browser and a terminal: each lesson page is rendered for the learner,
// every terminal block's commands run in lesson order in one folder, and
// each must exit 0, get no refused or failed answer, and do what the text
// says. Each lesson's first block links the jar with the page's one-time
// code; after that, every step whose evidence is terminal work must tick
// for the browser's learner, read from lesson_progress, not through the
// app. The learner's own account (signed up in the browser at lesson 4) is
// what the terminal logs in to: the commands ask for it, and get it on stdin.
func TestEveryLessonCommandRuns(t *testing.T) {
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is needed to run the lessons' commands: %v", tool, err)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	forEachDB(t, func(t *testing.T, dbURL string) {
		// Lesson 11 starts a second instance on the next port: the server
		// takes a port whose next one is free, and keeps it at lesson 5's
		// restart (a random port's neighbour may be anyone's).
		addr := ""
		at := func(c *config) {
			if addr == "" {
				addr = portPairAddr(t)
			}
			c.Addr = addr
		}
		srv := startServer(t, dbURL, at)
		w := &walker{t: t, root: t, dbURL: dbURL, srv: srv, b: srv.newBrowser(t), user: "termlearner", pass: "termlearner-pw", opts: []serverOption{at}}
		w.b.get("/")
		dir := t.TempDir()
		typed := w.user + "\n" + w.pass + "\n"
		ran := map[string]bool{}
		for _, l := range srv.app.lessons.Lessons() {
			if l.Slug == "logging-in" {
				// From lesson 4 the learner has an account of their own,
				// signed up in the browser, which stays logged in.
				if r := w.b.signup(w.user, w.pass); r.Status != http.StatusSeeOther {
					t.Fatalf("sign up: %d", r.Status)
				}
			}
			page := w.b.get("/lessons/" + l.Slug)
			if page.Status != http.StatusOK {
				t.Fatalf("lesson %s: %d", l.Slug, page.Status)
			}
			learner, _, _ := sessionRow(t, w.srv, w.b)
			blocks := terminalBlocks(page.Body)
			for _, st := range l.Steps {
				key := l.Slug + "/" + st.ID
				script, ok := blocks[st.ID]
				if !ok && len(st.Curl) > 0 {
					t.Fatalf("%s: the step has commands but the page shows no terminal block", key)
				}
				var out string
				if ok {
					if l.Slug == "beyond-one-machine" {
						startSecondInstance(t, w.srv, dbURL, script)
					}
					if ownJar[key] {
						os.Remove(filepath.Join(dir, "jar.txt"))
					}
					if terminalTicks[key] && ticked(t, w.srv, learner, l.Slug, st.ID) {
						t.Fatalf("%s was done before its commands ran", key)
					}
					var err error
					out, err = runTerminal(t, dir, script, typed)
					if err != nil {
						t.Fatalf("%s: the commands failed (%v):\n%s\noutput:\n%s", key, err, script, out)
					}
					if m := refusedRe.FindString(out); m != "" {
						t.Fatalf("%s: a command got %q:\n%s\noutput:\n%s", key, m, script, out)
					}
					if strings.Contains(script, "/lessons/link") && !strings.Contains(out, "Linked: this terminal's session") {
						t.Fatalf("%s: the link command did not link:\n%s", key, out)
					}
					if check := commandOutcome[key]; check != nil {
						check(t, dir, out)
					}
					ran[key] = true
				}
				if terminalTicks[key] {
					if !ticked(t, w.srv, learner, l.Slug, st.ID) {
						t.Fatalf("%s: the linked terminal's commands did not tick the step for the browser's learner:\n%s\noutput:\n%s", key, script, out)
					}
					continue
				}
				if _, ok := walkedElsewhere[l.Slug]; ok || ticked(t, w.srv, learner, l.Slug, st.ID) {
					continue
				}
				walkStep(w, l, st, func() string {
					if read := typedFromTerminal[key]; read != nil {
						return read(t, dir, out)
					}
					return ""
				})
				if !ticked(t, w.srv, learner, l.Slug, st.ID) {
					t.Fatalf("%s: the browser's action did not tick it", key)
				}
			}
		}
		for key := range commandOutcome {
			if !ran[key] {
				t.Errorf("%s has an outcome check but no commands ran for it", key)
			}
		}
		for key := range terminalTicks {
			if !ran[key] {
				t.Errorf("%s should tick from its commands, but none ran", key)
			}
		}
	})
}

// walkStep does one step in the browser as curriculumWalk says; an observe
// step types fromTerminal() when it gives a value (what curl showed).
func walkStep(w *walker, l *lessons.Lesson, st *lessons.Step, fromTerminal func() string) {
	w.t.Helper()
	key := l.Slug + "/" + st.ID
	walk, ok := curriculumWalk[key]
	switch {
	case st.Question != nil:
		w.b.answerRight(l.Slug, st.ID)
	case !ok:
		w.t.Fatalf("no walk for step %s", key)
	case st.Observe != nil:
		v := fromTerminal()
		if v == "" {
			if walk.do != nil {
				walk.do(w)
			}
			v = walk.observe(w)
		}
		w.observe(l, st.ID, v)
	default:
		walk.do(w)
	}
}

// portPairAddr is a loopback address whose port and the next one are both
// free right now, below Linux's ephemeral range (32768 on): the server stops
// and starts again on it at lesson 5's restart, and a port from that range
// can meanwhile become the local end of any outgoing connection (a MariaDB
// client's, say), which made the restart fail with "address in use".
func portPairAddr(t *testing.T) string {
	t.Helper()
	for range 200 {
		port := 20000 + rand.IntN(12000)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		next, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+1)))
		l.Close()
		if err == nil {
			next.Close()
			return l.Addr().String()
		}
	}
	t.Fatal("no two free neighbouring ports on 127.0.0.1 between 20000 and 32000")
	return ""
}

// startSecondInstance starts, once, the second instance lesson 11 names, on
// the same database, at the address the page's commands use.
func startSecondInstance(t *testing.T, first *testServer, dbURL, script string) {
	t.Helper()
	u, _ := url.Parse(first.URL)
	port, _ := strconv.Atoi(u.Port())
	addr := net.JoinHostPort(u.Hostname(), strconv.Itoa(port+1))
	if !strings.Contains(script, "http://"+addr) {
		if !strings.Contains(script, ":"+strconv.Itoa(port+1)) {
			return // a step on the first instance only
		}
		t.Fatalf("lesson 11's commands should name the second instance at %s, on the learner's host:\n%s", addr, script)
	}
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		return // started for an earlier step
	}
	startServer(t, dbURL, withInstance("right"), func(c *config) { c.Addr = addr })
}
