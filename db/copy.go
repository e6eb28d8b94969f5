package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Copy run states, as copy_runs.status holds them.
const (
	CopyRunning  = "running"
	CopyComplete = "complete"
	CopyFailed   = "failed"
)

// ErrTargetNotEmpty: db copy found data in the target and was not told to
// replace it.
var ErrTargetNotEmpty = errors.New("the target database already holds data")

// ErrIncompleteCopy: the database's latest copy_runs row is not complete, so
// its data is a partial copy that must not be served.
var ErrIncompleteCopy = errors.New("the database holds an unfinished copy")

// CopyRun is one db copy into this database (a row of copy_runs).
type CopyRun struct {
	ID         int64
	Source     string    // the source URL, password masked
	StartedAt  time.Time // UTC
	FinishedAt time.Time // UTC; zero while running (or when the copy died)
	Status     string    // CopyRunning, CopyComplete or CopyFailed
	RowsCopied int64

	sourceDialect string
}

// Complete reports whether the copy finished and was verified.
func (r *CopyRun) Complete() bool { return r.Status == CopyComplete }

// SourceDialect is the kind of database the copy read: SQLite or MariaDB.
func (r *CopyRun) SourceDialect() string { return r.sourceDialect }

// LastCopy is the latest copy into this database, nil when there was none.
func (d *DB) LastCopy(ctx context.Context) (*CopyRun, error) {
	var (
		r        CopyRun
		finished sql.NullTime
	)
	d.Queries.Add(1)
	err := d.R.QueryRowContext(ctx, `SELECT id, source, source_dialect, started_at, finished_at, status, rows_copied FROM copy_runs ORDER BY id DESC LIMIT 1`).
		Scan(&r.ID, &r.Source, &r.sourceDialect, &r.StartedAt, &finished, &r.Status, &r.RowsCopied)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("last copy: %w", err)
	}
	r.StartedAt = r.StartedAt.UTC()
	if finished.Valid {
		r.FinishedAt = finished.Time.UTC()
	}
	return &r, nil
}

// refuseIncomplete is the guard Open applies: a partial copy is not served.
func (d *DB) refuseIncomplete(ctx context.Context) error {
	r, err := d.LastCopy(ctx)
	if err != nil || r == nil || r.Complete() {
		return err
	}
	return fmt.Errorf("%w: %s (copy #%d from %s, started %s, status %s); finish it by running db copy again:\n  sessionlab db copy --from %s --to %s",
		ErrIncompleteCopy, d.Config.Display, r.ID, r.Source, r.StartedAt.Format(time.RFC3339), r.Status, shellQuote(r.Source), shellQuote(d.Config.Display))
}

// ConnectReadOnly opens a database to read from and never change: SQLite is
// opened with mode=ro (an error if the file is missing, never a new file) and
// query_only; on MariaDB the copy reads inside a READ ONLY transaction.
func ConnectReadOnly(ctx context.Context, rawURL string) (*DB, error) {
	cfg, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if cfg.Dialect == MariaDB {
		return Connect(ctx, rawURL)
	}
	if cfg.Memory {
		return nil, errors.New("sqlite::memory: is empty when opened: name a file")
	}
	if _, err := os.Stat(cfg.Name); err != nil {
		return nil, fmt.Errorf("cannot open SQLite database %s: %w", cfg.Name, err)
	}
	cfg.DSN = "file:" + cfg.Name + "?mode=ro&_pragma=busy_timeout(10000)&_pragma=query_only(1)&_time_format=sqlite"
	r, err := sqlx.Open(cfg.Driver, cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", cfg.Display, err)
	}
	r.SetMaxOpenConns(2)
	d := &DB{W: r, R: r, Config: cfg}
	pctx, cancel := context.WithTimeout(ctx, 6*time.Second)
	defer cancel()
	// A ping does not read the file; this does, so a broken file fails here.
	var n int
	if err := r.GetContext(pctx, &n, `SELECT COUNT(*) FROM sqlite_master`); err != nil {
		d.Close()
		return nil, explainConnectError(cfg, err)
	}
	return d, nil
}

