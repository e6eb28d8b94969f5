package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"sessionlab/db"
	"sessionlab/events"
	"sessionlab/ids"
)

// The live sessions table and event log, as the class watches them. Only
// prefixes of keys are shown: the dashboard is on a projector.

// maxClassRows bounds the table (a class is 30–200 learners).
const maxClassRows = 500

// classSession is one row of the live sessions table.
type classSession struct {
	Key           string    `json:"key"` // prefix of the hashed key
	RotatedFrom   string    `json:"rotated_from,omitempty"`
	User          string    `json:"user"`
	Authenticated bool      `json:"authenticated"`
	Cart          int       `json:"cart"`
	Lesson        string    `json:"lesson"`
	LessonOrder   int       `json:"lesson_order"` // sorts the lesson column: lesson*100 + step
	CreatedAt     time.Time `json:"created_at"`
	LastSeenAt    time.Time `json:"last_seen_at"`
	ExpiresAt     time.Time `json:"expires_at"`
	Instance      string    `json:"instance"`
}

// classEventView is one line of the event log.
type classEventView struct {
	ID       int64        `json:"id"`
	Kind     string       `json:"kind"`
	Group    events.Group `json:"group"` // for the filter; "other" is under "all" only
	Session  string       `json:"session"`
	Summary  string       `json:"summary"`
	Instance string       `json:"instance"`
	At       time.Time    `json:"at"`
	// Fold names the line this event joins instead of adding its own:
	// a learner whose requests alternate between two instances would
	// otherwise fill the log with instance.changed. Empty: never folded.
	Fold  string `json:"fold,omitempty"`
	Times int    `json:"-"` // events folded into this line (first render)
}

// kindCount is one kind's total in the whole event log.
type kindCount struct {
	Kind  string       `json:"kind"`
	Group events.Group `json:"group"`
	Count int          `json:"count"`
}

// classState is everything the dashboard shows, as JSON for the stream and
// GET /instructor/state, and as data for the first render.
type classState struct {
	Sessions []classSession `json:"sessions"` // the busiest maxClassRows, for the table
	// The counts are the database's, over every live session: never
	// counted from Sessions, which a flood of anonymous sessions can fill.
	Live          int           `json:"live"`
	Authenticated int           `json:"authenticated"`
	Instances     []string      `json:"instances"` // that served the live sessions
	Progress      []lessonChart `json:"progress"`
	Learners      int           `json:"learners"`
	Idle          string        `json:"idle_timeout"`
	Absolute      string        `json:"absolute_timeout"`
	Retention     string        `json:"event_retention"` // events older than this are swept
	ServedBy      string        `json:"served_by"`
	EventCounts   []kindCount   `json:"event_counts"` // the whole log, most frequent first
}

// liveness is the rule that makes a session live now, for the database.
func (a *app) liveness() db.Liveness {
	t := a.timeouts()
	return db.Liveness{Now: a.now(), Idle: t.Idle, Absolute: t.Absolute}
}

