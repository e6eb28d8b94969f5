package db

import (
	"context"
	"time"
)

// ProgressRow is one lesson step (or quiz question) of one learner. Owner is
// "s:"+learner id while anonymous and "u:"+user id once logged in: progress
// belongs to the session and moves to the account at login.
type ProgressRow struct {
	Owner     string    `db:"owner"`
	Lesson    string    `db:"lesson"`
	Item      string    `db:"item"`
	Done      bool      `db:"done"`
	Hints     int       `db:"hints"`
	UpdatedAt time.Time `db:"updated_at"`
}

// Progress lists an owner's rows.
func (d *DB) Progress(ctx context.Context, owner string) ([]ProgressRow, error) {
	var rs []ProgressRow
	err := d.sel(ctx, d.R, &rs, `SELECT owner, lesson, item, done, hints, updated_at FROM lesson_progress WHERE owner = ?`, owner)
	return rs, err
}

// MarkDone records a completed item.
func (tx *Tx) MarkDone(ctx context.Context, owner, lesson, item string, at time.Time) error {
	q := `INSERT INTO lesson_progress (owner, lesson, item, done, hints, updated_at) VALUES (?, ?, ?, 1, 0, ?)
		ON CONFLICT (owner, lesson, item) DO UPDATE SET done = 1, updated_at = excluded.updated_at`
	if tx.Dialect() == MariaDB {
		q = `INSERT INTO lesson_progress (owner, lesson, item, done, hints, updated_at) VALUES (?, ?, ?, 1, 0, ?)
		ON DUPLICATE KEY UPDATE done = 1, updated_at = VALUES(updated_at)`
	}
	_, err := tx.exec(ctx, q, owner, lesson, item, at)
	return err
}

// UseHint counts one more hint revealed.
func (tx *Tx) UseHint(ctx context.Context, owner, lesson, item string, max int, at time.Time) error {
	q := `INSERT INTO lesson_progress (owner, lesson, item, done, hints, updated_at) VALUES (?, ?, ?, 0, 1, ?)
		ON CONFLICT (owner, lesson, item) DO UPDATE SET hints = MIN(?, lesson_progress.hints + 1), updated_at = excluded.updated_at`
	if tx.Dialect() == MariaDB {
		q = `INSERT INTO lesson_progress (owner, lesson, item, done, hints, updated_at) VALUES (?, ?, ?, 0, 1, ?)
		ON DUPLICATE KEY UPDATE hints = LEAST(?, hints + 1), updated_at = VALUES(updated_at)`
	}
	_, err := tx.exec(ctx, q, owner, lesson, item, at, max)
	return err
}

// MoveProgress gives an anonymous learner's progress to an account at login,
// keeping whatever the account already had.
func (tx *Tx) MoveProgress(ctx context.Context, from, to string) error {
	q := `INSERT INTO lesson_progress (owner, lesson, item, done, hints, updated_at)
		SELECT ?, lesson, item, done, hints, updated_at FROM lesson_progress WHERE owner = ?
		ON CONFLICT (owner, lesson, item) DO UPDATE SET done = MAX(lesson_progress.done, excluded.done), hints = MAX(lesson_progress.hints, excluded.hints)`
	if tx.Dialect() == MariaDB {
		q = `INSERT INTO lesson_progress (owner, lesson, item, done, hints, updated_at)
		SELECT ?, lesson, item, done, hints, updated_at FROM lesson_progress AS src WHERE src.owner = ?
		ON DUPLICATE KEY UPDATE done = GREATEST(lesson_progress.done, VALUES(done)), hints = GREATEST(lesson_progress.hints, VALUES(hints))`
	}
	if _, err := tx.exec(ctx, q, to, from); err != nil {
		return err
	}
	_, err := tx.exec(ctx, `DELETE FROM lesson_progress WHERE owner = ?`, from)
	return err
}

// ResetProgress forgets an owner's progress ("reset my progress").
func (tx *Tx) ResetProgress(ctx context.Context, owner string) error {
	_, err := tx.exec(ctx, `DELETE FROM lesson_progress WHERE owner = ?`, owner)
	return err
}
