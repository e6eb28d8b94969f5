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
	Learner    string         `db:"learner"`   // links the browser to its progress and lab switches; kept at rotation
	Boot       string         `db:"boot"`      // the server start that last served it ("survived a restart")
	CopySeen   int64          `db:"copy_seen"` // the db copy run it was last told about (0: none)
	LinkedAt   sql.NullTime   `db:"linked_at"` // when a link code made it count for Learner (a terminal); NULL otherwise
}

// ProgressOwner is whose lesson progress the session shows: always its
// learner's, logged in or not. An account a class shares (alice) must not
// mix thirty students' ticks; an account of one's own joins its learner at
// login (home_learners), which is how progress follows a learner to another
// browser.
func (s *Session) ProgressOwner() string { return LearnerOwner(s.Learner) }

const sessionColumns = "s.`key`, s.user_id, u.username, s.data, s.user_agent, s.instance, s.created_at, s.last_seen_at, s.expires_at, s.learner, s.boot, s.copy_seen, s.linked_at"

// SessionByKeyQuery finds one session row by the primary key index however
// many rows there are (the plan test checks with 100,000).
const SessionByKeyQuery = "SELECT " + sessionColumns + " FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE s.`key` = ?"

// SessionStateQuery is the one query a page view makes: the session row and
// what hangs off it, in one round trip and one row. The user's saved cart,
// the progress of the session's owner (ProgressOwner, written in SQL) and
// the learner's lab switches come as JSON built by the database, so the
// session's columns are not repeated once per line. The %s are the
// dialect's JSON aggregates and the owner expression. The record of the
// session's last form POST, if any, comes by its primary key.
const SessionStateQuery = "SELECT " + sessionColumns + ", x.data AS exchange" +
	", (SELECT %s FROM cart_items c JOIN products p ON p.id = c.product_id WHERE c.user_id = s.user_id) AS cart" +
	", (SELECT %s FROM lesson_progress lp WHERE lp.owner = %s) AS progress" +
	", (SELECT %s FROM lab_modes m WHERE m.learner = s.learner) AS lab_modes" +
	" FROM sessions s LEFT JOIN users u ON u.id = s.user_id LEFT JOIN exchanges x ON x.session_key = s.`key` WHERE s.`key` = ?"

var (
	sessionStateSQLite = fmt.Sprintf(SessionStateQuery,
		"json_group_array(json_object('product_id', c.product_id, 'name', p.name, 'quantity', c.quantity, 'price_cents', p.price_cents))",
		"json_group_array(json_array(lp.lesson, lp.item, lp.done, lp.hints, lp.updated_at))",
		"'l:' || s.learner",
		"json_group_object(m.lab, m.mode)")
	sessionStateMariaDB = fmt.Sprintf(SessionStateQuery,
		"JSON_ARRAYAGG(JSON_OBJECT('product_id', c.product_id, 'name', p.name, 'quantity', c.quantity, 'price_cents', p.price_cents))",
		"JSON_ARRAYAGG(JSON_ARRAY(lp.lesson, lp.item, lp.done, lp.hints, lp.updated_at))",
		"CONCAT('l:', s.learner)",
		"JSON_OBJECTAGG(m.lab, m.mode)")
)

// SessionStateSQL is SessionStateQuery for this database's dialect.
func (d *DB) SessionStateSQL() string {
	if d.Dialect() == MariaDB {
		return sessionStateMariaDB
	}
	return sessionStateSQLite
}

