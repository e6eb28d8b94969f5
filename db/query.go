package db

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
)

// Every statement goes through these three helpers so that the count of
// statements per request (a budget the tests enforce) is exact.

func (d *DB) get(ctx context.Context, q sqlx.QueryerContext, dest any, query string, args ...any) error {
	d.Queries.Add(1)
	record(ctx, query)
	err := sqlx.GetContext(ctx, q, dest, query, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}

func (d *DB) sel(ctx context.Context, q sqlx.QueryerContext, dest any, query string, args ...any) error {
	d.Queries.Add(1)
	record(ctx, query)
	return sqlx.SelectContext(ctx, q, dest, query, args...)
}

func (d *DB) exec(ctx context.Context, e sqlx.ExecerContext, query string, args ...any) (sql.Result, error) {
	d.Queries.Add(1)
	record(ctx, query)
	return e.ExecContext(ctx, query, args...)
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
	record(ctx, "BEGIN")
	stx, err := d.W.BeginTxx(ctx, nil)
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
