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

// CopyProgress gives every row of from to to (the login: a learner's steps
// join the account's), keeping the more advanced of two rows of one item.
func (tx *Tx) CopyProgress(ctx context.Context, from, to string) error {
	q := `INSERT INTO lesson_progress (owner, lesson, item, done, hints, updated_at)
		SELECT ?, lesson, item, done, hints, updated_at FROM lesson_progress WHERE owner = ?
		ON CONFLICT (owner, lesson, item) DO UPDATE SET done = MAX(done, excluded.done), hints = MAX(hints, excluded.hints), updated_at = MAX(updated_at, excluded.updated_at)`
	if tx.Dialect() == MariaDB {
		q = `INSERT INTO lesson_progress (owner, lesson, item, done, hints, updated_at)
		SELECT ?, src.lesson, src.item, src.done, src.hints, src.updated_at FROM lesson_progress src WHERE src.owner = ?
		ON DUPLICATE KEY UPDATE done = GREATEST(lesson_progress.done, VALUES(done)), hints = GREATEST(lesson_progress.hints, VALUES(hints)),
		updated_at = GREATEST(lesson_progress.updated_at, VALUES(updated_at))`
	}
	_, err := tx.exec(ctx, q, to, from)
	return err
}

// SetLabMode records a learner's weak/defended switch of one lab.
func (tx *Tx) SetLabMode(ctx context.Context, learner, lab, mode string, at time.Time) error {
	q := `INSERT INTO lab_modes (learner, lab, mode, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (learner, lab) DO UPDATE SET mode = excluded.mode, updated_at = excluded.updated_at`
	if tx.Dialect() == MariaDB {
		q = `INSERT INTO lab_modes (learner, lab, mode, updated_at) VALUES (?, ?, ?, ?)
		ON DUPLICATE KEY UPDATE mode = VALUES(mode), updated_at = VALUES(updated_at)`
	}
	_, err := tx.exec(ctx, q, learner, lab, mode, at)
	return err
}
