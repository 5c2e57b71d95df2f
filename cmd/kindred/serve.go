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
	"os"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/auth/signin"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/chat/webpush"
	"github.com/kindred-health/kindred/signaling"
	"github.com/kindred-health/kindred/static"
)

// serveConfig is what serve's flags and environment variables say.
type serveConfig struct {
	addr     string
	keys     keyFlags
	backend  backendFlags
	crisis   crisisFlags
	limits   limits
	conn     *connFlags
	sessions *sessionFlags
	retain   *retentionFlags
	video    videoFlags
	push     pushFlags
	signin   *signinFlags

	supportFile   string
	webhookURL    string
	webhookSecret string // $KINDRED_ESCALATION_WEBHOOK_SECRET
	webhookHTTP   bool
	ackImminent   time.Duration
	ackHigh       time.Duration

	origins   string
	dmPolicy  string
	idle      time.Duration
	supIdle   time.Duration // idle, for roles that receive pages
	reseal    float64       // rows re-encrypted per second in the background
	demo      bool
	grace     time.Duration
	ops       *opsFlags
	tls       *tlsFlags
	logLevel  string
	logFormat string
}

// limits are the server.Config limits that serve's flags set.
type limits struct {
	maxFrame, maxMsg, burst, maxRooms, queue, crisisWorkers int
	memberBurst, reportsPerHour                             int
	rate, memberRate                                        float64
	linger, escalationTimeout                               time.Duration
}

// cluster reports whether the node shares its store with others.
func (c *serveConfig) cluster() bool { return *c.backend.databaseURL != "" }

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServeFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	logger, err := newLogger(stderr, cfg.logLevel, cfg.logFormat)
	if err != nil {
		return err
	}
	return serve(ctx, cfg, logger, stdout)
}

// parseServeFlags reads serve's settings from args and the environment,
// and checks those that need no file or connection.
func parseServeFlags(args []string, stderr io.Writer) (*serveConfig, error) {
	fs, cfg := serveFlags(stderr)
	if err := fs.parse(args); err != nil {
		return nil, err
	}
	cfg.webhookSecret = os.Getenv(envWebhookSecret)
	if err := cfg.keys.checkShared(cfg.cluster()); err != nil {
		return nil, err
	}
	if _, err := server.ParseDMPolicy(cfg.dmPolicy); err != nil {
		return nil, fmt.Errorf("--dm-policy: %w", err)
	}
	if err := cfg.video.check(); err != nil {
		return nil, err
	}
	if err := cfg.push.check(); err != nil {
		return nil, err
	}
	if err := cfg.conn.check(); err != nil {
		return nil, err
	}
	if err := cfg.retain.check(); err != nil {
		return nil, err
	}
	if err := cfg.sessions.check(); err != nil {
		return nil, err
	}
	if err := cfg.tls.check(); err != nil {
		return nil, err
	}
	if cfg.webhookURL != "" && len(cfg.webhookSecret) < minWebhookSecret {
		return nil, fmt.Errorf("--escalation-webhook-url needs %s (at least %d bytes) to sign deliveries", envWebhookSecret, minWebhookSecret)
	}
	if cfg.webhookURL != "" {
		if err := escalation.CheckWebhookURL(cfg.webhookURL, cfg.webhookHTTP); err != nil {
			return nil, fmt.Errorf("--escalation-webhook-url: %w (--webhook-allow-http for development)", err)
		}
	}
	return cfg, nil
}

