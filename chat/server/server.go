// Package server is a Kindred node's front door: the WebSocket sessions, the
// HTTP API, the group committer, the crisis hook and the operations
// endpoints, wired to the chat.Store, chat.Broker, chat.Presence and
// escalation machinery that the caller builds and passes in Config
// (embedded: SQLite and the memory broker; scale-out: PostgreSQL and Redis).
//
// A message's path: a session's reader decodes a send frame, the frame
// table checks it and its permission, the committer stores it with others
// in one transaction, acks the sender and publishes the event, encoded
// once; the hub hands the same bytes, in sequence order, to every
// subscribed session, whose writer flushes them in batches. A message the
// crisis detector flags takes a detour after the commit: a crisis worker
// records its escalation, then acks and publishes it. See
// docs/architecture.md.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/broker/memory"
	"github.com/kindred-health/kindred/chat/hub"
	"github.com/kindred-health/kindred/chat/protocol"
	"github.com/kindred-health/kindred/chat/webpush"
	"github.com/kindred-health/kindred/signaling"
)

// Server is one Kindred node.
type Server struct {
	cfg      Config
	store    chat.Store
	broker   chat.Broker
	presence chat.Presence
	sessions chat.SessionCounter
	verifier *auth.Verifier
	log      *slog.Logger
	hub      *hub.Hub
	metrics  *metrics
	commit   *committer
	crisis   *crisisQueue
	alerts   *alerter
	premod   *holder
	auditW   *auditWriter
	signins  *signinFailures
	esc      *Escalation     // nil when escalation is not configured
	push     *webpush.Sender // nil without Web Push
	video    *signaling.SFU
	relay    *videoRelay // nil without video
	claimed  videoClaims // sessions here whose record is written (videonodes.go)
	buckets  *buckets
	connLim  *connLimits
	handler  http.Handler
	pub      publisher

	stopping atomic.Bool
	// countWarned is when the last warning that the shared session count
	// failed was logged (unix ns).
	countWarned atomic.Int64
	// ctx lives until the background work stops; retries of unrecorded
	// escalations watch it.
	ctx    context.Context
	cancel context.CancelFunc
	bg     sync.WaitGroup // broker, session count, engine, webhook, watchdog, republisher
	// stopCommit and stopBg stop the committer, then everything else.
	stopCommit func()
	commitDone chan struct{}

	mu    sync.Mutex
	conns map[*conn]struct{}
	wg    sync.WaitGroup // sessions
}

// New builds a node and starts its background work. Call Shutdown to stop
// it.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Broker == nil || cfg.Presence == nil || cfg.Verifier == nil {
		return nil, errors.New("server: Store, Broker, Presence and Verifier are required")
	}
	if e := cfg.Escalation; e != nil && (e.Store == nil || e.Engine == nil || e.Pager == nil) {
		return nil, errors.New("server: Escalation needs its Store, Engine and Pager (see NewEscalation)")
	}
	if _, err := ParseDMPolicy(string(cfg.DMPolicy)); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	cfg.fill()
	if cfg.Sessions == nil {
		cfg.Sessions = memory.NewSessions()
	}
	if cfg.Video != nil {
		cfg.HardFrameBytes = max(cfg.HardFrameBytes, MaxVideoFrameBytes)
	}
	s := &Server{
		cfg:      cfg,
		store:    cfg.Store,
		broker:   cfg.Broker,
		presence: cfg.Presence,
		sessions: cfg.Sessions,
		verifier: cfg.Verifier,
		log:      cfg.Logger,
		esc:      cfg.Escalation,
		push:     cfg.Push,
		video:    cfg.Video,
		metrics:  newMetrics(),
		conns:    make(map[*conn]struct{}),
		connLim:  newConnLimits(&cfg),
		buckets: newBuckets(limits{
			sendRate: cfg.SendRate, sendBurst: cfg.SendBurst,
			memberRate: cfg.MembershipRate, memberBurst: cfg.MembershipBurst,
			reportsPerHour: cfg.ReportsPerHour,
		}.withVideo(cfg.SendRate < 0)),
	}
	s.hub = hub.New(cfg.Broker, hub.Options{Fill: s.eventsAfter, Logger: cfg.Logger})
	s.pub = publisher{broker: cfg.Broker, hub: s.hub, log: cfg.Logger, unpublished: make(map[string]*chat.Publication)}
	if s.video != nil {
		s.relay = newVideoRelay(s, newNodeID())
	}
	if s.esc != nil {
		s.esc.Pager.attach(s)
	}
	if s.push != nil {
		s.metrics.registry.MustRegister(s.push.Collectors()...)
		if s.esc != nil {
			s.esc.Pager.attachPush(s.push)
		}
	}
	s.commit = newCommitter(s, 4*cfg.CommitBatch, cfg.CommitBatch, cfg.CommitLinger)
	s.crisis = newCrisisQueue(s, cfg.CrisisWorkers)
	s.alerts = newAlerter(s)
	s.premod = newHolder(s)
	s.auditW = newAuditWriter(cfg.Store, cfg.Logger)
	s.signins = newSigninFailures(s)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.routes()
	s.start()
	return s, nil
}

