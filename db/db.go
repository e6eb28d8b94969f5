// Package db is Session Lab's storage: one URL picks SQLite or MariaDB, the
// schema is migrated from embedded files per dialect, and every query the web
// layer needs lives here, grouped by table.
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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // registers the pure-Go driver "sqlite"
)

// Dialects, as /healthz reports them.
const (
	SQLite  = "sqlite"
	MariaDB = "mariadb"
)

// DefaultURL is the database of the server and the db commands when neither
// -db nor DATABASE_URL names one: a SQLite file in the working directory.
const DefaultURL = "sqlite:sessionlab.db"

// Sentinel errors, matched with errors.Is.
var (
	ErrNotFound           = errors.New("not found")
	ErrInvalidCredentials = errors.New("invalid username or password")
	ErrUnavailable        = errors.New("database unavailable")
)

func init() {
	// sqlx does not know the bind style of the driver name "sqlite".
	sqlx.BindDriver("sqlite", sqlx.QUESTION)
}

// Config is a parsed -db URL.
type Config struct {
	Dialect string // SQLite or MariaDB
	Driver  string // database/sql driver name
	DSN     string // driver data source name (may hold a password: never log it)
	Name    string // database name, or the SQLite path
	Memory  bool   // sqlite::memory:
	Display string // the URL with any password masked, safe to show and log
}

// ParseURL turns a -db URL into a driver configuration:
//
//	sqlite:PATH, sqlite::memory:, mysql://USER:PASS@HOST:PORT/DBNAME (mariadb:// too)
func ParseURL(raw string) (Config, error) {
	raw = strings.TrimSpace(raw)
	switch {
	case raw == "":
		return Config{}, errors.New("empty database URL: use sqlite:PATH or mysql://USER:PASS@HOST:PORT/DBNAME")
	case strings.HasPrefix(raw, "sqlite:"):
		return parseSQLite(strings.TrimPrefix(raw, "sqlite:"))
	case strings.HasPrefix(raw, "mysql://"), strings.HasPrefix(raw, "mariadb://"):
		return parseMySQL(raw)
	}
	return Config{}, fmt.Errorf("unsupported database URL %q: use sqlite:PATH or mysql://USER:PASS@HOST:PORT/DBNAME", maskURL(raw))
}

func parseSQLite(path string) (Config, error) {
	path = strings.TrimPrefix(path, "//")
	if path == "" {
		return Config{}, errors.New("sqlite URL needs a path: sqlite:sessionlab.db or sqlite::memory:")
	}
	if strings.ContainsAny(path, "?#\x00") {
		return Config{}, fmt.Errorf("sqlite path %q must not contain '?', '#' or NUL", path)
	}
	// _txlock=immediate: a read-then-write transaction takes the write lock
	// at BEGIN, so concurrent ones queue on the busy timeout instead of
	// failing with "database is locked" at their first write.
	params := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate&_time_format=sqlite"
	if path == ":memory:" {
		return Config{Dialect: SQLite, Driver: "sqlite", DSN: "file::memory:?" + params, Name: ":memory:", Memory: true, Display: "sqlite::memory:"}, nil
	}
	return Config{Dialect: SQLite, Driver: "sqlite", DSN: "file:" + path + "?_pragma=journal_mode(WAL)&" + params, Name: path, Display: "sqlite:" + path}, nil
}

