package db

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// SeedUsers are the demo accounts of docs/CONTRACT.md.
var SeedUsers = []struct{ Username, Password string }{
	{"alice", "wonderland"},
	{"bob", "builder"},
}

// SeedProducts is the mock department store's catalog.
var SeedProducts = []Product{
	{ID: 1, Name: "Porcelain Teapot", Description: "A round white teapot that pours without dripping. Holds four cups.", PriceCents: 2499, Image: "teapot.svg"},
	{ID: 2, Name: "Storm Umbrella", Description: "Wind-proof ribs and a wooden handle; opens with one click.", PriceCents: 1899, Image: "umbrella.svg"},
	{ID: 3, Name: "Wool Scarf", Description: "Soft merino, two metres long, in a calm teal stripe.", PriceCents: 3450, Image: "scarf.svg"},
	{ID: 4, Name: "Desk Lamp", Description: "An adjustable arm lamp with a warm LED bulb.", PriceCents: 4200, Image: "lamp.svg"},
	{ID: 5, Name: "Dotted Notebook", Description: "A5, 160 pages of dotted paper that fountain pens love.", PriceCents: 1250, Image: "notebook.svg"},
	{ID: 6, Name: "Canvas Sneakers", Description: "Light everyday shoes with a rubber sole.", PriceCents: 5900, Image: "sneakers.svg"},
	{ID: 7, Name: "Studio Headphones", Description: "Closed-back headphones with a long, detachable cable.", PriceCents: 8900, Image: "headphones.svg"},
	{ID: 8, Name: "Travel Backpack", Description: "25 litres, a padded laptop sleeve and a hidden pocket.", PriceCents: 6450, Image: "backpack.svg"},
}

// Seed inserts the demo users and the catalog once; later starts find them
// and change nothing.
func (d *DB) Seed(ctx context.Context) error {
	var n int
	if err := d.get(ctx, d.W, &n, `SELECT COUNT(*) FROM users`); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if n == 0 {
		for _, u := range SeedUsers {
			hash, err := bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.DefaultCost)
			if err != nil {
				return fmt.Errorf("seed: hash: %w", err)
			}
			if _, err := d.exec(ctx, d.W, `INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)`, u.Username, string(hash), time.Now().UTC()); err != nil {
				return fmt.Errorf("seed: user %s: %w", u.Username, err)
			}
		}
	}
	if err := d.get(ctx, d.W, &n, `SELECT COUNT(*) FROM products`); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if n == 0 {
		for _, p := range SeedProducts {
			if _, err := d.exec(ctx, d.W, `INSERT INTO products (id, name, description, price_cents, image) VALUES (?, ?, ?, ?, ?)`, p.ID, p.Name, p.Description, p.PriceCents, p.Image); err != nil {
				return fmt.Errorf("seed: product %d: %w", p.ID, err)
			}
		}
	}
	return nil
}
