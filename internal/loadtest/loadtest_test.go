package loadtest

import (
	"io"
	"net/http"
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
