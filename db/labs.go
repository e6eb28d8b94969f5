package db

import (
	"context"
	"database/sql"
	"strconv"
	"time"
)

// LabSession is a row of lab_sessions: an attack lab's own session record,
// kept apart from the shop's sessions table so that no lab setting can weaken
// the real session. Key is the SHA-256 hex of the lab cookie's value.
type LabSession struct {
	Lab          string         `db:"lab"`
	Key          string         `db:"key"`
	Mode         string         `db:"mode"`      // "weak" or "defended", fixed when the row is created
	IDPrefix     string         `db:"id_prefix"` // the start of the cookie value, for the panels
	Owner        string         `db:"owner"`     // the learner whose browser got it issued ("" for a simulated one)
	ShopKey      string         `db:"shop_key"`  // unused: attempts record through their owner's own request (Owner)
	Username     sql.NullString `db:"username"`
	LoginLearner string         `db:"login_learner"` // the learner whose browser logged it in
	Data         string         `db:"data"`          // JSON
	CreatedAt    time.Time      `db:"created_at"`
	LastSeenAt   time.Time      `db:"last_seen_at"`
	ExpiresAt    sql.NullTime   `db:"expires_at"` // NULL: the server never expires it (a weak lab)
	Ended        string         `db:"ended"`      // "", or why it ended: rotated, logout, expired
	EndedAt      sql.NullTime   `db:"ended_at"`
	Flash        string         `db:"flash"` // JSON: what this browser's last lab-site POST did, shown once
}

const labColumns = "lab, `key`, mode, id_prefix, owner, shop_key, username, login_learner, data, created_at, last_seen_at, expires_at, ended, ended_at, flash"

// LabSession reads one lab row, ended or not. Not found → ErrNotFound.
func (d *DB) LabSession(ctx context.Context, lab, key string) (*LabSession, error) {
	var s LabSession
	if err := d.get(ctx, d.R, &s, "SELECT "+labColumns+" FROM lab_sessions WHERE lab = ? AND `key` = ?", lab, key); err != nil {
		return nil, err
	}
	return &s, nil
}

// InsertLabSession writes a new lab row.
func (d *DB) InsertLabSession(ctx context.Context, s *LabSession) error {
	_, err := d.exec(ctx, d.W, "INSERT INTO lab_sessions ("+labColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		s.Lab, s.Key, s.Mode, s.IDPrefix, s.Owner, s.ShopKey, s.Username, s.LoginLearner, s.Data, s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.Ended, s.EndedAt, s.Flash)
	return err
}

// UpdateLabSession saves the mutable fields of a lab row.
func (d *DB) UpdateLabSession(ctx context.Context, s *LabSession) error {
	_, err := d.exec(ctx, d.W, "UPDATE lab_sessions SET username = ?, login_learner = ?, data = ?, last_seen_at = ?, expires_at = ?, ended = ?, ended_at = ?, flash = ? WHERE lab = ? AND `key` = ?",
		s.Username, s.LoginLearner, s.Data, s.LastSeenAt, s.ExpiresAt, s.Ended, s.EndedAt, s.Flash, s.Lab, s.Key)
	return err
}

// DeleteLabSessionsBefore sweeps lab rows created before t; labs are short.
func (d *DB) DeleteLabSessionsBefore(ctx context.Context, t time.Time) (int64, error) {
	r, err := d.exec(ctx, d.W, "DELETE FROM lab_sessions WHERE created_at < ?", t)
	if err != nil {
		return 0, err
	}
	return rowsAffected(r), nil
}

// NextLabCounter advances a lab's shared counter and returns its new value;
// the first call starts it at seed. The counter is a settings row, so every
// instance on the database draws from one sequence: two instances started
// in the same second can no longer issue the same IDs.
func (d *DB) NextLabCounter(ctx context.Context, name string, seed int64, at time.Time) (int64, error) {
	name = "lab-counter:" + name
	q := `INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT), updated_at = excluded.updated_at`
	if d.Dialect() == MariaDB {
		q = `INSERT INTO settings (name, value, updated_at) VALUES (?, ?, ?)
		ON DUPLICATE KEY UPDATE value = CAST(CAST(value AS SIGNED) + 1 AS CHAR), updated_at = VALUES(updated_at)`
	}
	var n int64
	err := d.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, q, name, strconv.FormatInt(seed, 10), at); err != nil {
			return err
		}
		var v string
		if err := tx.get(ctx, &v, `SELECT value FROM settings WHERE name = ?`, name); err != nil {
			return err
		}
		var err error
		n, err = strconv.ParseInt(v, 10, 64)
		return err
	})
	return n, err
}

// AdvanceLabAttempt moves a live attempt row from one state (its ended
// column) to the next in one conditional UPDATE, and reports whether it
// did: of two requests racing with the same token, on any instance, one
// wins. owner, when set, must match; data, when set, replaces the row's.
func (d *DB) AdvanceLabAttempt(ctx context.Context, lab, key, from, to, owner, data string, at time.Time) (bool, error) {
	q := "UPDATE lab_sessions SET ended = ?, ended_at = ?, last_seen_at = ?"
	args := []any{to, at, at}
	if data != "" {
		q += ", data = ?"
		args = append(args, data)
	}
	q += " WHERE lab = ? AND `key` = ? AND ended = ? AND expires_at > ?"
	args = append(args, lab, key, from, at)
	if owner != "" {
		q += " AND owner = ?"
		args = append(args, owner)
	}
	r, err := d.exec(ctx, d.W, q, args...)
	if err != nil {
		return false, err
	}
	return rowsAffected(r) == 1, nil
}
