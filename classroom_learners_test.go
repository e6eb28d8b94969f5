package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"sessionlab/db"
)

// learnerT is one learner's testing.TB inside a class walked by goroutines:
// a failure is recorded for the test to report and ends only that learner
// (testing.T's own Fatal may not be called off the test's goroutine).
type learnerT struct {
	*testing.T
	name string
	mu   *sync.Mutex
	errs *[]string
}

func (l *learnerT) note(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	*l.errs = append(*l.errs, l.name+": "+msg)
}
func (l *learnerT) Helper()                         {}
func (l *learnerT) Error(args ...any)               { l.note(fmt.Sprint(args...)) }
func (l *learnerT) Errorf(f string, args ...any)    { l.note(fmt.Sprintf(f, args...)) }
func (l *learnerT) Fatal(args ...any)               { l.note(fmt.Sprint(args...)); runtime.Goexit() }
func (l *learnerT) Fatalf(f string, args ...any)    { l.note(fmt.Sprintf(f, args...)); runtime.Goexit() }
func (l *learnerT) FailNow()                        { l.note("failed"); runtime.Goexit() }
func (l *learnerT) Logf(format string, args ...any) {}

// statusCounter counts the refusals a class must never see in a normal walk.
type statusCounter struct {
	next      http.RoundTripper
	throttled *atomic.Int64 // 429
	busy      *atomic.Int64 // 503
}

func (s statusCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(r)
	if err == nil {
		switch resp.StatusCode {
		case http.StatusTooManyRequests:
			s.throttled.Add(1)
		case http.StatusServiceUnavailable:
			s.busy.Add(1)
		}
	}
	return resp, err
}

// counted wraps a browser's transport so the class's refusals are counted.
func counted(b *browser, counter statusCounter) *browser {
	counter.next = b.client.Transport
	b.client.Transport = counter
	return b
}

