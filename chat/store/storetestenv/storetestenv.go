// Package storetestenv finds the external services that store tests run
// against, so that the tests of every package needing them (the stores
// themselves, multi-node server tests) agree on where they are and on what
// to do when they are missing: skip on a developer's machine, fail in CI,
// where a missing database must not pass silently as a green run.
package storetestenv

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultPostgresURL is used when KINDRED_TEST_DATABASE_URL is not set: a
// local PostgreSQL with trust authentication and a database named test.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// probes remembers, per URL, whether PostgreSQL answered, so that a test
// binary probes once rather than once per test (and a missing server costs
// one timeout, not one per test).
var probes sync.Map // url -> *probe

type probe struct {
	once sync.Once
	err  error
}

// PostgresURL returns the URL of the test PostgreSQL, from the environment
// variable KINDRED_TEST_DATABASE_URL or DefaultPostgresURL. When it does not
// answer, PostgresURL skips the test, or fails it when CI=true.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("KINDRED_TEST_DATABASE_URL")
	if u == "" {
		u = DefaultPostgresURL
	}
	v, _ := probes.LoadOrStore(u, &probe{})
	p := v.(*probe)
	p.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			p.err = err
			return
		}
		defer conn.Close(ctx)
		p.err = conn.Ping(ctx)
	})
	if p.err != nil {
		msg := "PostgreSQL at %s does not answer (%v); set KINDRED_TEST_DATABASE_URL to a database the tests may use"
		if os.Getenv("CI") == "true" {
			t.Fatalf(msg, redact(u), p.err)
		}
		t.Skipf(msg+" (skipping; with CI=true this fails)", redact(u), p.err)
	}
	return u
}

// FreshSchema creates an empty schema with a unique name (kt_ and random
// letters) in the database at dbURL, drops it with everything in it when
// the test ends, and returns its name. Tests that point their stores at it
// (postgres.WithSchema) are isolated from each other and from earlier runs.
//
// Cleanups run last-in first-out, so call FreshSchema before opening the
// stores that use the schema: they are then closed before it is dropped.
func FreshSchema(t testing.TB, dbURL string) string {
	t.Helper()
	name := "kt_" + strings.ToLower(rand.Text()[:12])
	exec := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	ident := pgx.Identifier{name}.Sanitize()
	if err := exec("CREATE SCHEMA " + ident); err != nil {
		t.Fatalf("storetestenv: create schema %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := exec("DROP SCHEMA IF EXISTS " + ident + " CASCADE"); err != nil {
			t.Logf("storetestenv: drop schema %s: %v (drop it by hand)", name, err)
		}
	})
	return name
}

// redact hides the password of a URL for test logs.
func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	return p.Redacted()
}
