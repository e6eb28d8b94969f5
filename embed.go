package main

import (
	"embed"

	"github.com/gofiber/fiber/v2"
)

// The binary carries its pages and assets: one file runs anywhere.
var (
	//go:embed views
	viewsFS embed.FS
	//go:embed static
	staticFS embed.FS
)

// favicon answers the browser's own /favicon.ico request (pages name the
// SVG, but browsers also ask here, and a 404 in the console is noise).
func (a *app) favicon(c *fiber.Ctx) error {
	b, err := staticFS.ReadFile("static/favicon.svg")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	c.Set(fiber.HeaderContentType, "image/svg+xml")
	return c.Send(b)
}
