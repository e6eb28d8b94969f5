package main

import (
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2/middleware/filesystem"
)

// routes is the map of the site, in CONTRACT.md's order.
func (a *app) routes() {
	f := a.fiber
	f.Use(a.recoverPanics, a.securityHeaders)

	f.Use("/static", filesystem.New(filesystem.Config{
		Root:       http.FS(staticFS),
		PathPrefix: "static",
		MaxAge:     int((24 * time.Hour).Seconds()),
	}))
	f.Get("/healthz", a.healthz)

	// dynamic: every shop page has a session (one is issued if needed) and
	// every POST must carry the session's CSRF token.
	dynamic := f.Group("", a.withSession, a.csrfProtect)
	dynamic.Get("/", a.catalog)
	dynamic.Get("/products/:id", a.productShow)
	dynamic.Post("/cart/add", a.cartAdd)
	dynamic.Post("/cart/update", a.cartUpdate)
	dynamic.Get("/cart", a.cartShow)
	dynamic.Get("/login", a.loginShow)
	dynamic.Post("/login", a.loginPost)
	dynamic.Post("/logout", a.logoutPost)
	dynamic.Get("/account", a.requireUser, a.accountShow)
	dynamic.Post("/account/sessions/end", a.requireUser, a.accountEndSession)
	dynamic.Post("/account/sessions/end-others", a.requireUser, a.accountEndOthers)
	dynamic.Get("/notes", a.requireUser, a.notesShow)
	dynamic.Post("/notes", a.requireUser, a.noteAdd)
	dynamic.Post("/notes/:id/delete", a.requireUser, a.noteDelete)

	// The API reads the session but never issues one: a request without a
	// valid cookie gets "session": null.
	api := f.Group("/api", a.withExistingSession)
	api.Get("/state", a.apiState)

	f.Use(a.notFound)
}
