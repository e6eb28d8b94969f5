package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
)

// MigrationState compares a database's schema_migrations with the
// migrations embedded in this binary, without changing anything.
type MigrationState struct {
	Table   bool     // schema_migrations exists
	Applied []string // known here and applied there
	Pending []string // known here, not applied there
	Unknown []string // applied there, unknown here: a newer sessionlab migrated it
}

// MigrationStatus reads the migration state read-only (Applied would create
// schema_migrations; db check and the copy's source must not).
func (d *DB) MigrationStatus(ctx context.Context) (*MigrationState, error) {
	all, err := Migrations(d.Dialect())
	if err != nil {
		return nil, err
	}
	tables, err := d.SchemaTables(ctx)
	if err != nil {
		return nil, err
	}
	st := &MigrationState{Table: slices.Contains(tables, "schema_migrations")}
	done := map[string]bool{}
	if st.Table {
		var vs []string
		if err := d.R.SelectContext(ctx, &vs, `SELECT version FROM schema_migrations ORDER BY version`); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		for _, v := range vs {
			done[v] = true
		}
	}
	known := map[string]bool{}
	for _, m := range all {
		known[m.Version] = true
		if done[m.Version] {
			st.Applied = append(st.Applied, m.Version)
		} else {
			st.Pending = append(st.Pending, m.Version)
		}
	}
	for v := range done {
		if !known[v] {
			st.Unknown = append(st.Unknown, v)
		}
	}
	slices.Sort(st.Unknown)
	return st, nil
}

// Level grades one finding of db check.
type Level int

const (
	LevelOK   Level = iota // as it should be
	LevelInfo              // worth knowing
	LevelWarn              // works, but fix it
	LevelFail              // Session Lab cannot use the database until fixed
)

func (l Level) String() string {
	return [...]string{"ok", "info", "WARN", "FAIL"}[l]
}

// Finding is one line of db check: what was looked at, what was found, and
// the exact fix when something is wrong.
type Finding struct {
	Level Level
	Topic string
	Text  string
	Fix   string // commands or SQL to run, one per line; "" when nothing to do
}

// CheckReport is the outcome of Check.
type CheckReport struct {
	URL      string // masked
	Dialect  string
	Findings []Finding
}

// Usable reports whether nothing failed (warnings allowed).
func (r *CheckReport) Usable() bool {
	for _, f := range r.Findings {
		if f.Level == LevelFail {
			return false
		}
	}
	return true
}

// Count counts findings of a level.
func (r *CheckReport) Count(l Level) int {
	n := 0
	for _, f := range r.Findings {
		if f.Level == l {
			n++
		}
	}
	return n
}

func (r *CheckReport) add(l Level, topic, text, fix string) {
	r.Findings = append(r.Findings, Finding{Level: l, Topic: topic, Text: text, Fix: fix})
}

// Check is Session Lab's "manage.py check": it connects to the database at
// rawURL, reports what it finds and, for each problem, the exact fix. It
// changes nothing: SQLite is opened read-only, and on MariaDB only reads run.
func Check(ctx context.Context, rawURL string) *CheckReport {
	r := &CheckReport{URL: maskURL(strings.TrimSpace(rawURL))}
	cfg, err := ParseURL(rawURL)
	if err != nil {
		r.add(LevelFail, "url", err.Error(), "use sqlite:PATH or mysql://USER:PASSWORD@HOST:PORT/DBNAME")
		return r
	}
	r.URL, r.Dialect = cfg.Display, cfg.Dialect
	if cfg.Dialect == MariaDB {
		checkMariaDB(ctx, r, rawURL, cfg)
	} else {
		checkSQLite(ctx, r, rawURL, cfg)
	}
	return r
}

// mysqlTarget is who and where a MariaDB URL points at, for the fixes.
type mysqlTarget struct {
	User, Host, Addr, DB string
	HasPassword          bool
}

func parseTarget(rawURL string, cfg Config) mysqlTarget {
	u, _ := url.Parse(strings.TrimSpace(rawURL))
	t := mysqlTarget{DB: cfg.Name, Addr: "127.0.0.1:3306"}
	if u != nil {
		t.User = u.User.Username()
		_, t.HasPassword = u.User.Password()
		if u.Host != "" {
			t.Addr = u.Host
		}
	}
	if _, _, err := net.SplitHostPort(t.Addr); err != nil {
		t.Addr = net.JoinHostPort(t.Addr, "3306")
	}
	t.Host, _, _ = net.SplitHostPort(t.Addr)
	return t
}

