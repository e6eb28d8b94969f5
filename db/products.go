package db

import "context"

// Product is one item of the catalog.
type Product struct {
	ID          int64  `db:"id"`
	Name        string `db:"name"`
	Description string `db:"description"`
	PriceCents  int64  `db:"price_cents"`
	Image       string `db:"image"` // file name under static/products/
}

// Products returns the catalog in id order.
func (d *DB) Products(ctx context.Context) ([]Product, error) {
	var ps []Product
	err := d.sel(ctx, d.R, &ps, `SELECT id, name, description, price_cents, image FROM products ORDER BY id`)
	return ps, err
}

// Product returns one product, or ErrNotFound.
func (d *DB) Product(ctx context.Context, id int64) (*Product, error) {
	var p Product
	if err := d.get(ctx, d.R, &p, `SELECT id, name, description, price_cents, image FROM products WHERE id = ?`, id); err != nil {
		return nil, err
	}
	return &p, nil
}

// ProductsByID returns the products with these ids, keyed by id.
func (d *DB) ProductsByID(ctx context.Context) (map[int64]Product, error) {
	ps, err := d.Products(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[int64]Product, len(ps))
	for _, p := range ps {
		m[p.ID] = p
	}
	return m, nil
}