// serveFlags declares serve's flags, which fill the returned config.
func serveFlags(stderr io.Writer) (*flagSet, *serveConfig) {
	fs := newFlagSet("serve", "Run a Kindred node. With no other settings it keeps everything in the data\ndirectory (SQLite) and needs nothing else.", stderr)
	c := &serveConfig{}
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "listen address (host:port; port 0 picks a free port)")
	c.tls = addTLSFlags(fs)
	c.keys = addKeyFlags(fs)
	c.backend = addBackendFlags(fs)
	c.crisis = addCrisisFlags(fs)
	fs.StringVar(&c.webhookURL, "escalation-webhook-url", "", "POST every escalation step to this URL (an external paging system), signed with HMAC-SHA256 of $"+envWebhookSecret)
	fs.EnvOnly(envWebhookSecret, fmt.Sprintf("key of the HMAC-SHA256 signature (X-Kindred-Signature) of every escalation webhook delivery,\n"+
		"used as is; at least %d bytes. Required with --escalation-webhook-url; the same on every node.", minWebhookSecret))
	fs.BoolVar(&c.webhookHTTP, "webhook-allow-http", false, "let --escalation-webhook-url be plain http (development only: the signed body would cross the network in clear)")
	fs.DurationVar(&c.ackImminent, "ack-timeout-imminent", 60*time.Second, "how long the on-call supervisor has to acknowledge an imminent crisis before it goes to the next tier")
	fs.DurationVar(&c.ackHigh, "ack-timeout-high", 5*time.Minute, "the same for a high-severity crisis or a manual flag")
	fs.StringVar(&c.supportFile, "crisis-support-file", "", "JSON file with what the sender of a crisis message is shown, and the resources of \"Get help now\": {\"text\":...,\"states\":{\"told\":...},\"resources\":[{\"name\",\"contact\",\"url\",\"call\",\"text\"}]} (default: the US 988 Lifeline; see docs/protocol.md#support)")
	fs.StringVar(&c.origins, "allowed-origins", "", "comma-separated host patterns whose pages may open WebSockets, e.g. chat.example.org,*.example.org (the server's own host is always allowed)")
	addLimitFlags(fs, &c.limits)
	c.conn = addConnFlags(fs)
	c.sessions = addSessionFlags(fs)
	c.retain = addRetentionFlags(fs)
	c.video = addVideoFlags(fs)
	c.push = addPushFlags(fs)
	c.signin = addSignInFlags(fs)
	fs.StringVar(&c.dmPolicy, "dm-policy", string(server.DMSharedRoom), "who may start a one-on-one chat: shared-room (peers with peers who share a room), staff-only (peers with staff only) or anyone; anyone may always message staff, and staff anyone")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.DurationVar(&c.grace, "shutdown-timeout", 10*time.Second, "how long shutdown waits for sessions to close")
	c.ops = addOpsFlags(fs)
	fs.BoolVar(&c.demo, "demo", false, "create a sample support group and print sign-in links for a peer, a specialist and a supervisor")
	fs.DurationVar(&c.idle, "idle-timeout", static.DefaultIdleTimeout, "browser clients sign out after this long without activity (shared devices)")
	fs.DurationVar(&c.supIdle, "supervisor-idle-timeout", 8*time.Hour, "the same for supervisors and admins, who keep the escalation dashboard open to be paged")
	fs.Float64Var(&c.reseal, "reseal-rate", 500, "rows re-encrypted per second in the background after the active encryption key changes (or encryption is turned on); 0: only by kindred keys rotate")
	return fs, c
}

func addLimitFlags(fs *flagSet, l *limits) {
	def := server.DefaultConfig()
	fs.IntVar(&l.maxFrame, "max-frame-bytes", def.MaxFrameBytes, "largest client frame; larger ones are refused with frame_too_large")
	fs.IntVar(&l.maxMsg, "max-message-bytes", def.MaxMessageBytes, "largest message body in bytes")
	fs.Float64Var(&l.rate, "send-rate", def.SendRate, "sends per second per user (token bucket refill); negative turns off every per-user rate limit (load generation)")
	fs.Float64Var(&l.memberRate, "membership-rate", def.MembershipRate, "joins, leaves and DMs opened per second per user, by frame or HTTP route alike (token bucket refill)")
	fs.IntVar(&l.memberBurst, "membership-burst", def.MembershipBurst, "joins, leaves and DMs opened in a burst")
	fs.IntVar(&l.reportsPerHour, "reports-per-hour", def.ReportsPerHour, "flags, concerns and reports per user per node: bursts of this many, refilled at this many an hour")
	fs.IntVar(&l.burst, "send-burst", def.SendBurst, "token bucket size: sends allowed in a burst")
	fs.IntVar(&l.maxRooms, "max-rooms", def.MaxRoomsPerUser, "rooms a user may belong to (DMs do not count)")
	fs.DurationVar(&l.linger, "commit-linger", def.CommitLinger, "how long a store commit waits for more messages to share its fsync (higher: fewer commits, more latency)")
	fs.DurationVar(&l.escalationTimeout, "escalation-timeout", def.EscalationTimeout, "how long recording a crisis message's escalation may take before its sender gets a retryable error instead of the ack (the server keeps trying)")
	fs.IntVar(&l.crisisWorkers, "crisis-workers", def.CrisisWorkers, "how many escalations of crisis messages are recorded at once, each on its own conversation")
	fs.IntVar(&l.queue, "queue-size", def.QueueSize, "outbound frames queued per connection before it is closed as a slow consumer (4008)")
}

