package db

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"golang.org/x/crypto/bcrypt"
)

// ErrUsernameTaken: an account with exactly this name exists.
var ErrUsernameTaken = errors.New("username taken")

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
// ErrNotFound. The column compares by bytes on both dialects (migration
// 0007 gives it a binary collation on MariaDB, whose default is case-,
// accent- and width-insensitive); the comparison is made again in Go so a
// database not yet migrated cannot match 'ALICE' to alice.
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

// CheckPassword checks a password against a user already read (u nil: no
// such user, UserByName's ErrNotFound): u on success, else
// ErrInvalidCredentials. It costs one bcrypt comparison either way; an
// unknown name is compared against a dummy hash, so a failed
// login takes as long whether or not the account exists. The server reads
// the user first and queues only this for a core (hashgate.go), so a hash
// slot never waits on the database.
func CheckPassword(u *User, password string) (*User, error) {
	if u == nil {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, ErrInvalidCredentials
	}
	if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte(password)) != nil {
		return nil, ErrInvalidCredentials
	}
	return u, nil
}

// CreateUser adds an account with an already computed bcrypt hash, in the
// transaction that logs it in; ErrUsernameTaken when the exact name exists
// (the unique index decides, so two sign-ups racing for a name get one
// account and one clear refusal).
func (tx *Tx) CreateUser(ctx context.Context, username, passwordHash string, now time.Time) (*User, error) {
	r, err := tx.exec(ctx, `INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)`, username, passwordHash, now)
	if isUniqueViolation(err) {
		return nil, ErrUsernameTaken
	}
	if err != nil {
		return nil, err
	}
	id, err := r.LastInsertId()
	if err != nil {
		return nil, err
	}
	return &User{ID: id, Username: username, PasswordHash: passwordHash, CreatedAt: now}, nil
}

// SetPasswordHash replaces a user's password hash.
func (tx *Tx) SetPasswordHash(ctx context.Context, userID int64, passwordHash string) error {
	r, err := tx.exec(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, userID)
	if err != nil {
		return err
	}
	if rowsAffected(r) != 1 {
		return ErrNotFound
	}
	return nil
}

// isUniqueViolation: MariaDB's duplicate-key error, or SQLite's UNIQUE
// constraint failure.
func isUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1062
	}
	return strings.Contains(err.Error(), "UNIQUE constraint failed")
}