func parseMySQL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's message quotes pieces of the URL, perhaps the password.
		return Config{}, fmt.Errorf("bad MariaDB URL %s: use mysql://USER:PASS@HOST:PORT/DBNAME, with special characters in the password percent-encoded (/ as %%2F, @ as %%40)", maskURL(raw))
	}
	if u.User != nil && u.User.Username() == "" {
		if _, ok := u.User.Password(); ok {
			return Config{}, errors.New("MariaDB URL has a password but no user: mysql://USER:PASS@HOST:PORT/DBNAME")
		}
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || strings.Contains(name, "/") || u.User == nil && strings.Contains(raw, "@") {
		return Config{}, errors.New("MariaDB URL needs a database name: mysql://USER:PASS@HOST:PORT/DBNAME (percent-encode / and @ in the password)")
	}
	host := u.Host
	if host == "" {
		host = "127.0.0.1:3306"
	}
	if _, _, err := net.SplitHostPort(host); err != nil {
		host = net.JoinHostPort(host, "3306")
	}
	cfg := mysql.NewConfig()
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net = "tcp"
	cfg.Addr = host
	cfg.DBName = name
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	cfg.Collation = "utf8mb4_unicode_ci"
	cfg.Timeout = 5 * time.Second
	cfg.ReadTimeout = 30 * time.Second
	cfg.WriteTimeout = 30 * time.Second
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	// Arguments are escaped by the driver (safe with utf8mb4), so a query is
	// one round trip instead of prepare + execute + close.
	cfg.InterpolateParams = true
	return Config{Dialect: MariaDB, Driver: "mysql", DSN: cfg.FormatDSN(), Name: name, Display: maskURL(raw)}, nil
}

// maskURL hides the password of a URL so it can be logged. A URL too broken
// for url.Parse (a password with an unescaped '/' or space, say) is masked
// by its text: everything between "scheme://user:" and the last '@'.
func maskURL(raw string) string {
	u, err := url.Parse(raw)
	if err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		return u.String()
	}
	if err == nil && !strings.Contains(raw, "@") {
		return raw
	}
	i := strings.Index(raw, "://")
	if i < 0 {
		return raw
	}
	rest := raw[i+3:]
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return raw
	}
	c := strings.Index(rest[:at], ":")
	if c < 0 {
		return raw
	}
	return raw[:i+3] + rest[:c+1] + "xxxxx" + rest[at:]
}

// MaskURL is maskURL for other packages: any database URL printed or logged
// goes through it.
func MaskURL(raw string) string { return maskURL(raw) }

// DB is an open Session Lab database. W takes writes; R takes reads. On
// SQLite they are separate pools so that a single writer connection keeps
// writes from starving each other while readers run in parallel (WAL); on
// MariaDB and for :memory: they are the same pool.
type DB struct {
	W, R    *sqlx.DB
	Config  Config
	Queries atomic.Int64 // statements run, for the query-budget test and metrics

	stmtCounts counters
	stmts      sync.Map // stmtKey → *sqlx.Stmt, prepared once (SQLite)
}

