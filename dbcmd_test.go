package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sessionlab/db"
)

// runDB runs "sessionlab db ARGS..." through the command's Go entry point and
// returns what it printed and the exit status main would give.
func runDB(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := dbCommand(args, &out, &errb)
	var ec exitCode
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		code = 0
	case errors.As(err, &ec):
		code = int(ec)
	default:
		fmt.Fprintln(&errb, "sessionlab:", err)
		code = 1
	}
	return out.String(), errb.String(), code
}

// mustRunDB runs a db command that must succeed.
func mustRunDB(t *testing.T, args ...string) string {
	t.Helper()
	out, errs, code := runDB(t, args...)
	if code != 0 {
		t.Fatalf("db %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// stopServer ends a test server and closes its database now (the SQLite
// file is checkpointed and quiet), rather than when the test ends.
func stopServer(s *testServer) {
	s.app.fiber.ShutdownWithTimeout(5 * time.Second)
	s.db.Close()
}

// A note body with everything that could go wrong between dialects.
const trickyNote = "Grüße, 東京, emoji 🍵🧣 (4-byte), \"quotes\" 'single' `back` \\ tab\tnewline\nend"

// buildFixture fills a database with every kind of row, through a real
// server where it can (login, carts, notes, lesson progress, events) and
// directly for what a server makes only with time (expired sessions). It
// returns alice's cookie, logged in with a cart of two teapots.
func buildFixture(t *testing.T, url string) (srv *testServer, aliceCookie string) {
	t.Helper()
	srv = startServer(t, url)
	alice := srv.newBrowser(t)
	alice.get("/")
	alice.submit("/cart/add", url2("product_id", "3", "quantity", "1")) // anonymous cart, merged at login
	alice.login("alice", "wonderland")
	alice.submit("/cart/add", url2("product_id", "1", "quantity", "2"))
	for _, n := range []string{"first note", trickyNote, "😀 only emoji 🎉"} {
		if r := alice.submit("/notes", url2("text", n)); r.Status != http.StatusSeeOther {
			t.Fatalf("add note: %d %s", r.Status, r.Body)
		}
	}
	alice.get("/lessons/where-sessions-live")
	if r := alice.submit("/lessons/where-sessions-live/hint", url2("step", "create-database")); r.Status >= 400 {
		t.Fatalf("hint: %d", r.Status)
	}

	bob := srv.newBrowser(t)
	bob.login("bob", "builder")
	bob.submit("/cart/add", url2("product_id", "7", "quantity", "5"))
	bob.submit("/notes", url2("text", "bob's note"))

	anon := srv.newBrowser(t) // an anonymous session with a cart in its data
	anon.get("/")
	anon.submit("/cart/add", url2("product_id", "2", "quantity", "1"))

	// The class's timeouts, set by the instructor (the settings table).
	ins := srv.instructor(t)
	if r := ins.post("/instructor/timeouts", url2("csrf_token", ins.csrf("/instructor"), "idle", "45m", "absolute", "9h")); r.Status != http.StatusSeeOther {
		t.Fatalf("set timeouts: %d %s", r.Status, r.Body)
	}

	ctx := context.Background()
	now := time.Now().UTC()
	for i, exp := range []time.Time{now.Add(-time.Hour), now.Add(-time.Second), now.Add(14 * 24 * time.Hour)} {
		s := &db.Session{Key: fmt.Sprintf("%064x", i+1), Data: `{"note":"direct ✓"}`, UserAgent: "fixture", Instance: "fixture",
			CreatedAt: exp.Add(-2 * time.Hour), LastSeenAt: exp.Add(-time.Minute), ExpiresAt: exp}
		if i == 2 {
			s.UserID = sql.NullInt64{Int64: 1, Valid: true}
		}
		if err := srv.db.InsertSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.db.AddEvent(ctx, &db.Event{SessionKey: fmt.Sprintf("%064x", 9), Kind: "fixture", Detail: `{"why":"no user, odd time"}`, At: now.Add(123456 * time.Nanosecond)}); err != nil {
		t.Fatal(err)
	}
	return srv, alice.sessionID()
}

func url2(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// sameRows fails unless two databases hold the same rows in every table.
func sameRows(t *testing.T, what string, a, b *db.DB) {
	t.Helper()
	ctx := context.Background()
	for _, tb := range db.Tables {
		ra, err := a.Rows(ctx, tb.Name)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := b.Rows(ctx, tb.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ra, rb) {
			t.Errorf("%s: table %s differs:\n  %d rows: %q\n  %d rows: %q", what, tb.Name, len(ra), ra, len(rb), rb)
		}
	}
	sa, err := a.Checksums(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.Checksums(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sa, sb) {
		t.Errorf("%s: checksums differ:\n  %v\n  %v", what, sa, sb)
	}
}

func openRO(t *testing.T, url string) *db.DB {
	t.Helper()
	d, err := db.ConnectReadOnly(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestDBCopyRoundTripsEveryTableExactly(t *testing.T) {
	srcURL := freshDatabase(t, db.SQLite)
	srv, _ := buildFixture(t, srcURL)
	stopServer(srv)
	mariaURL := freshDatabase(t, db.MariaDB)
	backURL := freshDatabase(t, db.SQLite)

	out := mustRunDB(t, "copy", "--from", srcURL, "--to", mariaURL, "--batch", "2")
	for _, want := range []string{"migrated the target: 0001_init", "notes", "Verified", "Copy #1 is complete"} {
		if !strings.Contains(out, want) {
			t.Errorf("copy output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\r") {
		t.Errorf("progress bar drawn into captured (non-terminal) output:\n%q", out)
	}
	mustRunDB(t, "copy", "--from", mariaURL, "--to", backURL)

	src, maria, back := openRO(t, srcURL), openRO(t, mariaURL), openRO(t, backURL)
	ctx := context.Background()
	// The fixture really has every kind of row.
	for _, c := range mustChecksums(t, src) {
		if c.Rows == 0 {
			t.Errorf("fixture has no %s rows", c.Table)
		}
	}
	sameRows(t, "SQLite → MariaDB", src, maria)
	sameRows(t, "MariaDB → SQLite", maria, back)

	notes, err := maria.Notes(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(notes, func(n db.Note) bool { return n.Body == trickyNote }) {
		t.Errorf("the unicode note did not survive in MariaDB: %+v", notes)
	}
	for _, d := range []*db.DB{maria, back} {
		run, err := d.LastCopy(ctx)
		if err != nil || run == nil || !run.Complete() || run.RowsCopied == 0 || run.FinishedAt.IsZero() {
			t.Fatalf("%s: last copy %+v, %v", d.Dialect(), run, err)
		}
	}
	run, _ := maria.LastCopy(ctx)
	if run.SourceDialect() != db.SQLite || run.Source != srcURL {
		t.Errorf("copy run source = %q (%s), want %q (sqlite)", run.Source, run.SourceDialect(), srcURL)
	}
	run, _ = back.LastCopy(ctx)
	if run.SourceDialect() != db.MariaDB || strings.Contains(run.Source, "xxxxx") && strings.Contains(mariaURL, "xxxxx") {
		t.Errorf("copy run back: %+v", run)
	}
}

func mustChecksums(t *testing.T, d *db.DB) []db.TableChecksum {
	t.Helper()
	cs, err := d.Checksums(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestSessionCookieFromSQLiteServerWorksOnMariaDBServerAfterCopy(t *testing.T) {
	srcURL := freshDatabase(t, db.SQLite)
	srv, cookie := buildFixture(t, srcURL)
	before := srv.newBrowser(t)
	before.setSessionID(cookie)
	wantCart := before.get("/api/state").Body
	stopServer(srv)

	mariaURL := freshDatabase(t, db.MariaDB)
	mustRunDB(t, "copy", "--from", srcURL, "--to", mariaURL)

	target := startServer(t, mariaURL)
	b := target.newBrowser(t)
	b.setSessionID(cookie)
	if r := b.get("/account"); r.Status != http.StatusOK || !strings.Contains(r.Body, "alice") {
		t.Fatalf("the cookie issued on SQLite is not logged in on MariaDB: /account = %d", r.Status)
	}
	if b.sessionID() != cookie {
		t.Fatalf("the MariaDB server replaced the session ID (%s → %s)", prefix(cookie), prefix(b.sessionID()))
	}
	var st struct {
		Session *struct {
			User          string `json:"user"`
			Authenticated bool   `json:"authenticated"`
		} `json:"session"`
		Cart struct {
			Owner string `json:"owner"`
			Items []struct {
				ProductID int64 `json:"product_id"`
				Quantity  int   `json:"quantity"`
			} `json:"items"`
		} `json:"cart"`
	}
	body := b.get("/api/state").Body
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("api/state: %v\n%s", err, body)
	}
	if st.Session == nil || !st.Session.Authenticated || st.Session.User != "alice" {
		t.Fatalf("session on MariaDB: %s", body)
	}
	if len(st.Cart.Items) != 2 || st.Cart.Owner != "alice" {
		t.Fatalf("cart on MariaDB: %s\nwas on SQLite: %s", body, wantCart)
	}
	// The server knows it runs on MariaDB, on a verified copy.
	run, err := target.db.LastCopy(context.Background())
	if err != nil || run == nil || !run.Complete() || run.SourceDialect() != db.SQLite {
		t.Fatalf("LastCopy on the target: %+v %v", run, err)
	}
}

// fileSum hashes a file and its -wal, to prove the source is untouched.
func fileSum(t *testing.T, path string) string {
	t.Helper()
	h := sha256.New()
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		h.Write(b)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestInterruptedCopyIsMarkedIncompleteAndRerunFinishesIt(t *testing.T) {
	srcURL := freshDatabase(t, db.SQLite)
	srv, _ := buildFixture(t, srcURL)
	// Enough events for several batches.
	ctx := context.Background()
	for i := range 300 {
		srv.db.AddEvent(ctx, &db.Event{SessionKey: fmt.Sprintf("%064x", i), Kind: "bulk", Detail: "{}", At: time.Now().UTC()})
	}
	stopServer(srv)
	srcPath := strings.TrimPrefix(srcURL, "sqlite:")
	srcFile := fileSum(t, srcPath)
	srcSums := mustChecksums(t, openRO(t, srcURL))

	for _, dialect := range dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			dstURL := freshDatabase(t, dialect)
			src, err := db.ConnectReadOnly(ctx, srcURL)
			if err != nil {
				t.Fatal(err)
			}
			dst, err := db.Connect(ctx, dstURL)
			if err != nil {
				t.Fatal(err)
			}
			var batches atomic.Int64
			crash := errors.New("injected failure half-way")
			_, err = db.Copy(ctx, src, dst, db.CopyOptions{Batch: 50, AfterBatch: func(table string, done int64) error {
				if table == "events" && batches.Add(1) == 3 {
					return crash
				}
				return nil
			}})
			src.Close()
			if !errors.Is(err, crash) {
				t.Fatalf("copy error = %v, want the injected failure", err)
			}
			run, err := dst.LastCopy(ctx)
			if err != nil || run == nil || run.Complete() || run.Status != db.CopyFailed {
				t.Fatalf("after the failure: last copy %+v, %v; want failed", run, err)
			}
			var events int
			dst.R.Get(&events, "SELECT COUNT(*) FROM events")
			if events != 150 {
				t.Errorf("target holds %d events after 3 batches of 50, want 150 (batches are committed)", events)
			}
			dst.Close()

			// Clearly marked: the server refuses it, db check says so.
			if d, err := db.Open(ctx, dstURL); !errors.Is(err, db.ErrIncompleteCopy) {
				if d != nil {
					d.Close()
				}
				t.Fatalf("Open on a half-copied database: %v, want ErrIncompleteCopy", err)
			}
			out, _, code := runDB(t, "check", "-db", dstURL)
			if code != 1 || !strings.Contains(out, "UNFINISHED copy") || !strings.Contains(out, "db copy --from") {
				t.Errorf("db check on a half-copied database: exit %d\n%s", code, out)
			}

			// The rerun (no --replace needed) starts over and finishes.
			out = mustRunDB(t, "copy", "--from", srcURL, "--to", dstURL)
			if !strings.Contains(out, "unfinished copy #1 (failed") || !strings.Contains(out, "Copy #2 is complete") {
				t.Errorf("rerun output:\n%s", out)
			}
			dstDB := openRO(t, dstURL)
			if got := mustChecksums(t, dstDB); !slices.Equal(got, srcSums) {
				t.Errorf("after the rerun the target differs:\n%v\n%v", got, srcSums)
			}
			if run, _ := dstDB.LastCopy(ctx); run == nil || !run.Complete() {
				t.Errorf("after the rerun: %+v", run)
			}
			d, err := db.Open(ctx, dstURL)
			if err != nil {
				t.Fatalf("Open after the rerun: %v", err)
			}
			d.Close()
		})
	}
	if fileSum(t, srcPath) != srcFile {
		t.Error("the source file changed")
	}
	if got := mustChecksums(t, openRO(t, srcURL)); !slices.Equal(got, srcSums) {
		t.Errorf("the source's rows changed:\n%v\n%v", got, srcSums)
	}
}

func TestDBCopyRefusesANonEmptyTargetWithoutReplace(t *testing.T) {
	forEachDB(t, func(t *testing.T, dstURL string) {
		srcURL := freshDatabase(t, db.SQLite)
		srv, _ := buildFixture(t, srcURL)
		stopServer(srv)
		other := startServer(t, dstURL) // seeds users and products
		other.newBrowser(t).login("bob", "builder")
		stopServer(other)
		before := mustChecksums(t, openRO(t, dstURL))

		out, errs, code := runDB(t, "copy", "--from", srcURL, "--to", dstURL)
		if code == 0 || !strings.Contains(errs, "already holds data") || !strings.Contains(errs, "--replace") || !strings.Contains(errs, "2 users") {
			t.Fatalf("copy into a used database: exit %d\n%s\n%s", code, out, errs)
		}
		dst := openRO(t, dstURL)
		if got := mustChecksums(t, dst); !slices.Equal(got, before) {
			t.Error("a refused copy changed the target")
		}
		if run, _ := dst.LastCopy(context.Background()); run != nil {
			t.Errorf("a refused copy left a copy_runs row: %+v", run)
		}

		out = mustRunDB(t, "copy", "--from", srcURL, "--to", dstURL, "--replace")
		if !strings.Contains(out, "deleted") || !strings.Contains(out, "complete") {
			t.Errorf("--replace output:\n%s", out)
		}
		sameRows(t, "after --replace", openRO(t, srcURL), openRO(t, dstURL))
	})
}

func TestDBCopyRefusesBadSourcesAndTargets(t *testing.T) {
	dir := t.TempDir()
	good := freshDatabase(t, db.SQLite)
	mustRunDB(t, "migrate", "-db", good)
	cases := []struct {
		name     string
		args     []string
		wantErr  string
		noCreate string // a file that must not appear
	}{
		{"missing source file", []string{"--from", "sqlite:" + dir + "/nope.db", "--to", "sqlite:" + dir + "/t1.db"}, "no such file", dir + "/nope.db"},
		{"same database", []string{"--from", good, "--to", good}, "same database", ""},
		{"no target", []string{"--from", good}, "needs --from URL and --to URL", ""},
		{"memory target", []string{"--from", good, "--to", "sqlite::memory:"}, "vanish", ""},
		{"password without user", []string{"--from", good, "--to", "mysql://:secret@127.0.0.1/x"}, "password but no user", ""},
		{"bad batch", []string{"--from", good, "--to", "sqlite:" + dir + "/t2.db", "--batch", "0"}, "--batch", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, errs, code := runDB(t, append([]string{"copy"}, c.args...)...)
			if code == 0 || !strings.Contains(errs, c.wantErr) {
				t.Fatalf("exit %d, stderr:\n%s\nwant %q", code, errs, c.wantErr)
			}
			if strings.Contains(errs, "secret") {
				t.Errorf("the password was printed: %s", errs)
			}
			if c.noCreate != "" {
				if _, err := os.Stat(c.noCreate); err == nil {
					t.Errorf("%s was created", c.noCreate)
				}
			}
		})
	}
}

// testUser creates a MariaDB account for the test and drops it afterwards.
func testUser(t *testing.T, admin *sql.DB, grantOn string) (user, pass string) {
	t.Helper()
	user = fmt.Sprintf("sltu_%d_%d", os.Getpid(), dbCounter.Add(1))
	pass = "pw-" + user
	if _, err := admin.Exec(fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", user, pass)); err != nil {
		t.Fatalf("create test user: %v (the test account needs CREATE USER and ALL ... WITH GRANT OPTION on `sltest\\_%%`.*: see .ci/run)", err)
	}
	t.Cleanup(func() { admin.Exec(fmt.Sprintf("DROP USER IF EXISTS '%s'@'%%'", user)) })
	if grantOn != "" {
		grantAll(t, admin, grantOn, user)
	}
	return user, pass
}

// grantAll gives user every privilege on one database. The name's "_" are
// escaped: unescaped they are wildcards, which a test account allowed to
// grant only on `sltest\_%` may not hand out.
func grantAll(t *testing.T, admin *sql.DB, database, user string) {
	t.Helper()
	pattern := strings.ReplaceAll(database, "_", `\_`)
	if _, err := admin.Exec(fmt.Sprintf("GRANT ALL PRIVILEGES ON `%s`.* TO '%s'@'%%'", pattern, user)); err != nil {
		t.Fatalf("grant on %s: %v (the test account needs ALL ... WITH GRANT OPTION on `sltest\\_%%`.* and CREATE USER: see .ci/run)", database, err)
	}
}

// display is a URL as the commands print it: password masked.
func display(t *testing.T, url string) string {
	t.Helper()
	c, err := db.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return c.Display
}

// closedPort is a local TCP port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestDBCheckDiagnosesEachProblemWithItsFix(t *testing.T) {
	base := mariadbBaseURL(t)
	bu, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	hostPort := bu.Host
	admin := adminDB(t, base)
	t.Cleanup(func() { admin.Close() })

	good := freshDatabase(t, db.MariaDB)
	mustRunDB(t, "migrate", "-db", good)
	goodName := good[strings.LastIndex(good, "/")+1:]
	user, pass := testUser(t, admin, goodName)

	missing := fmt.Sprintf("sltest_missing_%d_%d", os.Getpid(), dbCounter.Add(1))
	granted, grantedPass := testUser(t, admin, missing) // may use the missing database's name
	stranger, strangerPass := testUser(t, admin, "")    // may use nothing
	latin := fmt.Sprintf("sltest_latin_%d_%d", os.Getpid(), dbCounter.Add(1))
	if _, err := admin.Exec("CREATE DATABASE " + latin + " CHARACTER SET latin1"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec("DROP DATABASE IF EXISTS " + latin) })
	latinURL := "mysql://" + user + ":" + pass + "@" + hostPort + "/" + latin
	grantAll(t, admin, latin, user)
	mustRunDB(t, "migrate", "-db", latinURL)
	latinTable := freshDatabase(t, db.MariaDB)
	mustRunDB(t, "migrate", "-db", latinTable)
	if _, err := admin.Exec("ALTER TABLE " + latinTable[strings.LastIndex(latinTable, "/")+1:] + ".notes CONVERT TO CHARACTER SET latin1"); err != nil {
		t.Fatal(err)
	}
	unmigrated := freshDatabase(t, db.MariaDB)

	cases := []struct {
		name string
		url  string
		code int
		want []string // regular expressions the output must match
	}{
		{"good MariaDB", "mysql://" + user + ":" + pass + "@" + hostPort + "/" + goodName, 0, []string{
			`ok +server +MariaDB \d+\.\d+`, `ok +database +` + goodName, `ok +charset +utf8mb4`, `ok +sql_mode +strict`,
			`ok +time zone .*'\+00:00'`, `ok +migrations +all \d+ applied`, `Usable: no problems found`}},
		{"missing database", "mysql://" + granted + ":" + grantedPass + "@" + hostPort + "/" + missing, 1, []string{
			`FAIL +database +database "` + missing + `" does not exist`,
			"CREATE DATABASE `" + missing + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;",
			"GRANT ALL PRIVILEGES ON `" + missing + "`.\\* TO '" + granted + "'@'%';", `NOT usable`}},
		{"missing database, user without rights", "mysql://" + stranger + ":" + strangerPass + "@" + hostPort + "/" + missing, 1, []string{
			`FAIL +database +access denied: ` + stranger + `@\S+ may not use database`,
			"CREATE DATABASE IF NOT EXISTS `" + missing + "`", "GRANT ALL PRIVILEGES ON `" + missing + "`.\\* TO '" + stranger + "'@'[^']+';"}},
		{"wrong password", "mysql://" + user + ":wrong@" + hostPort + "/" + goodName, 1, []string{
			`FAIL +login +access denied for ` + user + `@\S+: wrong password`,
			`ALTER USER '` + user + `'@'[^']+' IDENTIFIED BY`, `NOT usable`}},
		{"unreachable port", "mysql://" + user + ":" + pass + "@" + closedPort(t) + "/" + goodName, 1, []string{
			`FAIL +connect +nothing is listening at 127\.0\.0\.1:\d+ \(connection refused\)`, `systemctl start mariadb`}},
		{"latin1 database", latinURL, 0, []string{
			`WARN +charset +latin1 / latin1_swedish_ci: not utf8mb4`,
			"ALTER DATABASE `" + latin + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;", `Usable, with 1 warning`}},
		{"latin1 table", latinTable, 1, []string{
			`FAIL +charset +table notes uses latin1`, "ALTER TABLE `notes` CONVERT TO CHARACTER SET utf8mb4"}},
		{"not migrated", unmigrated, 0, []string{
			`WARN +migrations +no tables yet`, `sessionlab db migrate -db ` + regexp.QuoteMeta(display(t, unmigrated))}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errs, code := runDB(t, "check", "-db", c.url)
			if code != c.code {
				t.Errorf("exit status %d, want %d", code, c.code)
			}
			for _, w := range c.want {
				if !regexp.MustCompile(w).MatchString(out) {
					t.Errorf("output lacks %s", w)
				}
			}
			if strings.Contains(out, pass) || strings.Contains(out, grantedPass) || strings.Contains(out, strangerPass) {
				t.Error("db check printed a password")
			}
			if t.Failed() {
				t.Logf("stdout:\n%s\nstderr:\n%s", out, errs)
			}
		})
	}
}

func TestDBCheckSQLite(t *testing.T) {
	dir := t.TempDir()
	good := "sqlite:" + dir + "/good.db"
	mustRunDB(t, "migrate", "-db", good)
	out, _, code := runDB(t, "check", "-db", good)
	ms, err := db.Migrations(db.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"ok    file", "SQLite 3.", "WAL", "quick_check ok", fmt.Sprintf("all %d applied", len(ms))} {
		if !strings.Contains(out, w) {
			t.Errorf("check lacks %q:\n%s", w, out)
		}
	}
	if code != 0 {
		t.Errorf("good SQLite: exit %d", code)
	}
	out, _, code = runDB(t, "check", "-db", "sqlite:"+dir+"/new.db")
	if code != 0 || !strings.Contains(out, "does not exist yet") {
		t.Errorf("new SQLite file: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(dir + "/new.db"); err == nil {
		t.Error("db check created the file")
	}
	out, _, code = runDB(t, "check", "-db", "sqlite:"+dir+"/no/such/dir/x.db")
	if code != 1 || !strings.Contains(out, "FAIL") {
		t.Errorf("SQLite in a missing folder: exit %d\n%s", code, out)
	}
	out, _, code = runDB(t, "check", "-db", "postgres://x")
	if code != 1 || !strings.Contains(out, "unsupported database URL") {
		t.Errorf("bad URL: exit %d\n%s", code, out)
	}
}

func TestDBMigrateTwiceIsANoOpTheSecondTime(t *testing.T) {
	forEachDB(t, func(t *testing.T, url string) {
		out := mustRunDB(t, "migrate", "-db", url)
		if !strings.Contains(out, "applied 0001_init") || !strings.Contains(out, "applied 0002_copy_runs") {
			t.Fatalf("first migrate:\n%s", out)
		}
		d := openRO(t, url)
		before := mustChecksums(t, d)
		out = mustRunDB(t, "migrate", "-db", url)
		if strings.Contains(out, "applied 0") || !strings.Contains(out, "Nothing to do") {
			t.Fatalf("second migrate:\n%s", out)
		}
		if after := mustChecksums(t, d); !slices.Equal(before, after) {
			t.Error("the second migrate changed data")
		}
		ms, err := d.MigrationStatus(context.Background())
		if err != nil || len(ms.Pending) > 0 || len(ms.Unknown) > 0 {
			t.Fatalf("status after migrate: %+v %v", ms, err)
		}
		if err := d.CheckTableList(context.Background()); err != nil {
			t.Error(err)
		}
	})
}

func TestClearSessionsDeletesOnlyExpiredOnes(t *testing.T) {
	forEachDB(t, func(t *testing.T, url string) {
		mustRunDB(t, "migrate", "-db", url)
		d, err := db.Connect(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		now := time.Now().UTC()
		var live []string
		for i, exp := range []time.Duration{-48 * time.Hour, -time.Minute, -time.Second, time.Minute, 8 * time.Hour} {
			key := fmt.Sprintf("%064x", i+100)
			if exp > 0 {
				live = append(live, key)
			}
			if err := d.InsertSession(context.Background(), &db.Session{Key: key, Data: "{}", CreatedAt: now.Add(-72 * time.Hour), LastSeenAt: now, ExpiresAt: now.Add(exp)}); err != nil {
				t.Fatal(err)
			}
		}
		out := mustRunDB(t, "clearsessions", "-db", url)
		if !strings.Contains(out, "Deleted 3 expired sessions") || !strings.Contains(out, "2 live kept") {
			t.Fatalf("clearsessions said:\n%s", out)
		}
		var left []string
		d.R.Select(&left, "SELECT `key` FROM sessions ORDER BY `key`")
		if !slices.Equal(left, live) {
			t.Fatalf("left %v, want the live ones %v", left, live)
		}
		if out := mustRunDB(t, "clearsessions", "-db", url); !strings.Contains(out, "Deleted 0 expired sessions") {
			t.Fatalf("second run: %s", out)
		}
	})
}

func TestEveryDBSubcommandHasHelp(t *testing.T) {
	for _, sub := range []string{"check", "migrate", "copy", "clearsessions"} {
		out, errs, code := runDB(t, sub, "-h")
		if code != 0 || !strings.Contains(errs, "usage: sessionlab db "+sub) || out != "" {
			t.Errorf("db %s -h: exit %d, stdout %q, stderr:\n%s", sub, code, out, errs)
		}
	}
	if _, errs, code := runDB(t, "-h"); code != 0 || !strings.Contains(errs, "clearsessions") {
		t.Errorf("db -h: exit %d\n%s", code, errs)
	}
	if _, errs, code := runDB(t, "frobnicate"); code == 0 || !strings.Contains(errs, "unknown db command") {
		t.Errorf("db frobnicate: exit %d\n%s", code, errs)
	}
}

func TestProgressBarDrawsOnlyOnATerminal(t *testing.T) {
	var buf bytes.Buffer
	p := newProgressBar(&buf)
	p.update("events", 5, 10)
	p.done()
	if buf.Len() != 0 {
		t.Fatalf("drew into a buffer: %q", buf.String())
	}
	p = &progressBar{w: &buf, on: true}
	p.update("events", 50, 100)
	if !strings.Contains(buf.String(), "\r  events") || !strings.Contains(buf.String(), "50.0%") || !strings.Contains(buf.String(), "[###############...............]") {
		t.Fatalf("bar: %q", buf.String())
	}
}

// TestTheRealBinaryCopiesAndChecks builds sessionlab and runs it as a
// learner would, to check the exit statuses main gives.
func TestTheRealBinaryCopiesAndChecks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "sessionlab")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	run := func(args ...string) (string, int) { return run2(t, bin, dir, args...) }
	if out, code := run("db", "migrate"); code != 0 || !strings.Contains(out, "sqlite:sessionlab.db") {
		t.Fatalf("db migrate (default URL): %d\n%s", code, out)
	}
	if out, code := run("db", "copy", "--from", "sqlite:sessionlab.db", "--to", "sqlite:copy.db"); code != 0 || !strings.Contains(out, "Copy #1 is complete") {
		t.Fatalf("db copy: %d\n%s", code, out)
	}
	if out, code := run("db", "check", "-db", "sqlite:copy.db"); code != 0 || !strings.Contains(out, "holds copy #1") {
		t.Fatalf("db check: %d\n%s", code, out)
	}
	if out, code := run("db", "check", "-db", "mysql://nobody:pw@"+closedPort(t)+"/x"); code != 1 || !strings.Contains(out, "connection refused") {
		t.Fatalf("db check unreachable: %d\n%s", code, out)
	}
	if out, code := run("db", "copy", "-h"); code != 0 || !strings.Contains(out, "--replace") {
		t.Fatalf("db copy -h: %d\n%s", code, out)
	}

	t.Run("killed half-way, then rerun", func(t *testing.T) {
		src := "sqlite:" + filepath.Join(dir, "big.db")
		d, err := db.Open(context.Background(), src)
		if err != nil {
			t.Fatal(err)
		}
		bulkEvents(t, d, 20000)
		d.Close()
		dst := freshDatabase(t, db.MariaDB)
		// Small batches make the copy slow enough to kill while it runs.
		cmd := exec.Command(bin, "db", "copy", "--from", src, "--to", dst, "--batch", "5")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		target, err := db.Connect(context.Background(), dst)
		if err != nil {
			t.Fatal(err)
		}
		defer target.Close()
		deadline := time.Now().Add(30 * time.Second)
		for n := 0; n == 0 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
			target.R.Get(&n, "SELECT COUNT(*) FROM events") // fails until the tables exist
		}
		cmd.Process.Kill() // SIGKILL: no chance to record anything
		cmd.Wait()
		run, err := target.LastCopy(context.Background())
		if err != nil || run == nil || run.Status != db.CopyRunning {
			t.Fatalf("after kill -9: last copy %+v, %v; want it still marked running", run, err)
		}
		if d, err := db.Open(context.Background(), dst); !errors.Is(err, db.ErrIncompleteCopy) {
			if d != nil {
				d.Close()
			}
			t.Fatalf("Open after a killed copy: %v", err)
		}
		out, code := run2(t, bin, dir, "db", "copy", "--from", src, "--to", dst)
		if code != 0 || !strings.Contains(out, "(running, from") || !strings.Contains(out, "Copy #2 is complete") {
			t.Fatalf("rerun: exit %d\n%s", code, out)
		}
		if !slices.Equal(mustChecksums(t, target), mustChecksums(t, openRO(t, src))) {
			t.Error("after the rerun the target differs from the source")
		}
	})
}

// run2 runs the binary in dir and returns its combined output and exit status.
func run2(t *testing.T, bin, dir string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "DATABASE_URL=") // the default URL, whatever the caller's shell says
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// bulkEvents adds n events quickly (multi-row inserts in a few transactions).
func bulkEvents(tb testing.TB, d *db.DB, n int) {
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

// BenchmarkCopy100kEvents copies a SQLite database holding 100,000 events
// (plus the seed) to MariaDB and back, at a few batch sizes; rows/s is the
// figure to compare (go test -run '^$' -bench Copy100k -benchtime 3x).
func BenchmarkCopy100kEvents(b *testing.B) {
	base := os.Getenv("SESSIONLAB_TEST_MYSQL")
	if base == "" {
		base = "mysql://root@127.0.0.1:3306/"
	}
	admin, err := openAdmin(base)
	if err == nil {
		err = admin.Ping()
	}
	if err != nil {
		b.Skipf("MariaDB unreachable at %s: %v", base, err)
	}
	defer admin.Close()
	ctx := context.Background()
	srcURL := "sqlite:" + filepath.Join(b.TempDir(), "big.db")
	d, err := db.Open(ctx, srcURL)
	if err != nil {
		b.Fatal(err)
	}
	bulkEvents(b, d, 100000)
	d.Close()
	freshMaria := func() string {
		name := fmt.Sprintf("sltest_bench_%d_%d", os.Getpid(), dbCounter.Add(1))
		if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { admin.Exec("DROP DATABASE IF EXISTS " + name) })
		return strings.TrimSuffix(base, "/") + "/" + name
	}
	copyOnce := func(b *testing.B, from, to string, batch int) int64 {
		src, err := db.ConnectReadOnly(ctx, from)
		if err != nil {
			b.Fatal(err)
		}
		defer src.Close()
		dst, err := db.Connect(ctx, to)
		if err != nil {
			b.Fatal(err)
		}
		defer dst.Close()
		rep, err := db.Copy(ctx, src, dst, db.CopyOptions{Batch: batch})
		if err != nil {
			b.Fatal(err)
		}
		return rep.Rows
	}
	for _, batch := range []int{100, 1000, 5000} {
		b.Run(fmt.Sprintf("sqlite-to-mariadb/batch=%d", batch), func(b *testing.B) {
			var rows int64
			for b.Loop() {
				b.StopTimer()
				to := freshMaria()
				b.StartTimer()
				rows += copyOnce(b, srcURL, to, batch)
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
	maria := freshMaria()
	copyOnce(b, srcURL, maria, 1000)
	b.Run("mariadb-to-sqlite/batch=1000", func(b *testing.B) {
		var rows int64
		for b.Loop() {
			b.StopTimer()
			to := "sqlite:" + filepath.Join(b.TempDir(), fmt.Sprintf("back%d.db", dbCounter.Add(1)))
			b.StartTimer()
			rows += copyOnce(b, maria, to, 1000)
		}
		b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	})
}
