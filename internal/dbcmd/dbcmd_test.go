package dbcmd

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"sessionlab/db"
	"sessionlab/internal/dbtest"
)

// runDB runs "sessionlab db ARGS..." and returns what it printed and the
// exit status main gives for its error.
func runDB(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Status(Run(args, &out, &errb), &errb)
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

func TestDBCopyRefusesBadSourcesAndTargets(t *testing.T) {
	dir := t.TempDir()
	good := dbtest.Fresh(t, db.SQLite)
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
	user = dbtest.Name("sltu")
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

func TestDBCheckDiagnosesEachProblemWithItsFix(t *testing.T) {
	base := dbtest.MariaDBBaseURL(t)
	bu, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	hostPort := bu.Host
	admin := dbtest.Admin(t, base)
	t.Cleanup(func() { admin.Close() })

	good := dbtest.Fresh(t, db.MariaDB)
	mustRunDB(t, "migrate", "-db", good)
	goodName := good[strings.LastIndex(good, "/")+1:]
	user, pass := testUser(t, admin, goodName)

	missing := dbtest.Name("sltest_missing")
	granted, grantedPass := testUser(t, admin, missing) // may use the missing database's name
	stranger, strangerPass := testUser(t, admin, "")    // may use nothing
	latin := dbtest.Name("sltest_latin")
	if _, err := admin.Exec("CREATE DATABASE " + latin + " CHARACTER SET latin1"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec("DROP DATABASE IF EXISTS " + latin) })
	latinURL := "mysql://" + user + ":" + pass + "@" + hostPort + "/" + latin
	grantAll(t, admin, latin, user)
	mustRunDB(t, "migrate", "-db", latinURL)
	latinTable := dbtest.Fresh(t, db.MariaDB)
	mustRunDB(t, "migrate", "-db", latinTable)
	if _, err := admin.Exec("ALTER TABLE " + latinTable[strings.LastIndex(latinTable, "/")+1:] + ".notes CONVERT TO CHARACTER SET latin1"); err != nil {
		t.Fatal(err)
	}
	unmigrated := dbtest.Fresh(t, db.MariaDB)

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
		{"unreachable port", "mysql://" + user + ":" + pass + "@" + dbtest.ClosedPort(t) + "/" + goodName, 1, []string{
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
	dbtest.ForEach(t, func(t *testing.T, url string) {
		out := mustRunDB(t, "migrate", "-db", url)
		if !strings.Contains(out, "applied 0001_init") || !strings.Contains(out, "applied 0002_copy_runs") {
			t.Fatalf("first migrate:\n%s", out)
		}
		d := dbtest.OpenRO(t, url)
		before := dbtest.Checksums(t, d)
		out = mustRunDB(t, "migrate", "-db", url)
		if strings.Contains(out, "applied 0") || !strings.Contains(out, "Nothing to do") {
			t.Fatalf("second migrate:\n%s", out)
		}
		if after := dbtest.Checksums(t, d); !slices.Equal(before, after) {
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
	dbtest.ForEach(t, func(t *testing.T, url string) {
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

// BenchmarkCopy100kEvents copies a SQLite database holding 100,000 events
// (plus the seed) to MariaDB and back, at a few batch sizes; rows/s is the
// figure to compare (go test -run '^$' -bench Copy100k -benchtime 3x).
func BenchmarkCopy100kEvents(b *testing.B) {
	base, err := dbtest.ReachableMariaDB()
	if err != nil {
		b.Skipf("MariaDB unreachable at %s: %v", db.MaskURL(base), err)
	}
	admin := dbtest.Admin(b, base)
	defer admin.Close()
	ctx := context.Background()
	srcURL := "sqlite:" + filepath.Join(b.TempDir(), "big.db")
	d, err := db.Open(ctx, srcURL)
	if err != nil {
		b.Fatal(err)
	}
	dbtest.BulkEvents(b, d, 100000)
	d.Close()
	freshMaria := func() string {
		name := dbtest.Name("sltest_bench")
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
			to := "sqlite:" + filepath.Join(b.TempDir(), dbtest.Name("back")+".db")
			b.StartTimer()
			rows += copyOnce(b, maria, to, 1000)
		}
		b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	})
}
