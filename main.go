// Command sessionlab is Session Lab: a small web shop that shows, on every
// page, how HTTP remembers who you are (cookie, session record, cart).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"sessionlab/internal/dbcmd"
	"sessionlab/internal/loadtest"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	args := os.Args[1:]
	var err error
	switch {
	case len(args) > 0 && args[0] == "serve":
		err = serve(args[1:], logger)
	case len(args) > 0 && args[0] == "db":
		err = dbcmd.Run(args[1:], os.Stdout, os.Stderr)
	case len(args) > 0 && args[0] == "loadtest":
		err = loadtest.Run(args[1:], os.Stdout, startInProcess)
	case len(args) > 0 && (args[0] == "version" || args[0] == "-version" || args[0] == "--version"):
		err = runVersion(args[1:], os.Stdout)
	case len(args) > 0 && !strings.HasPrefix(args[0], "-"):
		err = fmt.Errorf("unknown command %q: use serve (the default), db, loadtest or version", args[0])
	default:
		err = serve(args, logger)
	}
	if code := dbcmd.Status(err, os.Stderr); code != 0 {
		os.Exit(code)
	}
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}

// checkEnv refuses an environment variable that does not parse: silently
// running with the default (a 30-minute timeout for IDLE_TIMEOUT=30, say)
// would be a surprise found much later.
func checkEnv() error {
	for _, k := range []string{"IDLE_TIMEOUT", "ABSOLUTE_TIMEOUT", "EVENT_RETENTION"} {
		if v := os.Getenv(k); v != "" {
			if _, err := time.ParseDuration(v); err != nil {
				return fmt.Errorf("%s=%q is not a duration: write it like 30m or 8h", k, v)
			}
		}
	}
	for _, k := range []string{"SECURE_COOKIES", "DEV", "SIGNUP"} {
		switch strings.ToLower(os.Getenv(k)) {
		case "", "1", "true", "yes", "0", "false", "no":
		default:
			return fmt.Errorf("%s=%q: use 1 or 0", k, os.Getenv(k))
		}
	}
	return nil
}

func envBool(name string) bool {
	v := strings.ToLower(os.Getenv(name))
	return v == "1" || v == "true" || v == "yes"
}

// envBoolOn is envBool for a setting that is on unless turned off.
func envBoolOn(name string) bool {
	v := strings.ToLower(os.Getenv(name))
	return v != "0" && v != "false" && v != "no"
}

