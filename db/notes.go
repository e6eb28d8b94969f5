package db

import (
	"context"
	"errors"
	"time"
)

// Note is a sticky note.
type Note struct {
	ID        int64     `db:"id"`
	UserID    int64     `db:"user_id"`
	Body      string    `db:"body"`
	CreatedAt time.Time `db:"created_at"`
}

// Notes lists a user's notes, newest first.
func (d *DB) Notes(ctx context.Context, userID int64) ([]Note, error) {
	var ns []Note
	err := d.sel(ctx, d.R, &ns, `SELECT id, user_id, body, created_at FROM notes WHERE user_id = ? ORDER BY id DESC`, userID)
	return ns, err
}

// ErrTooManyNotes: the user already has the most notes AddNote allows.
var ErrTooManyNotes = errors.New("too many notes")

// AddNote stores a note and returns its id, unless the user already has max
// notes (→ ErrTooManyNotes, nothing stored). The user's row is locked first
// on MariaDB, so two of their sessions adding at once cannot both pass the
// count; SQLite's BEGIN IMMEDIATE already serialises writers.
func (tx *Tx) AddNote(ctx context.Context, userID int64, body string, at time.Time, max int) (int64, error) {
	if tx.Dialect() == MariaDB {
		var id int64
		if err := tx.get(ctx, &id, `SELECT id FROM users WHERE id = ? FOR UPDATE`, userID); err != nil {
			return 0, err
		}
	}
	var n int
	if err := tx.get(ctx, &n, `SELECT COUNT(*) FROM notes WHERE user_id = ?`, userID); err != nil {
		return 0, err
	}
	if n >= max {
		return 0, ErrTooManyNotes
	}
	r, err := tx.exec(ctx, `INSERT INTO notes (user_id, body, created_at) VALUES (?, ?, ?)`, userID, body, at)
	if err != nil {
		return 0, err
	}
	return r.LastInsertId()
}

// DeleteNote deletes a note only if it belongs to userID: another user's
// note (or none) → ErrNotFound, nothing deleted.
func (tx *Tx) DeleteNote(ctx context.Context, userID, noteID int64) error {
	r, err := tx.exec(ctx, `DELETE FROM notes WHERE id = ? AND user_id = ?`, noteID, userID)
	if err != nil {
		return err
	}
	if rowsAffected(r) == 0 {
		return ErrNotFound
	}
	return nil
}
