package main

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
)

// A class logging in at the same moment: every login rotates its session
// (old row and its form record deleted, new ones inserted) in its own
// transaction. On MariaDB, REPEATABLE READ's gap locks made two such
// transactions deadlock on neighbouring keys, and the request answered 500.
// Every login must land, on both databases.
func TestAClassLoggingInAtOnceGetsNoServerError(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		patientHashQueue(srv)
		const class = 40
		type learner struct {
			b          *browser
			user, pass string
			token      string
		}
		ls := make([]learner, class)
		for i := range ls {
			user, pass := quickUser(t, srv, fmt.Sprintf("rush%02d", i))
			b := srv.newBrowserFrom(t, fmt.Sprintf("127.0.3.%d", i+1))
			// A cart and a form record to carry through the rotation.
			b.submit("/cart/add", url.Values{"product_id": {"1"}, "quantity": {"1"}})
			ls[i] = learner{b: b, user: user, pass: pass, token: b.csrf("/login")}
		}
		statuses := make([]int, class)
		var wg sync.WaitGroup
		for i := range ls {
			wg.Go(func() {
				l := ls[i]
				statuses[i] = l.b.post("/login", url.Values{"username": {l.user}, "password": {l.pass}, "csrf_token": {l.token}}).Status
			})
		}
		wg.Wait()
		for i, st := range statuses {
			if st != http.StatusSeeOther {
				t.Errorf("learner %d: login answered %d, want 303", i, st)
			}
		}
	})
}
