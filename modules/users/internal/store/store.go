// Package store reads and writes the users schema: bun rows beside their
// converters, and the statements the domain asks for. It persists what it
// is told; the domain (internal/app, internal/keys) decides.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"mitosis/modules/users"
	"mitosis/platform/db"
	"mitosis/platform/events"
	"mitosis/platform/page"
)

type userRow struct {
	bun.BaseModel `bun:"table:users"`

	ID    string `bun:"id,pk"`
	Email string `bun:"email"`
	// EmailCanonical is NULL only for rows older than the column that the
	// start-up backfill could not give one (see BackfillCanonical).
	EmailCanonical string    `bun:"email_canonical,nullzero"`
	Name           string    `bun:"name"`
	PasswordHash   string    `bun:"password_hash"`
	Role           string    `bun:"role"`
	CreatedAt      time.Time `bun:"created_at"`
}

// Account is a user with its password hash, for authentication, and the
// canonical form of its email, which is unique.
type Account struct {
	users.User
	CanonicalEmail string
	PasswordHash   string
}

func fromRow(r userRow) Account {
	return Account{
		User:           users.User{ID: r.ID, Email: r.Email, Name: r.Name, Role: r.Role, CreatedAt: r.CreatedAt.UTC()},
		CanonicalEmail: r.EmailCanonical,
		PasswordHash:   r.PasswordHash,
	}
}

// Store reads and writes the users schema.
type Store struct{ db *bun.DB }

// New returns a Store on the module's own connection.
func New(db *bun.DB) *Store { return &Store{db: db} }

// DB is the module's connection, for the store's functions outside a
// transaction.
func (s *Store) DB() bun.IDB { return s.db }

// InTx runs fn in one transaction: the only place the store opens one.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return events.InTx(ctx, s.db, fn)
}

// InsertAccount stores a new account; users.ErrEmailTaken when its
// canonical email is another account's.
func InsertAccount(ctx context.Context, idb bun.IDB, a Account) error {
	row := userRow{ID: a.ID, Email: a.Email, EmailCanonical: a.CanonicalEmail, Name: a.Name,
		PasswordHash: a.PasswordHash, Role: a.Role, CreatedAt: a.CreatedAt}
	if _, err := idb.NewInsert().Model(&row).Exec(ctx); err != nil {
		if db.IsUniqueViolation(err) {
			return users.ErrEmailTaken
		}
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

// Publish appends one of users' events to its outbox, inside idb's
// transaction.
func Publish(ctx context.Context, idb bun.IDB, eventType, aggregateID string, payload any) error {
	return events.Append(ctx, idb, "users", eventType, aggregateID, payload)
}

// ByEmail finds the account whose canonical email is canonical. A row
// without one (see BackfillCanonical) is found by its address as typed,
// ignoring ASCII case, as before the column; an exact match comes first.
func (s *Store) ByEmail(ctx context.Context, typed, canonical string) (Account, error) {
	var row userRow
	err := s.db.NewSelect().Model(&row).Where(byEmail, canonical, typed).
		OrderExpr("email = ? DESC, created_at, id", typed).Limit(1).Scan(ctx)
	return found(row, err)
}

// byEmail matches a canonical email, or a row without one by its address.
const byEmail = "email_canonical = ? OR (email_canonical IS NULL AND lower(email) = lower(?))"

// ByID finds an account by id.
func (s *Store) ByID(ctx context.Context, id string) (Account, error) {
	var row userRow
	err := s.db.NewSelect().Model(&row).Where("id = ?", id).Scan(ctx)
	return found(row, err)
}

func found(row userRow, err error) (Account, error) {
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, users.ErrNotFound
	}
	if err != nil {
		return Account{}, fmt.Errorf("select user: %w", err)
	}
	return fromRow(row), nil
}

// List returns a page of users, newest first.
func (s *Store) List(ctx context.Context, page page.Keyset) ([]users.User, error) {
	var rows []userRow
	q := s.db.NewSelect().Model(&rows).OrderExpr("created_at DESC, id DESC").Limit(int64(page.Limit))
	if page.BeforeID != "" {
		q = q.Where("(created_at, id) < (?, ?)", page.Before, page.BeforeID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := make([]users.User, 0, len(rows))
	for _, r := range rows {
		out = append(out, fromRow(r).User)
	}
	return out, nil
}

// SetRole gives the user with the email (see ByEmail) role, in one
// statement; users.ErrNotFound if there is none.
func (s *Store) SetRole(ctx context.Context, typed, canonical, role string) (users.User, error) {
	var row userRow
	target := s.db.NewSelect().Model((*userRow)(nil)).Column("id").Where(byEmail, canonical, typed).
		OrderExpr("email = ? DESC, created_at, id", typed).Limit(1)
	res, err := s.db.NewUpdate().Model(&row).Set("role = ?", role).
		Where("id = (?)", target).Returning("*").Exec(ctx, &row)
	if err != nil {
		return users.User{}, fmt.Errorf("set role: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return users.User{}, users.ErrNotFound
	}
	return fromRow(row).User, nil
}
