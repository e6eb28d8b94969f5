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

// HomeLearner is the learner who signed the account up ("" for an account
// without one, such as the shared demo accounts).
func (tx *Tx) HomeLearner(ctx context.Context, userID int64) (string, error) {
	var ls []string
	if err := tx.sel(ctx, &ls, `SELECT learner FROM home_learners WHERE user_id = ?`, userID); err != nil || len(ls) == 0 {
		return "", err
	}
	return ls[0], nil
}

// SetHomeLearner makes learner the account's home (at sign-up).
func (tx *Tx) SetHomeLearner(ctx context.Context, userID int64, learner string) error {
	_, err := tx.exec(ctx, `INSERT INTO home_learners (user_id, learner) VALUES (?, ?)`, userID, learner)
	return err
}

// SetLearner links a session to another learner (joining an account's home
// learner at login, or resuming after a logout). Only the learner changes.
func (tx *Tx) SetLearner(ctx context.Context, key, learner string) error {
	_, err := tx.exec(ctx, "UPDATE sessions SET learner = ? WHERE `key` = ?", learner, key)
	return err
}

// AddResumeCode stores a resume code's hash for a learner, with the record
// of the logout that made it, and forgets the codes that expired unused.
func (tx *Tx) AddResumeCode(ctx context.Context, codeHash, learner, record string, expires, now time.Time) error {
	if _, err := tx.exec(ctx, `DELETE FROM resume_codes WHERE expires_at < ?`, now); err != nil {
		return err
	}
	_, err := tx.exec(ctx, `INSERT INTO resume_codes (code_hash, learner, record, expires_at) VALUES (?, ?, ?, ?)`, codeHash, learner, record, expires)
	return err
}

// TakeResumeCode uses up a live resume code and returns its learner and the
// logout's record; learner is "" when the code is unknown, expired or
// already used. The delete decides: of two requests racing with one code,
// only the one that deleted the row gets it.
func (tx *Tx) TakeResumeCode(ctx context.Context, codeHash string, now time.Time) (learner, record string, err error) {
	var rs []struct {
		Learner string `db:"learner"`
		Record  string `db:"record"`
	}
	if err := tx.sel(ctx, &rs, `SELECT learner, record FROM resume_codes WHERE code_hash = ? AND expires_at >= ?`, codeHash, now); err != nil || len(rs) == 0 {
		return "", "", err
	}
	r, err := tx.exec(ctx, `DELETE FROM resume_codes WHERE code_hash = ?`, codeHash)
	if err != nil {
		return "", "", err
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return "", "", nil
	}
	return rs[0].Learner, rs[0].Record, nil
}
