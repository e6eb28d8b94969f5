package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sessionlab/db"
)

// BenchmarkClassroom: 200 learners walk the shop (catalog, product, add to
// cart, cart) while the instructor's dashboard streams. Reported: requests
// and events per second, and how many events the stream missed (must be 0)
// or delivered twice. go test -run '^$' -bench Classroom -benchtime 2000x
func BenchmarkClassroom(b *testing.B) {
	for _, dialect := range []string{db.SQLite, db.MariaDB} {
		b.Run(dialect, func(b *testing.B) {
			benchClassroom(b, freshDatabase(b, dialect), 200)
		})
	}
}

func benchClassroom(b *testing.B, dbURL string, learners int) {
	s := startServer(b, dbURL)
	ctx := context.Background()
	start, err := s.db.LastEventID(ctx)
	if err != nil {
		b.Fatal(err)
	}
	ins := s.instructor(b)
	stream := ins.subscribe(b, "?after="+strconv.FormatInt(start, 10))

	// The dashboard: count every event id it receives.
	var mu sync.Mutex
	got := map[int64]int{}
	var states atomic.Int64
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		for ev := range stream {
			switch ev.name {
			case "ev":
				var v classEventView
				if json.Unmarshal([]byte(ev.data), &v) == nil {
					mu.Lock()
					got[v.ID]++
					mu.Unlock()
				}
			case "state":
				states.Add(1)
			}
		}
	}()

	tr := &http.Transport{MaxIdleConns: learners * 2, MaxIdleConnsPerHost: learners * 2}
	defer tr.CloseIdleConnections()
	bs := make([]*browser, learners)
	tokens := make([]string, learners)
	for i := range bs {
		bs[i] = s.newBrowser(b)
		bs[i].client.Transport = tr
		tokens[i] = bs[i].csrf("/login")
	}
	var reqs, errs atomic.Int64
	check := func(r response, want int) {
		reqs.Add(1)
		if r.Status != want {
			errs.Add(1)
		}
	}
	var next atomic.Int64
	b.ResetTimer()
	t0 := time.Now()
	var wg sync.WaitGroup
	for i := range bs {
		wg.Add(1)
		go func(br *browser, token string) {
			defer wg.Done()
			for n := next.Add(1); n <= int64(b.N); n = next.Add(1) {
				pid := strconv.FormatInt(n%8+1, 10)
				check(br.get("/"), http.StatusOK)
				check(br.get("/products/"+pid), http.StatusOK)
				check(br.post("/cart/add", url.Values{"product_id": {pid}, "quantity": {"1"}, "csrf_token": {token}}), http.StatusSeeOther)
				check(br.get("/cart"), http.StatusOK)
			}
		}(bs[i], tokens[i])
	}
	wg.Wait()
	walked := time.Since(t0)
	end, err := s.db.LastEventID(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var want int
	if err := s.db.W.Get(&want, s.db.W.Rebind("SELECT COUNT(*) FROM events WHERE id > ? AND id <= ?"), start, end); err != nil {
		b.Fatal(err)
	}
	tally := func() (received, dup int) {
		mu.Lock()
		defer mu.Unlock()
		for id, n := range got {
			if id > start && id <= end {
				received++
				dup += n - 1
			}
		}
		return received, dup
	}
	// The dashboard has kept up when it has received every event.
	deadline := time.Now().Add(30 * time.Second)
	for r, _ := tally(); r < want && time.Now().Before(deadline); r, _ = tally() {
		time.Sleep(5 * time.Millisecond)
	}
	caughtUp := time.Since(t0)
	b.StopTimer()
	received, dup := tally()
	missed := want - received
	b.ReportMetric(float64(reqs.Load())/walked.Seconds(), "req/s")
	b.ReportMetric(float64(received)/caughtUp.Seconds(), "events/s")
	b.ReportMetric(float64(missed), "missed")
	b.ReportMetric(float64(dup), "dups")
	b.ReportMetric(float64(errs.Load()), "errors")
	b.ReportMetric(float64(caughtUp-walked)/float64(time.Millisecond), "lag-ms")
	if missed != 0 || errs.Load() != 0 || dup != 0 {
		b.Errorf("dashboard missed %d of %d events (%d twice); %d requests failed", missed, want, dup, errs.Load())
	}
	b.Logf("%d learners, %d walks: %d requests, %d events, %d table snapshots", learners, b.N, reqs.Load(), want, states.Load())
}
