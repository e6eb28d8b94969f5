package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// Session is a row of the sessions table. Key is the SHA-256 hex of the
// cookie value: the table never holds a usable cookie, so a leaked copy of it
// cannot be replayed.
type Session struct {
	Key        string         `db:"key"`
	UserID     sql.NullInt64  `db:"user_id"`
	Username   sql.NullString `db:"username"` // joined from users, read-only
	Data       string         `db:"data"`     // JSON, see the web layer's sessionData
	UserAgent  string         `db:"user_agent"`
	Instance   string         `db:"instance"` // the instance that last served it
	CreatedAt  time.Time      `db:"created_at"`
	LastSeenAt time.Time      `db:"last_seen_at"`
	ExpiresAt  time.Time      `db:"expires_at"`
}

const sessionColumns = "s.`key`, s.user_id, u.username, s.data, s.user_agent, s.instance, s.created_at, s.last_seen_at, s.expires_at"

// SessionByKeyQuery is the one query a page view makes for its session: it
// must find the row by the primary key index however many rows there are
// (the plan test checks with 100,000).
const SessionByKeyQuery = "SELECT " + sessionColumns + " FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE s.`key` = ?"

// SessionAndCartQuery reads a session and its user's saved cart in one
// round trip and one row: the cart comes as a JSON array built by the
// database (NULL for an anonymous session), so the session's columns are
// not repeated once per cart line. %s is the dialect's JSON aggregate.
const SessionAndCartQuery = "SELECT " + sessionColumns + ", (SELECT %s FROM cart_items c JOIN products p ON p.id = c.product_id WHERE c.user_id = s.user_id) AS cart" +
	" FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE s.`key` = ?"

var (
	sessionAndCartSQLite  = fmt.Sprintf(SessionAndCartQuery, "json_group_array(json_object('product_id', c.product_id, 'name', p.name, 'quantity', c.quantity, 'price_cents', p.price_cents))")
	sessionAndCartMariaDB = fmt.Sprintf(SessionAndCartQuery, "JSON_ARRAYAGG(JSON_OBJECT('product_id', c.product_id, 'name', p.name, 'quantity', c.quantity, 'price_cents', p.price_cents))")
)

// SessionAndCartSQL is SessionAndCartQuery for this database's dialect.
func (d *DB) SessionAndCartSQL() string {
	if d.Dialect() == MariaDB {
		return sessionAndCartMariaDB
	}
	return sessionAndCartSQLite
}

// SweepQuery deletes expired rows, by the expires_at index.
const SweepQuery = "DELETE FROM sessions WHERE expires_at <= ?"

