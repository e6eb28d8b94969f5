package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"sessionlab/db"
	"sessionlab/ids"
	"sessionlab/labs"
	"sessionlab/lessons"
)

// config is everything the flags and environment decide.
type config struct {
	Addr            string
	DBURL           string
	SecureCookies   bool
	Instance        string
	InstructorToken string
	IdleTimeout     time.Duration
	AbsoluteTimeout time.Duration
	Signup          bool   // learners may create accounts (/signup); off on a public server
	Dev             bool   // reload templates from disk on every render
	LessonsDir      string // lesson files on disk instead of the embedded ones

	// Classroom (instructor.go, classroom.go).
	JoinURL        string   // the address students open, shown on the dashboard; default: the dashboard's own
	TrustedProxies []string // reverse proxies whose X-Forwarded-For/-Proto are believed
	StreamBeat     time.Duration

	SweepEvery     time.Duration    // how often expired sessions and old events are deleted
	EventRetention time.Duration    // events older than this are swept
	Now            func() time.Time // the clock; nil: the real one (tests inject theirs to move time)
}

// timeouts are the session lifetimes; the instructor may change them live.
type timeouts struct {
	Idle, Absolute time.Duration
}

// app holds every dependency; handlers are its methods.
type app struct {
	cfg      config
	db       *db.DB
	log      *slog.Logger
	now      func() time.Time // cfg.Now, or the real clock
	boot     string           // identifies this server start
	products []db.Product
	byID     map[int64]db.Product
	tmo      atomic.Pointer[timeouts]
	budget   *sessionBudget
	throttle *throttle // password guessing and sign-up limits (throttle.go)
	hashes   *hashGate // bounds concurrent bcrypt work: one per core, queued
	lessons  *lessons.Catalog
	lastCopy *db.CopyRun // the `db copy` that filled this database, if any
	fiber    *fiber.App

	// Attack labs (labs.go, labsite.go, labsim.go).
	labs    *labs.Store
	sims    *simRegistry
	baseURL atomic.Pointer[string] // where the server reaches itself, known after listen
	csKey   atomic.Pointer[[]byte] // the client-side lab's signing key, once read (clientside.go)

	// The names this server is reachable as (hosts.go), found once.
	hostsOnce sync.Once
	hosts     map[string]bool

	// Classroom: the live stream's fan-out and the background work that
	// shutdown stops (an open event stream would otherwise hold it up).
	hub      *hub
	stopping chan struct{}
	stopOnce sync.Once
}

// newApp builds the application on an open database.
func newApp(cfg config, database *db.DB, logger *slog.Logger) (*app, error) {
	if cfg.Instance == "" {
		cfg.Instance = defaultInstance(cfg.Addr)
	}
	now := cfg.Now
	if now == nil {
		now = func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
	}
	a := &app{
		cfg:      cfg,
		db:       database,
		log:      logger,
		now:      now,
		boot:     ids.New()[:12],
		throttle: newThrottle(),
		budget:   newSessionBudget(newSessionBurst, newSessionsPerSecond),
		hashes:   newHashGate(defaultHashSlots(), hashMaxWait),
	}
	a.labs = labs.NewStore(database, func() time.Time { return a.now() })
	a.sims = newSimRegistry()
	a.tmo.Store(&timeouts{Idle: cfg.IdleTimeout, Absolute: cfg.AbsoluteTimeout})
	if a.cfg.InstructorToken == "" {
		a.cfg.InstructorToken = ids.New()
	}
	a.stopping = make(chan struct{})
	a.hub = newHub(a)
	ps, err := database.Products(context.Background())
	if err != nil {
		return nil, fmt.Errorf("load catalog: %w", err)
	}
	// The catalog never changes while the server runs: keep it in memory so a
	// page view reads only the session (and a user's cart).
	a.products = ps
	a.byID = make(map[int64]db.Product, len(ps))
	for _, p := range ps {
		a.byID[p.ID] = p
	}
	// A database filled by `db copy` tells each copied session so once,
	// for the lesson on moving to MariaDB.
	if a.lastCopy, err = database.LastCopy(context.Background()); err != nil {
		return nil, err
	}
	if cfg.LessonsDir != "" {
		a.lessons, err = lessons.LoadDir(cfg.LessonsDir)
	} else {
		a.lessons, err = lessons.Load()
	}
	if err != nil {
		return nil, err
	}
	engine, err := newViews(cfg.Dev)
	if err != nil {
		return nil, err
	}
	a.fiber = fiber.New(fiber.Config{
		Views:                 engine,
		ErrorHandler:          a.handleError,
		BodyLimit:             64 * 1024,
		ReadBufferSize:        8192, // a huge Cookie header gets 431, not a crash
		ReadTimeout:           15 * time.Second,
		WriteTimeout:          15 * time.Second,
		IdleTimeout:           60 * time.Second,
		DisableStartupMessage: true,
		AppName:               "Session Lab",
		// X-Forwarded-For/-Proto only from the proxies named by -trusted-proxy:
		// anyone else could claim any address (and dodge the login limiter).
		EnableTrustedProxyCheck: true,
		TrustedProxies:          cfg.TrustedProxies,
		ProxyHeader:             proxyHeader(cfg.TrustedProxies),
	})
	// Errors fasthttp raises before routing get our handler, not Fiber's.
	a.fiber.Server().ErrorHandler = a.serverError
	a.routes()
	warmRenderer(a.fiber)
	return a, nil
}

// proxyHeader is the header that names the client behind a trusted proxy.
func proxyHeader(trusted []string) string {
	if len(trusted) == 0 {
		return ""
	}
	return fiber.HeaderXForwardedFor
}

// defaultInstance names this server in the badge and the events: host:port.
func defaultInstance(addr string) string {
	host, _ := os.Hostname()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		port = addr
	}
	if host == "" {
		host = "localhost"
	}
	return host + ":" + port
}

func (a *app) timeouts() timeouts { return *a.tmo.Load() }

func money(cents int64) string {
	return fmt.Sprintf("$%d.%02d", cents/100, cents%100)
}

func ago(t time.Time) string {
	d := time.Since(t).Round(time.Second)
	switch {
	case d < 2*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%ds ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm ago", int(d.Minutes()))
	default:
		return fmt.Sprintf("%dh%02dm ago", int(d.Hours()), int(d.Minutes())%60)
	}
}

// warmRenderer makes Fiber build, before the first request, the list of
// mounted apps it renders with: it builds that list lazily on the first
// Render, without a lock, so two first page views at once wrote it together
// (go test -race). The render itself fails (no such template) and is thrown
// away; the list is built before the template is looked up.
func warmRenderer(f *fiber.App) {
	c := f.AcquireCtx(&fasthttp.RequestCtx{})
	defer f.ReleaseCtx(c)
	_ = c.Render("", nil)
}
