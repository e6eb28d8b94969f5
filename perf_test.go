package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"sessionlab/db"
)

// The performance shape of DESIGN.md, as statement counts: a page view reads
// the session and the cart (two SELECTs at most) and writes nothing but a
// throttled last-seen; a change is one transaction.

func TestPageViewsAndFormsStayWithinTheQueryBudget(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		b := srv.newBrowser(t)
		b.get("/")
		b.add("1", "2")

		pages := []string{"/", "/products/3", "/cart", "/login", "/api/state"}
		checkGETs := func(who string) {
			t.Helper()
			for _, p := range pages {
				b.get(p) // a first visit may complete a lesson step: that is a change
				before := srv.db.Snapshot()
				if r := b.get(p); r.Status != http.StatusOK {
					t.Fatalf("%s GET %s = %d", who, p, r.Status)
				}
				d := srv.db.Snapshot().Sub(before)
				if d.Selects > 2 || d.Writes != 0 || d.Txs != 0 {
					t.Errorf("%s GET %s ran %d SELECTs, %d writes, %d transactions; budget: ≤ 2 SELECTs (session, cart), no writes", who, p, d.Selects, d.Writes, d.Txs)
				}
			}
		}
		checkGETs("anonymous")

		// last_seen_at moves at most once per throttle period: one UPDATE, then none.
		srv.clock.Advance(2 * time.Minute)
		for i, want := range []int64{1, 0} {
			before := srv.db.Snapshot()
			b.get("/cart")
			if d := srv.db.Snapshot().Sub(before); d.Writes != want || d.StandaloneWrites != want || d.Txs != 0 {
				t.Errorf("GET /cart #%d after the throttle period: %d writes (%d standalone), %d transactions; want %d touch", i+1, d.Writes, d.StandaloneWrites, d.Txs, want)
			}
		}

		post := func(path string, form url.Values) {
			t.Helper()
			form.Set("csrf_token", b.csrf("/cart"))
			before := srv.db.Snapshot()
			r := b.post(path, form)
			d := srv.db.Snapshot().Sub(before)
			if r.Status != http.StatusSeeOther {
				t.Fatalf("POST %s = %d", path, r.Status)
			}
			if d.Txs != 1 || d.StandaloneWrites != 0 {
				t.Errorf("POST %s ran %d transactions and %d writes outside one; want all its writes in exactly one transaction", path, d.Txs, d.StandaloneWrites)
			}
		}
		post("/cart/add", url.Values{"product_id": {"2"}, "quantity": {"1"}})
		post("/cart/update", url.Values{"product_id": {"2"}, "quantity": {"5"}})
		post("/login", url.Values{"username": {"alice"}, "password": {"wonderland"}})
		checkGETs("alice")
		post("/cart/add", url.Values{"product_id": {"4"}, "quantity": {"1"}})
		post("/cart/update", url.Values{"product_id": {"4"}, "quantity": {"0"}})
		post("/logout", url.Values{})
	})
}

