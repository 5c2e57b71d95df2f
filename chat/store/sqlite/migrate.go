package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"

	"github.com/kindred-health/kindred/chat/store/migration"
)

// migrationFiles holds the schema history. Files are named
// NNNN_description.sql; NNNN is the version, applied in ascending order.
// Never edit a file once released: add a new one.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// loadMigrations reads and orders the embedded migrations.
func loadMigrations() ([]migration.Migration, error) {
	return migration.Load(migrationFiles, "migrations/*.sql")
}

// migrate applies the migrations db has not seen yet, up to version upto
// (all when 0), each in its own
// transaction together with its schema_migrations row, so a crash leaves
// the schema at some version, never between two. It returns how many it
// applied. The immediate transactions (see dsn) make two processes opening
// the same file at once take turns; the second then finds the version
// recorded and skips it.
func migrate(ctx context.Context, db *sql.DB, upto int) (int, error) {
	ms, err := loadMigrations()
	if err != nil {
		return 0, fmt.Errorf("sqlite: %w", err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	)`); err != nil {
		return 0, internal("migrate", err)
	}
	applied := 0
	for _, m := range ms {
		if upto > 0 && m.Version > upto {
			break
		}
		done, err := applyMigration(ctx, db, m)
		if err != nil {
			return applied, fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
		}
		if done {
			applied++
		}
	}
	return applied, nil
}

// applyMigration runs m unless it is already recorded, reporting whether
// it ran.
func applyMigration(ctx context.Context, db *sql.DB, m migration.Migration) (bool, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer rollback(tx) // no-op after Commit
	var n int
	if err := tx.QueryRowContext(ctx,
		`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	// The driver executes every statement of a multi-statement string.
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx,
		`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.Version, m.Name, now()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
