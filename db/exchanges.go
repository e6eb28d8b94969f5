package db

import (
	"context"
	"time"
)

// The exchanges table keeps, per session, what its last redirecting form POST
// sent and received, for the page the 303 leads to. The web layer decides
// what the JSON holds; here it is text. A row dies with its session (ON
// DELETE CASCADE), so rotation, logout and the sweep need no extra step.

// A session's row is inserted once, under a key never used before, then
// updated; a shown record is blanked, never deleted. A deleted record stays
// in the index, marked, until purge: a login deleting its old session
// checked the foreign key against it with a shared lock, purge moved that
// lock onto the gap before the next record, and two logins inserting their
// new keys into that one gap each waited for the other's lock (MariaDB error
// 1213, a 500; seen at 128 learners, TestLoginsAfterShownFormsDoNotDeadlock).
// A row deleted with its session is no trap: its key never comes back.
const (
	UpdateExchangeQuery = "UPDATE exchanges SET data = ?, at = ? WHERE session_key = ?"
	// The INSERT writes the record only while the session row exists (a
	// session ended by the very request leaves nothing behind) and only if
	// the UPDATE found no row (MariaDB counts an UPDATE that changes nothing
	// as 0 rows, so "0" can also mean "the same record again").
	InsertExchangeQuery = "INSERT INTO exchanges (session_key, data, at) SELECT s.`key`, ?, ? FROM sessions s WHERE s.`key` = ? AND NOT EXISTS (SELECT 1 FROM exchanges x WHERE x.session_key = s.`key`)"
)

// PutExchange saves the exchange of the request that is ending, in its
// transaction, replacing the session's previous one. data(inserting) is the
// record to write: it names the statements the write ran, so it is asked
// again, with inserting true, when the UPDATE found no row.
func (tx *Tx) PutExchange(ctx context.Context, sessionKey string, data func(inserting bool) (string, error), at time.Time) error {
	rec, err := data(false)
	if err != nil {
		return err
	}
	r, err := tx.exec(ctx, UpdateExchangeQuery, rec, at, sessionKey)
	if err != nil || rowsAffected(r) != 0 {
		return err
	}
	if rec, err = data(true); err != nil {
		return err
	}
	_, err = tx.exec(ctx, InsertExchangeQuery, rec, at, sessionKey)
	return err
}

// ForgetExchange blanks a session's exchange once a page has shown it (the
// row stays for the next form: see UpdateExchangeQuery).
func (d *DB) ForgetExchange(ctx context.Context, sessionKey string) error {
	_, err := d.exec(ctx, d.W, "UPDATE exchanges SET data = '' WHERE session_key = ? AND data <> ''", sessionKey)
	return err
}
