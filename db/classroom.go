package db

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The instructor's queries: the whole class at once, never one learner.

// CartCounts returns, per user, how many items their saved cart holds.
func (d *DB) CartCounts(ctx context.Context) (map[int64]int, error) {
	var rows []struct {
		UserID int64 `db:"user_id"`
		N      int   `db:"n"`
	}
	if err := d.sel(ctx, d.R, &rows, `SELECT user_id, SUM(quantity) AS n FROM cart_items GROUP BY user_id`); err != nil {
		return nil, err
	}
	m := make(map[int64]int, len(rows))
	for _, r := range rows {
		m[r.UserID] = r.N
	}
	return m, nil
}

// LastEventID is the newest event's id (0 when there is none): the live
// stream starts after it.
func (d *DB) LastEventID(ctx context.Context) (int64, error) {
	var n *int64
	if err := d.get(ctx, d.R, &n, `SELECT MAX(id) FROM events`); err != nil {
		return 0, err
	}
	if n == nil {
		return 0, nil
	}
	return *n, nil
}

// RecentEvents lists the newest events, oldest first.
func (d *DB) RecentEvents(ctx context.Context, limit int) ([]Event, error) {
	var es []Event
	err := d.sel(ctx, d.R, &es, `SELECT id, session_key, user_id, kind, detail, instance, at FROM events ORDER BY id DESC LIMIT ?`, limit)
	for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
		es[i], es[j] = es[j], es[i]
	}
	return es, err
}

// SessionData is the key and JSON data of one session row.
type SessionData struct {
	Key  string `db:"key"`
	Data string `db:"data"`
}

// LockAllSessionData reads every session's data inside the transaction,
// locked on MariaDB, so a reset can rewrite it without losing a concurrent
// request's change.
func (tx *Tx) LockAllSessionData(ctx context.Context) ([]SessionData, error) {
	q := "SELECT `key`, data FROM sessions"
	if tx.Dialect() == MariaDB {
		q += " FOR UPDATE"
	}
	var rs []SessionData
	err := tx.sel(ctx, &rs, q)
	return rs, err
}

// SetSessionData replaces one session's data.
func (tx *Tx) SetSessionData(ctx context.Context, key, data string) error {
	_, err := tx.exec(ctx, "UPDATE sessions SET data = ? WHERE `key` = ?", data, key)
	return err
}

// ResetDemoData empties what a class leaves behind: saved carts, notes,
// lesson progress and the event log. Users, products and sessions stay.
func (tx *Tx) ResetDemoData(ctx context.Context) error {
	for _, t := range []string{"cart_items", "notes", "lesson_progress", "events"} {
		if _, err := tx.exec(ctx, "DELETE FROM "+t); err != nil {
			return fmt.Errorf("reset %s: %w", t, err)
		}
	}
	return nil
}

// Settings are the class-wide values every instance reads (the timeouts an
// instructor sets for the expiry lab): name → value.
func (d *DB) Settings(ctx context.Context) (map[string]string, error) {
	var rows []struct {
		Name  string `db:"name"`
		Value string `db:"value"`
	}
	if err := d.sel(ctx, d.R, &rows, `SELECT name, value FROM settings`); err != nil {
		return nil, err
	}
	m := make(map[string]string, len(rows))
	for _, r := range rows {
		m[r.Name] = r.Value
	}
	return m, nil
}

// PutSetting stores one class setting.
func (tx *Tx) PutSetting(ctx context.Context, name, value string, at time.Time) error {
	q := `INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`
	if tx.Dialect() == MariaDB {
		q = `INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)
		ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = VALUES(updated_at)`
	}
	_, err := tx.exec(ctx, q, name, value, at)
	return err
}

// SettingOnce stores value under name unless a value is there already, and
// returns the one stored: instances racing to create a secret (the
// client-side lab's signing key) all end up with the first one written.
func (d *DB) SettingOnce(ctx context.Context, name, value string, at time.Time) (string, error) {
	q := `INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`
	if d.Dialect() == MariaDB {
		q = `INSERT IGNORE INTO settings (name, value, updated_at) VALUES (?, ?, ?)`
	}
	if _, err := d.exec(ctx, d.W, q, name, value, at); err != nil {
		return "", err
	}
	var got string
	if err := d.get(ctx, d.W, &got, `SELECT value FROM settings WHERE name = ?`, name); err != nil {
		return "", err
	}
	return got, nil
}

// DeleteSetting forgets one class setting (back to the flag's default).
func (tx *Tx) DeleteSetting(ctx context.Context, name string) error {
	_, err := tx.exec(ctx, `DELETE FROM settings WHERE name = ?`, name)
	return err
}

// startupLock serialises migration and seeding across instances starting at
// once on one MariaDB database (two would otherwise both see an empty users
// table and both seed). SQLite needs none: its writer lock does it, and it
// is for one machine anyway. release must be called when done.
func (d *DB) startupLock(ctx context.Context) (release func(), err error) {
	if d.Dialect() != MariaDB {
		return func() {}, nil
	}
	conn, err := d.W.Connx(ctx)
	if err != nil {
		return nil, fmt.Errorf("startup lock: %w", err)
	}
	name := "sessionlab_start_" + d.Config.Name
	if len(name) > 64 {
		name = name[:64]
	}
	var got *int
	if err := conn.GetContext(ctx, &got, `SELECT GET_LOCK(?, 60)`, name); err != nil {
		conn.Close()
		return nil, fmt.Errorf("startup lock: %w", err)
	}
	if got == nil || *got != 1 {
		conn.Close()
		return nil, errors.New("startup lock: another instance held the migration lock for 60 s; is one stuck?")
	}
	return func() {
		conn.ExecContext(context.Background(), `SELECT RELEASE_LOCK(?)`, name)
		conn.Close()
	}, nil
}

// DeleteAllSessions ends every session inside the transaction.
func (tx *Tx) DeleteAllSessions(ctx context.Context) (int64, error) {
	r, err := tx.exec(ctx, "DELETE FROM sessions")
	if err != nil {
		return 0, err
	}
	return rowsAffected(r), nil
}
