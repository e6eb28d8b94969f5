package db

import (
	"net/url"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in, dialect, name, display string
		memory                     bool
	}{
		{"sqlite:sessionlab.db", SQLite, "sessionlab.db", "sqlite:sessionlab.db", false},
		{"sqlite:///tmp/x.db", SQLite, "/tmp/x.db", "sqlite:/tmp/x.db", false},
		{"sqlite::memory:", SQLite, ":memory:", "sqlite::memory:", true},
		{"mysql://u:secret@db.example:3307/shop", MariaDB, "shop", "mysql://u:xxxxx@db.example:3307/shop", false},
		{"mariadb://u@localhost/shop", MariaDB, "shop", "mariadb://u@localhost/shop", false},
		{"  mysql://u:p%40ss@h/shop  ", MariaDB, "shop", "mysql://u:xxxxx@h/shop", false},
	} {
		cfg, err := ParseURL(tc.in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.in, err)
			continue
		}
		if cfg.Dialect != tc.dialect || cfg.Name != tc.name || cfg.Display != tc.display || cfg.Memory != tc.memory {
			t.Errorf("ParseURL(%q) = %+v", tc.in, cfg)
		}
		if tc.dialect == MariaDB {
			for _, want := range []string{"parseTime=true", "collation=utf8mb4_unicode_ci", "timeout=5s"} {
				if !strings.Contains(cfg.DSN, want) {
					t.Errorf("DSN of %q lacks %s", tc.in, want)
				}
			}
			if strings.Contains(cfg.DSN, "multiStatements") {
				t.Errorf("DSN of %q enables multiStatements", tc.in)
			}
		}
	}
	cfg, _ := ParseURL("mysql://u:p%40ss@h:3306/shop")
	if !strings.HasPrefix(cfg.DSN, "u:p@ss@tcp(h:3306)/shop?") {
		t.Errorf("percent-encoded password not decoded into the DSN: %s", strings.Replace(cfg.DSN, "p@ss", "…", 1))
	}
	for _, bad := range []string{"", "postgres://u:p@h/db", "mysql://h:3306/", "mysql://h/a/b", "sqlite:", "sqlite:a?b", "sqlite:a\x00b"} {
		if _, err := ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q) accepted", bad)
		}
	}
}

// A password never appears in what ParseURL returns for display or in its
// errors, even when the URL is too broken to parse.
func TestMaskURLNeverShowsThePassword(t *testing.T) {
	for _, raw := range []string{
		"mysql://user:hunter2secret@host:3306/db",
		"postgres://user:hunter2secret@ho st/db",
		"mysql://user:hunter2secret@host:33x6/db",
		"mysql://user:hunter2secret/x@host/db",
		"mysql://user:hunter2secret@host/db\x7f",
		"mysql://user:hunter2secret@[::1/db",
		"ftp://user:hunter2secret@h/db",
		"mysql://user:hunter2secret@h/%zz",
	} {
		if m := maskURL(raw); strings.Contains(m, "hunter2") {
			t.Errorf("maskURL(%q) = %q", raw, m)
		}
		cfg, err := ParseURL(raw)
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("ParseURL(%q) error shows the password: %v", raw, err)
		}
		if err == nil && strings.Contains(cfg.Display, "hunter2") {
			t.Errorf("ParseURL(%q).Display = %q", raw, cfg.Display)
		}
	}
}

// FuzzParseURL: ParseURL never panics; what it accepts has a dialect and a
// name; and a password never leaks into Display or an error message.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"sqlite:x.db", "sqlite::memory:", "mysql://u:pw@h:3306/db", "mariadb://u@h/db", "mysql://u:p%2Fw@h/db", "mysql://u:pw/x@h/db", "postgres://u:pw@h/db", "mysql://[::1]:3306/db", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		cfg, err := ParseURL(raw)
		if err == nil {
			if cfg.Dialect != SQLite && cfg.Dialect != MariaDB || cfg.Name == "" || cfg.DSN == "" || cfg.Driver == "" {
				t.Fatalf("ParseURL(%q) accepted an incomplete config %+v", raw, cfg)
			}
		}
		if strings.HasPrefix(strings.TrimSpace(raw), "sqlite:") {
			return // a path, no password
		}
		pw := password(raw)
		if len(pw) < 4 || strings.Count(raw, pw) != 1 || strings.Contains("mysql://mariadb://sqlite:xxxxx", pw) {
			return // too short or repeated elsewhere to tell a leak from a coincidence
		}
		if err != nil && strings.Contains(err.Error(), pw) {
			t.Fatalf("ParseURL(%q) error shows the password %q: %v", raw, pw, err)
		}
		if strings.Contains(cfg.Display, pw) {
			t.Fatalf("ParseURL(%q).Display = %q shows the password", raw, cfg.Display)
		}
		if m := maskURL(raw); strings.Contains(m, pw) {
			t.Fatalf("maskURL(%q) = %q shows the password", raw, m)
		}
	})
}

// password is what a reader would call the password in raw: between the
// first ':' after "scheme://" and the last '@'. (url.Parse may disagree on
// broken URLs, which is the point.)
func password(raw string) string {
	i := strings.Index(raw, "://")
	if i < 0 {
		return ""
	}
	rest := raw[i+3:]
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	user := rest[:at]
	c := strings.Index(user, ":")
	if c < 0 {
		return ""
	}
	pw := user[c+1:]
	if strings.ContainsAny(user[:c], "@/?#") || strings.ContainsAny(pw, "@?#") {
		return "" // not userinfo by any reading
	}
	if dec, err := url.PathUnescape(pw); err == nil && dec != pw {
		return "" // shown encoded or decoded: too many forms to check
	}
	return pw
}
