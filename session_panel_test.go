package main

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"sessionlab/ids"
)

// The session record panel is the row of the sessions table as stored: every
// column, in the table's order, nothing invented, and only the secrets (key,
// learner, the CSRF token inside data) cut to a prefix. A shop walk compares
// the panel, as HTML and as /api/state, with the row read by SQL after every
// action, on both databases.

// sqlRow is a sessions row read with SELECT *: column names in the table's
// order and values written the way the panel writes them.
type sqlRow struct {
	cols []string
	vals map[string]string
}

func readSessionRow(t *testing.T, srv *testServer, id string) sqlRow {
	t.Helper()
	rows, err := srv.db.W.Query("SELECT * FROM sessions WHERE `key` = ?", ids.Hash(id))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatalf("no sessions row for the browser's cookie %s…", ids.Prefix(id))
	}
	raw := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	r := sqlRow{cols: cols, vals: map[string]string{}}
	for i, c := range cols {
		switch v := raw[i].(type) {
		case nil:
			r.vals[c] = "NULL"
		case time.Time:
			r.vals[c] = v.UTC().Format(storedTime)
		case []byte:
			r.vals[c] = string(v)
		case string:
			r.vals[c] = v
		case int64:
			r.vals[c] = strconv.FormatInt(v, 10)
		default:
			t.Fatalf("column %s: unexpected %T", c, v)
		}
	}
	return r
}

// cutColumns are the columns the panel shows as a prefix, and only these.
var cutColumns = []string{"key", "learner"}

// comparePanel fails unless cells are exactly the row: same columns in the
// same order, each value as stored, secrets as their prefix.
func comparePanel(t *testing.T, where string, cells []rowCell, row sqlRow) {
	t.Helper()
	var got []string
	for _, c := range cells {
		got = append(got, c.Column)
	}
	if !slices.Equal(got, row.cols) {
		t.Fatalf("%s: the panel shows columns %v; the table has %v", where, got, row.cols)
	}
	for _, c := range cells {
		stored := row.vals[c.Column]
		want := stored
		switch {
		case slices.Contains(cutColumns, c.Column):
			want = ids.Prefix(stored) + "…"
			if !c.Cut {
				t.Errorf("%s: %s is cut to a prefix but not marked so", where, c.Column)
			}
		case c.Cut:
			t.Errorf("%s: %s is marked cut; only %v are secrets", where, c.Column, cutColumns)
		case c.Column == "data":
			var d struct {
				CSRF string `json:"csrf_token"`
			}
			if err := json.Unmarshal([]byte(stored), &d); err != nil || len(d.CSRF) < 16 {
				t.Fatalf("%s: stored data %q has no csrf_token (%v)", where, stored, err)
			}
			want = strings.Replace(stored, d.CSRF, ids.Prefix(d.CSRF)+"…", 1)
			if strings.Contains(c.Value, d.CSRF) {
				t.Errorf("%s: the panel shows the whole CSRF token", where)
			}
		}
		if c.Value != want {
			t.Errorf("%s: column %s shows %q; the row holds %q (shown: %q)", where, c.Column, c.Value, stored, want)
		}
	}
}

var panelCellRe = regexp.MustCompile(`<dd data-column="([^"]*)" data-value="([^"]*)"( data-cut="prefix")?>`)

// panelCells reads the session record panel of a page from its data attributes.
func panelCells(t *testing.T, body string) []rowCell {
	t.Helper()
	var cells []rowCell
	for _, m := range panelCellRe.FindAllStringSubmatch(body, -1) {
		cells = append(cells, rowCell{Column: html.UnescapeString(m[1]), Value: html.UnescapeString(m[2]), Cut: m[3] != ""})
	}
	if len(cells) == 0 {
		t.Fatalf("the page has no session record panel:\n%s", ids.Cut(body, 2000))
	}
	return cells
}

