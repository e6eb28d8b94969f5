package main

import (
	"regexp"
	"testing"

	"sessionlab/db"
)

// The top bar tells where you are: the section's own page is the current
// page, anything below it (a lesson, a lab, a product) is in that section.
func TestNavMarksTheCurrentSection(t *testing.T) {
	srv := startServer(t, freshDatabase(t, db.SQLite))
	b := srv.newBrowser(t)
	current := regexp.MustCompile(`<a href="([^"]*)" aria-current="([^"]*)"`)
	for path, want := range map[string][2]string{
		"/":                   {"/", "page"},
		"/products/2":         {"/", "true"},
		"/lessons":            {"/lessons", "page"},
		"/lessons/logging-in": {"/lessons", "true"},
		"/lab":                {"/lab", "page"},
		"/lab/fixation":       {"/lab", "true"},
		"/cart":               {"/cart", "page"},
	} {
		got := current.FindAllStringSubmatch(b.get(path).Body, -1)
		if len(got) != 1 || got[0][1] != want[0] || got[0][2] != want[1] {
			t.Errorf("%s: nav marks %v, want %s as %q only", path, got, want[0], want[1])
		}
	}
}
