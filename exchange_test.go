package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"sessionlab/ids"
)

// What a form did reaches the page its 303 leads to from the server: the
// POST sets no cookie but sessionid, the next page says what the POST sent
// and received (across the rotation at login, with the old ID as sent and
// the new one as set), within the page view's budget, and only once.
func TestTheLastFormIsKeptOnTheServerAndShownOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		b := srv.newBrowser(t)
		b.get("/")
		r := b.submit("/cart/add", url.Values{"product_id": {"2"}, "quantity": {"1"}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("add: %d", r.Status)
		}
		if sc := r.Header.Values("Set-Cookie"); len(sc) != 0 {
			t.Errorf("the POST set cookies %v; the session already has its one cookie", sc)
		}
		before := srv.db.Snapshot()
		page := b.get("/cart")
		d := srv.db.Snapshot().Sub(before)
		if !strings.Contains(page.Body, `data-exchange="last" data-method="POST" data-path="/cart/add" data-status="303" data-location="/cart"`) {
			t.Fatalf("the page after the form does not say what the form did:\n%s", page.Body)
		}
		if d.Selects > 2 || d.Writes > 1 || d.Txs != 0 {
			t.Errorf("the page after a form ran %d SELECTs, %d writes, %d transactions; budget: ≤ 2 SELECTs and the one write that forgets the shown record", d.Selects, d.Writes, d.Txs)
		}
		if again := b.get("/cart"); strings.Contains(again.Body, `data-exchange="last"`) {
			t.Error("the record of the form was shown twice")
		}

		old := b.sessionID()
		b.login("alice", "wonderland")
		page = b.get("/")
		newID := b.sessionID()
		if !strings.Contains(page.Body, `data-method="POST" data-path="/login" data-status="303"`) {
			t.Fatalf("the page after login does not show the login's exchange:\n%s", page.Body)
		}
		last := page.Body[strings.Index(page.Body, `data-exchange="last"`):]
		last = last[:strings.Index(last, "</div>")]
		if !strings.Contains(last, `data-cookie="sessionid" data-prefix="`+ids.Prefix(old)+`"`) {
			t.Errorf("the login's exchange does not show the old ID %s… as the one sent:\n%s", ids.Prefix(old), last)
		}
		if !strings.Contains(last, `data-set-cookie="sessionid" data-prefix="`+ids.Prefix(newID)+`"`) {
			t.Errorf("the login's exchange does not show Set-Cookie with the new ID %s…:\n%s", ids.Prefix(newID), last)
		}
		var n int
		if err := srv.db.R.Get(&n, "SELECT COUNT(*) FROM exchanges WHERE data <> ''"); err != nil || n != 0 {
			t.Errorf("exchanges holds %d records not yet shown after every record was shown (%v)", n, err)
		}
	})
}