// SessionByKey reads a session row with its username in one indexed query.
// Not found → ErrNotFound. Expiry is the caller's rule to apply.
func (d *DB) SessionByKey(ctx context.Context, key string) (*Session, error) {
	var s Session
	err := d.get(ctx, d.R, &s, SessionByKeyQuery, key)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// SessionAndCart reads a session row and, for a logged-in session, the
// user's saved cart, in one indexed query. Not found → ErrNotFound.
func (d *DB) SessionAndCart(ctx context.Context, key string) (*Session, []CartItem, error) {
	var row struct {
		Session
		Cart sql.NullString `db:"cart"`
	}
	if err := d.get(ctx, d.R, &row, d.SessionAndCartSQL(), key); err != nil {
		return nil, nil, err
	}
	items := []CartItem{}
	if row.Cart.Valid && row.Cart.String != "" {
		var lines []struct {
			ProductID  int64  `json:"product_id"`
			Name       string `json:"name"`
			Quantity   int    `json:"quantity"`
			PriceCents int64  `json:"price_cents"`
		}
		if err := json.Unmarshal([]byte(row.Cart.String), &lines); err != nil {
			return nil, nil, fmt.Errorf("cart of session: %w", err)
		}
		for _, l := range lines {
			items = append(items, CartItem{ProductID: l.ProductID, Name: l.Name, Quantity: l.Quantity, UnitPriceCents: l.PriceCents})
		}
		sort.Slice(items, func(i, j int) bool { return items[i].ProductID < items[j].ProductID })
	}
	s := row.Session
	return &s, items, nil
}

// LockSession reads a session row inside the transaction and, on MariaDB,
// locks it FOR UPDATE: concurrent requests of one session queue here, so
// none works from a stale copy (no lost updates). SQLite's BEGIN IMMEDIATE
// already serialises every writer.
func (tx *Tx) LockSession(ctx context.Context, key string) (*Session, error) {
	q := "SELECT " + sessionColumns + " FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE s.`key` = ?"
	if tx.Dialect() == MariaDB {
		q += " FOR UPDATE"
	}
	var s Session
	if err := tx.get(ctx, &s, q, key); err != nil {
		return nil, err
	}
	return &s, nil
}

// InsertSession writes a new session row.
func (tx *Tx) InsertSession(ctx context.Context, s *Session) error {
	_, err := tx.exec(ctx, "INSERT INTO sessions (`key`, user_id, data, user_agent, instance, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		s.Key, s.UserID, s.Data, s.UserAgent, s.Instance, s.CreatedAt, s.LastSeenAt, s.ExpiresAt)
	return err
}

// InsertSession writes a new session row in its own statement.
func (d *DB) InsertSession(ctx context.Context, s *Session) error {
	_, err := d.exec(ctx, d.W, "INSERT INTO sessions (`key`, user_id, data, user_agent, instance, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		s.Key, s.UserID, s.Data, s.UserAgent, s.Instance, s.CreatedAt, s.LastSeenAt, s.ExpiresAt)
	return err
}

// UpdateSession saves user, data and times of an existing row.
func (tx *Tx) UpdateSession(ctx context.Context, s *Session) error {
	_, err := tx.exec(ctx, "UPDATE sessions SET user_id = ?, data = ?, instance = ?, last_seen_at = ?, expires_at = ? WHERE `key` = ?",
		s.UserID, s.Data, s.Instance, s.LastSeenAt, s.ExpiresAt, s.Key)
	return err
}

// Touch moves last_seen_at and expires_at forward. It runs at most once a
// throttle period per session (the caller decides), the only write a GET makes.
func (d *DB) Touch(ctx context.Context, key, instance string, lastSeen, expires time.Time) error {
	_, err := d.exec(ctx, d.W, "UPDATE sessions SET last_seen_at = ?, expires_at = ?, instance = ? WHERE `key` = ?", lastSeen, expires, instance, key)
	return err
}

// DeleteSession removes a row (logout, rotation, expiry); it reports whether
// a row was there.
func (tx *Tx) DeleteSession(ctx context.Context, key string) (bool, error) {
	r, err := tx.exec(ctx, "DELETE FROM sessions WHERE `key` = ?", key)
	if err != nil {
		return false, err
	}
	return rowsAffected(r) > 0, nil
}

// DeleteSession removes one row outside a transaction.
func (d *DB) DeleteSession(ctx context.Context, key string) (bool, error) {
	r, err := d.exec(ctx, d.W, "DELETE FROM sessions WHERE `key` = ?", key)
	if err != nil {
		return false, err
	}
	return rowsAffected(r) > 0, nil
}

// SessionsOfUser lists a user's live sessions, newest first ("your devices").
func (d *DB) SessionsOfUser(ctx context.Context, userID int64, now time.Time) ([]Session, error) {
	var ss []Session
	err := d.sel(ctx, d.R, &ss, "SELECT "+sessionColumns+" FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE s.user_id = ? AND s.expires_at > ? ORDER BY s.last_seen_at DESC", userID, now)
	return ss, err
}

// DeleteUserSession ends one of a user's sessions; only that user's row can
// match, so nobody ends a stranger's session by guessing a prefix.
func (tx *Tx) DeleteUserSession(ctx context.Context, userID int64, key string) (bool, error) {
	r, err := tx.exec(ctx, "DELETE FROM sessions WHERE user_id = ? AND `key` = ?", userID, key)
	if err != nil {
		return false, err
	}
	return rowsAffected(r) > 0, nil
}

// UserSessionKeys lists the keys of the user's sessions that start with
// prefix (lowercase hex only: the caller checks, so LIKE sees no wildcard).
func (tx *Tx) UserSessionKeys(ctx context.Context, userID int64, prefix string) ([]string, error) {
	var keys []string
	err := tx.sel(ctx, &keys, "SELECT `key` FROM sessions WHERE user_id = ? AND `key` LIKE ?", userID, prefix+"%")
	return keys, err
}

// DeleteOtherSessions ends all of a user's sessions but one.
func (tx *Tx) DeleteOtherSessions(ctx context.Context, userID int64, keep string) (int64, error) {
	r, err := tx.exec(ctx, "DELETE FROM sessions WHERE user_id = ? AND `key` <> ?", userID, keep)
	if err != nil {
		return 0, err
	}
	return rowsAffected(r), nil
}

// DeleteExpiredSessions sweeps rows past their expiry and says how many went
// (Django's clearsessions).
func (d *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	r, err := d.exec(ctx, d.W, SweepQuery, now)
	if err != nil {
		return 0, err
	}
	return rowsAffected(r), nil
}

// DeleteAllSessions ends every session (the instructor's mass logout).
func (d *DB) DeleteAllSessions(ctx context.Context) (int64, error) {
	r, err := d.exec(ctx, d.W, "DELETE FROM sessions")
	if err != nil {
		return 0, err
	}
	return rowsAffected(r), nil
}

// AllSessions lists live sessions for the instructor's dashboard.
func (d *DB) AllSessions(ctx context.Context, now time.Time, limit int) ([]Session, error) {
	var ss []Session
	err := d.sel(ctx, d.R, &ss, "SELECT "+sessionColumns+" FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE s.expires_at > ? ORDER BY s.last_seen_at DESC LIMIT ?", now, limit)
	return ss, err
}

// CountSessions counts rows, live or not.
func (d *DB) CountSessions(ctx context.Context) (int64, error) {
	var n int64
	err := d.get(ctx, d.R, &n, "SELECT COUNT(*) FROM sessions")
	return n, err
}
