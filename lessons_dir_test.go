package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sessionlab/db"
)

// copyLessons copies the built-in lesson files into a folder an instructor
// could edit, applying edit to the named file.
func copyLessons(t *testing.T, name string, edit func(string) string) string {
	t.Helper()
	dir := t.TempDir()
	files, err := filepath.Glob("lessons/content/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no lesson files: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if filepath.Base(f) == name {
			text = edit(text)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// An instructor edits a lesson's text in a copy of the lesson files and
// starts the server with -lessons: the page shows the edit, no Go involved.
func TestInstructorEditsALessonWithoutTouchingGo(t *testing.T) {
	dir := copyLessons(t, "01-http-forgets.md", func(s string) string {
		return strings.Replace(s, "title: HTTP forgets", "title: HTTP forgets (Room 101 edition)", 1)
	})
	srv := startServer(t, freshDatabase(t, db.SQLite), func(c *config) { c.LessonsDir = dir })
	page := srv.newBrowser(t).get("/lessons/http-forgets")
	if !strings.Contains(page.Body, "Room 101 edition") {
		t.Fatal("the edited lesson title is not on the page")
	}
}

// A broken lesson file stops the server at start with the file and the
// problem named, instead of leaving a learner stuck on a step that can
// never complete.
func TestABrokenLessonFileStopsTheServerAtStart(t *testing.T) {
	for name, edit := range map[string]func(string) string{
		"unknown trigger": func(s string) string {
			return strings.Replace(s, "event: request", "event: session.teleported", 1)
		},
		"broken link": func(s string) string { return s + "\nSee [the next lesson](/lessons/no-such-lesson).\n" },
	} {
		t.Run(name, func(t *testing.T) {
			dir := copyLessons(t, "01-http-forgets.md", edit)
			cfg := defaultConfig()
			cfg.Addr, cfg.DBURL, cfg.LessonsDir = "127.0.0.1:0", freshDatabase(t, db.SQLite), dir
			srv, err := startApp(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err == nil {
				srv.stop(t.Context())
				t.Fatal("the server started with a broken lesson file")
			}
			if !strings.Contains(err.Error(), "01-http-forgets.md") {
				t.Errorf("the error does not name the file: %v", err)
			}
		})
	}
}