// serveFlags parses the server's flags; each has an environment variable.
func serveFlags(args []string) (config, error) {
	if err := checkEnv(); err != nil {
		return config{}, err
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg := defaultConfig()
	fs.StringVar(&cfg.Addr, "addr", env("ADDR", cfg.Addr), "listen address HOST:PORT [ADDR]")
	fs.StringVar(&cfg.DBURL, "db", env("DATABASE_URL", cfg.DBURL), "database URL: sqlite:PATH, sqlite::memory: or mysql://USER:PASS@HOST:PORT/DBNAME [DATABASE_URL]")
	fs.BoolVar(&cfg.SecureCookies, "secure-cookies", envBool("SECURE_COOKIES"), "mark the session cookie Secure (serve over HTTPS) [SECURE_COOKIES=1]")
	fs.StringVar(&cfg.Instance, "instance", env("INSTANCE", ""), "name shown as \"served by\" (default host:port) [INSTANCE]")
	fs.StringVar(&cfg.InstructorToken, "instructor-token", env("INSTRUCTOR_TOKEN", ""), "fixed instructor token (default: random, printed at start) [INSTRUCTOR_TOKEN]")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", envDuration("IDLE_TIMEOUT", cfg.IdleTimeout), "end a session unused this long [IDLE_TIMEOUT]")
	fs.DurationVar(&cfg.AbsoluteTimeout, "absolute-timeout", envDuration("ABSOLUTE_TIMEOUT", cfg.AbsoluteTimeout), "end any session this long after login or creation [ABSOLUTE_TIMEOUT]")
	fs.DurationVar(&cfg.EventRetention, "event-retention", envDuration("EVENT_RETENTION", cfg.EventRetention), "delete recorded events (the strip's, the lessons', the dashboard's log) this long after they happened [EVENT_RETENTION]")
	fs.StringVar(&cfg.LessonsDir, "lessons", env("LESSONS_DIR", ""), "load the lessons from this folder of lesson files instead of the built-in ones (copy lessons/content and edit; see lessons/FORMAT.md) [LESSONS_DIR]")
	fs.BoolVar(&cfg.Signup, "signup", envBoolOn("SIGNUP"), "let learners create their own accounts at /signup; -signup=false on a public server [SIGNUP=0]")
	fs.BoolVar(&cfg.Dev, "dev", envBool("DEV"), "reload templates from ./views on every request [DEV=1]")
	// Classroom.
	fs.StringVar(&cfg.JoinURL, "join-url", env("JOIN_URL", ""), "the address students open, shown with a QR code on the instructor's dashboard (default: the dashboard's own address) [JOIN_URL]")
	trusted := fs.String("trusted-proxy", env("TRUSTED_PROXY", ""), "comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For/-Proto to believe [TRUSTED_PROXY]")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	for _, p := range strings.Split(*trusted, ",") {
		if p = strings.TrimSpace(p); p != "" {
			cfg.TrustedProxies = append(cfg.TrustedProxies, p)
		}
	}
	if cfg.IdleTimeout <= 0 || cfg.AbsoluteTimeout <= 0 {
		return cfg, errors.New("-idle-timeout and -absolute-timeout must be positive")
	}
	if cfg.EventRetention <= 0 {
		return cfg, errors.New("-event-retention must be positive")
	}
	return cfg, nil
}

// serve runs the web server until SIGINT or SIGTERM, then lets in-flight
// requests finish.
func serve(args []string, logger *slog.Logger) error {
	cfg, err := serveFlags(args)
	if err != nil {
		return err
	}
	tuneRuntime()
	if stop := cpuProfile(os.Getenv("SESSIONLAB_CPUPROFILE")); stop != nil {
		defer stop() // written at a clean shutdown (the load tool's -serverprofile)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := startApp(ctx, cfg, logger)
	if err != nil {
		return err
	}
	url := "http://" + displayAddr(srv.ln.Addr().String())
	ver := readBuildInfo().Version
	logger.Info("Session Lab is running", "version", ver, "url", url, "db", srv.db.Config.Display, "instance", srv.app.cfg.Instance)
	// The instructor link goes to the console only, never into the log.
	fmt.Fprintf(os.Stderr, "\n  Session Lab %s: open %s\n  Instructor's dashboard (keep this link to yourself):\n    %s\n\n",
		ver, url, instructorURL(url, srv.app.cfg.InstructorToken))
	select {
	case err := <-srv.done():
		srv.stop(context.Background())
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return srv.stop(sctx)
}

// tuneRuntime trades a little memory for CPU: the live heap is a few MB
// (sessions live in the database, not here), so collecting at 4× instead of
// 2× of it costs little, and a soft limit keeps the total in check. It also
// gives the Go scheduler one thread per hash worker on top of one per core:
// a login's bcrypt then never holds one of the threads page views run on.
// GOGC, GOMEMLIMIT and GOMAXPROCS, when set, win.
func tuneRuntime() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(96 << 20)
	}
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(runtime.NumCPU() + defaultHashSlots())
	}
}

// cpuProfile starts a CPU profile into path ("" = none) and returns its stop.
func cpuProfile(path string) func() {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cpu profile:", err)
		return nil
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "cpu profile:", err)
		f.Close()
		return nil
	}
	return func() { pprof.StopCPUProfile(); f.Close() }
}

// displayAddr makes a listen address clickable: localhost instead of 127.0.0.1.
func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if host == "127.0.0.1" || host == "::1" || host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