var deniedRe = regexp.MustCompile(`for user '([^']*)'@'([^']*)'`)

// accountOf names the account the server sees: user@host from an "Access
// denied for user 'u'@'h'" message when there is one, else the URL's user at
// the host the client connects from (its own address for a loopback server).
func accountOf(t mysqlTarget, msg string) (user, host string) {
	if m := deniedRe.FindStringSubmatch(msg); m != nil {
		return m[1], m[2]
	}
	host = "%"
	if ip := net.ParseIP(t.Host); (ip != nil && ip.IsLoopback()) || t.Host == "localhost" {
		host = "localhost"
	}
	return t.User, host
}

// sqlString quotes a value for the SQL shown to the user.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func sqlIdent(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func createFix(t mysqlTarget, user, host string, withUser bool) string {
	lines := []string{
		"# as a MariaDB administrator (sudo mariadb):",
		fmt.Sprintf("CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;", sqlIdent(t.DB)),
	}
	if withUser {
		lines = append(lines, fmt.Sprintf("CREATE USER %s@%s IDENTIFIED BY 'the-password-in-your-URL';", sqlString(user), sqlString(host)))
	}
	lines = append(lines, fmt.Sprintf("GRANT ALL PRIVILEGES ON %s.* TO %s@%s;", sqlIdent(t.DB), sqlString(user), sqlString(host)))
	return strings.Join(lines, "\n")
}

func checkMariaDB(ctx context.Context, r *CheckReport, rawURL string, cfg Config) {
	t := parseTarget(rawURL, cfg)
	conn, err := openPinged(ctx, cfg.DSN)
	if err != nil {
		diagnoseMariaDB(ctx, r, t, cfg, err)
		return
	}
	defer conn.Close()
	r.add(LevelOK, "connect", fmt.Sprintf("connected to %s as %s", t.Addr, orNone(t.User)), "")

	var version, comment, account string
	if err := conn.QueryRowContext(ctx, `SELECT VERSION(), @@version_comment, CURRENT_USER()`).Scan(&version, &comment, &account); err != nil {
		r.add(LevelFail, "server", "cannot read the server version: "+err.Error(), "")
		return
	}
	kind := "MySQL"
	if strings.Contains(strings.ToLower(version+comment), "mariadb") {
		kind = "MariaDB"
	}
	r.add(LevelOK, "server", fmt.Sprintf("%s %s (%s)", kind, strings.SplitN(version, "-", 2)[0], comment), "")
	r.add(LevelInfo, "account", "the server knows this login as "+account+" (user@host the grants belong to)", "")

	var charset, collation string
	err = conn.QueryRowContext(ctx, `SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()`).Scan(&charset, &collation)
	if err != nil {
		r.add(LevelFail, "database", "cannot read the database's character set: "+err.Error(), "")
		return
	}
	r.add(LevelOK, "database", cfg.Name, "")
	if charset == "utf8mb4" {
		r.add(LevelOK, "charset", charset+" / "+collation, "")
	} else {
		r.add(LevelWarn, "charset", fmt.Sprintf("%s / %s: not utf8mb4, so tables created without their own character set cannot store emoji and other 4-byte characters (error 1366)", charset, collation),
			fmt.Sprintf("ALTER DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;", sqlIdent(cfg.Name)))
	}
	checkTableCharsets(ctx, r, conn)

	var sqlMode string
	if err := conn.QueryRowContext(ctx, `SELECT @@SESSION.sql_mode`).Scan(&sqlMode); err == nil {
		if strings.Contains(sqlMode, "STRICT_TRANS_TABLES") || strings.Contains(sqlMode, "STRICT_ALL_TABLES") {
			r.add(LevelOK, "sql_mode", "strict ("+sqlMode+")", "")
		} else {
			r.add(LevelWarn, "sql_mode", fmt.Sprintf("not strict (%q): MariaDB silently truncates or adjusts bad values instead of refusing them", sqlMode),
				"# as an administrator, now and for every later connection:\nSET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',STRICT_TRANS_TABLES');\n# and in the server's config ([mysqld] section) so it survives a restart:\nsql_mode = STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION")
		}
	}

	var globalTZ, systemTZ, sessionTZ string
	var skew sql.NullInt64
	if err := conn.QueryRowContext(ctx, `SELECT @@GLOBAL.time_zone, @@system_time_zone, @@SESSION.time_zone, TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(), NOW())`).Scan(&globalTZ, &systemTZ, &sessionTZ, &skew); err == nil {
		if sessionTZ == "+00:00" && skew.Int64 == 0 {
			r.add(LevelOK, "time zone", fmt.Sprintf("server %s (system %s); Session Lab sets time_zone '+00:00' on each connection and stores UTC in DATETIME(6), so the server's zone does not matter", globalTZ, systemTZ), "")
		} else {
			r.add(LevelWarn, "time zone", fmt.Sprintf("this connection runs in %s, %d s from UTC: times would be stored shifted", sessionTZ, skew.Int64), "")
		}
	}
	d := &DB{W: conn, R: conn, Config: cfg}
	checkSchema(ctx, r, d)
}

