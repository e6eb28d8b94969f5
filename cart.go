package main

import (
	"context"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"sessionlab/db"
	"sessionlab/events"
)

func (a *app) cartShow(c *fiber.Ctx) error {
	return a.render(c, fiber.StatusOK, "cart", "Your cart", nil)
}

// cartForm reads product_id and quantity from the POST body, refusing
// anything out of range before a transaction starts.
func (a *app) cartForm(c *fiber.Ctx, minQty int) (db.Product, int, error) {
	args := c.Request().PostArgs()
	p, err := a.productParam(string(args.Peek("product_id")))
	if err != nil {
		return db.Product{}, 0, fiber.NewError(fiber.StatusBadRequest, "Unknown product: product_id must be the number of a product in the catalog. Nothing was changed.")
	}
	q, err := strconv.Atoi(string(args.Peek("quantity")))
	if err != nil || q < minQty || q > db.MaxQuantity {
		return db.Product{}, 0, fiber.NewError(fiber.StatusBadRequest, "Quantity must be a whole number from "+strconv.Itoa(minQty)+" to 99. Nothing was changed.")
	}
	return p, q, nil
}

func (a *app) cartAdd(c *fiber.Ctx) error {
	p, q, err := a.cartForm(c, 1)
	if err != nil {
		return err
	}
	err = a.change(c, func(ctx context.Context, tx *db.Tx, s *session) error {
		detail := map[string]string{"product_id": strconv.FormatInt(p.ID, 10), "name": p.Name, "quantity": strconv.Itoa(q)}
		if s.loggedIn() {
			detail["where"] = "saved in cart_items"
			if err := tx.AddToCart(ctx, s.userID(), p.ID, q); err != nil {
				return err
			}
		} else {
			detail["where"] = "kept in the session record"
			s.data.Cart = addLine(s.data.Cart, p.ID, q, false)
		}
		state(c).record(events.CartAdded, detail)
		return nil
	})
	if err != nil {
		return err
	}
	return a.redirect(c, "/cart")
}

func (a *app) cartUpdate(c *fiber.Ctx) error {
	p, q, err := a.cartForm(c, 0)
	if err != nil {
		return err
	}
	err = a.change(c, func(ctx context.Context, tx *db.Tx, s *session) error {
		detail := map[string]string{"product_id": strconv.FormatInt(p.ID, 10), "name": p.Name, "quantity": strconv.Itoa(q)}
		if s.loggedIn() {
			detail["where"] = "saved in cart_items"
			if err := tx.SetCartQuantity(ctx, s.userID(), p.ID, q); err != nil {
				return err
			}
		} else {
			detail["where"] = "kept in the session record"
			s.data.Cart = addLine(s.data.Cart, p.ID, q, true)
		}
		kind := events.CartUpdated
		if q == 0 {
			kind = events.CartRemoved
		}
		state(c).record(kind, detail)
		return nil
	})
	if err != nil {
		return err
	}
	return a.redirect(c, "/cart")
}

// addLine adds q of a product to an anonymous cart (or sets it, with set),
// capped at 99; a quantity of 0 removes the line.
func addLine(lines []cartLine, id int64, q int, set bool) []cartLine {
	out := lines[:0:0]
	found := false
	for _, l := range lines {
		if l.ProductID == id {
			found = true
			if set {
				l.Quantity = q
			} else {
				l.Quantity = min(db.MaxQuantity, l.Quantity+q)
			}
		}
		if l.Quantity > 0 {
			out = append(out, l)
		}
	}
	if !found && q > 0 {
		out = append(out, cartLine{ProductID: id, Quantity: q})
	}
	return out
}
