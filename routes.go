package main

import (
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
)

// routes is the map of the site, in docs/CONTRACT.md's order. Middleware is
// attached per route, not with a prefix-wide Use: a Group("") would run its
// middleware for every path, including the API and 404s.
func (a *app) routes() {
	f := a.fiber
	f.Use(a.recoverPanics, a.securityHeaders)

	f.Use("/static", filesystem.New(filesystem.Config{
		Root:       http.FS(staticFS),
		PathPrefix: "static",
		MaxAge:     int((24 * time.Hour).Seconds()),
	}))
	f.Get("/healthz", a.healthz)
	f.Get("/favicon.ico", a.favicon)

	// page: every shop page has a session (one is issued if needed), every
	// POST must carry the session's CSRF token and is one unit of work whose
	// answer the next page shows.
	page := func(h ...fiber.Handler) []fiber.Handler {
		return append([]fiber.Handler{a.withSession, a.recordExchange, a.csrfProtect}, h...)
	}
	// userPage: the same, for logged-in users only.
	userPage := func(h ...fiber.Handler) []fiber.Handler {
		return page(append([]fiber.Handler{a.requireUser}, h...)...)
	}
	// signup: a page, unless the server runs with -signup=false (then a 404
	// that says so, before any session is issued).
	signup := func(h fiber.Handler) []fiber.Handler {
		return append([]fiber.Handler{a.signupOpen}, page(h)...)
	}
	// api: reads the session but never issues one ("session": null without).
	api := func(h fiber.Handler) []fiber.Handler {
		return []fiber.Handler{a.withExistingSession, h}
	}

	f.Get("/", page(a.catalog)...)
	f.Get("/products/:id", page(a.productShow)...)
	f.Post("/cart/add", page(a.cartAdd)...)
	f.Post("/cart/update", page(a.cartUpdate)...)
	f.Get("/cart", page(a.cartShow)...)
	f.Get("/login", page(a.loginShow)...)
	f.Post("/login", page(a.loginPost)...)
	f.Get("/signup", signup(a.signupShow)...)
	f.Post("/signup", signup(a.signupPost)...)
	f.Post("/logout", page(a.logoutPost)...)
	f.Get("/account", userPage(a.accountShow)...)
	f.Post("/account/password", userPage(a.accountPassword)...)
	f.Post("/account/sessions/end", userPage(a.accountEndSession)...)
	f.Post("/account/sessions/end-others", userPage(a.accountEndOthers)...)
	f.Get("/notes", userPage(a.notesShow)...)
	f.Post("/notes", userPage(a.noteAdd)...)
	f.Post("/notes/:id/delete", userPage(a.noteDelete)...)
	f.Get("/lessons", page(a.lessonsIndex)...)
	f.Post("/lessons/reset", page(a.lessonsReset)...)
	f.Post("/lessons/link", page(a.lessonLink)...)
	f.Get("/lessons/:slug", page(a.lessonShow)...)
	f.Post("/lessons/:slug/answer", page(a.lessonAnswer)...)
	f.Post("/lessons/:slug/hint", page(a.lessonHint)...)
	f.Post("/lessons/:slug/unlink", page(a.lessonUnlink)...)

	// Attack labs (issue 4). The shop's lab pages use the page chain (the
	// learner's session, CSRF on every POST). The lab site under
	// /lab/{slug}/site is the deliberately weak site: it only reads the shop
	// session (to credit the learner), never issues or changes its rules, and
	// keeps its own cookies (Path=/lab) and table.
	labSite := func(h fiber.Handler) []fiber.Handler {
		return []fiber.Handler{a.withExistingSession, h}
	}
	// labRecord: a lab-site POST that records an outcome in the learner's
	// lessons needs the shop cookie and its CSRF token, like any shop POST.
	labRecord := func(h fiber.Handler) []fiber.Handler {
		return []fiber.Handler{a.withExistingSession, a.csrfProtect, h}
	}
	// The client-side lab's site reads no shop session at all: its handlers
	// run without the session chain, so sessionid is neither read nor set.
	f.Get("/lab/client-side/site", a.csHome)
	f.Get("/lab/client-side/site/account", a.csAccount)
	f.Post("/lab/client-side/site/login", a.csLogin)
	f.Post("/lab/client-side/site/logout", a.csLogout)
	f.Post("/lab/client-side/site/cart/add", a.csCartAdd)
	f.Post("/lab/client-side/use", page(a.csUse)...)
	f.Post("/lab/client-side/steal", page(a.csSteal)...)
	f.Get("/lab", page(a.labIndex)...)
	f.Get("/lab/:slug", page(a.labShow)...)
	f.Post("/lab/:slug/mode", page(a.labSetMode)...)
	f.Post("/lab/:slug/sim", page(a.labSim)...)
	f.Post("/lab/:slug/use", page(a.labUse)...)
	f.Post("/lab/cross-site/attempt", page(a.crossSiteAttempt)...)
	f.Post("/lab/cross-site/record", page(a.crossSiteRecord)...)
	f.Get("/lab/cross-site/evil", a.crossSiteEvil)
	f.Post("/lab/cookie-theft/site/steal", labRecord(a.labSteal)...)
	f.Post("/lab/cross-site/site/cart/add", labSite(a.crossSiteAdd)...)
	f.Get("/lab/:slug/site", labSite(a.labSiteHome)...)
	f.Post("/lab/:slug/site/login", labSite(a.labSiteLogin)...)
	f.Post("/lab/:slug/site/logout", labSite(a.labSiteLogout)...)
	f.Get("/lab/:slug/site/account", labSite(a.labSiteAccount)...)

	f.Get("/api/state", api(a.apiState)...)
	f.Get("/api/progress", api(a.apiProgress)...)

	// Classroom: the instructor's pages. instructor: the token (or the cookie
	// it was exchanged for) and, for the controls, the instructor's CSRF
	// token. No student session is read or issued here.
	instructor := func(h fiber.Handler) []fiber.Handler {
		return []fiber.Handler{a.instructorOnly, a.instructorCSRF, h}
	}
	f.Get("/instructor", instructor(a.instructorDashboard)...)
	f.Get("/instructor/state", instructor(a.instructorState)...)
	f.Get("/instructor/stream", instructor(a.instructorStream)...)
	f.Get("/instructor/qr.svg", instructor(a.instructorQR)...)
	f.Post("/instructor/reset", instructor(a.classReset)...)
	f.Post("/instructor/end-all", instructor(a.classEndAll)...)
	f.Post("/instructor/timeouts", instructor(a.classTimeouts)...)

	// Unmatched routes read an existing session (the panels show it) but
	// never create one: a 404 is not worth a row.
	f.Use(a.withExistingSession, a.notFound)
}