// diagnoseMariaDB turns a failed connection into the reason and the fix.
func diagnoseMariaDB(ctx context.Context, r *CheckReport, t mysqlTarget, cfg Config, err error) {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1049: // unknown database: the login itself worked
			user, host := accountOf(t, "")
			if acct := currentAccount(ctx, cfg); acct != "" {
				if i := strings.LastIndexByte(acct, '@'); i >= 0 {
					user, host = acct[:i], acct[i+1:]
				}
			}
			r.add(LevelOK, "connect", fmt.Sprintf("the server at %s accepts %s", t.Addr, orNone(t.User)), "")
			r.add(LevelFail, "database", fmt.Sprintf("database %q does not exist", cfg.Name), createFix(t, user, host, false))
			return
		case 1044: // the user may not use that database (or it does not exist)
			user, host := accountOf(t, me.Message)
			r.add(LevelOK, "connect", fmt.Sprintf("the server at %s accepts %s", t.Addr, orNone(t.User)), "")
			r.add(LevelFail, "database", fmt.Sprintf("access denied: %s@%s may not use database %q, or it does not exist (MariaDB does not say which to a user without rights)", user, host, cfg.Name),
				strings.Replace(createFix(t, user, host, false), "CREATE DATABASE ", "CREATE DATABASE IF NOT EXISTS ", 1))
			return
		case 1045: // wrong password, unknown user, or no account for this host
			user, host := accountOf(t, me.Message)
			why := "wrong password, or no user " + sqlString(user) + " for host " + sqlString(host)
			if !t.HasPassword {
				why = "the URL has no password, and " + sqlString(user) + "@" + sqlString(host) + " needs one (or does not exist)"
			}
			r.add(LevelFail, "login", fmt.Sprintf("access denied for %s@%s: %s", user, host, why),
				fmt.Sprintf("# as a MariaDB administrator (sudo mariadb), either set the password the URL uses:\nALTER USER %[1]s@%[2]s IDENTIFIED BY 'the-password-in-your-URL';\n# or, if there is no such user for that host, create it:\nCREATE USER %[1]s@%[2]s IDENTIFIED BY 'the-password-in-your-URL';\nGRANT ALL PRIVILEGES ON %[3]s.* TO %[1]s@%[2]s;", sqlString(user), sqlString(host), sqlIdent(cfg.Name)))
			return
		case 1698: // a socket-authenticated account (root on Debian) over TCP
			user, host := accountOf(t, me.Message)
			r.add(LevelFail, "login", fmt.Sprintf("%s@%s logs in only through the local socket (unix_socket authentication), not with a password over TCP", user, host),
				"# give Session Lab its own user instead of root:\n"+createFix(t, "sessionlab", host, true))
			return
		}
		r.add(LevelFail, "connect", fmt.Sprintf("MariaDB refused: error %d: %s", me.Number, me.Message), "")
		return
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.As(err, &dnsErr):
		r.add(LevelFail, "connect", fmt.Sprintf("host %q not found: %v", t.Host, dnsErr.Err), "check the host name in the URL, or use 127.0.0.1 for this machine")
	case strings.Contains(err.Error(), "connection refused"):
		r.add(LevelFail, "connect", fmt.Sprintf("nothing is listening at %s (connection refused): the server is not running, or listens on another port", t.Addr),
			"sudo systemctl start mariadb      # start it (Debian/Ubuntu)\nsudo systemctl status mariadb     # is it running? which port?\n# the port it listens on: sudo mariadb -e \"SHOW VARIABLES LIKE 'port'\"")
	case errors.As(err, &opErr) || errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "timeout"):
		r.add(LevelFail, "connect", fmt.Sprintf("no answer from %s: %v", t.Addr, err),
			"check the host and port; a firewall may drop the connection, or MariaDB listens only on 127.0.0.1 (bind-address in its config)")
	default:
		r.add(LevelFail, "connect", fmt.Sprintf("cannot connect to %s: %v", t.Addr, err), "")
	}
}

