package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"sessionlab/db"
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

// Two logins, each after a form whose record a page has shown, must not
// deadlock on MariaDB. Seen at 128 learners (error 1213, a 500): when a
// shown record was deleted, the login's DELETE of its old session checked
// the foreign key against the deleted-but-not-yet-purged record with a
// shared lock; purge then moved that lock onto the gap before the next
// record, and both logins inserted their new keys into that one gap, each
// waiting for the other's lock. A shown record is blanked, not deleted, so
// no such lock exists. The keys are chosen to share one gap; a read view
// holds purge back until both logins have deleted, as a busy server does.
func TestLoginsAfterShownFormsDoNotDeadlock(t *testing.T) {
	srv := startServer(t, freshDatabase(t, db.MariaDB))
	d, ctx := srv.db, context.Background()
	key := func(p string) string { return p + strings.Repeat("0", 64-len(p)) }
	session := func(k string) *db.Session {
		now := time.Now().UTC()
		return &db.Session{Key: k, Data: "{}", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour), Learner: k[:16], Boot: "test"}
	}
	record := func(string) func(bool) (string, error) {
		return func(bool) (string, error) { return `{"method":"POST"}`, nil }
	}
	for _, k := range []string{key("1"), key("9"), key("5a"), key("5b")} {
		if err := d.InsertSession(ctx, session(k)); err != nil {
			t.Fatal(err)
		}
		if err := d.InTx(ctx, func(tx *db.Tx) error { return tx.PutExchange(ctx, k, record(k), time.Now()) }); err != nil {
			t.Fatal(err)
		}
	}
	// A long reader: purge keeps what is deleted from here on.
	reader, err := d.W.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Rollback()
	var n int
	if err := reader.Get(&n, "SELECT COUNT(*) FROM exchanges"); err != nil {
		t.Fatal(err)
	}
	// Each learner's page after the form shows its record.
	for _, k := range []string{key("5a"), key("5b")} {
		if err := d.ForgetExchange(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	// Both log in: the old session goes, the new one comes, in one unit of
	// work each, as a login request does.
	logins := map[string]string{key("5a"): key("5c"), key("5b"): key("5d")}
	works := map[string]*db.Work{}
	ctxs := map[string]context.Context{}
	for old, next := range logins {
		wctx, w := d.WithWork(ctx)
		defer w.Rollback()
		if _, err := d.DeleteSession(wctx, old); err != nil {
			t.Fatal(err)
		}
		if err := d.InsertSession(wctx, session(next)); err != nil {
			t.Fatal(err)
		}
		works[next], ctxs[next] = w, wctx
	}
	reader.Rollback()
	time.Sleep(2 * time.Second) // purge runs (it wakes at least once a second)
	errs := make(chan error, len(works))
	for next, w := range works {
		go func() {
			errs <- w.Finish(ctxs[next], func(tx *db.Tx) error { return tx.PutExchange(ctxs[next], next, record(next), time.Now()) })
		}()
	}
	for range works {
		select {
		case err := <-errs:
			if err != nil {
				t.Errorf("a login's commit: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("a login's commit waited 30 s")
		}
	}
}