// serve runs a node until ctx ends (main cancels it on SIGINT or SIGTERM),
// then shuts it down gracefully. SIGHUP reloads the TLS certificate.
func serve(ctx context.Context, cfg *serveConfig, logger *slog.Logger, stdout io.Writer) error {
	if err := privateDir(*cfg.keys.data); err != nil {
		return err
	}
	secret, verifier, err := cfg.keys.verifier()
	if err != nil {
		return err
	}
	certs, err := cfg.tls.newCertReloader()
	if err != nil {
		return err
	}
	defer watchSIGHUP(certs, logger)()
	cr, err := newCrisis(cfg)
	if err != nil {
		return err
	}
	be, err := cfg.backend.open(ctx, *cfg.keys.data, logger)
	if err != nil {
		return err
	}
	defer be.close()
	if err := be.sealing.CheckKeys(ctx); err != nil {
		return fmt.Errorf("encryption keys: %w", err)
	}
	be.startReseal(cfg.reseal, logger)
	esc, err := newEscalation(cfg, be, logger)
	if err != nil {
		return err
	}
	push, err := newPush(ctx, cfg.push, be.store, logger)
	if err != nil {
		return err
	}
	video, err := startVideo(cfg.video, logger)
	if err != nil {
		return err
	}
	// After the server's Shutdown, which ends the sessions first.
	defer video.close()
	si, hooks, err := newSignIn(cfg, be.store, secret, logger)
	if err != nil {
		return err
	}
	if si != nil {
		defer si.Close()
	}
	srv, err := newServer(cfg, be, esc, push, cr, video.SFU(), verifier, si, logger)
	if err != nil {
		return err
	}
	hooks.attach(srv)
	video.attach(srv)
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		_ = srv.Shutdown(context.Background())
		return err
	}
	logger.Info("kindred listening", "addr", ln.Addr().String(), "tls", cfg.tls.on(), "data", *cfg.keys.data, "mode", be.mode)
	stopOps, err := cfg.ops.serve(srv.MetricsHandler(), certs.config(), logger)
	if err != nil {
		ln.Close()
		_ = srv.Shutdown(context.Background())
		return err
	}
	defer stopOps()
	printStartupHints(ctx, stdout, cfg, be, secret, ln.Addr().String(), logger)
	hs := newHTTPServer(cfg.tls.hsts(srv.Handler()), logger)
	hs.TLSConfig = certs.config()
	return serveUntilDone(ctx, hs, ln, srv, cfg.grace, logger)
}

// privateDir creates the data directory, or makes an existing one, mode
// 0700 whatever the umask: it holds the database and secrets.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	return nil
}

// crisisSetup is how the server reads messages for crises and what it
// shows their writers.
type crisisSetup struct {
	detector crisis.Detector
	support  server.SupportWords
}

func newCrisis(cfg *serveConfig) (crisisSetup, error) {
	detector, err := cfg.crisis.detector()
	if err != nil {
		return crisisSetup{}, err
	}
	support, err := loadSupport(cfg.supportFile)
	if err != nil {
		return crisisSetup{}, err
	}
	return crisisSetup{detector: detector, support: support}, nil
}

// newEscalation builds the crisis path of the node: where escalations and
// the on-call rota are kept, the pager over the node's broker and
// presence, the engine with how long each tier has to acknowledge, and
// the optional webhook to a paging system. The server runs them.
func newEscalation(cfg *serveConfig, be *backends, logger *slog.Logger) (*server.Escalation, error) {
	return server.NewEscalation(server.EscalationOptions{
		Store: be.escalations, Users: be.store, Broker: be.broker, Presence: be.presence,
		Policy: escalation.Policy{AckTimeout: map[crisis.Severity]time.Duration{
			crisis.Imminent: cfg.ackImminent,
			crisis.High:     cfg.ackHigh,
		}},
		NodeID: be.nodeID, Logger: logger,
		WebhookURL: cfg.webhookURL, WebhookSecret: cfg.webhookSecret, WebhookAllowHTTP: cfg.webhookHTTP,
	})
}

