package db

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// A Work makes everything one request writes a single transaction, committed
// only when the response is final: a form POST's change and the record of
// what its answer said (status, Location, Set-Cookie) land together or not
// at all, and the POST stays one transaction.
//
// Under a Work's context the transaction begins lazily, at the first write
// (or InTx); from then on every statement of that context on this database,
// reads included, runs in it: on SQLite's single writer connection a
// statement outside it would wait for it forever. InTx inside a Work runs
// its function in the open transaction; the first one keeps InTx's retries
// on a deadlock or a busy lock, later ones cannot retry alone (a deadlock
// ends the whole transaction), so their error ends the Work.
type Work struct {
	d      *DB
	mu     sync.Mutex
	tx     *sqlx.Tx
	failed error
}

type workKey struct{}

// WithWork returns a context whose statements on d form one unit of work.
// The caller must call Finish, and Rollback (deferred) for panics.
func (d *DB) WithWork(ctx context.Context) (context.Context, *Work) {
	w := &Work{d: d}
	return context.WithValue(ctx, workKey{}, w), w
}

func (d *DB) workOf(ctx context.Context) *Work {
	w, _ := ctx.Value(workKey{}).(*Work)
	if w == nil || w.d != d {
		return nil
	}
	return w
}

// route sends a statement on one of d's pools into the Work's transaction:
// a write begins it, a read joins it once it is open.
func (d *DB) route(ctx context.Context, q any, write bool) (any, error) {
	pool, ok := q.(*sqlx.DB)
	if !ok || (pool != d.W && pool != d.R) {
		return q, nil
	}
	w := d.workOf(ctx)
	if w == nil {
		return q, nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.tx == nil {
		if !write {
			return q, nil
		}
		if err := w.begin(ctx); err != nil {
			return nil, err
		}
	}
	return w.tx, nil
}

func (w *Work) begin(ctx context.Context) error {
	w.d.Queries.Add(1)
	w.d.stmtCounts.txs.Add(1)
	record(ctx, "BEGIN")
	tx, err := w.d.W.BeginTxx(ctx, w.d.txOptions())
	if err != nil {
		return err
	}
	w.tx = tx
	return nil
}

// inTx is InTx inside the Work.
func (w *Work) inTx(ctx context.Context, fn func(tx *Tx) error) error {
	w.mu.Lock()
	open := w.tx
	w.mu.Unlock()
	if open != nil {
		err := fn(&Tx{tx: open, d: w.d})
		if err != nil {
			w.fail(err)
		}
		return err
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		w.mu.Lock()
		err = w.begin(ctx)
		tx := w.tx
		w.mu.Unlock()
		if err != nil {
			return err
		}
		if err = fn(&Tx{tx: tx, d: w.d}); err == nil {
			return nil // stays open until Finish
		}
		w.rollback()
		if !retryable(err) || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	return err
}

func (w *Work) fail(err error) {
	w.mu.Lock()
	if w.failed == nil {
		w.failed = err
	}
	w.mu.Unlock()
}

func (w *Work) rollback() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.tx != nil {
		w.tx.Rollback()
		w.tx = nil
	}
}

// errWorkFailed wraps the error that ended a Work before Finish.
var errWorkFailed = errors.New("unit of work failed")

// Finish runs last (if not nil) in the Work's transaction, beginning one if
// nothing was written yet, and commits. After a failed InTx it rolls back
// instead and reports that failure.
func (w *Work) Finish(ctx context.Context, last func(tx *Tx) error) error {
	w.mu.Lock()
	failed := w.failed
	w.mu.Unlock()
	if failed != nil {
		w.rollback()
		return errors.Join(errWorkFailed, failed)
	}
	if last != nil {
		w.mu.Lock()
		var err error
		if w.tx == nil {
			err = w.begin(ctx)
		}
		tx := w.tx
		w.mu.Unlock()
		if err != nil {
			return err
		}
		if err := last(&Tx{tx: tx, d: w.d}); err != nil {
			w.rollback()
			return err
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.tx == nil {
		return nil
	}
	w.d.Queries.Add(1)
	record(ctx, "COMMIT")
	err := w.tx.Commit()
	w.tx = nil
	return err
}

// Rollback abandons whatever is still open (a panic, an early return); after
// Finish it does nothing.
func (w *Work) Rollback() { w.rollback() }
