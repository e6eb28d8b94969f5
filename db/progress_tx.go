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
// learner at login, or resuming after a logout). Only the learner changes,
// and the session no longer counts through a link code (linked_at).
func (tx *Tx) SetLearner(ctx context.Context, key, learner string) error {
	_, err := tx.exec(ctx, "UPDATE sessions SET learner = ?, linked_at = NULL WHERE `key` = ?", learner, key)
	return err
}

// LinkSession makes a session count for a learner through a link code (a
// terminal's cookie jar): its learner and linked_at change, nothing else.
func (tx *Tx) LinkSession(ctx context.Context, key, learner string, at time.Time) error {
	_, err := tx.exec(ctx, "UPDATE sessions SET learner = ?, linked_at = ? WHERE `key` = ?", learner, at, key)
	return err
}

// UnlinkSessions ends the links to a learner: every session that counts
// for it through a link code gets a learner of its own (fresh() mints
// each) and no linked_at. It says how many there were.
func (tx *Tx) UnlinkSessions(ctx context.Context, learner string, fresh func() string) (int, error) {
	var keys []string
	if err := tx.sel(ctx, &keys, "SELECT `key` FROM sessions WHERE learner = ? AND linked_at IS NOT NULL", learner); err != nil {
		return 0, err
	}
	for _, k := range keys {
		if _, err := tx.exec(ctx, "UPDATE sessions SET learner = ?, linked_at = NULL WHERE `key` = ? AND learner = ?", fresh(), k, learner); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// Purposes of a learner code: what it may be used for, and nothing else.
const (
	CodeResume = "resume" // a logout's code, taken by the next lesson page
	CodeLink   = "link"   // a lesson page's code, sent once by a terminal
)

// AddLearnerCode stores a code's hash for a learner, with its purpose and a
// record to hand on (a logout's, shown by the next page; "" for a link).
// Codes that expire unused go with the minute's sweep of expired sessions
// (DeleteExpiredSessions), not here: every lesson page view mints one, and
// a scan of the table per view would grow with the class.
func (tx *Tx) AddLearnerCode(ctx context.Context, purpose, codeHash, learner, record string, expires time.Time) error {
	_, err := tx.exec(ctx, `INSERT INTO learner_codes (code_hash, purpose, learner, record, expires_at) VALUES (?, ?, ?, ?, ?)`, codeHash, purpose, learner, record, expires)
	return err
}

// TakeLearnerCode uses up a live code of one purpose and returns its
// learner and record; learner is "" when the code is unknown, of another
// purpose, expired or already used. The conditional delete decides: of two
// requests racing with one code, only the one that deleted the row gets it.
func (tx *Tx) TakeLearnerCode(ctx context.Context, purpose, codeHash string, now time.Time) (learner, record string, err error) {
	var rs []struct {
		Learner string `db:"learner"`
		Record  string `db:"record"`
	}
	const live = `code_hash = ? AND purpose = ? AND expires_at >= ?`
	if err := tx.sel(ctx, &rs, `SELECT learner, record FROM learner_codes WHERE `+live, codeHash, purpose, now); err != nil || len(rs) == 0 {
		return "", "", err
	}
	r, err := tx.exec(ctx, `DELETE FROM learner_codes WHERE `+live, codeHash, purpose, now)
	if err != nil {
		return "", "", err
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return "", "", nil
	}
	return rs[0].Learner, rs[0].Record, nil
}
