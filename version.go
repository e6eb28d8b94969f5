package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is set by scripts/release.sh (-ldflags "-X main.version=…", from
// git describe); a plain go build leaves it empty and the module's own
// version from the build information is shown instead.
var version string

// buildInfo is what a binary knows about the source it was built from, so a
// learner's bug report can name the exact commit.
type buildInfo struct {
	Version  string
	Commit   string // vcs.revision: empty when built without version control information
	Date     string // vcs.time: the commit's time, so the same commit always says the same
	Modified bool   // vcs.modified: built from a checkout with uncommitted changes
	Go       string
	Platform string
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				b.Commit = s.Value
			case "vcs.time":
				b.Date = s.Value
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	return b
}

// runVersion is `sessionlab version` (and `-version`).
func runVersion(args []string, w io.Writer) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(w)
	fs.Usage = func() {
		fmt.Fprintln(w, "usage: sessionlab version\n\nPrints the version, the commit and its date this binary was built from.")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("version takes no arguments, got %q", fs.Args())
	}
	b := readBuildInfo()
	commit, date := b.Commit, b.Date
	if commit == "" {
		commit = "unknown (built without version control information: build with scripts/release.sh or go build -buildvcs=true in a git checkout)"
	} else if b.Modified {
		commit += " (with uncommitted changes)"
	}
	if date == "" {
		date = "unknown"
	}
	_, err := fmt.Fprintf(w, "sessionlab %s\ncommit  %s\ndate    %s\ngo      %s %s\n", b.Version, commit, date, b.Go, b.Platform)
	return err
}
