package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// The audit log's key (docs/security.md#the-audit-trail): from the
// environment, for nodes sharing PostgreSQL, else generated in the data
// directory (SQLite).
const (
	envAuditKey  = "KINDRED_AUDIT_KEY"
	auditKeyFile = "audit-key"
	minAuditKey  = 32 // bytes
)

// auditKeyed is what both stores offer beside chat.Store for the chain.
type auditKeyed interface {
	SetAuditKey(key []byte)
	ChainLegacyAudit(ctx context.Context) error
}

// auditKey returns the key that chains the audit log: $KINDRED_AUDIT_KEY,
// else with SQLite the one generated in dataDir; with PostgreSQL and no
// $KINDRED_AUDIT_KEY, none (nodes with keys of their own would break each
// other's chain), and the chain is plain SHA-256.
func auditKey(dataDir string, cluster bool) ([]byte, error) {
	if k := os.Getenv(envAuditKey); k != "" {
		if len(k) < minAuditKey {
			return nil, fmt.Errorf("%s must have at least %d bytes", envAuditKey, minAuditKey)
		}
		return []byte(k), nil
	}
	if cluster {
		return nil, nil
	}
	return auth.LoadOrCreateKeyFile(dataDir, auditKeyFile)
}

// setUpAudit gives st its audit key and chains entries from before the
// chain, once.
func setUpAudit(ctx context.Context, st auditKeyed, dataDir string, cluster bool, log *slog.Logger) error {
	key, err := auditKey(dataDir, cluster)
	if err != nil {
		return err
	}
	if key == nil {
		log.Warn("the audit log is chained without a key: set " + envAuditKey + " (the same on every node) so that someone who can write to the database cannot recompute the chain")
	}
	st.SetAuditKey(key)
	return st.ChainLegacyAudit(ctx)
}

// runAudit runs kindred audit verify.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "Usage: kindred audit verify [--data DIR | --database-url URL] [--expect-head POSITION:HASH]")
		return errUsage
	}
	fs := newFlagSet("audit verify", "Walk the audit log's hash chain and report any altered entry, gap or broken link,\n"+
		"then print the number of entries and the head (position:hash). Keep the head somewhere\n"+
		"the database's administrators cannot write, and pass it to --expect-head later: without\n"+
		"it, deleting the newest entries is not caught. Exit status 1 on any problem.\n"+
		"The key is the node's: "+envAuditKey+", or <data>/"+auditKeyFile+".", stderr)
	data := fs.String("data", "./kindred-data", "data directory of the embedded store (and of its audit key)")
	backend := addBackendFlags(fs)
	expect := fs.FlagSet.String("expect-head", "", "a head printed by an earlier verify (position:hash) that the chain must still hold")
	if err := fs.parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	var head chat.AuditHead
	if *expect != "" {
		var err error
		if head, err = chat.ParseAuditHead(*expect); err != nil {
			fmt.Fprintln(stderr, "kindred audit verify: --expect-head:", err)
			return errUsage
		}
	}
	be, err := backend.open(ctx, *data, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer be.close()
	rep, err := be.store.VerifyAudit(ctx, head)
	if err != nil {
		return err
	}
	for _, p := range rep.Problems {
		fmt.Fprintln(stdout, "PROBLEM:", p)
	}
	fmt.Fprintf(stdout, "entries: %d (%d keyed)\nhead: %s\n", rep.Count, rep.Keyed, rep.Head)
	if len(rep.Problems) > 0 {
		return errAuditBroken
	}
	fmt.Fprintln(stdout, "The chain is whole.")
	return nil
}

// errAuditBroken: kindred audit verify found a problem (exit status 1).
var errAuditBroken = errors.New("the audit log failed verification")
