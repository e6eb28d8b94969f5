// Package dbtest gives tests real, throwaway databases: a fresh SQLite file
// always, a fresh MariaDB database when the server is reachable (and
// mandatory when CI=true). Only tests import it.
package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"sessionlab/db"
)

// Dialects lists the databases a behaviour test runs on.
func Dialects() []string { return []string{db.SQLite, db.MariaDB} }

// ForEach runs fn once per database, each with a fresh, empty database.
func ForEach(t *testing.T, fn func(t *testing.T, url string)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(d, func(t *testing.T) {
			fn(t, Fresh(t, d))
		})
	}
}

var counter atomic.Int64

// Name is a name no other test of any process uses at the same time:
// prefix, process ID and a counter. MariaDB test databases start with
// "sltest_", the only ones the CI test account may create.
func Name(prefix string) string {
	return fmt.Sprintf("%s_%d_%d", prefix, os.Getpid(), counter.Add(1))
}

// Fresh returns the URL of a new empty database of that dialect, dropped
// when the test ends.
func Fresh(t testing.TB, dialect string) string {
	t.Helper()
	if dialect == db.SQLite {
		return "sqlite:" + t.TempDir() + "/test.db"
	}
	base := MariaDBBaseURL(t)
	name := Name("sltest")
	admin := Admin(t, base)
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP DATABASE IF EXISTS " + name)
		admin.Close()
	})
	return strings.TrimSuffix(base, "/") + "/" + name
}

// MariaDBBaseURL is SESSIONLAB_TEST_MYSQL (e.g. mysql://sessionlab:pw@127.0.0.1:3306/),
// default mysql://root@127.0.0.1:3306/. Unreachable: skip, or fail under CI.
func MariaDBBaseURL(t testing.TB) string {
	t.Helper()
	base, err := ReachableMariaDB()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("MariaDB is required under CI but unreachable at %s: %v", db.MaskURL(base), err)
		}
		t.Skipf("MariaDB not reachable at %s (%v): skipping; set SESSIONLAB_TEST_MYSQL or run .ci/run", db.MaskURL(base), err)
	}
	return base
}

// ReachableMariaDB returns the base URL of MariaDB tests (see
// MariaDBBaseURL) and whether it answers, for callers that decide
// themselves what to do without it (benchmarks).
func ReachableMariaDB() (base string, err error) {
	base = os.Getenv("SESSIONLAB_TEST_MYSQL")
	if base == "" {
		base = "mysql://root@127.0.0.1:3306/"
	}
	admin, err := OpenAdmin(base)
	if err == nil {
		err = admin.Ping()
		admin.Close()
	}
	return base, err
}

// OpenAdmin connects to the MariaDB server at base without selecting a
// database.
func OpenAdmin(base string) (*sql.DB, error) {
	cfg, err := db.ParseURL(strings.TrimSuffix(base, "/") + "/mysql")
	if err != nil {
		return nil, err
	}
	dsn := strings.Replace(cfg.DSN, "/mysql?", "/?", 1)
	return sql.Open("mysql", dsn)
}

// Admin is OpenAdmin for a test: an error fails it.
func Admin(t testing.TB, base string) *sql.DB {
	t.Helper()
	a, err := OpenAdmin(base)
	if err != nil {
		t.Fatalf("admin connection: %v", err)
	}
	return a
}

// ClosedPort is a local TCP address nothing listens on.
func ClosedPort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// BulkEvents adds n events quickly (multi-row inserts of 500), to give a
// copy many batches to move.
func BulkEvents(tb testing.TB, d *db.DB, n int) {
	tb.Helper()
	const per = 500
	at := time.Now().UTC().Truncate(time.Microsecond)
	for done := 0; done < n; {
		k := min(per, n-done)
		var q strings.Builder
		q.WriteString("INSERT INTO events (session_key, user_id, kind, detail, instance, at) VALUES ")
		args := make([]any, 0, k*6)
		for i := range k {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?)")
			var user sql.NullInt64
			if i%3 == 0 {
				user = sql.NullInt64{Int64: 1, Valid: true}
			}
			args = append(args, fmt.Sprintf("%064x", done+i), user, "cart.added", `{"product":"Porcelain Teapot","quantity":"1"}`, "bench", at.Add(time.Duration(done+i)*time.Millisecond))
		}
		if _, err := d.W.Exec(q.String(), args...); err != nil {
			tb.Fatal(err)
		}
		done += k
	}
}

// OpenRO opens a database read-only for the test's checks, closed when the
// test ends.
func OpenRO(t testing.TB, url string) *db.DB {
	t.Helper()
	d, err := db.ConnectReadOnly(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// Checksums is every table's row count and checksum; an error fails the test.
func Checksums(t testing.TB, d *db.DB) []db.TableChecksum {
	t.Helper()
	cs, err := d.Checksums(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
