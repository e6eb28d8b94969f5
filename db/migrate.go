package db

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"
)

//go:embed migrations
var migrationFS embed.FS

// Migration is one embedded schema file, applied once and in order.
type Migration struct {
	Version string // file name without .sql, e.g. "0001_init"
	SQL     string
}

// Migrations lists the embedded migrations of a dialect in order.
func Migrations(dialect string) ([]Migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("migrations for %s: %w", dialect, err)
	}
	var ms []Migration
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		b, err := migrationFS.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, Migration{Version: strings.TrimSuffix(e.Name(), ".sql"), SQL: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

// statements splits a migration file into single statements (multiStatements
// stays off on MariaDB: one statement per Exec). A statement ends with ";" at
// the end of a line; "--" comment lines are dropped.
func statements(src string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(src, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSuffix(strings.TrimSpace(cur.String()), ";"))
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		out = append(out, s)
	}
	return out
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    VARCHAR(64) NOT NULL PRIMARY KEY,
	applied_at DATETIME NOT NULL
)`

// Applied returns the versions already recorded in schema_migrations.
func (d *DB) Applied(ctx context.Context) (map[string]bool, error) {
	if _, err := d.W.ExecContext(ctx, createMigrationsTable); err != nil {
		return nil, fmt.Errorf("migrate: create schema_migrations: %w", err)
	}
	var vs []string
	if err := d.W.SelectContext(ctx, &vs, `SELECT version FROM schema_migrations`); err != nil {
		return nil, fmt.Errorf("migrate: read schema_migrations: %w", err)
	}
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[v] = true
	}
	return m, nil
}

// Pending lists the migrations not yet applied.
func (d *DB) Pending(ctx context.Context) ([]Migration, error) {
	all, err := Migrations(d.Dialect())
	if err != nil {
		return nil, err
	}
	done, err := d.Applied(ctx)
	if err != nil {
		return nil, err
	}
	var p []Migration
	for _, m := range all {
		if !done[m.Version] {
			p = append(p, m)
		}
	}
	return p, nil
}

// Migrate applies pending migrations in order, each in one transaction where
// the dialect allows it (MariaDB commits DDL implicitly, so a failed file is
// reported and must be fixed by hand), and calls report for each one applied.
func (d *DB) Migrate(ctx context.Context, report func(version string)) ([]string, error) {
	pending, err := d.Pending(ctx)
	if err != nil {
		return nil, err
	}
	var applied []string
	for _, m := range pending {
		tx, err := d.W.BeginTxx(ctx, nil)
		if err != nil {
			return applied, fmt.Errorf("migrate %s: %w", m.Version, err)
		}
		for _, stmt := range statements(m.SQL) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				tx.Rollback()
				return applied, fmt.Errorf("migrate %s: %w\nstatement: %s", m.Version, err, firstLine(stmt))
			}
		}
		if _, err := tx.ExecContext(ctx, d.W.Rebind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), m.Version, time.Now().UTC()); err != nil {
			tx.Rollback()
			return applied, fmt.Errorf("migrate %s: record: %w", m.Version, err)
		}
		if err := tx.Commit(); err != nil {
			return applied, fmt.Errorf("migrate %s: commit: %w", m.Version, err)
		}
		applied = append(applied, m.Version)
		if report != nil {
			report(m.Version)
		}
	}
	return applied, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
