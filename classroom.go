package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"sessionlab/db"
	"sessionlab/events"
	"sessionlab/ids"
)

// The instructor's controls, and what several instances of one class share:
// class settings in the database, refreshed by every instance.

// Names of the class settings (table settings, migration 0004).
const (
	settingIdle     = "idle_timeout"
	settingAbsolute = "absolute_timeout"
)

// settingsEvery is how often an instance rereads the class settings, so a
// timeout changed on one instance applies on all of them within seconds.
const settingsEvery = 2 * time.Second

// watchSettings rereads the class settings every so often until ctx ends.
func (a *app) watchSettings(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			rctx, cancel := context.WithTimeout(ctx, every)
			if err := a.loadSettings(rctx); err != nil && ctx.Err() == nil {
				a.log.Warn("read class settings", "err", err)
			}
			cancel()
		}
	}
}

// loadSettings applies the class's timeouts, or the flags' when none are set.
func (a *app) loadSettings(ctx context.Context) error {
	m, err := a.db.Settings(ctx)
	if err != nil {
		return err
	}
	t := timeouts{Idle: a.cfg.IdleTimeout, Absolute: a.cfg.AbsoluteTimeout}
	if d, err := time.ParseDuration(m[settingIdle]); err == nil && d > 0 {
		t.Idle = d
	}
	if d, err := time.ParseDuration(m[settingAbsolute]); err == nil && d > 0 {
		t.Absolute = d
	}
	if cur := a.timeouts(); cur != t {
		a.tmo.Store(&t)
	}
	return nil
}

// classEvent records something the instructor did. It belongs to no
// session (session_key is empty), so no learner's strip or lesson sees it;
// the dashboard's event stream does.
func (a *app) classEvent(ctx context.Context, tx *db.Tx, kind events.Kind, detail map[string]string) error {
	b, _ := json.Marshal(detail)
	return tx.AddEvent(ctx, &db.Event{Kind: kind.String(), Detail: string(b), Instance: a.cfg.Instance, At: a.now()})
}

// classReset empties the demo data between classes: saved carts, notes,
// lesson progress (learners' and accounts'), the event log, and the carts
// kept inside live sessions (else the next login would merge them back).
func (a *app) classReset(c *fiber.Ctx) error {
	ctx := c.UserContext()
	var cleared int
	err := a.db.InTx(ctx, func(tx *db.Tx) error {
		cleared = 0
		if err := tx.ResetDemoData(ctx); err != nil {
			return err
		}
		rows, err := tx.LockAllSessionData(ctx)
		if err != nil {
			return err
		}
		for _, r := range rows {
			var m map[string]any
			if json.Unmarshal([]byte(r.Data), &m) != nil {
				continue
			}
			if _, hadCart := m["cart"]; !hadCart {
				continue
			}
			delete(m, "cart")
			b, err := json.Marshal(m)
			if err != nil {
				return err
			}
			if err := tx.SetSessionData(ctx, r.Key, string(b)); err != nil {
				return err
			}
			cleared++
		}
		return a.classEvent(ctx, tx, events.ClassReset, map[string]string{"sessions_cleared": strconv.Itoa(cleared)})
	})
	if err != nil {
		return fmt.Errorf("class reset: %w", err)
	}
	a.log.Info("class demo data reset", "sessions_cleared", cleared)
	a.hub.poke()
	return c.Redirect("/instructor?done=reset", fiber.StatusSeeOther)
}

// classEndAll logs everybody out: every session row is deleted, so every
// cookie in the room becomes an unknown ID (and is never adopted).
func (a *app) classEndAll(c *fiber.Ctx) error {
	ctx := c.UserContext()
	var n int64
	err := a.db.InTx(ctx, func(tx *db.Tx) error {
		var err error
		if n, err = tx.DeleteAllSessions(ctx); err != nil {
			return err
		}
		return a.classEvent(ctx, tx, events.ClassEnded, map[string]string{"sessions": strconv.FormatInt(n, 10)})
	})
	if err != nil {
		return fmt.Errorf("end all sessions: %w", err)
	}
	a.log.Info("instructor ended every session", "count", n)
	a.hub.poke()
	return c.Redirect("/instructor?done=ended", fiber.StatusSeeOther)
}

// Bounds of the timeouts an instructor may set: short enough to watch a
// session expire in class, never so short that a page cannot load.
const (
	minTimeout = 10 * time.Second
	maxTimeout = 30 * 24 * time.Hour
)

