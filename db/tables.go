package db

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Kind says how a column's values are read, written and normalised, the same
// way on both dialects.
type Kind int

const (
	KindInt  Kind = iota // INTEGER / BIGINT / INT / TINYINT, maybe NULL
	KindText             // TEXT / VARCHAR / CHAR
	KindTime             // DATETIME (UTC, microseconds: MariaDB's DATETIME(6))
)

// Column is one column of a copied table.
type Column struct {
	Name string
	Kind Kind
}

// Table is one table of Session Lab's data.
type Table struct {
	Name    string
	Columns []Column
	Key     []string // primary key columns: the order rows are read in
}

// Tables is THE list of Session Lab's data tables, in dependency order: a
// table comes after every table its foreign keys point to. db copy inserts in
// this order (and empties in reverse), Checksums covers exactly these, and a
// test compares this list with the migrated schema of both dialects, so a
// migration that adds a table or a column fails loudly until it is listed here.
var Tables = []Table{
	{Name: "users", Key: []string{"id"}, Columns: []Column{
		{"id", KindInt}, {"username", KindText}, {"password_hash", KindText}, {"created_at", KindTime}}},
	{Name: "products", Key: []string{"id"}, Columns: []Column{
		{"id", KindInt}, {"name", KindText}, {"description", KindText}, {"price_cents", KindInt}, {"image", KindText}}},
	{Name: "sessions", Key: []string{"key"}, Columns: []Column{
		{"key", KindText}, {"user_id", KindInt}, {"data", KindText}, {"user_agent", KindText}, {"instance", KindText},
		{"created_at", KindTime}, {"last_seen_at", KindTime}, {"expires_at", KindTime},
		{"learner", KindText}, {"boot", KindText}, {"copy_seen", KindInt}, {"linked_at", KindTime}}},
	{Name: "cart_items", Key: []string{"user_id", "product_id"}, Columns: []Column{
		{"user_id", KindInt}, {"product_id", KindInt}, {"quantity", KindInt}}},
	{Name: "notes", Key: []string{"id"}, Columns: []Column{
		{"id", KindInt}, {"user_id", KindInt}, {"body", KindText}, {"created_at", KindTime}}},
	{Name: "events", Key: []string{"id"}, Columns: []Column{
		{"id", KindInt}, {"session_key", KindText}, {"user_id", KindInt}, {"kind", KindText}, {"detail", KindText},
		{"instance", KindText}, {"at", KindTime}}},
	{Name: "lesson_progress", Key: []string{"owner", "lesson", "item"}, Columns: []Column{
		{"owner", KindText}, {"lesson", KindText}, {"item", KindText}, {"done", KindInt}, {"hints", KindInt}, {"updated_at", KindTime}}},
	{Name: "lab_modes", Key: []string{"learner", "lab"}, Columns: []Column{
		{"learner", KindText}, {"lab", KindText}, {"mode", KindText}, {"updated_at", KindTime}}},
	{Name: "settings", Key: []string{"name"}, Columns: []Column{
		{"name", KindText}, {"value", KindText}, {"updated_at", KindTime}}},
	{Name: "home_learners", Key: []string{"user_id"}, Columns: []Column{
		{"user_id", KindInt}, {"learner", KindText}}},
}

// NotCopied are the tables that describe one database rather than the app's
// data, with the reason they stay behind.
var NotCopied = map[string]string{
	"schema_migrations": "each database records its own migrations",
	"copy_runs":         "each target records the copies made into it",
	"lab_sessions":      "attack-lab sessions are exercises of at most two hours; after a move the labs start afresh",
	"exchanges":         "what a session's last form did, shown once on the next page (then blanked: one row per session that sent a form); after a move it is simply not shown",
	"learner_codes":     "single-use codes that live minutes (a logout's resume code, a lesson page's link code for a terminal)",
}

// TableByName finds a table of Tables.
func TableByName(name string) (Table, bool) {
	for _, t := range Tables {
		if t.Name == name {
			return t, true
		}
	}
	return Table{}, false
}

// quote quotes an identifier; SQLite accepts MariaDB's backticks too, and
// `key` is a reserved word in MariaDB.
func quote(name string) string { return "`" + name + "`" }

func (t Table) columnList() string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = quote(c.Name)
	}
	return strings.Join(names, ", ")
}

func (t Table) orderBy() string {
	keys := make([]string, len(t.Key))
	for i, k := range t.Key {
		keys[i] = quote(k)
	}
	return strings.Join(keys, ", ")
}

// selectAll reads every row in primary-key order.
func (t Table) selectAll() string {
	return "SELECT " + t.columnList() + " FROM " + quote(t.Name) + " ORDER BY " + t.orderBy()
}

// SchemaTables lists the tables that exist in the database, sorted.
func (d *DB) SchemaTables(ctx context.Context) ([]string, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`
	if d.Dialect() == MariaDB {
		q = `SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()`
	}
	var names []string
	if err := d.R.SelectContext(ctx, &names, q); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	sort.Strings(names)
	return names, nil
}

// SchemaColumns lists the columns of a table as the database has them, sorted.
func (d *DB) SchemaColumns(ctx context.Context, table string) ([]string, error) {
	q := `SELECT name FROM pragma_table_info(?)`
	if d.Dialect() == MariaDB {
		q = `SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?`
	}
	var names []string
	if err := d.R.SelectContext(ctx, &names, q, table); err != nil {
		return nil, fmt.Errorf("list columns of %s: %w", table, err)
	}
	sort.Strings(names)
	return names, nil
}

// CheckTableList compares Tables with the database's schema and describes
// every difference: a table or column the list does not know would silently
// stay behind in a copy, so db copy refuses to run until the list is fixed.
func (d *DB) CheckTableList(ctx context.Context) error {
	have, err := d.SchemaTables(ctx)
	if err != nil {
		return err
	}
	var problems []string
	for _, name := range have {
		if _, ok := NotCopied[name]; ok {
			continue
		}
		t, ok := TableByName(name)
		if !ok {
			problems = append(problems, fmt.Sprintf("table %s exists in the schema but not in db.Tables (db/tables.go): add it in dependency order, or to NotCopied with a reason", name))
			continue
		}
		cols, err := d.SchemaColumns(ctx, name)
		if err != nil {
			return err
		}
		var listed []string
		for _, c := range t.Columns {
			listed = append(listed, c.Name)
		}
		sort.Strings(listed)
		if !slices.Equal(cols, listed) {
			problems = append(problems, fmt.Sprintf("table %s has columns %v in the schema but %v in db.Tables (db/tables.go)", name, cols, listed))
		}
	}
	for _, t := range Tables {
		if !slices.Contains(have, t.Name) {
			problems = append(problems, fmt.Sprintf("table %s is in db.Tables but not in the %s schema", t.Name, d.Dialect()))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("the table list does not match the schema:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}
