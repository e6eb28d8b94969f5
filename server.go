package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"sessionlab/db"
)

// Starting and stopping Session Lab. One path for everyone who runs it:
// `serve`, the test harness and the in-process load test all call startApp,
// so what the tests start is what main starts.

// defaultConfig is the one home of the defaults; serve's flags, the tests and
// the in-process load test start from it.
func defaultConfig() config {
	return config{
		Addr:            "127.0.0.1:8080",
		DBURL:           db.DefaultURL,
		IdleTimeout:     30 * time.Minute,
		AbsoluteTimeout: 8 * time.Hour,
		SweepEvery:      time.Minute,
		Signup:          true,
		EventRetention:  24 * time.Hour, // a day of teaching: the dashboard's log and the lessons' checks look back less
	}
}

// server is a running Session Lab: the app on its listener, with its
// background work.
type server struct {
	URL    string // http://host:port of the listener
	app    *app
	db     *db.DB
	ln     net.Listener
	served chan error     // the listener's end: an error, or nil after stop
	cancel func()         // ends the background work
	bg     sync.WaitGroup // the background work, waited for before the database closes
}

// startApp opens the database, builds the app from cfg, listens on cfg.Addr
// and starts the background work: the class settings watcher and the sweep
// of expired sessions. (The dashboard's event poller starts with its first
// subscriber.) ctx bounds the start-up only; stop ends what startApp began.
func startApp(ctx context.Context, cfg config, logger *slog.Logger) (*server, error) {
	database, err := db.Open(ctx, cfg.DBURL)
	if err != nil {
		return nil, err
	}
	a, err := newApp(cfg, database, logger)
	if err != nil {
		database.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		database.Close()
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	// The labs' simulated browsers reach the server here, whatever address
	// a person's browser used.
	base := "http://" + selfAddr(ln.Addr())
	a.baseURL.Store(&base)
	if err := a.loadSettings(ctx); err != nil {
		a.log.Warn("read class settings", "err", err)
	}
	bg, cancel := context.WithCancel(context.Background())
	s := &server{URL: "http://" + ln.Addr().String(), app: a, db: database, ln: ln, served: make(chan error, 1), cancel: cancel}
	s.bg.Go(func() { a.watchSettings(bg, settingsEvery) })
	s.bg.Go(func() { a.sweep(bg, cfg.SweepEvery) })
	go func() { s.served <- a.fiber.Listener(ln) }()
	return s, nil
}

// done reports the listener's end: a failure while serving (or nil once stop
// has shut it down).
func (s *server) done() <-chan error { return s.served }

// stop ends the background work and the live streams, lets in-flight requests
// finish within ctx, then closes the database.
func (s *server) stop(ctx context.Context) error {
	s.cancel()
	err := s.app.shutdown(ctx)
	s.bg.Wait()
	return errors.Join(err, s.db.Close())
}

// shutdown ends the live streams first, then lets in-flight requests finish:
// an open event stream is a response that never ends by itself.
func (a *app) shutdown(ctx context.Context) error {
	a.stopOnce.Do(func() { close(a.stopping) })
	return a.fiber.ShutdownWithContext(ctx)
}

// sweep deletes expired sessions and events older than the retention
// periodically, so abandoned rows and a flood's events do not pile up.
func (a *app) sweep(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := a.db.DeleteExpiredSessions(ctx, a.now())
			if err != nil && ctx.Err() == nil {
				a.log.Warn("sweep expired sessions", "err", err)
			} else if n > 0 {
				a.log.Info("swept expired sessions", "count", n)
			}
			if n, err := a.db.DeleteEventsBefore(ctx, a.now().Add(-a.cfg.EventRetention)); err != nil && ctx.Err() == nil {
				a.log.Warn("sweep old events", "err", err)
			} else if n > 0 {
				a.log.Info("swept old events", "count", n, "retention", a.cfg.EventRetention.String())
			}
			if _, err := a.labs.Sweep(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("sweep lab sessions", "err", err)
			}
		}
	}
}

// selfAddr is where the server reaches its own listener (the labs' simulated
// browsers): a wildcard address becomes loopback.
func selfAddr(addr net.Addr) string {
	if tcp, ok := addr.(*net.TCPAddr); ok && (tcp.IP == nil || tcp.IP.IsUnspecified()) {
		return net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
	}
	return addr.String()
}

// startInProcess is the load test's server inside its own process: the
// defaults on a free loopback port, logs discarded (the report is the output).
func startInProcess(dbURL string) (string, func() error, error) {
	cfg := defaultConfig()
	cfg.Addr, cfg.DBURL, cfg.Instance = "127.0.0.1:0", dbURL, "loadtest"
	s, err := startApp(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return "", nil, err
	}
	return s.URL, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return s.stop(ctx)
	}, nil
}
