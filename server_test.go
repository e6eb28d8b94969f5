package main

import (
	"testing"
	"time"
)

// The one start path runs the background work `serve` relies on: here the
// sweep, on a short period, deletes rows that expired while nobody asked.
func TestStartedServerSweepsExpiredSessionsInTheBackground(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL, func(c *config) { c.SweepEvery = 20 * time.Millisecond })
		for range 3 {
			srv.newBrowser(t).get("/")
		}
		if n := countRows(t, srv, "sessions"); n != 3 {
			t.Fatalf("%d session rows before expiry, want 3", n)
		}
		srv.clock.Advance(31 * time.Minute)
		deadline := time.Now().Add(10 * time.Second)
		for countRows(t, srv, "sessions") != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("expired rows still there 10 s later: no background sweep")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// The labs' simulated browsers reach the server at the address it listens
// on, set by the start path itself, not guessed from a request.
func TestStartedServerKnowsItsOwnAddress(t *testing.T) {
	srv := startServer(t, freshDatabase(t, "sqlite"))
	got := srv.app.baseURL.Load()
	if got == nil || *got != srv.URL {
		t.Fatalf("base URL %v, want the listener's %s", got, srv.URL)
	}
}
