package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/kindred-health/kindred/chat/store/sealer"
	"github.com/kindred-health/kindred/chat/store/sqlstore"
)

// envEncryptionKeys holds the encryption keys when no key file is given:
// "id:base64key" entries separated by commas or newlines, the first active.
const envEncryptionKeys = "KINDRED_ENCRYPTION_KEYS"

// resealBatch is how many rows one re-encryption transaction rewrites.
const resealBatch = 100

// sealing is what both stores offer for encryption at rest (package
// sqlstore).
type sealing interface {
	KeyCounts(ctx context.Context) ([]sqlstore.KeyCount, error)
	CheckKeys(ctx context.Context) error
	ResealAll(ctx context.Context, batch int, pause time.Duration, progress func(int64)) (int64, error)
}

// addEncryptionFlags declares where the keys that seal message bodies and
// escalation snapshots come from.
func addEncryptionFlags(fs *flagSet) *string {
	fs.EnvOnly(envEncryptionKeys, "encryption keys of message bodies and escalation snapshots (AES-256-GCM), used when\n"+
		"--encryption-key-file is not set: id:base64key entries separated by commas, the first active\n"+
		"(see docs/security.md#data-at-rest; kindred keys generate makes one). The same on every node.")
	return fs.String("encryption-key-file", "", "file of encryption keys, one id:base64key per line, the first active: message bodies and escalation\n"+
		"snapshots are stored sealed with it (AES-256-GCM); the others open older rows until they are re-encrypted\n"+
		"(empty, and no $"+envEncryptionKeys+": stored as they are)")
}

// loadKeys reads the key ring the flags name; nil when encryption is off.
func (f backendFlags) loadKeys() (*sealer.Ring, error) {
	return sealer.Load(*f.keyFile, envEncryptionKeys)
}

// startReseal starts the re-encryption of rows not sealed with the active
// key, at about rate rows a second (0: not at all), in the background
// until it is done or the backends close.
func (b *backends) startReseal(rate float64, log *slog.Logger) {
	if b.keys == nil || rate <= 0 {
		return
	}
	pause := time.Duration(float64(resealBatch) / rate * float64(time.Second))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		start := time.Now()
		n, err := b.sealing.ResealAll(ctx, resealBatch, pause, nil)
		switch {
		case err != nil && ctx.Err() != nil:
			log.Info("re-encryption stopped by shutdown; it resumes at the next start", "rows", n)
		case err != nil:
			log.Error("re-encryption failed", "rows", n, "err", err)
		case n > 0:
			log.Info("re-encryption done", "rows", n, "key", b.keys.Active(), "took", time.Since(start).Round(time.Millisecond))
		}
	})
	// Closes run last-in first-out: the job stops before the store closes.
	b.closes = append(b.closes, func() { cancel(); wg.Wait() })
}

// runKeys runs kindred keys: the encryption keys of the store.
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, keysUsage)
		return errUsage
	}
	switch args[0] {
	case "generate":
		return runKeysGenerate(args[1:], stdout, stderr)
	case "status", "rotate":
		return runKeysStore(ctx, args[0], args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "kindred keys: unknown command %q\n%s", args[0], keysUsage)
		return errUsage
	}
}

const keysUsage = `Usage: kindred keys <command> [flags]

Commands:
  generate  print a new key entry (id:base64key) for the key file or $` + envEncryptionKeys + `
  status    count the stored rows by the key that seals them
  rotate    re-encrypt every row not sealed with the active key (the first), to completion

A running node re-encrypts in the background too (--reseal-rate); see docs/security.md#data-at-rest.
`

func runKeysGenerate(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keys generate", "Print a new encryption key entry, id:base64key, to put first in the key file.", stderr)
	id := fs.FlagSet.String("id", "", "the new key's id: letters, digits, '.', '_' or '-' (e.g. the date: 2026-12)")
	if err := fs.parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	line, err := sealer.Generate(*id)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, line)
	return nil
}

// runKeysStore runs keys status or keys rotate on the node's store.
func runKeysStore(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) error {
	summary := "Count the rows of messages and escalations by the key that seals them."
	if cmd == "rotate" {
		summary = "Re-encrypt, with the active key, every row sealed with another key or stored in clear,\n" +
			"then print the counts. Safe while nodes run; they do the same in the background."
	}
	fs := newFlagSet("keys "+cmd, summary, stderr)
	data := fs.String("data", "./kindred-data", "data directory of the embedded store")
	backend := addBackendFlags(fs)
	if err := fs.parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	be, err := backend.open(ctx, *data, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer be.close()
	if cmd == "rotate" {
		if be.keys == nil {
			return fmt.Errorf("no encryption keys: set --encryption-key-file or %s", envEncryptionKeys)
		}
		last := time.Now()
		n, err := be.sealing.ResealAll(ctx, 500, 0, func(rows int64) {
			if time.Since(last) >= 2*time.Second {
				fmt.Fprintf(stdout, "re-encrypted %d rows...\n", rows)
				last = time.Now()
			}
		})
		if err != nil {
			return fmt.Errorf("re-encrypted %d rows, then: %w", n, err)
		}
		fmt.Fprintf(stdout, "Re-encrypted %d rows with key %s.\n", n, be.keys.Active())
	}
	return printKeyCounts(ctx, stdout, be)
}

// printKeyCounts writes the rows by key, and what the configured keys are.
func printKeyCounts(ctx context.Context, w io.Writer, be *backends) error {
	counts, err := be.sealing.KeyCounts(ctx)
	if err != nil {
		return err
	}
	if be.keys == nil {
		fmt.Fprintln(w, "Encryption: off (no keys configured).")
	} else {
		fmt.Fprintf(w, "Encryption: on; active key %s, configured keys %s.\n", be.keys.Active(), strings.Join(be.keys.IDs(), ", "))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tKEY\tROWS\t")
	for _, c := range counts {
		key, note := c.KeyID, ""
		switch {
		case key == "":
			key, note = "-", "in clear"
		case !be.keys.Has(key):
			note = "key not configured: these rows cannot be read"
		case key != be.keys.Active():
			note = "to re-encrypt"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", c.Table, key, c.Rows, note)
	}
	return tw.Flush()
}
