package loadtest

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Flags that cannot make a run are refused before any server starts or any
// database is touched. (The full run, against the real app, is the root
// package's TestLoadtestSmokeRunsEveryModeWithoutErrors.)
func TestRunRefusesBadFlagsBeforeStartingAServer(t *testing.T) {
	start := func(string) (string, func() error, error) {
		t.Error("a server was started for a run that cannot happen")
		return "", nil, io.EOF
	}
	for _, args := range [][]string{
		{"-inprocess", "-mode", "everything"},
		{"-inprocess", "-learners", "0"},
		{"-inprocess", "-duration", "0s"},
		{"-inprocess", "-no-such-flag"},
	} {
		var out strings.Builder
		if err := Run(args, &out, start); err == nil {
			t.Errorf("Run(%v) accepted", args)
		}
		if out.Len() != 0 {
			t.Errorf("Run(%v) reported %q", args, out.String())
		}
	}
}

func TestPercentileIsTheNearestRank(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	for q, want := range map[float64]time.Duration{0: time.Millisecond, .5: 50 * time.Millisecond, .99: 99 * time.Millisecond, 1: 100 * time.Millisecond} {
		if got := pct(lat, q); got != want {
			t.Errorf("pct(1..100 ms, %v) = %v, want %v", q, got, want)
		}
	}
	if got := pct(nil, .5); got != 0 {
		t.Errorf("pct of nothing = %v, want 0", got)
	}
}

func TestCSRFTokenIsTheFirstFormsToken(t *testing.T) {
	page := `<form><input type="hidden" name="csrf_token" value="tok-1"></form><form><input name="csrf_token" value="tok-2"></form>`
	if got := csrfToken(page); got != "tok-1" {
		t.Errorf("csrfToken = %q, want tok-1", got)
	}
	if got := csrfToken("<p>no form</p>"); got != "" {
		t.Errorf("csrfToken without a form = %q", got)
	}
}

// The server's figures come from /proc: this process has memory, and uses
// CPU once it works.
func TestProcFiguresReadThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc figures are Linux only (elsewhere the report says n/a)")
	}
	if rss := procRSS(selfPID); rss <= 0 {
		t.Errorf("procRSS(self) = %d", rss)
	}
	if procCPU(0) != 0 || procRSS(0) != 0 {
		t.Error("an unknown pid must read as zero")
	}
	deadline := time.Now().Add(5 * time.Second)
	x := 0
	for procCPU(selfPID) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("procCPU(self) stayed 0 after 5 s of work")
		}
		for i := range 1_000_000 {
			x += i
		}
	}
	_ = x
}

// A refusal is wrong when a login that came at or after it was in within
// the wait the server promises: first come, first served, the refused one
// would have been in no later.
func TestWrongRefusalsAreThoseALaterLoginBeat(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(start, end time.Duration, status int) loginTry {
		return loginTry{t0.Add(start), t0.Add(end), status}
	}
	tries := []loginTry{
		at(0, 10*time.Millisecond, http.StatusServiceUnavailable),                        // wrong: the next one was in 2 s later
		at(time.Second, 2*time.Second, http.StatusSeeOther),                              // in
		at(3*time.Second, 3*time.Second+time.Millisecond, http.StatusServiceUnavailable), // right: nobody after it was in within 10 s
		at(2500*time.Millisecond, 4*time.Second, http.StatusSeeOther),                    // came before the second refusal
		at(4*time.Second, 14*time.Second, http.StatusSeeOther),                           // after it, but 11 s after it came
		at(5*time.Second, 5*time.Second, http.StatusTooManyRequests),                     // a throttle answer is no refusal of the queue
	}
	if n := wrongRefusals(tries, 10*time.Second); n != 1 {
		t.Fatalf("wrongRefusals = %d, want 1", n)
	}
}

// Toward a loopback server each learner is a machine of its own: every
// request of one learner leaves from one address, and no two learners share
// one (the server's per-address limits are for a class at its own machines).
// With -one-address they all come from 127.0.0.1, as behind one NAT.
func TestEachLearnerComesFromAnAddressOfItsOwn(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux routes all of 127.0.0.0/8 to this machine")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		w.Write([]byte(host))
	}))
	defer srv.Close()
	for _, one := range []bool{false, true} {
		rn := &runner{cfg: config{oneAddr: one}, srv: &server{url: srv.URL}, tr: &http.Transport{}}
		ls := rn.learners(4, newStats())
		seen := map[string]int{}
		for i, l := range ls {
			var first string
			for range 3 {
				r, err := l.get(context.Background(), "/", "GET /")
				if err != nil {
					t.Fatalf("one-address %v, learner %d: %v", one, i, err)
				}
				if first == "" {
					first = r.body
				} else if r.body != first {
					t.Errorf("one-address %v: learner %d came from %s, then from %s", one, i, first, r.body)
				}
			}
			seen[first]++
		}
		rn.closeMachines()
		rn.tr.CloseIdleConnections()
		switch {
		case one && (len(seen) != 1 || seen["127.0.0.1"] != 4):
			t.Errorf("-one-address: learners came from %v, want all four from 127.0.0.1", seen)
		case !one && len(seen) != 4:
			t.Errorf("learners came from %v, want four addresses, one each", seen)
		case !one && seen["127.0.0.1"] > 0:
			t.Errorf("a learner came from 127.0.0.1 without -one-address: %v", seen)
		}
	}
}

// A learner's pauses average the think time but differ from click to click
// and learner to learner: learners pausing exactly alike click in step.
func TestPausesSpreadAroundTheThinkTime(t *testing.T) {
	const d = 100 * time.Millisecond
	var sum time.Duration
	seen := map[time.Duration]bool{}
	lo, hi := time.Hour, time.Duration(0)
	const n = 20000
	for range n {
		p := pause(d)
		sum += p
		seen[p] = true
		lo, hi = min(lo, p), max(hi, p)
	}
	if lo < d/2 || hi > d*3/2 {
		t.Fatalf("pauses from %v to %v, want within %v..%v", lo, hi, d/2, d*3/2)
	}
	if mean := sum / n; mean < d-2*time.Millisecond || mean > d+2*time.Millisecond {
		t.Fatalf("mean pause %v, want %v", mean, d)
	}
	if hi-lo < d*9/10 || len(seen) < n/2 {
		t.Fatalf("pauses span only %v..%v (%d distinct): learners click in step", lo, hi, len(seen))
	}
	if pause(0) != 0 {
		t.Fatal("-think 0 pauses")
	}
}