// CopyOptions tune Copy.
type CopyOptions struct {
	Replace bool // empty a target that holds data (otherwise: ErrTargetNotEmpty)
	Batch   int  // rows per INSERT and per transaction; default 1000

	// Migrated is told each migration applied to the target.
	Migrated func(version string)
	// Progress is told after each batch how far a table is.
	Progress func(table string, done, total int64)
	// Verifying is told when every row is in and the target is read back.
	Verifying func()
	// AfterBatch runs after each committed batch; an error stops the copy
	// there, as a crash would. Tests use it to interrupt a copy half-way.
	AfterBatch func(table string, done int64) error
}

// TableCopy is what moved for one table, and the verification.
type TableCopy struct {
	Table      string
	Rows       int64 // rows read from the source
	TargetRows int64 // rows found in the target afterwards
	SourceSum  string
	TargetSum  string
}

// Verified reports whether counts and checksums match.
func (t TableCopy) Verified() bool {
	return t.Rows == t.TargetRows && t.SourceSum == t.TargetSum
}

// CopyReport says what a copy did.
type CopyReport struct {
	RunID    int64
	Tables   []TableCopy
	Rows     int64
	Elapsed  time.Duration
	Restart  *CopyRun // the unfinished copy this run replaced, if any
	Replaced int64    // rows deleted from the target first (--replace, or an unfinished copy)
}

// Copy copies every table of Tables from src to dst, in dependency order, in
// batches each inside its own transaction. Source rows are read in one
// read-only transaction, so they are one consistent snapshot even while a
// server still writes; the source is never changed.
//
// The target is migrated first. Before any data moves, a copy_runs row
// "running" is committed in the target; it turns "complete" only after every
// table's count and checksum match the source. So an interruption leaves the
// target clearly marked incomplete (Open refuses it), and running Copy again
// empties the partial data and finishes the job. A target with data from
// elsewhere is refused unless opts.Replace.
func Copy(ctx context.Context, src, dst *DB, opts CopyOptions) (*CopyReport, error) {
	start := time.Now()
	if opts.Batch <= 0 {
		opts.Batch = 1000
	}
	if sameDatabase(src.Config, dst.Config) {
		return nil, fmt.Errorf("source and target are the same database (%s)", dst.Config.Display)
	}
	if dst.Config.Memory {
		return nil, errors.New("a copy into sqlite::memory: would vanish when the command ends: name a file")
	}
	if err := checkSource(ctx, src); err != nil {
		return nil, err
	}
	if _, err := dst.Migrate(ctx, opts.Migrated); err != nil {
		return nil, fmt.Errorf("migrate the target: %w", err)
	}
	if err := dst.CheckTableList(ctx); err != nil {
		return nil, err
	}
	rep := &CopyReport{}
	last, err := dst.LastCopy(ctx)
	if err != nil {
		return nil, err
	}
	if last != nil && !last.Complete() {
		rep.Restart = last
	}
	counts, total, err := dst.counts(ctx)
	if err != nil {
		return nil, err
	}
	if total > 0 && rep.Restart == nil && !opts.Replace {
		return nil, fmt.Errorf("%w (%s): refusing to mix it with a copy; add --replace to delete it first", ErrTargetNotEmpty, describeCounts(counts))
	}

	runID, err := dst.startRun(ctx, src.Config)
	if err != nil {
		return nil, err
	}
	rep.RunID = runID
	err = copyData(ctx, src, dst, opts, rep, total)
	status := CopyComplete
	if err != nil {
		status = CopyFailed
	}
	// Record the outcome even when ctx was cancelled (Ctrl+C).
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if ferr := dst.finishRun(fctx, runID, status, rep.Rows); ferr != nil {
		err = errors.Join(err, fmt.Errorf("record the copy's outcome: %w", ferr))
	}
	rep.Elapsed = time.Since(start)
	return rep, err
}

