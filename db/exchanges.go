package db

import (
	"context"
	"time"
)

// The exchanges table keeps, per session, what its last redirecting form POST
// sent and received, for the page the 303 leads to. The web layer decides
// what the JSON holds; here it is text. A row dies with its session (ON
// DELETE CASCADE), so rotation, logout and the sweep need no extra step.

// PutExchangeQuery writes the record only while the session row exists: a
// session ended by the very request (or by another tab) leaves nothing behind.
const PutExchangeQuery = "REPLACE INTO exchanges (session_key, data, at) SELECT `key`, ?, ? FROM sessions WHERE `key` = ?"

// PutExchange saves the exchange of the request that is ending, in its
// transaction, replacing the session's previous one.
func (tx *Tx) PutExchange(ctx context.Context, sessionKey, data string, at time.Time) error {
	_, err := tx.exec(ctx, PutExchangeQuery, data, at, sessionKey)
	return err
}

// DeleteExchange forgets a session's exchange once a page has shown it.
func (d *DB) DeleteExchange(ctx context.Context, sessionKey string) error {
	_, err := d.exec(ctx, d.W, "DELETE FROM exchanges WHERE session_key = ?", sessionKey)
	return err
}
