package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"sessionlab/db"
)

// A class running during the upgrade keeps what its sessions held: migration
// 0005 moves a live session's learner, progress, hints, lab switches and
// bookkeeping out of its data JSON into their columns and tables, and leaves
// the data a shop's session (CSRF token and cart).
func TestMigrationMovesProgressOutOfLiveSessions(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		d, err := db.Connect(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.Applied(ctx); err != nil { // creates schema_migrations
			t.Fatal(err)
		}
		ms, err := db.Migrations(d.Dialect())
		if err != nil {
			t.Fatal(err)
		}
		// The schema as it was before 0005.
		for _, m := range ms {
			if m.Version >= "0005" {
				break
			}
			var stmt strings.Builder
			for _, line := range strings.Split(m.SQL, "\n") {
				if l := strings.TrimSpace(line); l == "" || strings.HasPrefix(l, "--") {
					continue
				}
				stmt.WriteString(line + "\n")
				if strings.HasSuffix(strings.TrimSpace(line), ";") {
					if _, err := d.W.ExecContext(ctx, strings.TrimSuffix(strings.TrimSpace(stmt.String()), ";")); err != nil {
						t.Fatalf("%s: %v", m.Version, err)
					}
					stmt.Reset()
				}
			}
			if _, err := d.W.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", m.Version, time.Now().UTC()); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now().UTC().Truncate(time.Second)
		legacy := `{"csrf_token":"tok","learner":"L123456789abcdef","cart":[{"product_id":2,"quantity":1}],` +
			`"lessons_done":["http-forgets/arrive","the-cookie/quiz:q1"],"lesson_hints":{"http-forgets/strangers":2},` +
			`"server_boot":"boot1","last_instance":"left","copy_seen":3,"lab_modes":{"fixation":"defended"}}`
		if _, err := d.W.ExecContext(ctx, "INSERT INTO sessions (`key`, user_id, data, user_agent, instance, created_at, last_seen_at, expires_at) VALUES ('k1', NULL, ?, 'ua', 'left', ?, ?, ?)",
			legacy, now, now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		d.Close()

		d, err = db.Open(ctx, dbURL) // applies 0005 and anything after it
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		s, err := d.SessionByKey(ctx, "k1")
		if err != nil {
			t.Fatal(err)
		}
		if s.Learner != "L123456789abcdef" || s.Boot != "boot1" || s.CopySeen != 3 || s.Instance != "left" {
			t.Errorf("after 0005: learner %q, boot %q, copy_seen %d, instance %q", s.Learner, s.Boot, s.CopySeen, s.Instance)
		}
		var data map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s.Data), &data); err != nil {
			t.Fatal(err)
		}
		if len(data) != 2 || data["csrf_token"] == nil || data["cart"] == nil {
			t.Errorf("after 0005 the data holds %s; want only csrf_token and cart", s.Data)
		}
		rows, err := d.Progress(ctx, db.LearnerOwner("L123456789abcdef"))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, r := range rows {
			got[r.Lesson+"/"+r.Item] = map[bool]string{true: "done", false: "open"}[r.Done] + "," + string(rune('0'+r.Hints))
		}
		want := map[string]string{"http-forgets/arrive": "done,0", "the-cookie/quiz:q1": "done,0", "http-forgets/strangers": "open,2"}
		if len(got) != len(want) {
			t.Errorf("progress after 0005: %v, want %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("progress %s after 0005: %q, want %q", k, got[k], v)
			}
		}
		st, err := d.SessionState(ctx, "k1")
		if err != nil {
			t.Fatal(err)
		}
		if st.LabModes["fixation"] != "defended" || len(st.Progress) != 3 {
			t.Errorf("the session reads lab modes %v and %d progress rows after 0005", st.LabModes, len(st.Progress))
		}
	})
}
