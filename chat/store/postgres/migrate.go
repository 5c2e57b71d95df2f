package postgres

import (
	"context"
	"embed"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

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

// Advisory lock classes (the first key of pg_advisory_xact_lock(int, int)),
// so that Kindred's locks never collide with each other or, in a shared
// database, with another application's single-key locks.
const (
	lockMigrate int32 = 0x4b440001 // second key: hash of the schema name
	lockJoin    int32 = 0x4b440002 // second key: hash of the user id
)

// migrate creates the schema if needed and applies the migrations it has
// not seen yet, up to version upto (all when 0), returning how many it
// applied.
//
// Everything happens in one transaction holding a transaction-scoped
// advisory lock keyed on the schema: nodes that start together queue on the
// lock, the first applies the migrations, and the others then find them
// recorded in schema_migrations and apply none. PostgreSQL's DDL is
// transactional, so a failure leaves the schema as it was, never between
// two versions, and the lock goes with the transaction even if the node
// dies.
func (s *Store) migrate(ctx context.Context, upto int) (int, error) {
	ms, err := loadMigrations()
	if err != nil {
		return 0, fmt.Errorf("postgres: %w", err)
	}
	applied := 0
	err = s.inTx(ctx, "migrate", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(COALESCE(NULLIF($2, ''), current_schema(), '')))`,
			lockMigrate, s.schema); err != nil {
			return err
		}
		if s.schema != "" {
			// Look before creating: CREATE SCHEMA IF NOT EXISTS checks
			// the CREATE privilege on the database even when the schema
			// exists, and a production role may rightly lack it.
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`,
				s.schema).Scan(&exists); err != nil {
				return err
			}
			if !exists {
				if _, err := tx.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{s.schema}.Sanitize()); err != nil {
					return err
				}
			}
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT version FROM schema_migrations`)
		if err != nil {
			return err
		}
		done, err := pgx.CollectRows(rows, pgx.RowTo[int32])
		if err != nil {
			return err
		}
		for _, m := range ms {
			if upto > 0 && m.Version > upto {
				break
			}
			if slices.Contains(done, int32(m.Version)) {
				continue
			}
			// Without arguments pgx uses the simple protocol, which runs
			// every statement of the file.
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`,
				m.Version, m.Name); err != nil {
				return fmt.Errorf("migration %s: %w", m.Name, err)
			}
			applied++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return applied, nil
}
