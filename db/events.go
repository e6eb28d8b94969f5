package db

import (
	"context"
	"database/sql"
	"time"
)

// Event is one thing a request changed: the "what changed" strip, the
// lesson checks and the instructor's live view all read them.
type Event struct {
	ID         int64         `db:"id" json:"id"`
	SessionKey string        `db:"session_key" json:"-"`
	UserID     sql.NullInt64 `db:"user_id" json:"-"`
	Kind       string        `db:"kind" json:"kind"`
	Detail     string        `db:"detail" json:"detail"` // JSON object of strings
	Instance   string        `db:"instance" json:"instance"`
	At         time.Time     `db:"at" json:"at"`
}

const insertEvent = `INSERT INTO events (session_key, user_id, kind, detail, instance, at) VALUES (?, ?, ?, ?, ?, ?)`

// AddEvent records an event inside the transaction that made the change.
func (tx *Tx) AddEvent(ctx context.Context, e *Event) error {
	r, err := tx.exec(ctx, insertEvent, e.SessionKey, e.UserID, e.Kind, e.Detail, e.Instance, e.At)
	if err != nil {
		return err
	}
	e.ID, _ = r.LastInsertId()
	return nil
}

// AddEvent records an event on its own (a refused cookie, a failed login).
func (d *DB) AddEvent(ctx context.Context, e *Event) error {
	r, err := d.exec(ctx, d.W, insertEvent, e.SessionKey, e.UserID, e.Kind, e.Detail, e.Instance, e.At)
	if err != nil {
		return err
	}
	e.ID, _ = r.LastInsertId()
	return nil
}

// EventsAfter lists events with id > after, oldest first (the live stream).
func (d *DB) EventsAfter(ctx context.Context, after int64, limit int) ([]Event, error) {
	var es []Event
	err := d.sel(ctx, d.R, &es, `SELECT id, session_key, user_id, kind, detail, instance, at FROM events WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	return es, err
}

// sweepEventsBatch bounds one delete of the event sweep, so a backlog of
// millions (a flood, a long weekend) never holds SQLite's single writer
// for long: page views' writes slip in between the batches.
const sweepEventsBatch = 5000

// DeleteEventsBefore sweeps events recorded before t, in batches, by the
// events_at index, and says how many went.
func (d *DB) DeleteEventsBefore(ctx context.Context, t time.Time) (int64, error) {
	q := `DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < ? LIMIT ?)`
	if d.Dialect() == MariaDB {
		q = `DELETE FROM events WHERE at < ? LIMIT ?` // MariaDB refuses LIMIT in an IN subquery
	}
	var total int64
	for {
		r, err := d.exec(ctx, d.W, q, t, sweepEventsBatch)
		if err != nil {
			return total, err
		}
		n := rowsAffected(r)
		total += n
		if n < sweepEventsBatch || ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}
