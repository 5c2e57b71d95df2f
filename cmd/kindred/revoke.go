package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat/server"
)

// runRevoke ends every session of a user in the node's store directly,
// with the same --data, --database-url and --redis-url as serve (admins
// may also use the HTTP API: POST /api/users/{id}/revoke): tokens issued
// until now are refused at connect, and with --redis-url the open
// sessions on every node are told to close.
func runRevoke(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("revoke", "End every session of a user: the tokens issued to them until now are refused,\n"+
		"and with --redis-url their open sessions on every node close (4011) at once.\n"+
		"Without Redis, on one node with its SQLite store, open sessions are not reached:\n"+
		"use the API (POST /api/users/{id}/revoke) there, which closes them too.", stderr)
	data := fs.String("data", "./kindred-data", "data directory of the embedded store")
	backend := addBackendFlags(fs)
	user := fs.FlagSet.String("user", "", "user id (the token's sub) whose sessions end (required)")
	if err := fs.parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if e := auth.CheckSubject(*user); e != nil {
		fmt.Fprintln(stderr, "kindred revoke: --user must be a user id: "+e.Message)
		return errUsage
	}
	be, err := backend.open(ctx, *data, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer be.close()
	rev, err := be.store.RevokeSessions(ctx, *user)
	if err != nil {
		return err
	}
	browsers, err := be.store.RevokeAuthSessions(ctx, *user, "revoked")
	if err != nil {
		return fmt.Errorf("tokens revoked, but not the browser sessions: %w", err)
	}
	if err := be.store.AppendAudit(ctx, server.RevocationAudit("kindred revoke", rev)); err != nil {
		return fmt.Errorf("revoked, but the audit entry was not stored: %w", err)
	}
	fmt.Fprintf(stdout, "Revoked the sessions of %s (generation %d): tokens issued until %s are refused, and %d browser sessions ended.\n",
		*user, rev.Generation, rev.At.Format("2006-01-02T15:04:05Z07:00"), browsers)
	if *backend.redisURL == "" {
		fmt.Fprintln(stdout, "No --redis-url: sessions open now are not told: they end only at their next connect or when their token expires. Use POST /api/users/{id}/revoke on a running node to close them at once.")
		return nil
	}
	if err := be.broker.Publish(ctx, server.RevocationPublication(rev)); err != nil {
		return fmt.Errorf("revoked, but open sessions were not told: %w", err)
	}
	fmt.Fprintln(stdout, "Open sessions on every node were told to close.")
	return nil
}
