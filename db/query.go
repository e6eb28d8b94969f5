package db

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
)

// Every statement goes through these three helpers so that the count of
// statements per request (a budget the tests enforce) is exact.

// Counters are the statements and transactions a DB has run, for the
// query-budget test and the load tool. Read them with Snapshot.
type Counters struct {
	Statements       int64 // every statement, BEGIN and COMMIT included
	Selects          int64 // SELECTs, in or out of a transaction
	Writes           int64 // INSERT, UPDATE, DELETE, in or out of a transaction
	Standalone       int64 // statements run outside any transaction
	StandaloneWrites int64 // writes outside any transaction (a GET's last-seen touch)
	Txs              int64 // transactions begun
}

type counters struct {
	selects, writes, standalone, standaloneWrites, txs atomic.Int64
}

// Snapshot reads the counters.
func (d *DB) Snapshot() Counters {
	c := &d.stmtCounts
	return Counters{Statements: d.Queries.Load(), Selects: c.selects.Load(), Writes: c.writes.Load(),
		Standalone: c.standalone.Load(), StandaloneWrites: c.standaloneWrites.Load(), Txs: c.txs.Load()}
}

// Sub is the difference c - before: what ran in between.
func (c Counters) Sub(before Counters) Counters {
	return Counters{c.Statements - before.Statements, c.Selects - before.Selects, c.Writes - before.Writes,
		c.Standalone - before.Standalone, c.StandaloneWrites - before.StandaloneWrites, c.Txs - before.Txs}
}

func (d *DB) count(q any, query string) {
	d.Queries.Add(1)
	_, inTx := q.(*sqlx.Tx)
	if !inTx {
		d.stmtCounts.standalone.Add(1)
	}
	switch verb(query) {
	case "SELECT":
		d.stmtCounts.selects.Add(1)
	case "INSERT", "UPDATE", "DELETE", "REPLAC":
		d.stmtCounts.writes.Add(1)
		if !inTx {
			d.stmtCounts.standaloneWrites.Add(1)
		}
	}
}

// verb is the first six letters of a statement, upper-cased.
func verb(query string) string {
	q := strings.TrimLeft(query, " \t\r\n(")
	if len(q) < 6 {
		return strings.ToUpper(q)
	}
	return strings.ToUpper(q[:6])
}

// prepared returns the statement for query on pool, preparing it once. On
// SQLite this saves parsing the SQL on every call (statements inside a
// transaction are not cached: preparing one would need a second connection
// of the single-connection writer pool). On MariaDB the driver interpolates
// arguments client-side instead (one round trip per statement, with no
// prepare at all), so nothing is cached there.
func (d *DB) prepared(ctx context.Context, q any, query string) *sqlx.Stmt {
	pool, ok := q.(*sqlx.DB)
	if !ok || d.Config.Dialect != SQLite {
		return nil
	}
	key := stmtKey{pool, query}
	if v, ok := d.stmts.Load(key); ok {
		return v.(*sqlx.Stmt)
	}
	st, err := pool.PreparexContext(ctx, query)
	if err != nil {
		return nil // let the plain path report the error
	}
	if v, loaded := d.stmts.LoadOrStore(key, st); loaded {
		st.Close()
		return v.(*sqlx.Stmt)
	}
	return st
}

type stmtKey struct {
	pool  *sqlx.DB
	query string
}

