package main

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"sessionlab/db"
)

func (a *app) catalog(c *fiber.Ctx) error {
	return a.render(c, fiber.StatusOK, "catalog", "Catalog", fiber.Map{"Products": a.products})
}

func (a *app) productShow(c *fiber.Ctx) error {
	p, err := a.productParam(c.Params("id"))
	if err != nil {
		return err
	}
	return a.render(c, fiber.StatusOK, "product", p.Name, fiber.Map{"Product": p})
}

var errUnknownProduct = fiber.NewError(fiber.StatusNotFound, "There is no such product. Pick one from the catalog.")

// productParam parses a product id from a path or form and finds it.
func (a *app) productParam(raw string) (db.Product, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return db.Product{}, errUnknownProduct
	}
	p, ok := a.byID[id]
	if !ok {
		return db.Product{}, errUnknownProduct
	}
	return p, nil
}