// start runs the node's long-lived goroutines. Each has its owner here and
// stops in Shutdown: the committer first (it drains accepted writes), then
// the crisis workers (they finish the escalations those writes opened),
// then the rest.
func (s *Server) start() {
	commitCtx, stopCommit := context.WithCancel(context.Background())
	s.stopCommit = stopCommit
	s.commitDone = make(chan struct{})
	go func() {
		defer close(s.commitDone)
		s.commit.run(commitCtx)
	}()
	go s.auditW.run()
	s.crisis.start()
	s.alerts.start()
	if s.push != nil {
		s.push.Start()
	}
	s.premod.start()
	ctx := s.ctx
	run := func(what string, f func(context.Context) error) {
		s.bg.Go(func() {
			if err := f(ctx); err != nil && ctx.Err() == nil {
				s.log.Error(what+" stopped", "err", err)
			}
		})
	}
	run("broker", func(ctx context.Context) error { return s.broker.Run(ctx, s.hub) })
	// Stopped after every session released its count (Shutdown).
	run("session count heartbeat", s.sessions.Run)
	run("session watchdog", func(ctx context.Context) error { s.watchSessions(ctx); return nil })
	run("republisher", func(ctx context.Context) error { s.pub.republish(ctx, time.Second); return nil })
	run("purge", func(ctx context.Context) error { s.runPurge(ctx, newNodeID()); return nil })
	run("sign-in failure audit", func(ctx context.Context) error { s.signins.run(ctx); return nil })
	if s.relay != nil {
		run("video relay", s.runVideo)
	}
	if s.esc != nil {
		run("escalation engine", s.esc.Engine.Run)
		if s.esc.Webhook != nil {
			run("escalation webhook sender", s.esc.Webhook.Run)
		}
	}
}

// Handler returns the node's HTTP handler: /ws, /api/..., /healthz,
// /readyz, the browser client, and /metrics when Config.MetricsToken is
// set (MetricsHandler serves them elsewhere). Every response carries
// nosniff, no-referrer and a Content-Security-Policy.
func (s *Server) Handler() http.Handler { return s.handler }

// Shutdown closes every session with 1001 (going away) so clients
// reconnect elsewhere and resume, commits writes already accepted, records
// the escalations they opened, and stops the background work. It returns
// when all of that is done or ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.stopping.Swap(true) {
		return nil
	}
	if s.video != nil {
		// Its sessions end first, while their participants' connections
		// can still carry video_ended (node_shutdown).
		s.video.Close()
	}
	s.mu.Lock()
	for c := range s.conns {
		c.close(protocol.CloseGoingAway, "server shutting down")
	}
	s.mu.Unlock()

	// Sessions' contexts stay alive until their close handshakes are
	// done: cancelling a read makes the library drop the connection
	// without the close frame that tells clients to resume.
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		s.premod.stop() // it may hand writes to the committer
		s.stopCommit()
		<-s.commitDone
		s.crisis.stop()
		s.alerts.stop()
		s.cancel()
		s.bg.Wait()
		if s.esc != nil {
			s.esc.Engine.Wait() // last-resort pages of the last retries
		}
		if s.push != nil {
			s.push.Stop() // after every page: it sends what they queued
		}
		s.auditW.stop() // after everything that records: it writes what they queued
		s.hub.Close()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.cancel()
		return ctx.Err()
	}
}

// Ready reports whether the node can serve: not shutting down and the store
// answers.
func (s *Server) Ready(ctx context.Context) error {
	if s.stopping.Load() {
		return errors.New("shutting down")
	}
	return s.store.Ping(ctx)
}

// Hub exposes the node's subscription table (for tests and benchmarks).
func (s *Server) Hub() *hub.Hub { return s.hub }

func (s *Server) track(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping.Load() {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.releaseSession()
	s.connLim.release(c.addr)
	s.wg.Done()
}

func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// userChannel carries news for every session of one user (a room joined
// in another tab, a DM opened by someone else).
func userChannel(id string) string { return "user:" + id }

func identUser(id auth.Identity) chat.User {
	return chat.User{ID: id.UserID, Name: id.Name, Role: string(id.Role)}
}
