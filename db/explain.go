package db

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Explain returns the database's plan for query, one line per step:
// SQLite's EXPLAIN QUERY PLAN details ("SEARCH s USING INDEX ..."), or
// MariaDB's EXPLAIN rows as "table=s type=const key=PRIMARY rows=1". It is
// how the tests prove a query uses its index.
func (d *DB) Explain(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := d.R.QueryxContext(ctx, "EXPLAIN "+map[bool]string{true: "QUERY PLAN ", false: ""}[d.Dialect() == SQLite]+query, args...)
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		m := map[string]any{}
		if err := rows.MapScan(m); err != nil {
			return nil, err
		}
		if d.Dialect() == SQLite {
			out = append(out, text(m["detail"]))
			continue
		}
		var parts []string
		for _, k := range []string{"table", "type", "key", "rows", "Extra"} {
			parts = append(parts, strings.ToLower(k)+"="+text(m[k]))
		}
		out = append(out, strings.Join(parts, " "))
	}
	sort.Strings(out)
	return out, rows.Err()
}

func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(v)
	default:
		return fmt.Sprint(v)
	}
}