func (d *DB) get(ctx context.Context, q sqlx.QueryerContext, dest any, query string, args ...any) error {
	if r, err := d.route(ctx, q, false); err != nil {
		return err
	} else {
		q = r.(sqlx.QueryerContext)
	}
	d.count(q, query)
	record(ctx, query)
	var err error
	if st := d.prepared(ctx, q, query); st != nil {
		err = st.GetContext(ctx, dest, args...)
	} else {
		err = sqlx.GetContext(ctx, q, dest, query, args...)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

func (d *DB) sel(ctx context.Context, q sqlx.QueryerContext, dest any, query string, args ...any) error {
	if r, err := d.route(ctx, q, false); err != nil {
		return err
	} else {
		q = r.(sqlx.QueryerContext)
	}
	d.count(q, query)
	record(ctx, query)
	if st := d.prepared(ctx, q, query); st != nil {
		return st.SelectContext(ctx, dest, args...)
	}
	return sqlx.SelectContext(ctx, q, dest, query, args...)
}

func (d *DB) exec(ctx context.Context, e sqlx.ExecerContext, query string, args ...any) (sql.Result, error) {
	if r, err := d.route(ctx, e, true); err != nil {
		return nil, err
	} else {
		e = r.(sqlx.ExecerContext)
	}
	d.count(e, query)
	record(ctx, query)
	if st := d.prepared(ctx, e, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return e.ExecContext(ctx, query, args...)
}

// closeStatements closes the prepared statements (on Close).
func (d *DB) closeStatements() {
	d.stmts.Range(func(k, v any) bool {
		v.(*sqlx.Stmt).Close()
		d.stmts.Delete(k)
		return true
	})
}

// Tx is a write transaction. On SQLite it began with BEGIN IMMEDIATE (the
// single writer lock); on MariaDB rows it reads with LockSession are locked
// FOR UPDATE until it ends.
type Tx struct {
	tx *sqlx.Tx
	d  *DB
}

// InTx runs fn in one transaction and commits it, retrying a few times when
// the database reports a deadlock or a busy lock: concurrent requests on one
// session serialise instead of losing an update or failing.
func (d *DB) InTx(ctx context.Context, fn func(tx *Tx) error) error {
	if w := d.workOf(ctx); w != nil {
		return w.inTx(ctx, fn)
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = d.inTxOnce(ctx, fn)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return err
}

func (d *DB) inTxOnce(ctx context.Context, fn func(tx *Tx) error) error {
	d.Queries.Add(1)
	d.stmtCounts.txs.Add(1)
	record(ctx, "BEGIN")
	stx, err := d.W.BeginTxx(ctx, d.txOptions())
	if err != nil {
		return err
	}
	tx := &Tx{tx: stx, d: d}
	if err := fn(tx); err != nil {
		stx.Rollback()
		return err
	}
	d.Queries.Add(1)
	record(ctx, "COMMIT")
	return stx.Commit()
}

// txOptions runs MariaDB's read-write transactions at READ COMMITTED.
// Under its default, REPEATABLE READ, a delete or a duplicate check also
// locks the gap next to the row, and two logins rotating neighbouring keys
// (old session and its form record deleted, new ones inserted) deadlocked on
// each other's gaps: error 1213, a 500 for one of them. The session's row
// lock (SELECT … FOR UPDATE) is what serialises a session's requests, and it
// holds the same at READ COMMITTED. SQLite has one writer and takes no such
// option.
func (d *DB) txOptions() *sql.TxOptions {
	if d.Dialect() != MariaDB {
		return nil
	}
	return &sql.TxOptions{Isolation: sql.LevelReadCommitted}
}

func retryable(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205 // deadlock, lock wait timeout
	}
	s := err.Error()
	return strings.Contains(s, "database is locked") || strings.Contains(s, "SQLITE_BUSY")
}

// Dialect of the database this transaction runs on.
func (tx *Tx) Dialect() string { return tx.d.Dialect() }

func (tx *Tx) get(ctx context.Context, dest any, q string, args ...any) error {
	return tx.d.get(ctx, tx.tx, dest, q, args...)
}

func (tx *Tx) sel(ctx context.Context, dest any, q string, args ...any) error {
	return tx.d.sel(ctx, tx.tx, dest, q, args...)
}

func (tx *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return tx.d.exec(ctx, tx.tx, q, args...)
}

func rowsAffected(r sql.Result) int64 {
	n, err := r.RowsAffected()
	if err != nil {
		return 0
	}
	return n
}
