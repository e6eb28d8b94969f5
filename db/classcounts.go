package db

import (
	"context"
	"time"
)

// The instructor dashboard's counts, computed by the database over the whole
// class: a list capped for display (the busiest 500 rows) cannot say how
// many are logged in when a script has opened 3,000 anonymous sessions.

// Liveness is what makes a session row live at one moment: its own
// expires_at, and the class's idle and absolute timeouts, which may have
// been shortened since expires_at was written. It is the web layer's
// app.expired rule, written as SQL.
type Liveness struct {
	Now            time.Time
	Idle, Absolute time.Duration
}

// where is the condition on sessions s, with its arguments.
func (l Liveness) where() (string, []any) {
	return "s.expires_at > ? AND s.last_seen_at > ? AND s.created_at > ?",
		[]any{l.Now, l.Now.Add(-l.Idle), l.Now.Add(-l.Absolute)}
}

// SessionCounts are the live sessions and, of them, the logged-in ones.
type SessionCounts struct {
	Live     int `db:"live"`
	LoggedIn int `db:"logged_in"`
}

// CountLiveSessions counts the live sessions, and those with a user.
func (d *DB) CountLiveSessions(ctx context.Context, l Liveness) (SessionCounts, error) {
	w, args := l.where()
	var n SessionCounts
	err := d.get(ctx, d.R, &n, "SELECT COUNT(*) AS live, COUNT(s.user_id) AS logged_in FROM sessions s WHERE "+w, args...)
	return n, err
}

// CountSessionsEnding counts the sessions live now that new idle and
// absolute timeouts would end at once: the instructor sees it before
// confirming the change.
func (d *DB) CountSessionsEnding(ctx context.Context, l Liveness, idle, absolute time.Duration) (int, error) {
	w, args := l.where()
	args = append(args, l.Now.Add(-idle), l.Now.Add(-absolute))
	var n int
	err := d.get(ctx, d.R, &n, "SELECT COUNT(*) FROM sessions s WHERE "+w+" AND (s.last_seen_at <= ? OR s.created_at <= ?)", args...)
	return n, err
}

// KindCount is how many events of one kind the log holds.
type KindCount struct {
	Kind  string `db:"kind" json:"kind"`
	Count int    `db:"n" json:"count"`
}

// CountEventsByKind counts the whole event log by kind, most frequent first.
func (d *DB) CountEventsByKind(ctx context.Context) ([]KindCount, error) {
	var ks []KindCount
	err := d.sel(ctx, d.R, &ks, "SELECT kind, COUNT(*) AS n FROM events GROUP BY kind ORDER BY n DESC, kind")
	return ks, err
}

// progressOwner is, in SQL, whose lesson progress a session row shows
// (Session.ProgressOwner): the account's once logged in, else the learner's.
func (d *DB) progressOwner() string {
	if d.Dialect() == MariaDB {
		return "IF(s.user_id IS NULL, CONCAT('l:', s.learner), CONCAT('u:', s.user_id))"
	}
	return "CASE WHEN s.user_id IS NULL THEN 'l:' || s.learner ELSE 'u:' || s.user_id END"
}

// ClassProgress is the class's learners and their completed steps, over the
// whole class. A learner is the owner of a live session's progress (a
// browser, or an account once logged in), or an account with saved
// progress even while none of its sessions lives.
type ClassProgress struct {
	Learners int           // how many
	Done     []ProgressRow // every completed step of every learner
}

// CountClassProgress reads the class's learners and completed steps.
func (d *DB) CountClassProgress(ctx context.Context, l Liveness) (*ClassProgress, error) {
	w, args := l.where()
	var cp ClassProgress
	q := "SELECT COUNT(*) FROM (SELECT " + d.progressOwner() + " AS o FROM sessions s WHERE " + w +
		" UNION SELECT owner FROM lesson_progress WHERE done = 1 AND owner LIKE 'u:%') x"
	if err := d.get(ctx, d.R, &cp.Learners, q, args...); err != nil {
		return nil, err
	}
	anon := "CONCAT('l:', s.learner)"
	if d.Dialect() != MariaDB {
		anon = "'l:' || s.learner"
	}
	q = "SELECT owner, lesson, item, done, hints, updated_at FROM lesson_progress WHERE done = 1 AND (owner LIKE 'u:%' OR owner IN (SELECT " +
		anon + " FROM sessions s WHERE s.user_id IS NULL AND " + w + "))"
	if err := d.sel(ctx, d.R, &cp.Done, q, args...); err != nil {
		return nil, err
	}
	return &cp, nil
}
