package main

import (
	"net/http"
	"strings"
	"testing"

	"sessionlab/ids"
)

func TestFirstVisitIssuesSessionAndLoginRotatesIt(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		b := srv.newBrowser(t)
		if r := b.get("/"); r.Status != http.StatusOK {
			t.Fatalf("GET / = %d", r.Status)
		}
		before := b.sessionID()
		if before == "" {
			t.Fatal("no sessionid cookie after the first visit")
		}
		b.login("alice", "wonderland")
		after := b.sessionID()
		if after == "" || after == before {
			t.Fatalf("login did not rotate the ID: before %q after %q", ids.Prefix(before), ids.Prefix(after))
		}
		old := srv.newBrowser(t)
		old.setSessionID(before)
		r := old.get("/account")
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Fatalf("old ID replayed reached /account: status %d", r.Status)
		}
		if r := b.get("/account"); r.Status != http.StatusOK || !strings.Contains(r.Body, "alice") {
			t.Fatalf("new ID not logged in: %d", r.Status)
		}
	})
}