// newServer builds the node's chat server from what serve has opened and
// built: the server constructs none of its dependencies.
func newServer(cfg *serveConfig, be *backends, esc *server.Escalation, push *webpush.Sender, cr crisisSetup, video *signaling.SFU, verifier *auth.Verifier, si *signin.Handler, logger *slog.Logger) (*server.Server, error) {
	metricsToken, err := cfg.ops.metricsToken()
	if err != nil {
		return nil, err
	}
	scfg := server.Config{
		MetricsToken: metricsToken,
		Store:        be.store, Broker: be.broker, Presence: be.presence, Sessions: be.sessions, Escalation: esc, Push: push, Video: video,
		Detector: cr.detector, CrisisSupport: cr.support,
		Verifier: verifier, Logger: logger, Static: static.Handler(cfg.idle),
		IdleTimeout: cfg.idle, SupervisorIdleTimeout: cfg.supIdle,
		AllowedOrigins:  splitList(cfg.origins),
		DMPolicy:        server.DMPolicy(cfg.dmPolicy),
		MaxFrameBytes:   cfg.limits.maxFrame,
		MaxMessageBytes: cfg.limits.maxMsg,
		SendRate:        cfg.limits.rate,
		SendBurst:       cfg.limits.burst,
		MembershipRate:  cfg.limits.memberRate,
		MembershipBurst: cfg.limits.memberBurst,
		ReportsPerHour:  cfg.limits.reportsPerHour,
		MaxRoomsPerUser: cfg.limits.maxRooms,
		QueueSize:       cfg.limits.queue,
		CommitLinger:    cfg.limits.linger,

		EscalationTimeout: cfg.limits.escalationTimeout,
		CrisisWorkers:     cfg.limits.crisisWorkers,
	}
	if si != nil {
		scfg.SignIn, scfg.SignInEmail, scfg.SignInOIDC = si, cfg.signin.smtpURL != "", cfg.signin.oidcIssuer != ""
	}
	cfg.conn.apply(&scfg)
	cfg.sessions.apply(&scfg)
	cfg.retain.apply(&scfg)
	return server.New(scfg)
}

func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// printStartupHints writes where the node listens and, when it holds the
// key tokens are signed with, the sign-in links (first run, --demo) and
// how to mint more tokens.
func printStartupHints(ctx context.Context, w io.Writer, cfg *serveConfig, be *backends, secret []byte, addr string, logger *slog.Logger) {
	scheme := "http"
	if cfg.tls.on() {
		scheme = "https"
	}
	fmt.Fprintf(w, "Kindred is listening on %s://%s\n", scheme, addr)
	signer, err := cfg.keys.localSigner(secret)
	if err == nil {
		mint := cfg.keys.mintHint(progName, cfg.cluster())
		err = printSignInLinks(ctx, w, be.store, signer, scheme+"://"+linkHost(addr), cfg.demo, *cfg.keys.data, mint, logger)
	}
	if err != nil {
		logger.Warn("no sign-in links", "err", err)
	}
}

// serveUntilDone serves HTTP on ln until ctx ends, then shuts down, or
// until serving fails.
func serveUntilDone(ctx context.Context, hs *http.Server, ln net.Listener, srv *server.Server, grace time.Duration, logger *slog.Logger) error {
	serveErr := make(chan error, 1)
	go func() { serveErr <- serveHTTP(hs, ln) }()
	select {
	case <-ctx.Done():
	case err := <-serveErr:
		_ = srv.Shutdown(context.Background())
		return err
	}
	shutdown(hs, srv, grace, logger)
	return nil
}

// shutdown stops accepting first, then closes WebSocket sessions (which
// http.Server does not track once hijacked) with 1001 and commits what was
// accepted, all within grace.
func shutdown(hs *http.Server, srv *server.Server, grace time.Duration, logger *slog.Logger) {
	logger.Info("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	_ = hs.Shutdown(ctx)
	if err := srv.Shutdown(ctx); err != nil {
		logger.Warn("shutdown incomplete", "err", err)
	}
	logger.Info("stopped")
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

// loadSupport reads the crisis support message from a JSON file; empty
// path: the server's default.
func loadSupport(path string) (server.SupportWords, error) {
	var s server.SupportWords
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
	if err := s.Check(); err != nil {
		return s, fmt.Errorf("crisis support file %s: %w", path, err)
	}
	return s, nil
}
