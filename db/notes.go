package db

import (
	"context"
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

// AddNote stores a note and returns its id.
func (tx *Tx) AddNote(ctx context.Context, userID int64, body string, at time.Time) (int64, error) {
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