// SessionState is a session row with what hangs off it.
type SessionState struct {
	Session  *Session
	Cart     []CartItem        // the user's saved cart; empty while anonymous
	Progress []ProgressRow     // the rows of Session.ProgressOwner()
	LabModes map[string]string // lab slug → mode, by learner
	Exchange string            // the session's exchanges row (JSON): what its last form POST did
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

// SessionState reads a session row with its cart, progress and lab
// switches in one indexed query. Not found → ErrNotFound.
func (d *DB) SessionState(ctx context.Context, key string) (*SessionState, error) {
	var row struct {
		Session
		Cart     sql.NullString `db:"cart"`
		Progress sql.NullString `db:"progress"`
		LabModes sql.NullString `db:"lab_modes"`
		Exchange sql.NullString `db:"exchange"`
	}
	if err := d.get(ctx, d.R, &row, d.SessionStateSQL(), key); err != nil {
		return nil, err
	}
	st := &SessionState{Cart: []CartItem{}, LabModes: map[string]string{}, Exchange: row.Exchange.String}
	if row.Cart.Valid && row.Cart.String != "" {
		var lines []struct {
			ProductID  int64  `json:"product_id"`
			Name       string `json:"name"`
			Quantity   int    `json:"quantity"`
			PriceCents int64  `json:"price_cents"`
		}
		if err := json.Unmarshal([]byte(row.Cart.String), &lines); err != nil {
			return nil, fmt.Errorf("cart of session: %w", err)
		}
		for _, l := range lines {
			st.Cart = append(st.Cart, CartItem{ProductID: l.ProductID, Name: l.Name, Quantity: l.Quantity, UnitPriceCents: l.PriceCents})
		}
		sort.Slice(st.Cart, func(i, j int) bool { return st.Cart[i].ProductID < st.Cart[j].ProductID })
	}
	s := row.Session
	if row.Progress.Valid && row.Progress.String != "" {
		var tuples [][5]any
		if err := json.Unmarshal([]byte(row.Progress.String), &tuples); err != nil {
			return nil, fmt.Errorf("progress of session: %w", err)
		}
		for _, t := range tuples {
			r, err := progressTuple(s.ProgressOwner(), t)
			if err != nil {
				return nil, fmt.Errorf("progress of session: %w", err)
			}
			st.Progress = append(st.Progress, r)
		}
	}
	if row.LabModes.Valid && row.LabModes.String != "" {
		if err := json.Unmarshal([]byte(row.LabModes.String), &st.LabModes); err != nil {
			return nil, fmt.Errorf("lab modes of session: %w", err)
		}
	}
	st.Session = &s
	return st, nil
}

// progressTuple reads one [lesson, item, done, hints, updated_at] of the
// session query. The databases write the time as they store it: SQLite
// with its zone, MariaDB without (it is UTC).
func progressTuple(owner string, t [5]any) (ProgressRow, error) {
	r := ProgressRow{Owner: owner}
	var ok1, ok2, ok3 bool
	r.Lesson, ok1 = t[0].(string)
	r.Item, ok2 = t[1].(string)
	done, ok3 := t[2].(float64)
	hints, ok4 := t[3].(float64)
	at, ok5 := t[4].(string)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
		return r, fmt.Errorf("unexpected row %v", t)
	}
	r.Done, r.Hints = done != 0, int(hints)
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999", time.RFC3339Nano} {
		if ts, err := time.Parse(layout, at); err == nil {
			r.UpdatedAt = ts.UTC()
			return r, nil
		}
	}
	return r, fmt.Errorf("unreadable time %q", at)
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

const insertSession = "INSERT INTO sessions (`key`, user_id, data, user_agent, instance, created_at, last_seen_at, expires_at, learner, boot, copy_seen, linked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

// InsertSession writes a new session row.
func (tx *Tx) InsertSession(ctx context.Context, s *Session) error {
	_, err := tx.exec(ctx, insertSession, s.Key, s.UserID, s.Data, s.UserAgent, s.Instance, s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.Learner, s.Boot, s.CopySeen, s.LinkedAt)
	return err
}

// InsertSession writes a new session row in its own statement.
func (d *DB) InsertSession(ctx context.Context, s *Session) error {
	_, err := d.exec(ctx, d.W, insertSession, s.Key, s.UserID, s.Data, s.UserAgent, s.Instance, s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.Learner, s.Boot, s.CopySeen, s.LinkedAt)
	return err
}

// UpdateSession saves user, data, times and markers of an existing row (the
// learner never changes: it is minted with the row and kept at rotation).
func (tx *Tx) UpdateSession(ctx context.Context, s *Session) error {
	_, err := tx.exec(ctx, "UPDATE sessions SET user_id = ?, data = ?, instance = ?, last_seen_at = ?, expires_at = ?, boot = ?, copy_seen = ? WHERE `key` = ?",
		s.UserID, s.Data, s.Instance, s.LastSeenAt, s.ExpiresAt, s.Boot, s.CopySeen, s.Key)
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
// (Django's clearsessions). The progress and lab switches of learners left
// without a session go with them: nobody can reach them any more (an
// account's home learner stays: its next login joins it); so do learner
// codes (resume, link) that expired unused.
func (d *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	r, err := d.exec(ctx, d.W, SweepQuery, now)
	if err != nil {
		return 0, err
	}
	if _, err := d.exec(ctx, d.W, "DELETE FROM learner_codes WHERE expires_at < ?", now); err != nil {
		return 0, fmt.Errorf("sweep learner codes: %w", err)
	}
	for _, q := range []string{
		"DELETE FROM lesson_progress WHERE owner LIKE 'l:%' AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.learner = SUBSTRING(lesson_progress.owner, 3))" +
			" AND NOT EXISTS (SELECT 1 FROM home_learners h WHERE h.learner = SUBSTRING(lesson_progress.owner, 3))",
		"DELETE FROM lab_modes WHERE NOT EXISTS (SELECT 1 FROM sessions s WHERE s.learner = lab_modes.learner)" +
			" AND NOT EXISTS (SELECT 1 FROM home_learners h WHERE h.learner = lab_modes.learner)",
	} {
		if _, err := d.exec(ctx, d.W, q); err != nil {
			return 0, fmt.Errorf("sweep learners: %w", err)
		}
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

// LearnerSessions are the live sessions counting for a learner besides the
// one with key but: terminals linked by a code, and sessions logged in to an
// account whose home is this learner. Oldest first.
func (d *DB) LearnerSessions(ctx context.Context, learner, but string, now time.Time) ([]Session, error) {
	var ss []Session
	err := d.sel(ctx, d.R, &ss, "SELECT "+sessionColumns+" FROM sessions s LEFT JOIN users u ON u.id = s.user_id WHERE s.learner = ? AND s.`key` <> ? AND s.expires_at > ? ORDER BY s.created_at LIMIT 20", learner, but, now)
	return ss, err
}
