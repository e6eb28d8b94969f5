package main

import (
	"strings"
	"testing"

	"sessionlab/internal/loadtest"
)

// A short run of every load-test mode against the server main starts
// in-process: the code path stays working; the figures themselves come from
// `loadtest`.
func TestLoadtestSmokeRunsEveryModeWithoutErrors(t *testing.T) {
	var out strings.Builder
	err := loadtest.Run([]string{"-inprocess", "-mode", "all", "-duration", "300ms", "-think", "0",
		"-learners", "3", "-browsers", "2", "-storm", "3", "-sessions", "40"}, &out, startInProcess)
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
