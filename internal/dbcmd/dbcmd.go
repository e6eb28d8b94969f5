// Package dbcmd is "sessionlab db": Session Lab's manage.py. Its check,
// migrate, copy and clearsessions are the tools of the move from SQLite to
// MariaDB (docs/MIGRATING.md).
package dbcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"sessionlab/db"
)

const usage = `usage: sessionlab db COMMAND [flags]

Commands (each takes -h):
  check          connect and report server, character set, sql_mode, time
                 zone and migrations, with the exact fix for each problem
                 (like Django's manage.py check); exit status 0 = usable
  migrate        apply pending schema migrations, printing each (idempotent)
  copy           copy every table from one database to another and verify it:
                 db copy --from sqlite:sessionlab.db --to mysql://USER:PASS@HOST:PORT/DBNAME
  clearsessions  delete expired sessions and say how many (Django's clearsessions)

The database URL comes from -db or DATABASE_URL: sqlite:PATH, or
mysql://USER:PASS@HOST:PORT/DBNAME for MariaDB.
`

// ExitCode is an error that ends the program with that status and no
// further message: the command has already said why (db check's report).
type ExitCode int

func (e ExitCode) Error() string { return "exit " + strconv.Itoa(int(e)) }

// Status is the exit status a command's error ends the program with, and
// writes the error to stderr where it has not been said yet: 0 for none or
// help shown, an ExitCode's own status, 1 for any other error.
func Status(err error, stderr io.Writer) int {
	var ec ExitCode
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ec):
		return int(ec)
	default:
		fmt.Fprintln(stderr, "sessionlab:", err)
		return 1
	}
}

// Run runs "sessionlab db SUBCOMMAND ARGS..." with its output on stdout and
// errors, help and progress on stderr. An ExitCode error asks for that exit
// status; flag.ErrHelp means help was asked for and shown.
func Run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return ExitCode(2)
		}
		return nil
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "check":
		return runCheck(ctx, args[1:], stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], stdout, stderr)
	case "copy":
		return runCopy(ctx, args[1:], stdout, stderr)
	case "clearsessions":
		return runClearSessions(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown db command %q: use check, migrate, copy or clearsessions", args[0])
}

// newFlagSet is a flag set with the usual -db flag and a usage text.
func newFlagSet(name, synopsis, about string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("db "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var url *string
	if name != "copy" {
		url = fs.String("db", databaseURL(), "database URL: sqlite:PATH or mysql://USER:PASS@HOST:PORT/DBNAME [DATABASE_URL]")
	}
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: sessionlab db %s %s\n\n%s\n\nFlags:\n", name, synopsis, about)
		fs.PrintDefaults()
	}
	return fs, url
}

// databaseURL is the -db flag's default, as the server picks it:
// DATABASE_URL, else db.DefaultURL.
func databaseURL() string {
	if v := os.Getenv("DATABASE_URL"); v != "" {
		return v
	}
	return db.DefaultURL
}

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, url := newFlagSet("check", "[-db URL]",
		"Connects and reports: server kind and version, database, character set and\n"+
			"collation (utf8mb4 expected), sql_mode (strict expected), time zone handling,\n"+
			"migrations, an unfinished copy; for SQLite the file, journal (WAL) and version.\n"+
			"Each problem comes with the exact fix. Changes nothing.\n"+
			"Exit status: 0 usable (warnings allowed), 1 not usable.", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	r := db.Check(ctx, *url)
	fmt.Fprintf(stdout, "Checking %s\n\n", r.URL)
	for _, f := range r.Findings {
		fmt.Fprintf(stdout, "  %-5s %-11s %s\n", f.Level, f.Topic, f.Text)
		if f.Fix != "" {
			fmt.Fprintf(stdout, "        fix:\n")
			for _, line := range strings.Split(f.Fix, "\n") {
				fmt.Fprintf(stdout, "          %s\n", line)
			}
		}
	}
	fails, warns := r.Count(db.LevelFail), r.Count(db.LevelWarn)
	fmt.Fprintln(stdout)
	if fails > 0 {
		fmt.Fprintf(stdout, "NOT usable: %s. Fix and run db check again.\n", plural(fails, "problem"))
		return ExitCode(1)
	}
	if warns > 0 {
		fmt.Fprintf(stdout, "Usable, with %s.\n", plural(warns, "warning"))
	} else {
		fmt.Fprintln(stdout, "Usable: no problems found.")
	}
	return nil
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, url := newFlagSet("migrate", "[-db URL]",
		"Applies the schema migrations the database has not had yet, in order, and\n"+
			"prints each (like Django's manage.py migrate). A second run finds nothing\n"+
			"to do. Demo users and products are added by the server when it starts.", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := db.Connect(ctx, *url)
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Fprintf(stdout, "Migrating %s\n", d.Config.Display)
	applied, err := d.Migrate(ctx, func(v string) { fmt.Fprintln(stdout, "  applied", v) })
	if err != nil {
		return err
	}
	all, err := db.Migrations(d.Dialect())
	if err != nil {
		return err
	}
	latest := all[len(all)-1].Version
	if len(applied) == 0 {
		fmt.Fprintf(stdout, "Nothing to do: all %d migrations are already applied (latest %s).\n", len(all), latest)
	} else {
		fmt.Fprintf(stdout, "Applied %s; the schema is at %s.\n", plural(len(applied), "migration"), latest)
	}
	return nil
}

func runCopy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, _ := newFlagSet("copy", "--from URL --to URL [--replace] [--batch N]",
		"Copies users, products, carts, notes, sessions, events and lesson progress\n"+
			"from one database to another (SQLite → MariaDB, or back), in dependency\n"+
			"order, in batches each in its own transaction. The target is migrated first\n"+
			"and must be empty unless --replace. Afterwards every table's row count and\n"+
			"checksum are compared and a table of what moved is printed.\n\n"+
			"The source is never changed (SQLite is opened read-only). While the copy\n"+
			"runs the target is marked incomplete in its copy_runs table, and the server\n"+
			"refuses to start on it; if the copy is interrupted, run it again: it empties\n"+
			"the partial data and finishes the job. Stop the server first, so no request\n"+
			"changes the source after the copy read it.", stderr)
	from := fs.String("from", "", "source database URL (read only)")
	to := fs.String("to", "", "target database URL")
	replace := fs.Bool("replace", false, "delete the target's existing data first")
	batch := fs.Int("batch", 1000, "rows per INSERT and per transaction")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *to == "" || fs.NArg() > 0 {
		fs.Usage()
		return errors.New("db copy needs --from URL and --to URL")
	}
	if *batch < 1 || *batch > 100000 {
		return errors.New("--batch must be between 1 and 100000")
	}
	src, err := db.ConnectReadOnly(ctx, *from)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer src.Close()
	dst, err := db.Connect(ctx, *to)
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	defer dst.Close()
	fmt.Fprintf(stdout, "Copying %s\n     to %s\n", src.Config.Display, dst.Config.Display)
	bar := newProgressBar(stdout)
	rep, err := db.Copy(ctx, src, dst, db.CopyOptions{
		Replace:  *replace,
		Batch:    *batch,
		Migrated: func(v string) { fmt.Fprintln(stdout, "  migrated the target:", v) },
		Progress: bar.update,
		Verifying: func() {
			bar.done()
			if bar.on {
				fmt.Fprint(stdout, "  verifying: reading every table back from the target…")
				bar.table = "verify"
			}
		},
	})
	bar.done()
	if rep != nil {
		printCopyReport(stdout, rep, err == nil)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			err = errors.New("interrupted")
		}
		if rep != nil {
			return fmt.Errorf("%w\nThe target is marked incomplete (copy #%d); run the same db copy again to finish the job", err, rep.RunID)
		}
		return err
	}
	return nil
}

