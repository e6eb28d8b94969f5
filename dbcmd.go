package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"sessionlab/db"
)

// dbCommand runs "sessionlab db SUBCOMMAND".
func dbCommand(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: sessionlab db check|migrate|copy|clearsessions [-db URL]")
	}
	ctx := context.Background()
	fs := flag.NewFlagSet("db "+args[0], flag.ContinueOnError)
	url := fs.String("db", env("DATABASE_URL", "sqlite:sessionlab.db"), "database URL [DATABASE_URL]")
	switch args[0] {
	case "migrate":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		d, err := db.Connect(ctx, *url)
		if err != nil {
			return err
		}
		defer d.Close()
		applied, err := d.Migrate(ctx, func(v string) { fmt.Fprintln(out, "applied", v) })
		if err != nil {
			return err
		}
		if err := d.Seed(ctx); err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(out, "nothing to do: every migration is already applied")
		}
		return nil
	case "clearsessions":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		d, err := db.Connect(ctx, *url)
		if err != nil {
			return err
		}
		defer d.Close()
		n, err := d.DeleteExpiredSessions(ctx, time.Now().UTC())
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "deleted %d expired session(s)\n", n)
		return nil
	}
	return fmt.Errorf("unknown db command %q: use check, migrate, copy or clearsessions", args[0])
}
