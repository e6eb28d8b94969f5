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

// learnerOwner is, in SQL, the progress owner of a row's learner
// (Session.ProgressOwner): "l:" + learner, logged in or not.
func (d *DB) learnerOwner(alias string) string {
	if d.Dialect() == MariaDB {
		return "CONCAT('l:', " + alias + ".learner)"
	}
	return "'l:' || " + alias + ".learner"
}

// ClassProgress is the class's learners and their completed steps, over the
// whole class. A learner is a browser that has done a step (a curl without a
// jar is a session, not a learner), counted while one of its sessions
// lives, or always when it is an account's home learner (the account's next
// login joins it). Progress is never an account's: thirty students logged
// in as alice are thirty learners.
type ClassProgress struct {
	Learners int           // how many
	Done     []ProgressRow // every completed step of every learner
}

// CountClassProgress reads the class's learners and completed steps.
func (d *DB) CountClassProgress(ctx context.Context, l Liveness) (*ClassProgress, error) {
	w, args := l.where()
	var cp ClassProgress
	of := " FROM lesson_progress WHERE done = 1 AND (owner IN (SELECT " + d.learnerOwner("s") + " FROM sessions s WHERE " + w +
		") OR owner IN (SELECT " + d.learnerOwner("h") + " FROM home_learners h))"
	if err := d.get(ctx, d.R, &cp.Learners, "SELECT COUNT(DISTINCT owner)"+of, args...); err != nil {
		return nil, err
	}
	if err := d.sel(ctx, d.R, &cp.Done, "SELECT owner, lesson, item, done, hints, updated_at"+of, args...); err != nil {
		return nil, err
	}
	return &cp, nil
}
