package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"sessionlab/db"
	"sessionlab/events"
	"sessionlab/ids"
)

// The dashboard's live stream (Server-Sent Events at /instructor/stream).
// One goroutine per instance polls the events table by id (waiting a while
// for ids skipped by transactions that commit late) and fans each new event
// out to every subscriber, with the session table whenever it changed;
// so 3 dashboards cost one poll, not three. Events written by any instance
// sharing the database reach every instance's dashboards. A subscriber that
// falls behind is dropped, and its browser reconnects with Last-Event-ID:
// the missed events are replayed from the table, so none is lost.

const (
	pollEvery  = 250 * time.Millisecond // how soon an event reaches the projector
	stateEvery = 2 * time.Second        // the table is re-read at least this often (last seen, expiry)
	subBuffer  = 1024                   // messages a slow subscriber may lag behind
	maxRotated = 4096                   // old → new key pairs remembered for the table
	gapWait    = 10 * time.Second       // how long an id skipped by a later commit is awaited
	maxGaps    = 10000
)

// sseMsg is one pre-encoded Server-Sent Event; id is the event's row id
// (0 for the table snapshot, which has no place in the replay order).
type sseMsg struct {
	id   int64
	data []byte
}

type subscriber struct{ ch chan sseMsg }

// hub fans the poller's messages out to the streams of this instance.
type hub struct {
	a       *app
	wake    chan struct{}
	mu      sync.Mutex
	subs    map[*subscriber]struct{}
	running bool
	rot     map[string]string // new key prefix → old, from session.rotated
	rotKeys []string
}

func newHub(a *app) *hub {
	return &hub{a: a, wake: make(chan struct{}, 1), subs: map[*subscriber]struct{}{}, rot: map[string]string{}}
}

// poke makes the poller look now (after a control changed the tables).
func (h *hub) poke() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

func (h *hub) subscribe() *subscriber {
	s := &subscriber{ch: make(chan sseMsg, subBuffer)}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subs[s] = struct{}{}
	if !h.running {
		h.running = true
		go h.run()
	}
	return s
}

func (h *hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		close(s.ch)
	}
}

// broadcast hands m to every subscriber without ever blocking the poller.
func (h *hub) broadcast(m sseMsg) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		select {
		case s.ch <- m:
		default:
			// Too far behind: drop it; the browser reconnects and replays.
			delete(h.subs, s)
			close(s.ch)
		}
	}
}

// noteRotation remembers which key a rotated session had before.
func (h *hub) noteRotation(e db.Event) {
	var d map[string]string
	if json.Unmarshal([]byte(e.Detail), &d) != nil || d["old_key"] == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	nk := ids.Prefix(e.SessionKey)
	if _, ok := h.rot[nk]; !ok {
		h.rotKeys = append(h.rotKeys, nk)
	}
	h.rot[nk] = d["old_key"]
	if len(h.rotKeys) > maxRotated {
		delete(h.rot, h.rotKeys[0])
		h.rotKeys = h.rotKeys[1:]
	}
}

// rotations is a copy of the old-key map, for a snapshot.
func (h *hub) rotations() map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	m := make(map[string]string, len(h.rot))
	for k, v := range h.rot {
		m[k] = v
	}
	return m
}

// run polls while anyone listens, and stops at shutdown.
func (h *hub) run() {
	a := h.a
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-a.stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	last, err := a.db.LastEventID(ctx)
	if err != nil {
		a.log.Warn("class stream: read last event", "err", err)
	}
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	gaps := map[int64]time.Time{} // ids below last not seen yet, since when
	var lastState []byte
	var stateAt time.Time
	for {
		select {
		case <-a.stopping:
			h.closeAll()
			return
		case <-tick.C:
		case <-h.wake:
		}
		h.mu.Lock()
		if len(h.subs) == 0 {
			h.running = false
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
		from := last
		for id := range gaps {
			from = min(from, id-1)
		}
		evs, err := a.db.EventsAfter(ctx, from, 500)
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("class stream: poll events", "err", err)
			}
			continue
		}
		now := time.Now()
		for _, e := range evs {
			if e.ID <= last {
				if _, missing := gaps[e.ID]; !missing {
					continue // sent already
				}
				delete(gaps, e.ID) // a late commit: send it now
			} else {
				// Ids are handed out at insert, not at commit: on MariaDB a
				// transaction holding a lower id may still commit. Look
				// for the ids skipped here for a while.
				for id := last + 1; id < e.ID && len(gaps) < maxGaps; id++ {
					gaps[id] = now
				}
				last = e.ID
			}
			if e.Kind == events.SessionRotated.String() {
				h.noteRotation(e)
			}
			h.broadcast(eventMsg(e))
		}
		for id, at := range gaps {
			if now.Sub(at) > gapWait {
				delete(gaps, id) // rolled back (or never used): stop looking
			}
		}
		if len(evs) == 0 && time.Since(stateAt) < stateEvery {
			continue
		}
		if len(evs) == 0 {
			// The events table may have been emptied (a reset on another
			// instance): start again from its current end.
			if m, err := a.db.LastEventID(ctx); err == nil && m < last {
				last = m
			}
		}
		st, err := a.classSnapshot(ctx, h.rotations())
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("class stream: snapshot", "err", err)
			}
			continue
		}
		stateAt = time.Now()
		b := stateMsg(st)
		if !bytes.Equal(b.data, lastState) {
			lastState = b.data
			h.broadcast(b)
		}
	}
}