// checkPanels loads page and /api/state and compares both panels with the
// row each left behind.
func checkPanels(t *testing.T, srv *testServer, b *browser, action, page string) {
	t.Helper()
	r := b.get(page)
	if r.Status != http.StatusOK {
		t.Fatalf("after %s: GET %s = %d", action, page, r.Status)
	}
	comparePanel(t, action+", page "+page, panelCells(t, r.Body), readSessionRow(t, srv, b.sessionID()))

	r = b.get("/api/state")
	var st struct {
		Session struct {
			Data json.RawMessage `json:"data"`
			Row  []rowCell       `json:"row"`
		} `json:"session"`
	}
	if err := json.Unmarshal([]byte(r.Body), &st); err != nil {
		t.Fatalf("/api/state: %v", err)
	}
	row := readSessionRow(t, srv, b.sessionID())
	comparePanel(t, action+", /api/state", st.Session.Row, row)
	if i := slices.IndexFunc(st.Session.Row, func(c rowCell) bool { return c.Column == "data" }); i < 0 || string(st.Session.Data) != st.Session.Row[i].Value {
		t.Errorf("after %s: /api/state's data %s is not the data column as stored", action, st.Session.Data)
	}
}

func TestSessionPanelIsTheRowAsStored(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		b := srv.newBrowser(t)
		submit := func(path string, form url.Values) {
			t.Helper()
			if r := b.submit(path, form); r.Status != http.StatusSeeOther {
				t.Fatalf("POST %s = %d", path, r.Status)
			}
		}
		walk := []struct {
			action, page string
			do           func()
		}{
			{"first visit", "/", func() {}},
			{"browse", "/products/1", func() {}},
			{"add to cart", "/cart", func() { submit("/cart/add", url.Values{"product_id": {"2"}, "quantity": {"2"}}) }},
			{"change quantity", "/cart", func() { submit("/cart/update", url.Values{"product_id": {"2"}, "quantity": {"3"}}) }},
			{"reveal a hint", "/lessons/http-forgets", func() { submit("/lessons/http-forgets/hint", url.Values{"step": {"strangers"}}) }},
			{"answer a question", "/lessons/the-cookie", func() {
				l, _ := srv.app.lessons.Lesson("the-cookie")
				b.answerRight("the-cookie", l.Quiz[0].ID)
			}},
			{"switch a lab", "/lab/fixation", func() { b.setLabMode("fixation", "defended") }},
			{"log in", "/", func() { b.login("alice", "wonderland") }},
			{"add while logged in", "/cart", func() { submit("/cart/add", url.Values{"product_id": {"4"}, "quantity": {"1"}}) }},
			{"write a note", "/notes", func() { submit("/notes", url.Values{"text": {"panel check"}}) }},
			{"delete the note", "/notes", func() {
				ids := b.noteIDs()
				if len(ids) == 0 {
					t.Fatal("no note to delete")
				}
				submit("/notes/"+ids[0]+"/delete", nil)
			}},
			{"log out", "/", func() { submit("/logout", nil) }},
			{"come back later", "/cart", func() { srv.clock.Advance(2 * time.Minute) }},
		}
		for _, s := range walk {
			s.do()
			checkPanels(t, srv, b, s.action, s.page)
		}
	})
}

// shopSessionKeys is all a session's data may hold: what a shop's session
// holds (the user is the user_id column). Progress, lab switches and the
// server's bookkeeping live elsewhere.
var shopSessionKeys = []string{"csrf_token", "cart"}

// shopSessionMaxBytes bounds the data column: a token and a cart of a few lines.
const shopSessionMaxBytes = 320