// The classroom: on MariaDB behind two instances, 40 learners (own
// cookie jars, own addresses) sign up, walk lessons 1–6, and 30 of them also
// log in as the shared alice once, a wrong password first as lesson 4 asks.
// The dashboard then counts 40 learners (not accounts), every step of
// lessons 1–6 done 40 times, the logged-in sessions exactly; nobody was
// throttled; and one learner's "log out other sessions" ends only their own.
func TestAClassOfFortyLearnersWalksLessonsOneToSixOnTwoInstances(t *testing.T) {
	dbURL := freshDatabase(t, db.MariaDB)
	servers := []*testServer{startServer(t, dbURL, withInstance("left")), startServer(t, dbURL, withInstance("right"))}
	everyServer := append([]*testServer(nil), servers...)
	var serversMu sync.Mutex
	serverOf := func(i int) *testServer {
		serversMu.Lock()
		defer serversMu.Unlock()
		return servers[i%2]
	}
	const class, onAlice = 40, 30
	walked := servers[0].app.lessons.Lessons()[:6]

	var (
		mu        sync.Mutex
		failures  []string
		throttled atomic.Int64
		busy      atomic.Int64
		arrived   sync.WaitGroup // at lesson 5's restart, or gone
		restarted = make(chan struct{})
		done      sync.WaitGroup
		seats     = make(chan struct{}, 8) // learners hashing and clicking at once
	)
	counter := statusCounter{throttled: &throttled, busy: &busy}
	type learner struct {
		user, pass string
		b          *browser
	}
	learners := make([]*learner, class)
	arrived.Add(class)
	done.Add(class)
	for i := range class {
		go func() {
			defer done.Done()
			var once sync.Once
			arrive := func() { once.Do(arrived.Done) }
			defer arrive()
			seats <- struct{}{}
			seated := true
			defer func() {
				if seated {
					<-seats
				}
			}()
			lt := &learnerT{T: t, name: "learner " + strconv.Itoa(i), mu: &mu, errs: &failures}
			me := &learner{user: fmt.Sprintf("student-%02d", i), pass: fmt.Sprintf("my own pass %02d!", i)}
			srv := serverOf(i)
			me.b = counted(srv.newBrowserFrom(lt, fmt.Sprintf("127.0.0.%d", 10+i)), counter)
			learners[i] = me
			if r := me.b.submit("/signup", url.Values{"username": {me.user}, "password": {me.pass}}); r.Status != http.StatusSeeOther {
				lt.Fatalf("sign-up: %d\n%s", r.Status, r.Body)
			}
			// Lesson 4 starts logged out (its cart is merged at login): the
			// browser walks lessons 1–3 as a new anonymous learner, whose
			// steps join the account's home learner at that login.
			if r := me.b.submit("/logout", nil); r.Status != http.StatusSeeOther {
				lt.Fatalf("logout after sign-up: %d", r.Status)
			}
			w := &walker{t: lt, root: t, dbURL: dbURL, srv: srv, b: me.b, user: me.user, pass: me.pass}
			walk := make(map[string]stepWalk, len(curriculumWalk))
			for k, v := range curriculumWalk {
				walk[k] = v
			}
			// A student cannot restart the class's server: the instructor
			// restarts both instances once everyone has reached this step.
			walk["come-back-later/restart"] = stepWalk{do: func(w *walker) {
				<-seats
				seated = false
				arrive()
				<-restarted
				seats <- struct{}{}
				seated = true
				w.srv = serverOf(i)
				w.b.srv = w.srv
				w.b.get("/")
			}}
			for _, l := range walked {
				walkLessonWith(w, l, walk)
			}
			if i < onAlice {
				if r := me.b.submit("/login", url.Values{"username": {"alice"}, "password": {"not-wonderland"}}); r.Status != http.StatusUnauthorized {
					lt.Fatalf("wrong password for alice: %d", r.Status)
				}
				me.b.login("alice", "wonderland")
			}
		}()
	}
	arrived.Wait()
	serversMu.Lock()
	for i, s := range servers {
		s.stop()
		servers[i] = startServer(t, dbURL, withInstance(s.app.cfg.Instance))
		everyServer = append(everyServer, servers[i])
	}
	serversMu.Unlock()
	close(restarted)
	done.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	if len(failures) > 0 {
		for _, s := range everyServer {
			for _, line := range strings.Split(s.logs.String(), "\n") {
				if strings.Contains(line, "level=ERROR") || strings.Contains(line, "err=") {
					t.Log(line)
				}
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	if n := throttled.Load(); n != 0 {
		t.Errorf("%d requests of the class were refused with 429", n)
	}
	if n := busy.Load(); n != 0 {
		t.Errorf("%d requests of the class were refused with 503", n)
	}

	// The dashboard, from either instance.
	srv := serverOf(0)
	var st struct {
		Authenticated int `json:"authenticated"`
		Learners      int `json:"learners"`
		Progress      []struct {
			Slug  string `json:"slug"`
			Steps []struct {
				ID   string `json:"id"`
				Done int    `json:"done"`
			} `json:"steps"`
		} `json:"progress"`
	}
	readState := func() {
		t.Helper()
		r := srv.instructor(t).get("/instructor/state")
		if r.Status != http.StatusOK {
			t.Fatalf("/instructor/state: %d", r.Status)
		}
		if err := json.Unmarshal([]byte(r.Body), &st); err != nil {
			t.Fatalf("state JSON: %v", err)
		}
	}
	readState()
	if st.Learners != class {
		t.Errorf("the dashboard counts %d learners, want %d (30 of them share alice)", st.Learners, class)
	}
	loggedIn := count(t, srv, "SELECT COUNT(*) FROM sessions WHERE user_id IS NOT NULL AND expires_at > ?", srv.clock.Now())
	if st.Authenticated != loggedIn {
		t.Errorf("the dashboard counts %d logged in, the sessions table %d", st.Authenticated, loggedIn)
	}
	if n := count(t, srv, "SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'alice'"); n != onAlice {
		t.Errorf("%d live sessions on alice, want %d", n, onAlice)
	}
	for _, lc := range st.Progress {
		for _, l := range walked {
			if lc.Slug != l.Slug {
				continue
			}
			for _, s := range lc.Steps {
				if s.Done != class {
					t.Errorf("%s/%s: done by %d learners, want %d", lc.Slug, s.ID, s.Done, class)
				}
			}
		}
	}
	// Nobody got another learner's ticks: each learner's own progress is
	// exactly lessons 1–6, whether or not they are logged in as alice now.
	for i, me := range learners[:3] {
		p := me.b.progress()
		for _, l := range srv.app.lessons.Lessons()[6:] {
			if p[l.Slug+"/open"] {
				t.Errorf("learner %d has %s/open, a step nobody walked", i, l.Slug)
			}
		}
	}

	// One learner logs out their other sessions: only their own end.
	me := learners[onAlice] // not on alice: logged out by lesson 6, log in again
	me.b.login(me.user, me.pass)
	phone := srv.newBrowserFrom(t, "127.0.0.200")
	phone.login(me.user, me.pass)
	perUser := func() map[string]int {
		var rows []struct {
			User string `db:"username"`
			N    int    `db:"n"`
		}
		if err := srv.db.W.Select(&rows, "SELECT u.username, COUNT(*) AS n FROM sessions s JOIN users u ON u.id = s.user_id GROUP BY u.username"); err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, r := range rows {
			m[r.User] = r.N
		}
		return m
	}
	before := perUser()
	if r := me.b.submit("/account/sessions/end-others", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("log out other sessions: %d", r.Status)
	}
	after := perUser()
	if after[me.user] != 1 {
		t.Errorf("%s has %d sessions after logging out the others, want 1", me.user, after[me.user])
	}
	if r := phone.get("/account"); r.Status != http.StatusSeeOther {
		t.Errorf("the other device of %s still reaches /account: %d", me.user, r.Status)
	}
	for u, n := range before {
		if u != me.user && after[u] != n {
			t.Errorf("%s had %d sessions, %d after another learner logged out their others", u, n, after[u])
		}
	}
	readState()
	if st.Learners != class {
		t.Errorf("after the logout of other sessions the dashboard counts %d learners, want %d", st.Learners, class)
	}
	t.Logf("class of %d: %d logged-in sessions, %d on alice", class, loggedIn, onAlice)
}