// classSnapshot reads the class: sessions, saved cart sizes and progress.
// rotated maps a new key prefix to the old one (from session.rotated events).
func (a *app) classSnapshot(ctx context.Context, rotated map[string]string) (*classState, error) {
	now := a.now()
	rows, err := a.db.AllSessions(ctx, now, maxClassRows)
	if err != nil {
		return nil, fmt.Errorf("class sessions: %w", err)
	}
	carts, err := a.db.CartCounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("class carts: %w", err)
	}
	live := a.liveness()
	cp, err := a.db.CountClassProgress(ctx, live)
	if err != nil {
		return nil, fmt.Errorf("class progress: %w", err)
	}
	byOwner := map[string][]db.ProgressRow{}
	for _, r := range cp.Done {
		byOwner[r.Owner] = append(byOwner[r.Owner], r)
	}
	counts, err := a.db.CountLiveSessions(ctx, live)
	if err != nil {
		return nil, fmt.Errorf("class counts: %w", err)
	}
	kinds, err := a.db.CountEventsByKind(ctx)
	if err != nil {
		return nil, fmt.Errorf("class event counts: %w", err)
	}
	t := a.timeouts()
	st := &classState{Sessions: make([]classSession, 0, len(rows)), Instances: []string{}, Idle: shortDuration(t.Idle), Absolute: shortDuration(t.Absolute), ServedBy: a.cfg.Instance,
		Retention: shortDuration(a.cfg.EventRetention),
		Live:      counts.Live, Authenticated: counts.LoggedIn, EventCounts: make([]kindCount, 0, len(kinds))}
	for _, k := range kinds {
		st.EventCounts = append(st.EventCounts, kindCount{Kind: k.Kind, Group: events.GroupOf(k.Kind), Count: k.Count})
	}
	seen := map[string]bool{}
	for i := range rows {
		r := &rows[i]
		if a.expired(r, now) {
			continue
		}
		s, err := decodeSession(r)
		if err != nil {
			continue // a row we cannot read is not worth failing the table for
		}
		cs := classSession{
			Key: ids.Prefix(r.Key), User: s.username(), Authenticated: s.loggedIn(),
			CreatedAt: r.CreatedAt, LastSeenAt: r.LastSeenAt, ExpiresAt: a.expiry(r.CreatedAt, r.LastSeenAt),
			Instance: r.Instance, RotatedFrom: rotated[ids.Prefix(r.Key)],
		}
		if s.loggedIn() {
			cs.Cart = carts[s.userID()]
		} else {
			for _, l := range s.data.Cart {
				cs.Cart += l.Quantity
			}
		}
		p := a.progressFrom(byOwner[r.ProgressOwner()])
		if l, step, idx, ok := a.lessons.Current(p); ok {
			cs.Lesson = "L" + strconv.Itoa(l.Number) + " · step " + strconv.Itoa(idx+1) + "/" + strconv.Itoa(len(l.Steps))
			cs.LessonOrder = l.Number*100 + idx
			if step == nil {
				cs.Lesson = "L" + strconv.Itoa(l.Number) + " · quiz"
				cs.LessonOrder = l.Number*100 + 99
			}
		} else {
			cs.Lesson = "all done"
			cs.LessonOrder = 1 << 20
		}
		st.Sessions = append(st.Sessions, cs)
		if r.Instance != "" && !seen[r.Instance] {
			seen[r.Instance] = true
			st.Instances = append(st.Instances, r.Instance)
		}
	}
	// The learners and their steps are the database's, over the whole
	// class: the table's rows are only the busiest few hundred.
	learners := map[string]map[string]bool{} // learner → done keys
	for _, r := range cp.Done {
		if learners[r.Owner] == nil {
			learners[r.Owner] = map[string]bool{}
		}
		learners[r.Owner][r.Lesson+"/"+r.Item] = true
	}
	st.Learners = cp.Learners
	st.Progress = a.classProgress(learners, cp.Learners)
	return st, nil
}

// eventView summarises one event for the log, with prefixes only.
func eventView(e db.Event) classEventView {
	d := map[string]string{}
	json.Unmarshal([]byte(e.Detail), &d)
	v := classEventView{ID: e.ID, Kind: e.Kind, Session: ids.Prefix(e.SessionKey), Instance: e.Instance, At: e.At, Group: events.GroupOf(e.Kind)}
	var parts []string
	for _, k := range sortedDetailKeys(d) {
		parts = append(parts, k+"="+ids.Cut(d[k], 40))
	}
	v.Summary = strings.Join(parts, " ")
	if e.Kind == events.InstanceChanged.String() {
		pair := []string{d["from"], d["to"]}
		slices.Sort(pair) // A→B and B→A are the same back and forth
		v.Fold = e.Kind + " " + v.Session + " " + pair[0] + " " + pair[1]
	}
	return v
}

