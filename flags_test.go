package main

import (
	"strings"
	"testing"
	"time"
)

// The flags and environment variables of docs/CONTRACT.md: defaults, env, and a
// flag winning over its env var; a value that does not parse is an error,
// never silently the default.
func TestServeFlagsAndEnvironment(t *testing.T) {
	for _, k := range []string{"ADDR", "DATABASE_URL", "SECURE_COOKIES", "INSTANCE", "INSTRUCTOR_TOKEN", "IDLE_TIMEOUT", "ABSOLUTE_TIMEOUT"} {
		t.Setenv(k, "")
	}
	cfg, err := serveFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:8080" || cfg.DBURL != "sqlite:sessionlab.db" || cfg.SecureCookies || cfg.IdleTimeout != 30*time.Minute || cfg.AbsoluteTimeout != 8*time.Hour || cfg.InstructorToken != "" {
		t.Errorf("defaults: %+v", cfg)
	}

	t.Setenv("ADDR", "0.0.0.0:9000")
	t.Setenv("DATABASE_URL", "sqlite::memory:")
	t.Setenv("SECURE_COOKIES", "1")
	t.Setenv("INSTANCE", "room-1")
	t.Setenv("INSTRUCTOR_TOKEN", "tok")
	t.Setenv("IDLE_TIMEOUT", "5m")
	t.Setenv("ABSOLUTE_TIMEOUT", "1h")
	cfg, err = serveFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "0.0.0.0:9000" || cfg.DBURL != "sqlite::memory:" || !cfg.SecureCookies || cfg.Instance != "room-1" || cfg.InstructorToken != "tok" || cfg.IdleTimeout != 5*time.Minute || cfg.AbsoluteTimeout != time.Hour {
		t.Errorf("from the environment: %+v", cfg)
	}

	cfg, err = serveFlags([]string{"-addr", "127.0.0.1:1", "-db", "sqlite:x.db", "-secure-cookies=false", "-instance", "cli", "-instructor-token", "t2", "-idle-timeout", "1m", "-absolute-timeout", "2h"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:1" || cfg.DBURL != "sqlite:x.db" || cfg.SecureCookies || cfg.Instance != "cli" || cfg.InstructorToken != "t2" || cfg.IdleTimeout != time.Minute || cfg.AbsoluteTimeout != 2*time.Hour {
		t.Errorf("flags over the environment: %+v", cfg)
	}

	for _, bad := range [][]string{{"-idle-timeout", "0s"}, {"-absolute-timeout", "-1m"}, {"-idle-timeout", "banana"}, {"-no-such-flag"}} {
		if _, err := serveFlags(bad); err == nil {
			t.Errorf("serveFlags(%v) accepted", bad)
		}
	}
	for k, v := range map[string]string{"IDLE_TIMEOUT": "banana", "ABSOLUTE_TIMEOUT": "8", "SECURE_COOKIES": "maybe"} {
		t.Run(k, func(t *testing.T) {
			t.Setenv(k, v)
			_, err := serveFlags(nil)
			if err == nil || !strings.Contains(err.Error(), k) {
				t.Errorf("%s=%s: err %v, want an error naming %s", k, v, err, k)
			}
		})
	}
}

// -event-retention / EVENT_RETENTION: a day by default, the flag over the
// environment, and a value that is not a positive duration refused.
func TestEventRetentionFlag(t *testing.T) {
	t.Setenv("EVENT_RETENTION", "")
	cfg, err := serveFlags(nil)
	if err != nil || cfg.EventRetention != 24*time.Hour {
		t.Errorf("default: %v (%v), want 24h", cfg.EventRetention, err)
	}
	t.Setenv("EVENT_RETENTION", "2h")
	if cfg, err = serveFlags(nil); err != nil || cfg.EventRetention != 2*time.Hour {
		t.Errorf("EVENT_RETENTION=2h: %v (%v)", cfg.EventRetention, err)
	}
	if cfg, err = serveFlags([]string{"-event-retention", "90m"}); err != nil || cfg.EventRetention != 90*time.Minute {
		t.Errorf("-event-retention 90m over the environment: %v (%v)", cfg.EventRetention, err)
	}
	for _, bad := range []string{"0s", "-1h", "banana"} {
		if _, err := serveFlags([]string{"-event-retention", bad}); err == nil {
			t.Errorf("-event-retention %s accepted", bad)
		}
	}
	t.Setenv("EVENT_RETENTION", "24")
	if _, err := serveFlags(nil); err == nil || !strings.Contains(err.Error(), "EVENT_RETENTION") {
		t.Errorf("EVENT_RETENTION=24: err %v, want an error naming it", err)
	}
}
