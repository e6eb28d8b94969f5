package main

// The db subcommands end to end: databases filled by a real server, copied
// with "sessionlab db copy", then served again; and the real binary's exit
// statuses. The commands' own tests are in internal/dbcmd.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sessionlab/db"
	"sessionlab/ids"
	"sessionlab/internal/dbcmd"
	"sessionlab/internal/dbtest"
)

// runDB runs "sessionlab db ARGS..." through the command's Go entry point and
// returns what it printed and the exit status main would give.
func runDB(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	code = dbcmd.Status(dbcmd.Run(args, &out, &errb), &errb)
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
	bob.get("/")
	// bob's account has a home learner, as one signed up from a browser has.
	if _, err := srv.db.W.Exec(srv.db.W.Rebind("INSERT INTO home_learners (user_id, learner) SELECT id, (SELECT learner FROM sessions WHERE `key` = ?) FROM users WHERE username = 'bob'"), ids.Hash(bob.sessionID())); err != nil {
		t.Fatalf("home learner: %v", err)
	}
	bob.login("bob", "builder")
	bob.submit("/cart/add", url2("product_id", "7", "quantity", "5"))
	bob.submit("/notes", url2("text", "bob's note"))

	anon := srv.newBrowser(t) // an anonymous session with a cart in its data
	anon.get("/")
	anon.submit("/cart/add", url2("product_id", "2", "quantity", "1"))
	anon.setLabMode("fixation", "defended") // a learner's lab switch (the lab_modes table)

	// The class's timeouts, set by the instructor (the settings table).
	ins := srv.instructor(t)
	if r := ins.post("/instructor/timeouts", url2("csrf_token", ins.csrf("/instructor"), "idle", "45m", "absolute", "9h", "confirm", "1")); r.Status != http.StatusSeeOther {
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

func TestDBCopyRoundTripsEveryTableExactly(t *testing.T) {
	srcURL := freshDatabase(t, db.SQLite)
	srv, _ := buildFixture(t, srcURL)
	srv.stop() // closes its database now: the copy reads a quiet file
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

	src, maria, back := dbtest.OpenRO(t, srcURL), dbtest.OpenRO(t, mariaURL), dbtest.OpenRO(t, backURL)
	ctx := context.Background()
	// The fixture really has every kind of row.
	for _, c := range dbtest.Checksums(t, src) {
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

func TestSessionCookieFromSQLiteServerWorksOnMariaDBServerAfterCopy(t *testing.T) {
	srcURL := freshDatabase(t, db.SQLite)
	srv, cookie := buildFixture(t, srcURL)
	before := srv.newBrowser(t)
	before.setSessionID(cookie)
	wantCart := before.get("/api/state").Body
	srv.stop()

	mariaURL := freshDatabase(t, db.MariaDB)
	mustRunDB(t, "copy", "--from", srcURL, "--to", mariaURL)

	target := startServer(t, mariaURL)
	b := target.newBrowser(t)
	b.setSessionID(cookie)
	if r := b.get("/account"); r.Status != http.StatusOK || !strings.Contains(r.Body, "alice") {
		t.Fatalf("the cookie issued on SQLite is not logged in on MariaDB: /account = %d", r.Status)
	}
	if b.sessionID() != cookie {
		t.Fatalf("the MariaDB server replaced the session ID (%s → %s)", ids.Prefix(cookie), ids.Prefix(b.sessionID()))
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
	srv.stop()
	srcPath := strings.TrimPrefix(srcURL, "sqlite:")
	srcFile := fileSum(t, srcPath)
	srcSums := dbtest.Checksums(t, dbtest.OpenRO(t, srcURL))

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
			dstDB := dbtest.OpenRO(t, dstURL)
			if got := dbtest.Checksums(t, dstDB); !slices.Equal(got, srcSums) {
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
	if got := dbtest.Checksums(t, dbtest.OpenRO(t, srcURL)); !slices.Equal(got, srcSums) {
		t.Errorf("the source's rows changed:\n%v\n%v", got, srcSums)
	}
}

func TestDBCopyRefusesANonEmptyTargetWithoutReplace(t *testing.T) {
	forEachDB(t, func(t *testing.T, dstURL string) {
		srcURL := freshDatabase(t, db.SQLite)
		srv, _ := buildFixture(t, srcURL)
		srv.stop()
		other := startServer(t, dstURL) // seeds users and products
		other.newBrowser(t).login("bob", "builder")
		other.stop()
		before := dbtest.Checksums(t, dbtest.OpenRO(t, dstURL))

		out, errs, code := runDB(t, "copy", "--from", srcURL, "--to", dstURL)
		if code == 0 || !strings.Contains(errs, "already holds data") || !strings.Contains(errs, "--replace") || !strings.Contains(errs, "2 users") {
			t.Fatalf("copy into a used database: exit %d\n%s\n%s", code, out, errs)
		}
		dst := dbtest.OpenRO(t, dstURL)
		if got := dbtest.Checksums(t, dst); !slices.Equal(got, before) {
			t.Error("a refused copy changed the target")
		}
		if run, _ := dst.LastCopy(context.Background()); run != nil {
			t.Errorf("a refused copy left a copy_runs row: %+v", run)
		}

		out = mustRunDB(t, "copy", "--from", srcURL, "--to", dstURL, "--replace")
		if !strings.Contains(out, "deleted") || !strings.Contains(out, "complete") {
			t.Errorf("--replace output:\n%s", out)
		}
		sameRows(t, "after --replace", dbtest.OpenRO(t, srcURL), dbtest.OpenRO(t, dstURL))
	})
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
	if out, code := run("db", "check", "-db", "mysql://nobody:pw@"+dbtest.ClosedPort(t)+"/x"); code != 1 || !strings.Contains(out, "connection refused") {
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
		dbtest.BulkEvents(t, d, 20000)
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
		if !slices.Equal(dbtest.Checksums(t, target), dbtest.Checksums(t, dbtest.OpenRO(t, src))) {
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
