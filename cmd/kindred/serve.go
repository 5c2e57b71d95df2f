package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/protocol"
	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/static"
)

// keyFlags are the signing-key settings shared by serve and token.
type keyFlags struct {
	data, publicKey, jwks, issuer, audience *string
}

func addKeyFlags(fs *flagSet) keyFlags {
	return keyFlags{
		data:      fs.String("data", "./kindred-data", "data directory: the SQLite database and the generated signing secret"),
		publicKey: fs.String("jwt-public-key", "", "verify tokens with this RS256 or EdDSA public key (PEM file) instead of the generated secret"),
		jwks:      fs.String("jwt-jwks", "", "verify tokens with the keys of this JWKS file (RS256, EdDSA; chosen by kid)"),
		issuer:    fs.String("jwt-issuer", "", "require this iss claim (empty: not checked)"),
		audience:  fs.String("jwt-audience", "", "require this aud claim (empty: not checked)"),
	}
}

// secret returns the HS256 secret: $KINDRED_JWT_SECRET when set (an
// environment variable, never a flag, so it does not show in process
// lists), else the one generated in the data directory.
func (k keyFlags) secret() ([]byte, error) {
	if s := os.Getenv("KINDRED_JWT_SECRET"); s != "" {
		if len(s) < 32 {
			return nil, errors.New("KINDRED_JWT_SECRET must have at least 32 bytes")
		}
		return []byte(s), nil
	}
	return auth.LoadOrCreateSecret(*k.data)
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "Run a Kindred node. With no other settings it keeps everything in the data\ndirectory (SQLite) and needs nothing else.", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (host:port; port 0 picks a free port)")
	keys := addKeyFlags(fs)
	backend := addBackendFlags(fs)
	crisisF := addCrisisFlags(fs)
	webhookURL := fs.String("escalation-webhook-url", "", "POST every escalation step to this URL (an external paging system), signed with HMAC-SHA256 of $KINDRED_ESCALATION_WEBHOOK_SECRET")
	ackImminent := fs.Duration("ack-timeout-imminent", 60*time.Second, "how long the on-call supervisor has to acknowledge an imminent crisis before it goes to the next tier")
	ackHigh := fs.Duration("ack-timeout-high", 5*time.Minute, "the same for a high-severity crisis or a manual flag")
	supportFile := fs.String("crisis-support-file", "", "JSON file with what the sender of a crisis message is shown: {\"text\":...,\"resources\":[{\"name\",\"contact\",\"url\"}]} (default: the US 988 Lifeline)")
	origins := fs.String("allowed-origins", "", "comma-separated host patterns whose pages may open WebSockets, e.g. chat.example.org,*.example.org (the server's own host is always allowed)")
	def := server.DefaultConfig()
	maxFrame := fs.Int("max-frame-bytes", def.MaxFrameBytes, "largest client frame; larger ones are refused with frame_too_large")
	maxMsg := fs.Int("max-message-bytes", def.MaxMessageBytes, "largest message body in bytes")
	rate := fs.Float64("send-rate", def.SendRate, "sends per second per user (token bucket refill); negative disables")
	burst := fs.Int("send-burst", def.SendBurst, "token bucket size: sends allowed in a burst")
	maxRooms := fs.Int("max-rooms", def.MaxRoomsPerUser, "rooms a user may belong to (DMs do not count)")
	linger := fs.Duration("commit-linger", def.CommitLinger, "how long a store commit waits for more messages to share its fsync (higher: fewer commits, more latency)")
	queue := fs.Int("queue-size", def.QueueSize, "outbound frames queued per connection before it is closed as a slow consumer (4008)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	grace := fs.Duration("shutdown-timeout", 10*time.Second, "how long shutdown waits for sessions to close")
	debugAddr := fs.String("debug-addr", "", "serve Go's pprof profiles on this separate address (e.g. 127.0.0.1:6060); never expose it publicly")
	demo := fs.Bool("demo", false, "create a sample support group and print sign-in links for a peer, a specialist and a supervisor")
	idle := fs.Duration("idle-timeout", static.DefaultIdleTimeout, "browser clients sign out after this long without activity (shared devices)")
	if err := fs.parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	logger, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return err
	}

	if err := os.MkdirAll(*keys.data, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if *backend.databaseURL != "" && os.Getenv("KINDRED_JWT_SECRET") == "" && *keys.publicKey == "" && *keys.jwks == "" {
		// A secret generated in each node's data directory would make
		// every node refuse the others' tokens.
		return errors.New("with --database-url every node must verify tokens with the same key: set KINDRED_JWT_SECRET, --jwt-public-key or --jwt-jwks")
	}
	secret, err := keys.secret()
	if err != nil {
		return err
	}
	verifier, err := auth.LoadVerifier(secret, *keys.publicKey, *keys.jwks, auth.Options{Issuer: *keys.issuer, Audience: *keys.audience})
	if err != nil {
		return err
	}
	detector, err := crisisF.detector()
	if err != nil {
		return err
	}
	support, err := loadSupport(*supportFile)
	if err != nil {
		return err
	}
	webhookSecret := os.Getenv("KINDRED_ESCALATION_WEBHOOK_SECRET")
	if *webhookURL != "" && len(webhookSecret) < 16 {
		return errors.New("--escalation-webhook-url needs KINDRED_ESCALATION_WEBHOOK_SECRET (at least 16 bytes) to sign deliveries")
	}
	be, err := backend.open(ctx, *keys.data, logger)
	if err != nil {
		return err
	}
	defer be.close()
	store := be.store

	srv, err := server.New(server.Config{
		Store: store, Broker: be.broker, Presence: be.presence,
		Detector: detector, Escalations: be.escalations, NodeID: be.nodeID,
		EscalationPolicy: escalation.Policy{AckTimeout: map[crisis.Severity]time.Duration{crisis.Imminent: *ackImminent, crisis.High: *ackHigh}},
		WebhookURL:       *webhookURL, WebhookSecret: webhookSecret, CrisisSupport: support,
		Verifier: verifier, Logger: logger, Static: static.Handler(*idle),
		AllowedOrigins:  splitList(*origins),
		MaxFrameBytes:   *maxFrame,
		MaxMessageBytes: *maxMsg,
		SendRate:        *rate,
		SendBurst:       *burst,
		MaxRoomsPerUser: *maxRooms,
		QueueSize:       *queue,
		CommitLinger:    *linger,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return err
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("kindred listening", "addr", ln.Addr().String(), "data", *keys.data, "mode", be.mode)
	fmt.Fprintf(stdout, "Kindred is listening on http://%s\n", ln.Addr())
	if signer, err := keys.localSigner(secret); err != nil {
		logger.Warn("no sign-in links", "err", err)
	} else if err := printSignInLinks(ctx, stdout, store, signer, ln.Addr().String(), *demo, *keys.data); err != nil {
		logger.Warn("no sign-in links", "err", err)
	}

	if *debugAddr != "" {
		stopDebug, err := serveDebug(*debugAddr, logger)
		if err != nil {
			_ = srv.Shutdown(context.Background())
			return err
		}
		defer stopDebug()
	}

	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		_ = srv.Shutdown(context.Background())
		return err
	}

	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), *grace)
	defer cancel()
	// Stop accepting first, then close WebSocket sessions (which
	// http.Server does not track once hijacked) with 1001.
	_ = hs.Shutdown(sctx)
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("shutdown incomplete", "err", err)
	}
	logger.Info("stopped")
	return nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("log format %q: want text or json", format)
	}
}

// serveDebug serves net/http/pprof on its own listener, apart from the
// public one, so profiles are reachable only where the operator says.
func serveDebug(addr string, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("debug address: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	logger.Info("pprof listening", "addr", ln.Addr().String())
	return func() { hs.Close() }, nil
}

// loadSupport reads the crisis support message from a JSON file; empty
// path: the server's default.
func loadSupport(path string) (protocol.Support, error) {
	var s protocol.Support
	if path == "" {
		return s, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("crisis support file: %w", err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("crisis support file %s: %w", path, err)
	}
	if s.Text == "" || len(s.Resources) == 0 {
		return s, fmt.Errorf("crisis support file %s: needs a text and at least one resource", path)
	}
	return s, nil
}