func copyData(ctx context.Context, src, dst *DB, opts CopyOptions, rep *CopyReport, existing int64) error {
	if existing > 0 {
		n, err := dst.emptyTables(ctx)
		if err != nil {
			return fmt.Errorf("empty the target: %w", err)
		}
		rep.Replaced = n
	}
	stx, err := src.R.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: snapshotLevel(src)})
	if err != nil {
		return fmt.Errorf("read the source: %w", err)
	}
	defer stx.Rollback()
	for _, t := range Tables {
		tc, err := copyTable(ctx, stx, dst, t, opts)
		rep.Rows += tc.Rows
		rep.Tables = append(rep.Tables, tc)
		if err != nil {
			return fmt.Errorf("copy %s: %w", t.Name, err)
		}
	}
	// Verify from the target as it is now, read back independently.
	if opts.Verifying != nil {
		opts.Verifying()
	}
	sums, err := dst.Checksums(ctx)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	var bad []string
	for i := range rep.Tables {
		rep.Tables[i].TargetRows = sums[i].Rows
		rep.Tables[i].TargetSum = sums[i].Sum
		if !rep.Tables[i].Verified() {
			bad = append(bad, rep.Tables[i].Table)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("verify: the target differs from the source in %s", strings.Join(bad, ", "))
	}
	return nil
}

// snapshotLevel: REPEATABLE READ gives MariaDB one snapshot for the whole
// read; SQLite's read transaction is a snapshot already (and its driver
// accepts only the default level).
func snapshotLevel(d *DB) sql.IsolationLevel {
	if d.Dialect() == MariaDB {
		return sql.LevelRepeatableRead
	}
	return sql.LevelDefault
}

// copyTable streams one table from the source snapshot into the target.
func copyTable(ctx context.Context, stx *sqlx.Tx, dst *DB, t Table, opts CopyOptions) (TableCopy, error) {
	tc := TableCopy{Table: t.Name}
	var total int64
	if err := stx.GetContext(ctx, &total, "SELECT COUNT(*) FROM "+quote(t.Name)); err != nil {
		return tc, err
	}
	rows, err := stx.QueryContext(ctx, t.selectAll())
	if err != nil {
		return tc, err
	}
	defer rows.Close()
	var (
		sum   checksum
		batch [][]any
		bytes int
	)
	// Keep each INSERT under the placeholder limits (SQLite 32766) and well
	// under MariaDB's default max_allowed_packet (16 MB).
	maxRows := min(opts.Batch, 30000/len(t.Columns))
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := dst.insertBatch(ctx, t, batch); err != nil {
			return err
		}
		tc.Rows += int64(len(batch))
		batch, bytes = batch[:0], 0
		if opts.Progress != nil {
			opts.Progress(t.Name, tc.Rows, total)
		}
		if opts.AfterBatch != nil {
			return opts.AfterBatch(t.Name, tc.Rows)
		}
		return nil
	}
	for rows.Next() {
		vals, err := scanRow(rows, t)
		if err != nil {
			return tc, err
		}
		sum.add(normalizeRow(vals))
		batch = append(batch, vals)
		for _, v := range vals {
			if s, ok := v.(sql.NullString); ok {
				bytes += len(s.String)
			}
		}
		if len(batch) >= maxRows || bytes > 4<<20 {
			if err := flush(); err != nil {
				return tc, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return tc, err
	}
	if err := flush(); err != nil {
		return tc, err
	}
	tc.SourceSum = sum.String()
	return tc, nil
}

// insertBatch writes rows with one multi-row INSERT in one transaction.
func (d *DB) insertBatch(ctx context.Context, t Table, batch [][]any) error {
	var b strings.Builder
	b.WriteString("INSERT INTO " + quote(t.Name) + " (" + t.columnList() + ") VALUES ")
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(t.Columns)), ", ") + ")"
	args := make([]any, 0, len(batch)*len(t.Columns))
	for i, vals := range batch {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
		args = append(args, vals...)
	}
	tx, err := d.W.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	d.Queries.Add(1)
	if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// scanRow reads one row into values typed by column kind, ready to insert on