// timeoutsForm is the timeouts control as the instructor left it: the
// values typed, an error beside a field, or a preview awaiting confirmation.
type timeoutsForm struct {
	Idle, Absolute       string // as typed (or the current values)
	IdleErr, AbsoluteErr string
	Reset                bool // back to the flags' values
	Preview              bool // valid values, not yet applied
	Ending, Live         int  // what the preview says: sessions ended of those live
}

// classTimeouts changes the class's idle and absolute timeouts (the expiry
// lab), or with reset=1 goes back to the flags' values. It takes two
// steps: the first answers with the dashboard saying how many live
// sessions the new values would end at once (counted by the database) and
// asking to confirm; the second, with confirm=1, applies them. A value that
// is not a timeout comes back beside its field and changes nothing. Every
// instance picks the change up from the settings table.
func (a *app) classTimeouts(c *fiber.Ctx) error {
	ctx := c.UserContext()
	args := c.Request().PostArgs()
	f := &timeoutsForm{
		Idle:     ids.Cut(string(args.Peek("idle")), 40),
		Absolute: ids.Cut(string(args.Peek("absolute")), 40),
		Reset:    string(args.Peek("reset")) == "1",
	}
	idle, abs := a.cfg.IdleTimeout, a.cfg.AbsoluteTimeout
	if f.Reset {
		f.Idle, f.Absolute = shortDuration(idle), shortDuration(abs)
	} else {
		var err error
		if idle, err = parseTimeout(f.Idle); err != nil {
			f.IdleErr = err.Error() + " Nothing was changed."
		}
		if abs, err = parseTimeout(f.Absolute); err != nil {
			f.AbsoluteErr = err.Error() + " Nothing was changed."
		}
		if f.IdleErr != "" || f.AbsoluteErr != "" {
			return a.renderDashboard(c, fiber.StatusBadRequest, f)
		}
		f.Idle, f.Absolute = shortDuration(idle), shortDuration(abs)
	}
	if string(args.Peek("confirm")) != "1" {
		l := a.liveness()
		ending, err := a.db.CountSessionsEnding(ctx, l, idle, abs)
		if err != nil {
			return fmt.Errorf("timeouts preview: %w", err)
		}
		live, err := a.db.CountLiveSessions(ctx, l)
		if err != nil {
			return fmt.Errorf("timeouts preview: %w", err)
		}
		f.Preview, f.Ending, f.Live = true, ending, live.Live
		return a.renderDashboard(c, fiber.StatusOK, f)
	}
	err := a.db.InTx(ctx, func(tx *db.Tx) error {
		if f.Reset {
			if err := tx.DeleteSetting(ctx, settingIdle); err != nil {
				return err
			}
			if err := tx.DeleteSetting(ctx, settingAbsolute); err != nil {
				return err
			}
			return a.classEvent(ctx, tx, events.ClassTimeouts, map[string]string{"idle": idle.String(), "absolute": abs.String(), "reset": "1"})
		}
		if err := tx.PutSetting(ctx, settingIdle, idle.String(), a.now()); err != nil {
			return err
		}
		if err := tx.PutSetting(ctx, settingAbsolute, abs.String(), a.now()); err != nil {
			return err
		}
		return a.classEvent(ctx, tx, events.ClassTimeouts, map[string]string{"idle": idle.String(), "absolute": abs.String()})
	})
	if err != nil {
		return fmt.Errorf("set timeouts: %w", err)
	}
	if err := a.loadSettings(ctx); err != nil {
		return err
	}
	a.hub.poke()
	return c.Redirect("/instructor?done=timeouts", fiber.StatusSeeOther)
}

// parseTimeout reads "90s", "5m", "2h" (or a bare number of minutes).
func parseTimeout(v string) (time.Duration, error) {
	if v == "" {
		return 0, fmt.Errorf("give a duration such as 90s, 5m or 2h.")
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.Atoi(v)
		if nerr != nil {
			return 0, fmt.Errorf("%q is not a duration; write it as 90s, 5m or 2h.", ids.Cut(v, 20))
		}
		d = time.Duration(n) * time.Minute
	}
	if d < minTimeout || d > maxTimeout {
		return 0, fmt.Errorf("must be between %s and %s.", minTimeout, "30 days")
	}
	return d, nil
}
