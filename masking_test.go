package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"sessionlab/db"
	"sessionlab/internal/dbcmd"
)

// No command prints a database password, whatever shape the URL has.
func TestCommandsNeverPrintThePassword(t *testing.T) {
	for _, u := range []string{
		"mysql://u:topsecretpw@127.0.0.1:1/db",
		"mysql://u:secretpw/x@127.0.0.1:1/db",
		"postgres://u:topsecretpw@h st/db",
		"postgres://u:topsecretpw@h/db",
		"mysql://u:topsecretpw@no-such-host.invalid:3306/db",
	} {
		for _, args := range [][]string{
			{"check", "-db", u},
			{"migrate", "-db", u},
			{"clearsessions", "-db", u},
			{"copy", "--from", u, "--to", "sqlite:" + t.TempDir() + "/x.db"},
			{"copy", "--from", "sqlite:" + t.TempDir() + "/y.db", "--to", u},
		} {
			var out, errOut bytes.Buffer
			err := dbcmd.Run(args, &out, &errOut)
			text := out.String() + errOut.String()
			if err != nil {
				text += err.Error()
			}
			if strings.Contains(text, "secretpw") {
				t.Errorf("db %v prints the password:\n%s", args[0], text)
			}
		}
		var logs bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&logs, nil))
		if err := serve([]string{"-db", u, "-addr", "127.0.0.1:0"}, logger); err == nil || strings.Contains(err.Error()+logs.String(), "secretpw") {
			t.Errorf("serve with %s: err %v, logs:\n%s", db.MaskURL(u), err, logs.String())
		}
	}
}