// either dialect: times in UTC at MariaDB's microsecond precision.
func scanRow(rows *sql.Rows, t Table) ([]any, error) {
	ptrs := make([]any, len(t.Columns))
	for i, c := range t.Columns {
		switch c.Kind {
		case KindInt:
			ptrs[i] = new(sql.NullInt64)
		case KindText:
			ptrs[i] = new(sql.NullString)
		case KindTime:
			ptrs[i] = new(sql.NullTime)
		}
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	vals := make([]any, len(ptrs))
	for i, p := range ptrs {
		switch v := p.(type) {
		case *sql.NullInt64:
			vals[i] = *v
		case *sql.NullString:
			vals[i] = *v
		case *sql.NullTime:
			if v.Valid {
				v.Time = v.Time.UTC().Truncate(time.Microsecond)
			}
			vals[i] = *v
		}
	}
	return vals, nil
}

// normalizeRow renders a row the same way whichever dialect it came from:
// integers in decimal, text quoted, times in UTC with microseconds, NULL.
func normalizeRow(vals []any) string {
	var b strings.Builder
	for i, v := range vals {
		if i > 0 {
			b.WriteByte('\t')
		}
		switch v := v.(type) {
		case sql.NullInt64:
			if !v.Valid {
				b.WriteString("NULL")
			} else {
				b.WriteString(strconv.FormatInt(v.Int64, 10))
			}
		case sql.NullString:
			if !v.Valid {
				b.WriteString("NULL")
			} else {
				b.WriteString(strconv.Quote(v.String))
			}
		case sql.NullTime:
			if !v.Valid {
				b.WriteString("NULL")
			} else {
				b.WriteString(v.Time.UTC().Truncate(time.Microsecond).Format("2006-01-02T15:04:05.000000Z"))
			}
		}
	}
	return b.String()
}

// checksum combines row hashes by adding them (four 64-bit lanes): the result
// does not depend on the order rows arrive in, and unlike XOR a row counted
// twice does not cancel out.
type checksum [4]uint64

func (c *checksum) add(row string) {
	h := sha256.Sum256([]byte(row))
	for i := range c {
		c[i] += binary.BigEndian.Uint64(h[i*8:])
	}
}

func (c checksum) String() string {
	var b [32]byte
	for i, v := range c {
		binary.BigEndian.PutUint64(b[i*8:], v)
	}
	return hex.EncodeToString(b[:])
}

// TableChecksum is one table's row count and checksum.
type TableChecksum struct {
	Table string
	Rows  int64
	Sum   string // hex; equal sums mean equal rows, whatever the dialect or row order
}

// Checksums computes, for every table of Tables in order, a checksum of its
// normalised rows (see normalizeRow): the same data gives the same sums on
// SQLite and MariaDB.
func (d *DB) Checksums(ctx context.Context) ([]TableChecksum, error) {
	out := make([]TableChecksum, 0, len(Tables))
	for _, t := range Tables {
		var sum checksum
		n, err := d.eachRow(ctx, t, func(row string) { sum.add(row) })
		if err != nil {
			return nil, fmt.Errorf("checksum %s: %w", t.Name, err)
		}
		out = append(out, TableChecksum{Table: t.Name, Rows: n, Sum: sum.String()})
	}
	return out, nil
}

// Rows lists a table's rows, normalised as Checksums hashes them, in
// primary-key order: what a test compares to show two databases hold the
// same data, row by row.
func (d *DB) Rows(ctx context.Context, table string) ([]string, error) {
	t, ok := TableByName(table)
	if !ok {
		return nil, fmt.Errorf("unknown table %q", table)
	}
	var out []string
	_, err := d.eachRow(ctx, t, func(row string) { out = append(out, row) })
	return out, err
}

func (d *DB) eachRow(ctx context.Context, t Table, fn func(row string)) (int64, error) {
	d.Queries.Add(1)
	rows, err := d.R.QueryContext(ctx, t.selectAll())
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		vals, err := scanRow(rows, t)
		if err != nil {
			return n, err
		}
		fn(normalizeRow(vals))
		n++
	}
	return n, rows.Err()
}

