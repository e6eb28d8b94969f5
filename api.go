package main

import (
	"github.com/gofiber/fiber/v2"

	"sessionlab/ids"
)

// apiState is the three panels as JSON. It never echoes the whole session
// ID: a script that could read it would have what HttpOnly hides.
func (a *app) apiState(c *fiber.Ctx) error {
	rs := state(c)
	cookie := fiber.Map{"name": cookieName, "present": rs.cookieSent != "", "prefix": ids.Prefix(rs.cookieSent), "length": len(rs.cookieSent), "state": rs.cookieState}
	var sess any
	if p := a.sessionPanel(rs); p != nil {
		sess = p
	}
	cart, err := a.cart(c)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"cookie": cookie, "session": sess, "cart": cart, "served_by": a.cfg.Instance})
}

// healthz reports whether the database answers.
func (a *app) healthz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if err := a.db.Ping(c.UserContext()); err != nil {
		a.log.Warn("healthz: database unreachable", "err", err)
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "db": a.db.Dialect()})
	}
	return c.JSON(fiber.Map{"status": "ok", "db": a.db.Dialect()})
}
