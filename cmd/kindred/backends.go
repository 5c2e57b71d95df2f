package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/broker/memory"
	"github.com/kindred-health/kindred/chat/broker/redis"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/store/postgres"
	"github.com/kindred-health/kindred/chat/store/sealer"
	"github.com/kindred-health/kindred/chat/store/sqlite"
)

// backendFlags choose the store and the broker: SQLite and the in-process
// broker by default, PostgreSQL and Redis for scale-out.
type backendFlags struct {
	redisURL, redisPrefix, databaseURL, nodeID *string
	redisCA                                    *string
	presenceTTL                                *time.Duration
	keyFile                                    *string
}

func addBackendFlags(fs *flagSet) backendFlags {
	fs.EnvOnly("PGPASSWORD, PGSSLMODE, ... (libpq's PG* variables)", "with --database-url: read by the PostgreSQL driver (pgx) for what the URL leaves out;\n"+
		"PGPASSWORD keeps the password out of the URL")
	return backendFlags{
		redisURL: fs.String("redis-url", "", "Redis URL (redis://host:6379/0) for fan-out and presence across nodes; a Redis Cluster (sharded pub/sub): several comma-separated addresses\n"+
			"(redis://h1:7001,h2:7002,h3:7003) or redis+cluster://host:port; empty: single node, in-process"),
		redisCA:     fs.String("redis-tls-ca", "", "with a rediss:// (or rediss+cluster://) --redis-url: PEM file of the certificate authorities that Redis's certificate is checked against, instead of the system's"),
		redisPrefix: fs.String("redis-prefix", "kindred:", "prefix of every Redis key and channel, to share one Redis between deployments"),
		databaseURL: fs.String("database-url", "", "PostgreSQL URL (postgres://user@host/db) shared by all nodes; empty: SQLite in the data directory"),
		nodeID:      fs.String("node-id", "", "this node's name in presence records (default: host name and a random suffix)"),
		presenceTTL: fs.Duration("presence-ttl", 30*time.Second, "with Redis: how long a silent node's users stay online and its sessions count towards --max-sessions-per-user"),
		keyFile:     addEncryptionFlags(fs),
	}
}

// backends are a node's store, broker, presence and session count, with
// what runs them (the server runs the session count's heartbeat).
type backends struct {
	store       chat.Store
	escalations escalation.Store
	broker      chat.Broker
	presence    chat.Presence
	sessions    chat.SessionCounter
	keys        *sealer.Ring // nil: text is stored as it is
	sealing     sealing
	mode        string
	nodeID      string

	wg     sync.WaitGroup
	cancel context.CancelFunc
	closes []func()
}

// openBackends opens what the flags choose. Background loops (presence
// heartbeats) run until close.
func (f backendFlags) open(ctx context.Context, dataDir string, log *slog.Logger) (*backends, error) {
	keys, err := f.loadKeys()
	if err != nil {
		return nil, err
	}
	b := &backends{mode: "embedded", keys: keys}
	if *f.databaseURL != "" {
		st, err := postgres.Open(ctx, *f.databaseURL, postgres.WithKeys(keys))
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL: %w", err)
		}
		b.store, b.escalations, b.sealing = st, st.Escalations(), st
	} else {
		st, err := sqlite.Open(ctx, filepath.Join(dataDir, "kindred.db"), sqlite.WithKeys(keys))
		if err != nil {
			return nil, fmt.Errorf("open SQLite: %w", err)
		}
		b.store, b.escalations, b.sealing = st, st.Escalations(), st
	}
	b.closes = append(b.closes, func() { b.store.Close() })
	if err := setUpAudit(ctx, b.store.(auditKeyed), dataDir, *f.databaseURL != "", log); err != nil {
		b.close()
		return nil, fmt.Errorf("audit log: %w", err)
	}
	b.nodeID = *f.nodeID
	if b.nodeID == "" {
		b.nodeID = defaultNodeID()
	}

	if *f.redisURL == "" {
		b.broker, b.presence, b.sessions = memory.NewBroker(), memory.NewPresence(), memory.NewSessions()
		return b, nil
	}
	client, err := newRedisClient(*f.redisURL, *f.redisCA, *f.redisPrefix)
	if err != nil {
		b.close()
		return nil, err
	}
	b.closes = append(b.closes, func() { client.Close() })
	pres := redis.NewPresence(client, *f.redisPrefix, b.nodeID, *f.presenceTTL)
	b.broker = redis.NewBroker(client, *f.redisPrefix, log.With("component", "redis"))
	b.presence = pres
	b.sessions = redis.NewSessions(client, *f.redisPrefix, b.nodeID, *f.presenceTTL)
	b.mode = "scale-out"
	runCtx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		if err := pres.Run(runCtx); err != nil && runCtx.Err() == nil {
			log.Error("presence heartbeat stopped", "err", err)
		}
	}()
	return b, nil
}

// close stops background loops and closes connections, in reverse order
// of opening.
func (b *backends) close() {
	if b.cancel != nil {
		b.cancel()
	}
	b.wg.Wait()
	for i := len(b.closes) - 1; i >= 0; i-- {
		b.closes[i]()
	}
}

// redisTLS makes a rediss:// connection trust the certificate authorities
// in caFile (when given) rather than the system's. config is the URL's
// TLS configuration, nil for redis://.
func redisTLS(config *tls.Config, caFile string) error {
	if caFile == "" {
		return nil
	}
	if config == nil {
		return fmt.Errorf("--redis-tls-ca is for a rediss:// --redis-url (TLS); this one is plain redis://")
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return fmt.Errorf("--redis-tls-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("--redis-tls-ca %s: no PEM certificate in it", caFile)
	}
	config.RootCAs = pool
	return nil
}

func defaultNodeID() string {
	host, _ := os.Hostname()
	var r [3]byte
	_, _ = rand.Read(r[:])
	return host + "-" + hex.EncodeToString(r[:])
}
