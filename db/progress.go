package db

import (
	"context"
	"strconv"
	"time"
)

// ProgressRow is one lesson step (or quiz question) of a learner. Progress
// is never in the session record: its rows belong to the session's learner
// (LearnerOwner), logged in or not. Rows owned by AccountOwner are from
// before progress followed learners; nothing writes them any more.
type ProgressRow struct {
	Owner     string    `db:"owner"`
	Lesson    string    `db:"lesson"`
	Item      string    `db:"item"`
	Done      bool      `db:"done"`
	Hints     int       `db:"hints"`
	UpdatedAt time.Time `db:"updated_at"`
}

// LearnerOwner owns an anonymous browser's progress: "l:" + the learner id
// of its session row.
func LearnerOwner(learner string) string { return "l:" + learner }

// AccountOwner owned an account's progress before it followed learners:
// "u:" + the user id.
func AccountOwner(userID int64) string { return "u:" + strconv.FormatInt(userID, 10) }

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

// ResetProgress forgets an owner's progress ("reset my progress").
func (tx *Tx) ResetProgress(ctx context.Context, owner string) error {
	_, err := tx.exec(ctx, `DELETE FROM lesson_progress WHERE owner = ?`, owner)
	return err
}