func printCopyReport(w io.Writer, rep *db.CopyReport, ok bool) {
	if rep.Restart != nil {
		fmt.Fprintf(w, "  the target held unfinished copy #%d (%s, from %s): started over\n", rep.Restart.ID, rep.Restart.Status, rep.Restart.Source)
	}
	if rep.Replaced > 0 {
		fmt.Fprintf(w, "  deleted %d rows from the target first\n", rep.Replaced)
	}
	if !ok {
		// Nothing was verified: say what had moved when it stopped.
		fmt.Fprintf(w, "\n  %-16s %10s\n", "table", "copied")
		for _, t := range rep.Tables {
			fmt.Fprintf(w, "  %-16s %10d\n", t.Table, t.Rows)
		}
		fmt.Fprintf(w, "  %-16s %10d rows in %s, then it stopped\n\n", "total", rep.Rows, rep.Elapsed.Round(time.Millisecond))
		return
	}
	fmt.Fprintf(w, "\n  %-16s %10s %10s  %-17s %s\n", "table", "source", "target", "checksum", "")
	for _, t := range rep.Tables {
		verdict := "ok"
		if !t.Verified() {
			verdict = "MISMATCH"
		}
		fmt.Fprintf(w, "  %-16s %10d %10d  %-17s %s\n", t.Table, t.Rows, t.TargetRows, t.SourceSum[:16]+"…", verdict)
	}
	rate := float64(rep.Rows) / max(rep.Elapsed.Seconds(), 1e-9)
	fmt.Fprintf(w, "  %-16s %10d rows in %s (%.0f rows/s)\n\n", "total", rep.Rows, rep.Elapsed.Round(time.Millisecond), rate)
	fmt.Fprintf(w, "Verified: every table's row count and checksum match the source. Copy #%d is complete.\n", rep.RunID)
}

func runClearSessions(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, url := newFlagSet("clearsessions", "[-db URL]",
		"Deletes the sessions whose expiry time has passed and prints how many (like\n"+
			"Django's manage.py clearsessions). Live sessions are kept. The server also\n"+
			"sweeps expired sessions every minute while it runs.", stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	d, err := db.Connect(ctx, *url)
	if err != nil {
		return err
	}
	defer d.Close()
	if p, err := d.Pending(ctx); err != nil {
		return err
	} else if len(p) > 0 {
		return fmt.Errorf("%s is not migrated (%d pending): run sessionlab db migrate first", d.Config.Display, len(p))
	}
	n, err := d.DeleteExpiredSessions(ctx, time.Now().UTC())
	if err != nil {
		return err
	}
	left, err := d.CountSessions(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Deleted %s from %s; %d live kept.\n", plural(int(n), "expired session"), d.Config.Display, left)
	return nil
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// progressBar draws one self-overwriting line per table, and only on a
// terminal: piped or captured output gets the final table alone.
type progressBar struct {
	w     io.Writer
	on    bool
	last  time.Time
	table string
}

func newProgressBar(w io.Writer) *progressBar {
	return &progressBar{w: w, on: isTerminal(w)}
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (p *progressBar) update(table string, done, total int64) {
	if !p.on {
		return
	}
	if table == p.table && done < total && time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.table, p.last = table, time.Now()
	const width = 30
	filled := width
	if total > 0 {
		filled = int(int64(width) * done / total)
	}
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	fmt.Fprintf(p.w, "\r  %-16s [%s%s] %5.1f%% %d/%d\033[K", table, strings.Repeat("#", filled), strings.Repeat(".", width-filled), pct, done, total)
}

func (p *progressBar) done() {
	if p.on && p.table != "" {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