// TableCount is one table's number of rows.
type TableCount struct {
	Table string
	Rows  int64
}

func (d *DB) counts(ctx context.Context) ([]TableCount, int64, error) {
	var (
		out   []TableCount
		total int64
	)
	for _, t := range Tables {
		var n int64
		if err := d.get(ctx, d.R, &n, "SELECT COUNT(*) FROM "+quote(t.Name)); err != nil {
			return nil, 0, fmt.Errorf("count %s: %w", t.Name, err)
		}
		out = append(out, TableCount{t.Name, n})
		total += n
	}
	return out, total, nil
}

func describeCounts(cs []TableCount) string {
	var parts []string
	for _, c := range cs {
		if c.Rows > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.Rows, c.Table))
		}
	}
	return strings.Join(parts, ", ")
}

// emptyTables deletes every copied row, children first, in one transaction.
func (d *DB) emptyTables(ctx context.Context) (int64, error) {
	var n int64
	err := d.InTx(ctx, func(tx *Tx) error {
		n = 0
		for i := len(Tables) - 1; i >= 0; i-- {
			r, err := tx.exec(ctx, "DELETE FROM "+quote(Tables[i].Name))
			if err != nil {
				return err
			}
			n += rowsAffected(r)
		}
		return nil
	})
	return n, err
}

func (d *DB) startRun(ctx context.Context, src Config) (int64, error) {
	r, err := d.exec(ctx, d.W, `INSERT INTO copy_runs (source, source_dialect, started_at, status, rows_copied) VALUES (?, ?, ?, ?, 0)`,
		src.Display, src.Dialect, time.Now().UTC().Truncate(time.Microsecond), CopyRunning)
	if err != nil {
		return 0, fmt.Errorf("mark the copy as running: %w", err)
	}
	return r.LastInsertId()
}

func (d *DB) finishRun(ctx context.Context, id int64, status string, rows int64) error {
	_, err := d.exec(ctx, d.W, `UPDATE copy_runs SET status = ?, finished_at = ?, rows_copied = ? WHERE id = ?`,
		status, time.Now().UTC().Truncate(time.Microsecond), rows, id)
	return err
}

// checkSource refuses a source that is not a fully migrated Session Lab
// database this binary understands, or that is itself an unfinished copy.
func checkSource(ctx context.Context, src *DB) error {
	ms, err := src.MigrationStatus(ctx)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	switch {
	case !ms.Table:
		return fmt.Errorf("the source %s is not a Session Lab database (no schema_migrations table)", src.Config.Display)
	case len(ms.Unknown) > 0:
		return fmt.Errorf("the source %s has migrations this sessionlab does not know (%s): use the newer sessionlab that made them", src.Config.Display, strings.Join(ms.Unknown, ", "))
	case len(ms.Pending) > 0:
		return fmt.Errorf("the source %s is missing migrations %s: start the server on it once (or run db migrate on it), then copy", src.Config.Display, strings.Join(ms.Pending, ", "))
	}
	if err := src.refuseIncomplete(ctx); err != nil {
		return fmt.Errorf("source: %w", err)
	}
	return src.CheckTableList(ctx)
}

// sameDatabase: copying a database onto itself would empty it.
func sameDatabase(a, b Config) bool {
	if a.Dialect != b.Dialect {
		return false
	}
	if a.Dialect == SQLite {
		pa, err1 := filepath.Abs(a.Name)
		pb, err2 := filepath.Abs(b.Name)
		return err1 == nil && err2 == nil && pa == pb
	}
	ua, err1 := url.Parse(a.Display)
	ub, err2 := url.Parse(b.Display)
	return err1 == nil && err2 == nil && withPort(ua.Host) == withPort(ub.Host) && ua.Path == ub.Path
}

func withPort(host string) string {
	if host == "" {
		host = "127.0.0.1"
	}
	if _, _, err := net.SplitHostPort(host); err != nil {
		return net.JoinHostPort(host, "3306")
	}
	return host
}