// foldEvents turns events (oldest first) into the log's lines, newest
// first, with each fold's events on the line of its newest.
func foldEvents(evs []db.Event) []classEventView {
	out := make([]classEventView, 0, len(evs))
	line := map[string]int{} // fold → index in out
	for i := len(evs) - 1; i >= 0; i-- {
		v := eventView(evs[i])
		if v.Fold != "" {
			if j, ok := line[v.Fold]; ok {
				out[j].Times++
				continue
			}
			line[v.Fold] = len(out)
		}
		v.Times = 1
		out = append(out, v)
	}
	return out
}

func sortedDetailKeys(d map[string]string) []string {
	ks := make([]string, 0, len(d))
	for k := range d {
		ks = append(ks, k)
	}
	for i := 1; i < len(ks); i++ {
		for j := i; j > 0 && ks[j] < ks[j-1]; j-- {
			ks[j], ks[j-1] = ks[j-1], ks[j]
		}
	}
	return ks
}

// tableColumn is one column of the live sessions table; the instructor
// sorts by any of them (static/instructor.js reads each cell's data-v).
type tableColumn struct {
	ID, Label string
	Num       bool
}

var tableColumns = []tableColumn{
	{"key", "key", false}, {"user", "user", false}, {"cart", "cart", true}, {"lesson", "lesson", false},
	{"created", "created", false}, {"seen", "last seen", false}, {"expires", "expires", false}, {"instance", "served by", false},
}

// eventFilters are the groups the event log can be filtered by.
var eventFilters = append([]events.Group{"all"}, events.Groups...)

// instructorDashboard renders the dashboard; the stream keeps it live.
func (a *app) instructorDashboard(c *fiber.Ctx) error {
	return a.renderDashboard(c, fiber.StatusOK, nil)
}

// renderDashboard renders the dashboard with a status, and the timeouts
// form as the instructor left it (a preview to confirm, or an error beside
// a field) when tf is not nil: a control's answer stays on the dashboard.
func (a *app) renderDashboard(c *fiber.Ctx, status int, tf *timeoutsForm) error {
	ctx := c.UserContext()
	evs, err := a.db.RecentEvents(ctx, 100)
	if err != nil {
		return err
	}
	var last int64
	for _, e := range evs {
		last = e.ID
		if e.Kind == events.SessionRotated.String() {
			a.hub.noteRotation(e)
		}
	}
	st, err := a.classSnapshot(ctx, a.hub.rotations())
	if err != nil {
		return err
	}
	if last == 0 {
		if last, err = a.db.LastEventID(ctx); err != nil {
			return err
		}
	}
	if tf == nil {
		tf = &timeoutsForm{Idle: st.Idle, Absolute: st.Absolute}
	}
	done := ""
	switch c.Query("done") {
	case "reset":
		done = "Demo data reset: carts, notes, lesson progress and events are empty."
	case "ended":
		done = "Every session was ended: every cookie in the room is now an unknown ID."
	case "timeouts":
		done = "Timeouts changed for the whole class (every instance applies them within seconds)."
	}
	join := a.joinBox()
	return c.Status(status).Render("instructor", fiber.Map{
		"Title":     "Instructor",
		"State":     st,
		"Events":    foldEvents(evs),
		"LastID":    last,
		"Filters":   eventFilters,
		"Columns":   tableColumns,
		"Join":      join,
		"CSRF":      a.instructorMAC("csrf"),
		"Instance":  a.cfg.Instance,
		"DBKind":    a.db.Dialect(),
		"Done":      done,
		"Timeouts":  tf,
		"Projector": c.Query("projector") == "1",
	})
}

// instructorState is the dashboard's data as JSON (scripts, tests).
func (a *app) instructorState(c *fiber.Ctx) error {
	st, err := a.classSnapshot(c.UserContext(), a.hub.rotations())
	if err != nil {
		return err
	}
	return c.JSON(st)
}

// shortDuration writes 30m, 8h, 1h30m, 90s: "30m0s" reads badly on a projector.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