// With 100,000 rows in sessions, the page view's lookup still goes straight
// to the row by the primary key, and the sweep uses the expiry index: the
// database's own plan says so, on both dialects.
func TestSessionQueriesUseTheirIndexesWith100kRows(t *testing.T) {
	if testing.Short() {
		t.Skip("fills 100,000 rows; skipped with -short")
	}
	forEachDB(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		d, err := db.Open(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		const n = 100_000
		now := time.Now().UTC().Truncate(time.Second)
		key := func(i int) string {
			sum := sha256.Sum256([]byte(strconv.Itoa(i)))
			return hex.EncodeToString(sum[:])
		}
		const batch = 1000
		tx, err := d.W.BeginTxx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for start := 0; start < n; start += batch {
			var q strings.Builder
			q.WriteString("INSERT INTO sessions (`key`, user_id, data, user_agent, instance, created_at, last_seen_at, expires_at) VALUES ")
			args := make([]any, 0, batch*4)
			for i := start; i < start+batch; i++ {
				if i > start {
					q.WriteString(",")
				}
				q.WriteString("(?, NULL, '{}', 'plan-test', 'test', ?, ?, ?)")
				args = append(args, key(i), now, now, now.Add(time.Duration(i)*time.Second+time.Hour))
			}
			if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
				tx.Rollback()
				t.Fatalf("fill sessions: %v", err)
			}
		}
		// Progress and lab switches of 10,000 learners, which the page view
		// reads with the session.
		for start := 0; start < n/10; start += batch {
			var qp, qm strings.Builder
			qp.WriteString("INSERT INTO lesson_progress (owner, lesson, item, done, hints, updated_at) VALUES ")
			qm.WriteString("INSERT INTO lab_modes (learner, lab, mode, updated_at) VALUES ")
			var ap, am []any
			for i := start; i < start+batch; i++ {
				if i > start {
					qp.WriteString(",")
					qm.WriteString(",")
				}
				qp.WriteString("(?, 'http-forgets', 'arrive', 1, 0, ?)")
				qm.WriteString("(?, 'fixation', 'weak', ?)")
				ap = append(ap, db.LearnerOwner(key(i)[:16]), now)
				am = append(am, key(i)[:16], now)
			}
			for q, args := range map[string][]any{qp.String(): ap, qm.String(): am} {
				if _, err := tx.ExecContext(ctx, q, args...); err != nil {
					tx.Rollback()
					t.Fatalf("fill learners: %v", err)
				}
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if c, err := d.CountSessions(ctx); err != nil || c != n {
			t.Fatalf("sessions has %d rows (%v), want %d", c, err, n)
		}
		if d.Dialect() == db.SQLite {
			d.W.ExecContext(ctx, "ANALYZE")
		} else {
			d.W.ExecContext(ctx, "ANALYZE TABLE sessions, lesson_progress, lab_modes")
		}

		for _, q := range []string{db.SessionByKeyQuery, d.SessionStateSQL()} {
			plan, err := d.Explain(ctx, q, key(n/2))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("session lookup plan: %q", plan)
			wantPlan(t, "session lookup", plan, d.Dialect(),
				func(l string) bool { return strings.Contains(l, "SEARCH s USING") && strings.Contains(l, "(key=?)") },
				func(l string) bool {
					return strings.HasPrefix(l, "table=s ") && strings.Contains(l, " key=PRIMARY ") && (strings.Contains(l, "type=const") || strings.Contains(l, "type=eq_ref"))
				})
		}
		// The learner's progress and lab switches, read in the same query,
		// come by their primary keys too.
		plan, err := d.Explain(ctx, d.SessionStateSQL(), key(n/20))
		if err != nil {
			t.Fatal(err)
		}
		for _, tbl := range []struct{ alias, sqlite string }{{"lp", "lesson_progress_1 (owner=?)"}, {"m", "lab_modes_1 (learner=?)"}} {
			wantPlan(t, "session's "+tbl.alias+" lookup", plan, d.Dialect(),
				func(l string) bool {
					return strings.HasPrefix(l, "SEARCH "+tbl.alias+" USING") && strings.Contains(l, tbl.sqlite)
				},
				func(l string) bool {
					return strings.HasPrefix(l, "table="+tbl.alias+" ") && strings.Contains(l, " key=PRIMARY ") && strings.Contains(l, "type=ref")
				})
			for _, l := range plan {
				if strings.HasPrefix(l, "SCAN "+tbl.alias) || strings.HasPrefix(l, "table="+tbl.alias+" type=ALL") {
					t.Errorf("the session query scans %s: %q", tbl.alias, l)
				}
			}
		}

		plan, err = d.Explain(ctx, db.SweepQuery, now)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("sweep plan: %q", plan)
		wantPlan(t, "sweep", plan, d.Dialect(),
			func(l string) bool { return strings.Contains(l, "INDEX sessions_expires_at (expires_at<?)") },
			func(l string) bool { return strings.Contains(l, "key=sessions_expires_at") })

		// And the lookup answers: the right row, found among 100,000.
		s, err := d.SessionByKey(ctx, key(n-1))
		if err != nil || s.Key != key(n-1) {
			t.Fatalf("SessionByKey among %d rows: %v", n, err)
		}
	})
}

// wantPlan fails unless some line of plan satisfies the dialect's check, and
// (SQLite) no line scans the whole sessions table.
func wantPlan(t *testing.T, what string, plan []string, dialect string, sqlite, mariadb func(string) bool) {
	t.Helper()
	ok := sqlite
	if dialect == db.MariaDB {
		ok = mariadb
	}
	found := false
	for _, l := range plan {
		if ok(l) {
			found = true
		}
		if strings.HasPrefix(l, "SCAN s") || strings.HasPrefix(l, "SCAN sessions") || strings.HasPrefix(l, "table=s type=ALL") || strings.HasPrefix(l, "table=sessions type=ALL") {
			t.Errorf("%s scans the whole table: %q", what, l)
		}
	}
	if !found {
		t.Errorf("%s does not use its index on %s: plan %s", what, dialect, fmt.Sprint(plan))
	}
}
