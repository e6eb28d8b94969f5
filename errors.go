package main

import (
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"sessionlab/db"
)

// handleError is the one place errors become responses: a *fiber.Error keeps
// its status and (our own, friendly) message; a database outage is a 503 that
// says the data is safe; anything else is logged and shown as a generic 500.
// err.Error() of an internal error never reaches the client.
func (a *app) handleError(c *fiber.Ctx, err error) error {
	status := fiber.StatusInternalServerError
	title := "Something went wrong"
	msg := "The server hit an unexpected error. It has been logged; nothing you did caused it. Try again in a moment."
	var fe *fiber.Error
	switch {
	case errors.As(err, &fe):
		status = fe.Code
		title = statusTitle(status)
		msg = friendly(fe)
	case db.IsUnavailable(err):
		status = fiber.StatusServiceUnavailable
		title = "The database is unavailable"
		msg = "The database is unavailable right now; your data is safe. Try again in a few seconds."
		c.Set(fiber.HeaderRetryAfter, "2")
		a.log.Warn("database unavailable", "route", c.Route().Path, "method", c.Method(), "err", err)
	default:
		a.log.Error("request failed", "route", c.Route().Path, "method", c.Method(), "err", err)
	}
	a.setSecurityHeaders(c)
	c.Set(fiber.HeaderCacheControl, "no-store")
	if wantsJSON(c) {
		return c.Status(status).JSON(fiber.Map{"error": msg, "status": status})
	}
	if forTerminal(c) {
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Status(status).SendString(fmt.Sprintf("%d %s\n%s\n", status, title, msg))
	}
	c.Status(status)
	if rerr := c.Render("error", fiber.Map{"Title": title, "Status": status, "Message": msg, "Page": a.errorPage(c)}); rerr != nil {
		a.log.Error("render error page", "err", rerr)
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Status(status).SendString(fmt.Sprintf("%d %s\n%s\n", status, title, msg))
	}
	return nil
}

// serverError answers what fasthttp refuses before any route runs: a request
// it cannot parse, a body or headers over the limits. It replaces Fiber's
// own handler, which passes fasthttp's message on to the page, and that
// message quotes the raw request: attacker bytes reflected back. Ours says
// what was wrong in fixed words.
func (a *app) serverError(fctx *fasthttp.RequestCtx, err error) {
	c := a.fiber.AcquireCtx(fctx)
	defer a.fiber.ReleaseCtx(c)
	var small *fasthttp.ErrSmallBuffer
	var ne net.Error
	var fe *fiber.Error
	switch {
	case errors.As(err, &small):
		fe = fiber.ErrRequestHeaderFieldsTooLarge
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		fe = fiber.ErrRequestEntityTooLarge
	case errors.As(err, &ne) && ne.Timeout(), strings.Contains(err.Error(), "timeout"):
		fe = fiber.NewError(fiber.StatusRequestTimeout, "The request took too long to arrive. Nothing was changed.")
	default:
		fe = fiber.NewError(fiber.StatusBadRequest, "The server could not read that HTTP request: it is malformed. Nothing was changed.")
	}
	a.log.Info("request refused before routing", "status", fe.Code, "remote", fctx.RemoteIP().String())
	if herr := a.handleError(c, fe); herr != nil {
		a.log.Error("error handler failed", "err", herr)
		c.Status(fe.Code)
	}
}

// friendly turns Fiber's own messages (body too large, header too big, ...)
// into sentences; ours are already written for people.
func friendly(fe *fiber.Error) string {
	switch fe.Code {
	case fiber.StatusRequestEntityTooLarge:
		return "That request was too large (the limit is 64 KiB). Nothing was changed."
	case fiber.StatusRequestHeaderFieldsTooLarge:
		return "The request's headers (probably a huge cookie) were too large. Nothing was changed."
	case fiber.StatusMethodNotAllowed:
		return "That address does not take this kind of request."
	case fiber.StatusNotFound:
		if fe.Message == "Not Found" || strings.HasPrefix(fe.Message, "Cannot ") {
			return "There is no page at this address. Try the catalog or the lessons."
		}
	}
	return fe.Message
}

func statusTitle(code int) string {
	switch code {
	case fiber.StatusBadRequest:
		return "That request did not make sense"
	case fiber.StatusUnauthorized:
		return "Please log in"
	case fiber.StatusForbidden:
		return "Refused"
	case fiber.StatusNotFound:
		return "Not found"
	case fiber.StatusConflict:
		return "Your session changed"
	case fiber.StatusTooManyRequests:
		return "Too many attempts"
	case fiber.StatusServiceUnavailable:
		return "Busy or unavailable"
	}
	if code >= 400 && code < 500 {
		return "Request refused"
	}
	return "Something went wrong"
}

// forTerminal: a route only a terminal calls (POST /lessons/link) answers
// its errors as a line of text, which curl prints, not as a page.
func forTerminal(c *fiber.Ctx) bool { return c.Path() == "/lessons/link" }

func wantsJSON(c *fiber.Ctx) bool {
	return strings.HasPrefix(c.Path(), "/api/") || strings.Contains(c.Get(fiber.HeaderAccept), "application/json") && !strings.Contains(c.Get(fiber.HeaderAccept), "text/html")
}

func (a *app) notFound(c *fiber.Ctx) error {
	return fiber.NewError(fiber.StatusNotFound, "There is no page at this address. Try the catalog or the lessons.")
}

// recoverPanics turns a panic into a logged 500 instead of a dropped connection.
func (a *app) recoverPanics(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			a.log.Error("panic", "route", c.Path(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = errors.New("panic")
		}
	}()
	return c.Next()
}