// checkShopSessionData fails unless the browser's session row (if it has
// one) holds only a shop's session in its data; it returns the data's size.
func checkShopSessionData(t testing.TB, srv *testServer, b *browser, after string) int {
	t.Helper()
	id := b.sessionID()
	if id == "" {
		return 0
	}
	var data string
	if err := srv.db.W.Get(&data, "SELECT data FROM sessions WHERE `key` = ?", ids.Hash(id)); err != nil {
		return 0 // the jar holds a cookie whose row is gone (replayed after logout): no row, no data
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(data), &m); err != nil {
		t.Fatalf("after %s: data is not a JSON object: %q", after, data)
	}
	for k := range m {
		if !slices.Contains(shopSessionKeys, k) {
			t.Errorf("after %s: the session's data holds %q; a shop's session holds only %v: %s", after, k, shopSessionKeys, data)
		}
	}
	if _, ok := m["csrf_token"]; !ok {
		t.Errorf("after %s: the session's data has no csrf_token: %s", after, data)
	}
	if len(data) > shopSessionMaxBytes {
		t.Errorf("after %s: the session's data is %d bytes (bound %d): %s", after, len(data), shopSessionMaxBytes, data)
	}
	return len(data)
}

// A learner's progress and lab switches go when no session links to them
// any more (expired and swept, or logged out: a new session is a new
// learner); an account's progress stays for its next login.
func TestSweepForgetsLearnersNoSessionLinksTo(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		gone := srv.newBrowser(t)
		gone.submit("/lessons/http-forgets/hint", url.Values{"step": {"strangers"}})
		gone.setLabMode("fixation", "defended")
		// bob's account has a home learner (as one signed up from a
		// browser has): its progress waits for the next login.
		bob := srv.newBrowser(t)
		bob.get("/lessons/the-cookie")
		var bobLearner string
		if err := srv.db.W.Get(&bobLearner, "SELECT learner FROM sessions WHERE `key` = ?", ids.Hash(bob.sessionID())); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.db.W.Exec(srv.db.W.Rebind("INSERT INTO home_learners (user_id, learner) SELECT id, ? FROM users WHERE username = 'bob'"), bobLearner); err != nil {
			t.Fatal(err)
		}
		bob.login("bob", "builder")
		var goneLearner string
		if err := srv.db.W.Get(&goneLearner, "SELECT learner FROM sessions WHERE `key` = ?", ids.Hash(gone.sessionID())); err != nil || goneLearner == "" {
			t.Fatalf("learner of the first browser: %q (%v)", goneLearner, err)
		}
		srv.clock.Advance(31 * time.Minute)
		stays := srv.newBrowser(t)
		stays.submit("/lessons/http-forgets/hint", url.Values{"step": {"strangers"}})
		stays.setLabMode("fixation", "weak")
		if _, err := srv.db.DeleteExpiredSessions(t.Context(), srv.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if n := count(t, srv, "SELECT COUNT(*) FROM lesson_progress WHERE owner = ?", "l:"+goneLearner); n != 0 {
			t.Errorf("the swept learner still has %d progress rows", n)
		}
		if n := count(t, srv, "SELECT COUNT(*) FROM lab_modes WHERE learner = ?", goneLearner); n != 0 {
			t.Errorf("the swept learner still has %d lab switches", n)
		}
		var staysLearner string
		if err := srv.db.W.Get(&staysLearner, "SELECT learner FROM sessions WHERE `key` = ?", ids.Hash(stays.sessionID())); err != nil {
			t.Fatal(err)
		}
		if n := count(t, srv, "SELECT COUNT(*) FROM lesson_progress WHERE owner = ?", "l:"+staysLearner); n == 0 {
			t.Error("the sweep took the live browser's progress")
		}
		if n := count(t, srv, "SELECT COUNT(*) FROM lab_modes WHERE learner = ?", staysLearner); n != 1 {
			t.Errorf("the live browser has %d lab switches after the sweep, want 1", n)
		}
		if n := count(t, srv, "SELECT COUNT(*) FROM lesson_progress WHERE owner = ?", "l:"+bobLearner); n == 0 {
			t.Error("the sweep took the progress of bob's home learner")
		}
	})
}
