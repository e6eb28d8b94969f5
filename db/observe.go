package db

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// EventSeen reports whether an event of kind, recorded at or after since,
// has a detail field starting with value (and every detail in where equal),
// and, when userID is not 0, was recorded in a session of that user.
// A lesson's observe step uses it to check an ID prefix the learner read in
// a terminal against what the server really issued or refused: the events
// keep the same short prefixes the strip shows, never whole IDs.
func (d *DB) EventSeen(ctx context.Context, kind string, since time.Time, userID int64, field, value string, where map[string]string) (bool, error) {
	// LIKE narrows the rows (its case rules differ between dialects, and _
	// is a wildcard, hence the escape); the exact check is done here.
	esc := strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(value)
	var details []string
	q, args := `SELECT detail FROM events WHERE kind = ? AND at >= ? AND detail LIKE ? ESCAPE '!'`, []any{kind, since, "%" + esc + "%"}
	if userID != 0 {
		q, args = q+` AND user_id = ?`, append(args, userID)
	}
	err := d.sel(ctx, d.R, &details, q, args...)
	if err != nil {
		return false, err
	}
rows:
	for _, raw := range details {
		m := map[string]string{}
		if json.Unmarshal([]byte(raw), &m) != nil || !strings.HasPrefix(m[field], value) {
			continue
		}
		for k, v := range where {
			if m[k] != v {
				continue rows
			}
		}
		return true, nil
	}
	return false, nil
}
