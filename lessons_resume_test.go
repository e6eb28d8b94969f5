package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var bannerRe = regexp.MustCompile(`Lesson \d+, step \d+ of \d+:</a> [^<]*`)

func banner(t *testing.T, body string) string {
	t.Helper()
	m := bannerRe.FindString(body)
	if m == "" {
		t.Fatal("the page has no lesson banner")
	}
	return m
}

// A learner who logs out in the middle of lesson 4 lands back on the lesson
// with the banner on the same step, their ticks intact and the page saying
// what the logout did, while the login and the cart end with the old
// session (the resume code carries progress only). The code is single use and dies within minutes; without next the
// logout answers 303 / as the contract says.
func TestLoggingOutMidLessonKeepsTheLearnersPlace(t *testing.T) {
	forEachDB(t, func(t *testing.T, dbURL string) {
		srv := startServer(t, dbURL)
		b := srv.newBrowser(t)
		b.get("/lessons/logging-in")
		b.submit("/cart/add", url.Values{"product_id": {"2"}, "quantity": {"1"}})
		b.submit("/login", url.Values{"username": {"alice"}, "password": {"nope"}})
		b.login("alice", "wonderland")
		page := b.get("/cart")
		place := banner(t, page.Body)
		if !strings.Contains(place, "Lesson 4, step 5 of") {
			t.Fatalf("banner before logout = %q, want lesson 4 step 5", place)
		}
		if !strings.Contains(page.Body, `<input type="hidden" name="next" value="/lessons/logging-in">`) {
			t.Fatal("the top bar's logout form does not carry next back to the lesson")
		}
		before := b.progress()

		r := b.submit("/logout", url.Values{"next": {"/lessons/logging-in"}})
		loc := r.Header.Get("Location")
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, "/lessons/logging-in?resume=") {
			t.Fatalf("logout with next: %d → %q", r.Status, loc)
		}
		if b.sessionID() != "" {
			t.Fatal("the browser kept a sessionid after logout")
		}
		page = b.get(loc)
		if page.Status != http.StatusOK {
			t.Fatalf("the lesson page with the resume code: %d", page.Status)
		}
		if got := banner(t, page.Body); got != place {
			t.Errorf("banner after logout = %q, want %q", got, place)
		}
		if !strings.Contains(page.Body, "Lesson progress resumed") || !strings.Contains(page.Body, "Logged out") {
			t.Error("the lesson page does not say the logout happened and the progress was resumed")
		}
		if got := banner(t, b.get("/").Body); got != place {
			t.Errorf("banner on the next page = %q, want %q", got, place)
		}
		for k := range before {
			if !b.progress()[k] {
				t.Errorf("%s lost at logout", k)
			}
		}
		st := b.apiState()
		if st.Session == nil || st.Session.Authenticated || len(st.Cart.Items) != 0 {
			t.Errorf("after logout the session is %+v with cart %+v: the resume code must carry progress only", st.Session, st.Cart.Items)
		}

		// Single use: the same link in another browser links nothing.
		other := srv.newBrowser(t)
		other.get(loc)
		if other.progress()["logging-in/log-in"] {
			t.Error("a used resume code linked a second browser to the learner")
		}

		// Dead after a few minutes.
		b.login("alice", "wonderland")
		r = b.submit("/logout", url.Values{"next": {"/lessons/logging-in"}})
		srv.clock.Advance(3 * time.Minute)
		b.get(r.Header.Get("Location"))
		if b.progress()["logging-in/log-in"] {
			t.Error("an expired resume code still linked the new session")
		}

		// Without next, logout is the contract's 303 /.
		b.login("alice", "wonderland")
		if r := b.submit("/logout", nil); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/" {
			t.Errorf("logout without next: %d → %q, want 303 /", r.Status, r.Header.Get("Location"))
		}
	})
}
