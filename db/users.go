package db

import (
	"context"
	"errors"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// User is an account. PasswordHash is bcrypt and never leaves this package's callers' memory.
type User struct {
	ID           int64     `db:"id"`
	Username     string    `db:"username"`
	PasswordHash string    `db:"password_hash"`
	CreatedAt    time.Time `db:"created_at"`
}

// dummyHash is compared against when the username is unknown, so a failed
// login takes as long whether or not the account exists (no user enumeration
// by timing).
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password"), bcrypt.DefaultCost)

// UserByName returns the user whose name is exactly username, or
// ErrNotFound. The comparison is made again in Go: MariaDB's default
// collation (utf8mb4_unicode_ci) is case-, accent- and width-insensitive and
// pads trailing spaces, so WHERE username = 'ALICE' (or 'alicé', or
// full-width 'ａｌｉｃｅ') finds alice there.
func (d *DB) UserByName(ctx context.Context, username string) (*User, error) {
	var u User
	if err := d.get(ctx, d.R, &u, `SELECT id, username, password_hash, created_at FROM users WHERE username = ?`, username); err != nil {
		return nil, err
	}
	if u.Username != username {
		return nil, ErrNotFound
	}
	return &u, nil
}

// Authenticate checks a username and password: the user on success,
// ErrInvalidCredentials when either is wrong. It costs one bcrypt comparison
// either way; callers bound how many run at once.
func (d *DB) Authenticate(ctx context.Context, username, password string) (*User, error) {
	u, err := d.UserByName(ctx, username)
	if errors.Is(err, ErrNotFound) {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, ErrInvalidCredentials
	}
	if err != nil {
		return nil, err
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		return nil, ErrInvalidCredentials
	}
	return u, nil
}