// openPinged opens a single-connection pool and pings it.
func openPinged(ctx context.Context, dsn string) (*sqlx.DB, error) {
	conn, err := sqlx.Open("mysql", dsn)
	if err != nil {
		return nil, err
	}
	conn.SetMaxOpenConns(1)
	pctx, cancel := context.WithTimeout(ctx, 6*time.Second)
	defer cancel()
	if err := conn.PingContext(pctx); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// currentAccount logs in without choosing a database and asks which account
// (user@host) the server matched: the one a GRANT must name.
func currentAccount(ctx context.Context, cfg Config) string {
	mc, err := mysql.ParseDSN(cfg.DSN)
	if err != nil {
		return ""
	}
	mc.DBName = ""
	conn, err := openPinged(ctx, mc.FormatDSN())
	if err != nil {
		return ""
	}
	defer conn.Close()
	var acct string
	conn.QueryRowContext(ctx, `SELECT CURRENT_USER()`).Scan(&acct)
	return acct
}

// checkTableCharsets fails for an existing Session Lab table that cannot
// store 4-byte characters.
func checkTableCharsets(ctx context.Context, r *CheckReport, conn *sqlx.DB) {
	var rows []struct {
		Name      string         `db:"TABLE_NAME"`
		Collation sql.NullString `db:"TABLE_COLLATION"`
	}
	if err := conn.SelectContext(ctx, &rows, `SELECT TABLE_NAME, TABLE_COLLATION FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()`); err != nil {
		return
	}
	for _, t := range rows {
		if _, ours := TableByName(t.Name); !ours || !t.Collation.Valid || strings.HasPrefix(t.Collation.String, "utf8mb4") {
			continue
		}
		r.add(LevelFail, "charset", fmt.Sprintf("table %s uses %s: notes with emoji would fail", t.Name, t.Collation.String),
			fmt.Sprintf("ALTER TABLE %s CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;", sqlIdent(t.Name)))
	}
}

func checkSQLite(ctx context.Context, r *CheckReport, rawURL string, cfg Config) {
	if cfg.Memory {
		r.add(LevelInfo, "file", "in memory: every start begins empty and nothing is kept", "")
		return
	}
	abs, _ := filepath.Abs(cfg.Name)
	dir := filepath.Dir(abs)
	st, err := os.Stat(cfg.Name)
	if errors.Is(err, os.ErrNotExist) {
		if writableDir(dir) {
			r.add(LevelWarn, "file", abs+" does not exist yet: the server creates it at first start",
				"sessionlab db migrate -db "+shellQuote(r.URL)+"    # or create it now, with its tables")
		} else {
			r.add(LevelFail, "file", abs+" does not exist and its folder "+dir+" is missing or not writable", "mkdir -p "+shellQuote(dir))
		}
		return
	}
	if err != nil {
		r.add(LevelFail, "file", err.Error(), "")
		return
	}
	if st.IsDir() {
		r.add(LevelFail, "file", abs+" is a directory", "name a file: sqlite:"+filepath.Join(cfg.Name, "sessionlab.db"))
		return
	}
	r.add(LevelOK, "file", fmt.Sprintf("%s (%s)", abs, humanBytes(st.Size())), "")
	if f, err := os.OpenFile(cfg.Name, os.O_WRONLY, 0); err != nil {
		r.add(LevelFail, "file", "not writable: "+err.Error(), "chmod u+w "+shellQuote(abs))
	} else {
		f.Close()
	}
	if !writableDir(dir) {
		r.add(LevelFail, "file", "its folder "+dir+" is not writable: SQLite keeps the -wal and -shm files beside the database", "chmod u+w "+shellQuote(dir))
	}
	d, err := ConnectReadOnly(ctx, rawURL)
	if err != nil {
		r.add(LevelFail, "open", err.Error(), "")
		return
	}
	defer d.Close()
	var version, journal, quick string
	d.R.GetContext(ctx, &version, `SELECT sqlite_version()`)
	r.add(LevelOK, "sqlite", "SQLite "+version+" (modernc.org/sqlite, compiled in)", "")
	d.R.GetContext(ctx, &journal, `PRAGMA journal_mode`)
	wal := "no -wal file (the last connection checkpointed it)"
	if ws, err := os.Stat(cfg.Name + "-wal"); err == nil {
		wal = "-wal file " + humanBytes(ws.Size())
	}
	if strings.EqualFold(journal, "wal") {
		r.add(LevelOK, "journal", "WAL: readers do not block the writer; "+wal, "")
	} else {
		r.add(LevelInfo, "journal", journal+": the server switches it to WAL when it opens the file", "")
	}
	if err := d.R.GetContext(ctx, &quick, `PRAGMA quick_check`); err != nil || quick != "ok" {
		r.add(LevelFail, "integrity", fmt.Sprintf("quick_check: %s %v", quick, err), "restore the file from a backup, or copy what is readable with sqlite3 .recover")
	} else {
		r.add(LevelOK, "integrity", "quick_check ok", "")
	}
	r.add(LevelInfo, "time zone", "SQLite has none: Session Lab stores UTC text (YYYY-MM-DD HH:MM:SS.ffffff+00:00)", "")
	checkSchema(ctx, r, d)
}

// checkSchema reports migrations and the last copy.
// The commands it suggests show the URL with its password masked.
func checkSchema(ctx context.Context, r *CheckReport, d *DB) {
	ms, err := d.MigrationStatus(ctx)
	if err != nil {
		r.add(LevelFail, "migrations", err.Error(), "")
		return
	}
	migrate := "sessionlab db migrate -db " + shellQuote(r.URL)
	switch {
	case len(ms.Unknown) > 0:
		r.add(LevelFail, "migrations", "applied by a newer sessionlab, unknown to this one: "+strings.Join(ms.Unknown, ", "), "run the sessionlab version that migrated this database")
		return
	case len(ms.Applied) == 0:
		r.add(LevelWarn, "migrations", fmt.Sprintf("no tables yet (%d migrations pending); the server applies them at start", len(ms.Pending)), migrate)
		return
	case len(ms.Pending) > 0:
		r.add(LevelWarn, "migrations", fmt.Sprintf("%d applied, pending: %s; the server applies them at start", len(ms.Applied), strings.Join(ms.Pending, ", ")), migrate)
	default:
		r.add(LevelOK, "migrations", fmt.Sprintf("all %d applied (latest %s)", len(ms.Applied), ms.Applied[len(ms.Applied)-1]), "")
	}
	if !slices.Contains(ms.Applied, "0002_copy_runs") {
		return
	}
	last, err := d.LastCopy(ctx)
	switch {
	case err != nil:
		r.add(LevelWarn, "copy", err.Error(), "")
	case last == nil:
	case last.Complete():
		r.add(LevelInfo, "copy", fmt.Sprintf("holds copy #%d from %s, %d rows, verified at %s", last.ID, last.Source, last.RowsCopied, last.FinishedAt.Format(time.RFC3339)), "")
	default:
		r.add(LevelFail, "copy", fmt.Sprintf("holds an UNFINISHED copy #%d from %s (%s, started %s): the server refuses to start on it", last.ID, last.Source, last.Status, last.StartedAt.Format(time.RFC3339)),
			"sessionlab db copy --from "+shellQuote(last.Source)+" --to "+shellQuote(r.URL)+"    # finishes the job")
	}
}

func writableDir(dir string) bool {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return false
	}
	f, err := os.CreateTemp(dir, ".sessionlab-check-*")
	if err != nil {
		return false
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return true
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func orNone(user string) string {
	if user == "" {
		return "(no user)"
	}
	return user
}

// shellQuote quotes a word for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " '\"$`\\!&|;<>()*?[]#~{}") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
