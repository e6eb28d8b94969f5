package main

import "testing"

// learnersBySQL counts the class's learners straight from the tables: the
// learners with a done step that a live session links to or that are an
// account's home learner. A session without a step (a curl, a flood) is
// not a learner; an account shared by many browsers is many learners.
func learnersBySQL(t testing.TB, s *testServer) int {
	t.Helper()
	var live, home, owners []string
	if err := s.db.W.Select(&live, "SELECT DISTINCT learner FROM sessions"); err != nil {
		t.Fatal(err)
	}
	if err := s.db.W.Select(&home, "SELECT learner FROM home_learners"); err != nil {
		t.Fatal(err)
	}
	if err := s.db.W.Select(&owners, "SELECT DISTINCT owner FROM lesson_progress WHERE done = 1"); err != nil {
		t.Fatal(err)
	}
	linked := map[string]bool{}
	for _, l := range append(live, home...) {
		linked["l:"+l] = true
	}
	n := 0
	for _, o := range owners {
		if linked[o] {
			n++
		}
	}
	return n
}