// Open connects, checks the connection and applies pending migrations.
func Open(ctx context.Context, rawURL string) (*DB, error) {
	d, err := Connect(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	release, err := d.startupLock(ctx)
	if err != nil {
		d.Close()
		return nil, err
	}
	defer release()
	if _, err := d.Migrate(ctx, nil); err != nil {
		d.Close()
		return nil, err
	}
	// A database an interrupted db copy left half-filled is not served.
	if err := d.refuseIncomplete(ctx); err != nil {
		d.Close()
		return nil, err
	}
	if err := d.Seed(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Connect opens and pings the database without migrating it.
func Connect(ctx context.Context, rawURL string) (*DB, error) {
	cfg, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	w, err := sqlx.Open(cfg.Driver, cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", cfg.Display, err)
	}
	d := &DB{W: w, R: w, Config: cfg}
	switch {
	case cfg.Dialect == MariaDB:
		w.SetMaxOpenConns(32)
		w.SetMaxIdleConns(32)
		// Below the server's wait_timeout (8 h by default), so the pool never
		// hands out a connection the server already closed.
		w.SetConnMaxLifetime(30 * time.Minute)
	case cfg.Memory:
		// Each connection to :memory: is its own empty database.
		w.SetMaxOpenConns(1)
		w.SetConnMaxLifetime(0)
	default:
		w.SetMaxOpenConns(1)
		r, err := sqlx.Open(cfg.Driver, cfg.DSN+"&_pragma=query_only(1)")
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("open %s: %w", cfg.Display, err)
		}
		r.SetMaxOpenConns(4)
		r.SetMaxIdleConns(4)
		d.R = r
	}
	pctx, cancel := context.WithTimeout(ctx, 6*time.Second)
	defer cancel()
	if err := w.PingContext(pctx); err != nil {
		d.Close()
		return nil, explainConnectError(cfg, err)
	}
	if err := d.checkWritable(pctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// checkWritable makes an SQLite file the server cannot write a clear error
// at start: SQLite opens such a file read-only without complaint, and the
// first click would fail instead. Rewriting the header's user_version with
// its own value is a real write, rolled back.
func (d *DB) checkWritable(ctx context.Context) error {
	if d.Config.Dialect != SQLite || d.Config.Memory {
		return nil
	}
	tx, err := d.W.BeginTx(ctx, nil)
	if err != nil {
		return explainConnectError(d.Config, err)
	}
	defer tx.Rollback()
	var v int64
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return explainConnectError(d.Config, err)
	}
	if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.FormatInt(v, 10)); err != nil {
		return explainConnectError(d.Config, err)
	}
	return nil
}

// explainSQLiteError says what is wrong with an SQLite file in one sentence.
func explainSQLiteError(cfg Config, err error) error {
	s := strings.ToLower(err.Error())
	dir := filepath.Dir(cfg.Name)
	switch {
	case strings.Contains(s, "readonly") || strings.Contains(s, "read-only") || strings.Contains(s, "permission denied") || strings.Contains(s, "access permission"):
		return fmt.Errorf("SQLite database %s is read-only for this server (or its folder %s is): it must be able to write the file and create %s-wal and %s-shm beside it. Fix the permissions, or use another -db path (%v)", cfg.Name, dir, filepath.Base(cfg.Name), filepath.Base(cfg.Name), err)
	case strings.Contains(s, "disk is full") || strings.Contains(s, "no space"):
		return fmt.Errorf("the disk holding SQLite database %s is full: free some space and start again (%v)", cfg.Name, err)
	case strings.Contains(s, "unable to open"):
		if _, serr := os.Stat(dir); serr != nil {
			return fmt.Errorf("cannot create SQLite database %s: the folder %s does not exist", cfg.Name, dir)
		}
		return fmt.Errorf("cannot open SQLite database %s (is it or its folder %s read-only, or not an SQLite file?): %v", cfg.Name, dir, err)
	case strings.Contains(s, "not a database") || strings.Contains(s, "malformed"):
		return fmt.Errorf("%s is not a usable SQLite database (%v): point -db at another path, or restore it from a backup", cfg.Name, err)
	}
	return fmt.Errorf("cannot open SQLite database %s: %v", cfg.Name, err)
}

// Close closes both pools.
func (d *DB) Close() error {
	d.closeStatements()
	err := d.W.Close()
	if d.R != d.W {
		err = errors.Join(err, d.R.Close())
	}
	return err
}

// Dialect is SQLite or MariaDB.
func (d *DB) Dialect() string { return d.Config.Dialect }

// Ping reports whether the database answers, for /healthz.
func (d *DB) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return d.W.PingContext(ctx)
}

// explainConnectError turns a driver error into one line that says what to do.
func explainConnectError(cfg Config, err error) error {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1049:
			return fmt.Errorf("database %q does not exist on %s: create it with\n  CREATE DATABASE %s CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;", cfg.Name, cfg.Display, cfg.Name)
		case 1045, 1698:
			return fmt.Errorf("access denied to %s (wrong user or password, or the user may not log in over TCP): %s", cfg.Display, me.Message)
		case 1044:
			return fmt.Errorf("the user may not use database %q: GRANT ALL ON %s.* TO the user", cfg.Name, cfg.Name)
		}
		return fmt.Errorf("MariaDB %s: %s", cfg.Display, me.Message)
	}
	var ne net.Error
	if errors.As(err, &ne) || strings.Contains(err.Error(), "connection refused") {
		return fmt.Errorf("cannot reach MariaDB at %s: is the server running? (%v)", cfg.Display, err)
	}
	if cfg.Dialect == SQLite {
		return explainSQLiteError(cfg, err)
	}
	return fmt.Errorf("cannot connect to %s: %v", cfg.Display, err)
}

// IsUnavailable reports whether err means the database could not be reached
// (as opposed to a bad query), so the web layer can answer 503 instead of 500.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, mysql.ErrInvalidConn) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "connection refused") || strings.Contains(s, "broken pipe") || strings.Contains(s, "bad connection") || strings.Contains(s, "server has gone away") || strings.Contains(s, "database is locked")
}
