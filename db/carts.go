package db

import (
	"context"
)

// CartItem is one line of a cart, with its product's name and price.
type CartItem struct {
	ProductID      int64  `db:"product_id" json:"product_id"`
	Name           string `db:"name" json:"name"`
	Quantity       int    `db:"quantity" json:"quantity"`
	UnitPriceCents int64  `db:"price_cents" json:"unit_price_cents"`
}

// MaxQuantity is the most of one product a cart may hold.
const MaxQuantity = 99

const cartQuery = `SELECT c.product_id, p.name, c.quantity, p.price_cents FROM cart_items c JOIN products p ON p.id = c.product_id WHERE c.user_id = ? ORDER BY c.product_id`

// CartItems reads a logged-in user's saved cart in one query.
func (d *DB) CartItems(ctx context.Context, userID int64) ([]CartItem, error) {
	var items []CartItem
	err := d.sel(ctx, d.R, &items, cartQuery, userID)
	return items, err
}

// CartItems reads the user's cart inside the transaction.
func (tx *Tx) CartItems(ctx context.Context, userID int64) ([]CartItem, error) {
	var items []CartItem
	err := tx.sel(ctx, &items, cartQuery, userID)
	return items, err
}

// AddToCart adds quantity of a product to the user's saved cart, capped at
// MaxQuantity, in one statement (an upsert, so concurrent adds all count).
func (tx *Tx) AddToCart(ctx context.Context, userID, productID int64, quantity int) error {
	q := `INSERT INTO cart_items (user_id, product_id, quantity) VALUES (?, ?, ?)
		ON CONFLICT (user_id, product_id) DO UPDATE SET quantity = MIN(99, cart_items.quantity + excluded.quantity)`
	if tx.Dialect() == MariaDB {
		q = `INSERT INTO cart_items (user_id, product_id, quantity) VALUES (?, ?, ?)
		ON DUPLICATE KEY UPDATE quantity = LEAST(99, quantity + VALUES(quantity))`
	}
	_, err := tx.exec(ctx, q, userID, productID, quantity)
	return err
}

// SetCartQuantity sets a line's quantity; 0 removes it.
func (tx *Tx) SetCartQuantity(ctx context.Context, userID, productID int64, quantity int) error {
	if quantity <= 0 {
		_, err := tx.exec(ctx, `DELETE FROM cart_items WHERE user_id = ? AND product_id = ?`, userID, productID)
		return err
	}
	q := `INSERT INTO cart_items (user_id, product_id, quantity) VALUES (?, ?, ?)
		ON CONFLICT (user_id, product_id) DO UPDATE SET quantity = excluded.quantity`
	if tx.Dialect() == MariaDB {
		q = `INSERT INTO cart_items (user_id, product_id, quantity) VALUES (?, ?, ?)
		ON DUPLICATE KEY UPDATE quantity = VALUES(quantity)`
	}
	_, err := tx.exec(ctx, q, userID, productID, quantity)
	return err
}
