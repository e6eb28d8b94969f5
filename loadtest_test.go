package main

import (
	"strings"
	"testing"
)

// A short run of every load-test mode against an in-process server: the
// code path stays working; the figures themselves come from `loadtest`.
func TestLoadtestSmokeRunsEveryModeWithoutErrors(t *testing.T) {
	var out strings.Builder
	err := loadtestCommand([]string{"-inprocess", "-mode", "all", "-duration", "300ms", "-think", "0",
		"-learners", "3", "-browsers", "2", "-storm", "3", "-sessions", "40"}, &out)
	t.Log(out.String())
	if err != nil {
		t.Fatalf("loadtest: %v", err)
	}
	for _, want := range []string{"== ceiling", "== read:", "== read-auth", "== flow", "== login-storm", "3 succeeded", "== sessions", "== targets"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}
