package db

import (
	"database/sql"
	"strings"
	"testing"
	"time"
)

func TestChecksumDoesNotDependOnRowOrderButOnEveryRow(t *testing.T) {
	rows := []string{"1\t\"a\"", "2\t\"b\"", "3\tNULL"}
	var a, b, c, d checksum
	for _, r := range rows {
		a.add(r)
	}
	for i := len(rows) - 1; i >= 0; i-- {
		b.add(rows[i])
	}
	if a != b {
		t.Fatal("the checksum depends on row order")
	}
	c.add(rows[0])
	c.add(rows[1])
	if a == c {
		t.Fatal("a missing row went unnoticed")
	}
	for _, r := range rows {
		d.add(r)
	}
	d.add(rows[0])
	if a == d {
		t.Fatal("a duplicated row went unnoticed")
	}
}

func TestNormalizeRowIsTheSameForBothDialectsValues(t *testing.T) {
	berlin := time.FixedZone("Berlin", 3600)
	at := time.Date(2026, 11, 26, 2, 3, 4, 123456789, berlin)
	// SQLite hands back nanoseconds in whatever zone was stored; MariaDB
	// microseconds in UTC. Both must normalise alike.
	fromSQLite := []any{sql.NullInt64{Int64: 7, Valid: true}, sql.NullString{String: "🍵 \"x\"\n", Valid: true}, sql.NullTime{Time: at, Valid: true}, sql.NullInt64{}}
	fromMariaDB := []any{sql.NullInt64{Int64: 7, Valid: true}, sql.NullString{String: "🍵 \"x\"\n", Valid: true}, sql.NullTime{Time: at.UTC().Truncate(time.Microsecond), Valid: true}, sql.NullInt64{}}
	a, b := normalizeRow(fromSQLite), normalizeRow(fromMariaDB)
	if a != b {
		t.Fatalf("%q != %q", a, b)
	}
	if !strings.Contains(a, "2026-11-26T01:03:04.123456Z") || !strings.HasSuffix(a, "\tNULL") {
		t.Fatalf("normalised row: %q", a)
	}
	if normalizeRow([]any{sql.NullString{}}) == normalizeRow([]any{sql.NullString{String: "NULL", Valid: true}}) {
		t.Fatal("NULL and the text NULL look alike")
	}
}

func TestParseURLRefusesAPasswordWithoutAUser(t *testing.T) {
	for _, u := range []string{"mysql://:secret@127.0.0.1:3306/x", "mariadb://:secret@db/x"} {
		if _, err := ParseURL(u); err == nil || !strings.Contains(err.Error(), "no user") || strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseURL(%q) = %v", u, err)
		}
	}
	if _, err := ParseURL("mysql://u:secret@127.0.0.1/x"); err != nil {
		t.Errorf("user and password: %v", err)
	}
}

func TestSameDatabaseSeesThroughSpellings(t *testing.T) {
	p := func(s string) Config {
		c, err := ParseURL(s)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if !sameDatabase(p("sqlite:a.db"), p("sqlite:./a.db")) {
		t.Error("sqlite:a.db and sqlite:./a.db")
	}
	if !sameDatabase(p("mysql://u:one@h:3306/x"), p("mysql://u@h:3306/x")) {
		t.Error("the same MariaDB database with and without password")
	}
	if !sameDatabase(p("mysql://u@h/x"), p("mysql://u@h:3306/x")) {
		t.Error("the default port")
	}
	if sameDatabase(p("mysql://u@h:3306/x"), p("mysql://u@h:3306/y")) {
		t.Error("two MariaDB databases")
	}
}