func (h *hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		delete(h.subs, s)
		close(s.ch)
	}
	h.running = false
}

func eventMsg(e db.Event) sseMsg {
	b, _ := json.Marshal(eventView(e))
	var buf bytes.Buffer
	buf.WriteString("id: ")
	buf.WriteString(strconv.FormatInt(e.ID, 10))
	buf.WriteString("\nevent: ev\ndata: ")
	buf.Write(b)
	buf.WriteString("\n\n")
	return sseMsg{id: e.ID, data: buf.Bytes()}
}

func stateMsg(st *classState) sseMsg {
	b, _ := json.Marshal(st)
	return sseMsg{data: append(append([]byte("event: state\ndata: "), b...), '\n', '\n')}
}

// streamWriteTimeout bounds each write to a dashboard; the server's own
// WriteTimeout would otherwise cut every stream after 15 s.
const streamWriteTimeout = 30 * time.Second

// instructorStream is the live feed: events after Last-Event-ID (or
// ?after=, the last one the page showed) replayed from the table, then
// everything new as it happens, a state snapshot when the table changes, and
// a comment line as heartbeat so proxies and browsers keep it open.
func (a *app) instructorStream(c *fiber.Ctx) error {
	after := int64(-1) // -1: no replay, only what happens from now on
	for _, v := range []string{c.Get("Last-Event-ID"), c.Query("after")} {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			after = n
			break
		}
	}
	beat := a.cfg.StreamBeat
	if beat <= 0 {
		beat = 15 * time.Second
	}
	c.Set(fiber.HeaderContentType, "text/event-stream; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	conn := c.Context().Conn()
	sub := a.hub.subscribe()
	// The writer runs after this handler returns: it must not touch c.
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer a.hub.unsubscribe(sub)
		ctx := context.Background()
		flush := func() bool {
			conn.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
			return w.Flush() == nil
		}
		w.WriteString("retry: 2000\n\n")
		last := after
		replayed := map[int64]bool{} // the hub may send these again: skip them once
		for after >= 0 {
			evs, err := a.db.EventsAfter(ctx, last, 500)
			if err != nil {
				a.log.Warn("class stream: replay", "err", err)
				return
			}
			for _, e := range evs {
				w.Write(eventMsg(e).data)
				last = e.ID
				replayed[e.ID] = true
			}
			if len(evs) < 500 {
				break
			}
		}
		if st, err := a.classSnapshot(ctx, a.hub.rotations()); err == nil {
			w.Write(stateMsg(st).data)
		}
		if !flush() {
			return
		}
		t := time.NewTicker(beat)
		defer t.Stop()
		for {
			select {
			case m, ok := <-sub.ch:
				if !ok {
					return
				}
				if replayed[m.id] {
					delete(replayed, m.id)
					continue
				}
				w.Write(m.data)
				// Send what is queued in one flush: a burst of 50 events
				// is one write, not 50.
				if len(sub.ch) > 0 {
					continue
				}
				if !flush() {
					return
				}
			case <-t.C:
				w.WriteString(": beat\n\n")
				if !flush() {
					return
				}
			case <-a.stopping:
				w.WriteString("event: bye\ndata: {}\n\n")
				flush()
				return
			}
		}
	})
	return nil
}
