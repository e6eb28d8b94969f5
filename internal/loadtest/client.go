package loadtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The load tool's client side: simulated learners, each with its own cookie
// jar (one browser profile each), and the statistics they feed.

// stats collects latencies per route and every unexpected answer.
type stats struct {
	mu     sync.Mutex
	routes map[string]*routeStats
	errs   []string // the first few errors, verbatim
	nErrs  atomic.Int64
	flows  atomic.Int64
}

type routeStats struct {
	lat  []time.Duration
	errs int
}

func newStats() *stats { return &stats{routes: map[string]*routeStats{}} }

func (s *stats) add(route string, d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.routes[route]
	if r == nil {
		r = &routeStats{}
		s.routes[route] = r
	}
	if err != nil {
		r.errs++
		s.nErrs.Add(1)
		if len(s.errs) < 10 {
			s.errs = append(s.errs, route+": "+err.Error())
		}
		return
	}
	r.lat = append(r.lat, d)
}

// fail records an error that is not one request's (a failed check).
func (s *stats) fail(what string, err error) { s.add(what, 0, err) }

// count is the number of successful requests on the routes matching keep.
func (s *stats) count(keep func(string) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for name, r := range s.routes {
		if keep == nil || keep(name) {
			n += len(r.lat)
		}
	}
	return n
}

// merged returns the latencies of the routes matching keep, sorted.
func (s *stats) merged(keep func(string) bool) []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []time.Duration
	for name, r := range s.routes {
		if keep == nil || keep(name) {
			all = append(all, r.lat...)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	return all
}

// pct is the q-quantile of sorted latencies (nearest rank).
func pct(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	i = min(max(i, 0), len(sorted)-1)
	return sorted[i]
}

func (s *stats) routeNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for n := range s.routes {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// learner is one simulated browser.
type learner struct {
	base   string
	client *http.Client
	st     *stats
	csrf   string
	buf    bytes.Buffer // reused for every response body
	skim   bool         // throughput modes: read bodies but keep nothing
}

// csrfToken finds the first form's token (a plain search: a regexp over
// every page would cost the client more than the server's render).
func csrfToken(body string) string {
	const mark = `name="csrf_token" value="`
	i := strings.Index(body, mark)
	if i < 0 {
		return ""
	}
	rest := body[i+len(mark):]
	if j := strings.IndexByte(rest, '"'); j > 0 {
		return rest[:j]
	}
	return ""
}

func newLearner(base string, tr http.RoundTripper, st *stats) *learner {
	jar, _ := cookiejar.New(nil)
	return &learner{base: base, st: st, client: &http.Client{
		Jar:       jar,
		Transport: tr,
		Timeout:   30 * time.Second, // a request this slow is an error, not a data point
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // redirects are checked, then followed by hand
		},
	}}
}

// response is what a request answered.
type response struct {
	status   int
	location string
	retry    string
	body     string // empty when skimming
	bytes    int
}

var errUnexpected = errors.New("unexpected answer")

// do sends one request and records its latency under route; any status other
// than want is an error (and recorded as one).
func (l *learner) do(ctx context.Context, method, path, route string, form url.Values, want ...int) (response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, l.base+path, body)
	if err != nil {
		return response{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	start := time.Now()
	resp, err := l.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return response{}, ctx.Err() // the run ended: not the server's fault
		}
		l.st.add(route, 0, err)
		return response{}, err
	}
	l.buf.Reset()
	_, err = l.buf.ReadFrom(resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		if ctx.Err() != nil {
			return response{}, ctx.Err()
		}
		l.st.add(route, 0, err)
		return response{}, err
	}
	r := response{status: resp.StatusCode, location: resp.Header.Get("Location"), retry: resp.Header.Get("Retry-After"), bytes: l.buf.Len()}
	if !l.skim || resp.StatusCode != want[0] {
		r.body = l.buf.String()
	}
	for _, w := range want {
		if r.status == w {
			if tok := csrfToken(r.body); tok != "" {
				l.csrf = tok
			}
			l.st.add(route, d, nil)
			return r, nil
		}
	}
	err = fmt.Errorf("%w: %s %s → %d %s", errUnexpected, method, path, r.status, titleOf(r.body))
	l.st.add(route, d, err)
	return r, err
}

func (l *learner) get(ctx context.Context, path, route string, want ...int) (response, error) {
	if len(want) == 0 {
		want = []int{http.StatusOK}
	}
	return l.do(ctx, http.MethodGet, path, route, nil, want...)
}

// post submits a form with the CSRF token of the last page, then follows the
// 303 like a browser (the GET is recorded under its own route).
func (l *learner) post(ctx context.Context, path, route string, form url.Values, follow string) (response, error) {
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", l.csrf)
	r, err := l.do(ctx, http.MethodPost, path, route, form, http.StatusSeeOther)
	if err != nil || follow == "" {
		return r, err
	}
	return l.get(ctx, r.location, follow)
}

var titleRe = regexp.MustCompile(`<title>([^<]*)</title>`)

func titleOf(body string) string {
	if m := titleRe.FindStringSubmatch(body); m != nil {
		return "(" + m[1] + ")"
	}
	return fmt.Sprintf("(%.80s)", strings.TrimSpace(body)) // %.Ns cuts at N characters, never inside one
}

// pause is one learner's time on a page before the next click: drawn
// uniformly from half to one and a half times d, so d on average. Learners
// pausing exactly d click in step: 32 of them sent their forms within the
// same millisecond, flow after flow, a burst of writes no class makes, and
// the database's queue for it was most of the non-login p99.
func pause(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d+1)
}

// think waits like a learner reading the page; it ends early when the run does.
func think(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
