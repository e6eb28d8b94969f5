package db

import (
	"context"
	"time"
)

// Progress lists an owner's rows inside the transaction (the login merge).
func (tx *Tx) Progress(ctx context.Context, owner string) ([]ProgressRow, error) {
	var rs []ProgressRow
	err := tx.sel(ctx, &rs, `SELECT owner, lesson, item, done, hints, updated_at FROM lesson_progress WHERE owner = ?`, owner)
	return rs, err
}

// SetHints records how many hints of an item were revealed.
func (tx *Tx) SetHints(ctx context.Context, owner, lesson, item string, hints int, at time.Time) error {
	q := `INSERT INTO lesson_progress (owner, lesson, item, done, hints, updated_at) VALUES (?, ?, ?, 0, ?, ?)
		ON CONFLICT (owner, lesson, item) DO UPDATE SET hints = excluded.hints, updated_at = excluded.updated_at`
	if tx.Dialect() == MariaDB {
		q = `INSERT INTO lesson_progress (owner, lesson, item, done, hints, updated_at) VALUES (?, ?, ?, 0, ?, ?)
		ON DUPLICATE KEY UPDATE hints = VALUES(hints), updated_at = VALUES(updated_at)`
	}
	_, err := tx.exec(ctx, q, owner, lesson, item, hints, at)
	return err
}
