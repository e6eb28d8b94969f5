package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"sessionlab/db"
	"sessionlab/events"
)

const maxNote = 500

// maxNotes caps a user's notes: the page lists them all, and at 10,000 it
// weighed 8.6 MB. A thousand is more than a class ever writes.
const maxNotes = 1000

func (a *app) notesShow(c *fiber.Ctx) error {
	notes, err := a.db.Notes(c.UserContext(), state(c).sess.userID())
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "notes", "Sticky notes", fiber.Map{"Notes": notes, "Max": maxNote, "Cap": maxNotes})
}

func (a *app) noteAdd(c *fiber.Ctx) error {
	text := strings.TrimSpace(string(c.Request().PostArgs().Peek("text")))
	if n := utf8.RuneCountInString(text); n < 1 || n > maxNote || !utf8.ValidString(text) {
		return fiber.NewError(fiber.StatusBadRequest, "A note needs 1 to 500 characters of text. Nothing was saved.")
	}
	err := a.change(c, func(ctx context.Context, tx *db.Tx, s *session) error {
		id, err := tx.AddNote(ctx, s.userID(), text, a.now(), maxNotes)
		if err != nil {
			return err
		}
		state(c).record(events.NoteAdded, map[string]string{"id": strconv.FormatInt(id, 10)})
		return nil
	})
	if errors.Is(err, db.ErrTooManyNotes) {
		return fiber.NewError(fiber.StatusUnprocessableEntity, fmt.Sprintf("You already have %d notes, the most one account can keep. Delete one to make room. Nothing was saved.", maxNotes))
	}
	if err != nil {
		return err
	}
	return a.redirect(c, "/notes")
}

func (a *app) noteDelete(c *fiber.Ctx) error {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return fiber.NewError(fiber.StatusNotFound, "No such note.")
	}
	err = a.change(c, func(ctx context.Context, tx *db.Tx, s *session) error {
		// Only the owner's row can match: another user's note is "not found",
		// which also hides whether it exists.
		if err := tx.DeleteNote(ctx, s.userID(), id); err != nil {
			return err
		}
		state(c).record(events.NoteDeleted, map[string]string{"id": strconv.FormatInt(id, 10)})
		return nil
	})
	if errors.Is(err, db.ErrNotFound) {
		return fiber.NewError(fiber.StatusNotFound, "No such note among yours. Nothing was deleted.")
	}
	if err != nil {
		return err
	}
	return a.redirect(c, "/notes")
}
