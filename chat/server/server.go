// Package server is a Kindred node's front door: the WebSocket sessions, the
// HTTP API, the group committer and the operations endpoints, wired to a
// chat.Store, a chat.Broker and a chat.Presence that the caller picks
// (embedded: SQLite and the memory broker; scale-out: PostgreSQL and Redis).
//
// A message's path: a connection's reader decodes and checks a send frame,
// the committer stores it with others in one transaction, the sender is
// acked, and the event, encoded once, is published; the hub hands the same
// bytes to every subscribed connection, whose writer flushes them in
// batches. See docs/architecture.md.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/hub"
	"github.com/kindred-health/kindred/chat/protocol"
)

// Config holds a node's dependencies and limits. Zero limits take the
// defaults listed in DefaultConfig.
type Config struct {
	Store    chat.Store
	Broker   chat.Broker
	Presence chat.Presence
	Verifier *auth.Verifier
	Logger   *slog.Logger
	// Static, when set, is served at "/" (the browser client).
	Static http.Handler

	// AllowedOrigins are the host patterns (path.Match syntax, for example
	// "chat.example.org" or "*.example.org") whose pages may open a
	// WebSocket. The server's own host is always allowed.
	AllowedOrigins []string

	// MaxFrameBytes is the largest client frame handled; a larger one is
	// refused with frame_too_large and the connection stays open.
	MaxFrameBytes int
	// HardFrameBytes is the size past which a frame is treated as abuse and
	// the connection closed with 1009.
	HardFrameBytes int
	// MaxMessageBytes is the largest message body, in bytes of UTF-8.
	MaxMessageBytes int
	// SendRate and SendBurst shape each user's token bucket for sends,
	// edits and deletes.
	SendRate  float64
	SendBurst int
	// MaxRoomsPerUser caps room memberships (DMs do not count).
	MaxRoomsPerUser int
	// QueueSize is each connection's outbound queue, in frames. A client
	// that lets it overflow is closed with 4008 and resumes.
	QueueSize int
	// HelloTimeout is how long a new connection may take to authenticate.
	HelloTimeout time.Duration
	// WriteTimeout bounds each socket write.
	WriteTimeout time.Duration
	// MaxStrikes is how many refused frames a connection may send per
	// minute before it is closed with 4009.
	MaxStrikes int
	// CommitBatch caps how many writes share one store transaction.
	CommitBatch int
	// CommitLinger is how long a store transaction waits for more writes
	// after its first one (negative: not at all). It adds at most that
	// much to an ack's latency and saves an fsync per write at chat rates.
	CommitLinger time.Duration
	// Detector scores every message and edit for crisis signals; those
	// scored high or imminent are escalated. Nil disables detection.
	Detector crisis.Detector
	// Escalations stores escalations and the on-call roster. With it the
	// node runs an escalation engine (one per node; leases make sure one
	// node drives each escalation at a time).
	Escalations escalation.Store
	// EscalationPolicy sets how long supervisors have to acknowledge.
	EscalationPolicy escalation.Policy
	// NodeID names this node in escalation leases and timelines.
	NodeID string
	// WebhookURL, when set, is told about every escalation step, with
	// bodies signed by WebhookSecret (HMAC-SHA256).
	WebhookURL    string
	WebhookSecret string
	// CrisisSupport is what the sender of a crisis message sees,
	// privately; the zero value means DefaultCrisisSupport.
	CrisisSupport protocol.Support
	// PresenceFanoutMax is the largest conversation that is told when a
	// member comes online or goes offline. Telling every member of an
	// N-member room about each of N members costs N² frames when a large
	// room connects at once; larger rooms show presence in member lists.
	PresenceFanoutMax int
}

// DefaultConfig returns the default limits.
func DefaultConfig() Config {
	return Config{
		MaxFrameBytes:     16 << 10,
		HardFrameBytes:    1 << 20,
		MaxMessageBytes:   4000,
		SendRate:          5,
		SendBurst:         20,
		MaxRoomsPerUser:   50,
		QueueSize:         1024,
		HelloTimeout:      10 * time.Second,
		WriteTimeout:      10 * time.Second,
		MaxStrikes:        30,
		CommitBatch:       256,
		CommitLinger:      2 * time.Millisecond,
		PresenceFanoutMax: 100,
	}
}

func (c *Config) fill() {
	d := DefaultConfig()
	setInt := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setInt(&c.MaxFrameBytes, d.MaxFrameBytes)
	setInt(&c.HardFrameBytes, d.HardFrameBytes)
	setInt(&c.MaxMessageBytes, d.MaxMessageBytes)
	setInt(&c.SendBurst, d.SendBurst)
	setInt(&c.MaxRoomsPerUser, d.MaxRoomsPerUser)
	setInt(&c.QueueSize, d.QueueSize)
	setInt(&c.MaxStrikes, d.MaxStrikes)
	setInt(&c.CommitBatch, d.CommitBatch)
	setInt(&c.PresenceFanoutMax, d.PresenceFanoutMax)
	if c.CommitLinger == 0 {
		c.CommitLinger = d.CommitLinger
	}
	if c.HardFrameBytes < c.MaxFrameBytes {
		c.HardFrameBytes = c.MaxFrameBytes
	}
	if c.SendRate == 0 {
		c.SendRate = d.SendRate
	}
	if c.HelloTimeout <= 0 {
		c.HelloTimeout = d.HelloTimeout
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = d.WriteTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.CrisisSupport.Text == "" {
		c.CrisisSupport = DefaultCrisisSupport()
	}
}

// Server is one Kindred node.
type Server struct {
	cfg      Config
	store    chat.Store
	broker   chat.Broker
	presence chat.Presence
	verifier *auth.Verifier
	log      *slog.Logger
	hub      *hub.Hub
	metrics  *metrics
	commit   *committer
	engine   *escalation.Engine // nil when escalation is not configured
	buckets  buckets
	mux      *http.ServeMux

	ctx      context.Context // lives until Shutdown; parent of every session
	cancel   context.CancelFunc
	stopping atomic.Bool
	bg       sync.WaitGroup // broker and committer
	stopBg   func()

	// unpublished holds, per conversation, the newest event whose
	// publication failed, until republish gets it through.
	unpubMu     sync.Mutex
	unpublished map[string]*chat.Publication

	mu    sync.Mutex
	conns map[*conn]struct{}
	wg    sync.WaitGroup // sessions
}

// New builds a node and starts its broker and committer. Call Shutdown to
// stop it.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Broker == nil || cfg.Presence == nil || cfg.Verifier == nil {
		return nil, errors.New("server: Store, Broker, Presence and Verifier are required")
	}
	cfg.fill()
	s := &Server{
		cfg:      cfg,
		store:    cfg.Store,
		broker:   cfg.Broker,
		presence: cfg.Presence,
		verifier: cfg.Verifier,
		log:      cfg.Logger,
		metrics:  newMetrics(),
		conns:    make(map[*conn]struct{}),

		unpublished: make(map[string]*chat.Publication),
		buckets:     buckets{rate: cfg.SendRate, burst: cfg.SendBurst, m: make(map[string]*bucket)},
	}
	s.hub = hub.New(cfg.Broker, hub.Options{Fill: s.fillFromStore, Logger: cfg.Logger})
	if cfg.Escalations != nil {
		eng, err := escalation.NewEngine(escalation.EngineConfig{
			Store: cfg.Escalations, Notifier: s, Policy: cfg.EscalationPolicy, NodeID: cfg.NodeID,
			Logger: cfg.Logger, Admins: s.admins, Webhooks: cfg.WebhookURL != "",
		})
		if err != nil {
			return nil, err
		}
		s.engine = eng
	}
	s.commit = newCommitter(s, 4*cfg.CommitBatch, cfg.CommitBatch, cfg.CommitLinger)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.routes()

	commitCtx, stopCommit := context.WithCancel(context.Background())
	brokerCtx, stopBroker := context.WithCancel(context.Background())
	s.stopBg = func() { stopCommit(); stopBroker() }
	if s.engine != nil {
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			if err := s.engine.Run(brokerCtx); err != nil && brokerCtx.Err() == nil {
				s.log.Error("escalation engine stopped", "err", err)
			}
		}()
		if cfg.WebhookURL != "" {
			w := &escalation.WebhookSender{URL: cfg.WebhookURL, Secret: []byte(cfg.WebhookSecret), Store: cfg.Escalations,
				Client: &http.Client{Timeout: 15 * time.Second}, Logger: cfg.Logger, NodeID: s.engine.NodeID()}
			s.bg.Add(1)
			go func() {
				defer s.bg.Done()
				if err := w.Run(brokerCtx); err != nil && brokerCtx.Err() == nil {
					s.log.Error("escalation webhook sender stopped", "err", err)
				}
			}()
		}
	}
	s.bg.Add(4)
	go func() {
		defer s.bg.Done()
		s.writeWatchdog(brokerCtx)
	}()
	go func() {
		defer s.bg.Done()
		if err := s.broker.Run(brokerCtx, s.hub); err != nil && brokerCtx.Err() == nil {
			s.log.Error("broker stopped", "err", err)
		}
	}()
	go func() {
		defer s.bg.Done()
		s.commit.run(commitCtx)
	}()
	go func() {
		defer s.bg.Done()
		s.republish(brokerCtx, time.Second)
	}()
	return s, nil
}

// Handler returns the node's HTTP handler: /ws, /api/..., /healthz,
// /readyz, /metrics and the browser client.
func (s *Server) Handler() http.Handler { return s.mux }

// Shutdown closes every session with 1001 (going away) so clients
// reconnect elsewhere and resume, commits writes already accepted, and
// stops the committer and broker. It returns when all of that is done or
// ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.stopping.Swap(true) {
		return nil
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
		s.cancel()
		s.stopBg()
		s.bg.Wait()
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

// writeWatchdog drops sessions whose socket write has been stuck longer
// than WriteTimeout (a peer that stopped reading, a dead network path):
// one sweep a second over all sessions instead of a timer per write.
func (s *Server) writeWatchdog(ctx context.Context) {
	t := time.NewTicker(max(s.cfg.WriteTimeout/4, 10*time.Millisecond))
	defer t.Stop()
	var stuck []*conn
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		limit := time.Now().Add(-s.cfg.WriteTimeout).UnixNano()
		stuck = stuck[:0]
		s.mu.Lock()
		for c := range s.conns {
			if w := c.writeStart.Load(); w != 0 && w < limit {
				stuck = append(stuck, c)
			}
		}
		s.mu.Unlock()
		for _, c := range stuck {
			s.log.Info("write timed out; dropping session", "session", c.id, "user", c.ident.UserID)
			c.ws.CloseNow()
		}
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
	s.wg.Done()
}

func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func userChannel(id string) string { return "user:" + id }

// fillFromStore is the hub's Filler: events the broker did not deliver,
// read from the store and encoded as they would have been published.
func (s *Server) fillFromStore(ctx context.Context, channel string, after, upto int64, limit int) ([]*chat.Publication, error) {
	if upto > 0 {
		limit = int(min(int64(limit), upto-after))
	}
	evs, err := s.store.EventsAfter(ctx, channel, after, limit)
	if err != nil {
		return nil, err
	}
	pubs := make([]*chat.Publication, 0, len(evs))
	for i := range evs {
		if upto > 0 && evs[i].Seq > upto {
			break
		}
		pubs = append(pubs, &chat.Publication{Channel: channel, Seq: evs[i].Seq, Data: protocol.EncodeEvent(&evs[i])})
	}
	return pubs, nil
}

// publishEvent encodes a committed event once and publishes it to its
// conversation.
func (s *Server) publishEvent(ctx context.Context, e *chat.Event) {
	s.publish(ctx, &chat.Publication{Channel: e.Conv, Seq: e.Seq, Data: protocol.EncodeEvent(e)})
}

func (s *Server) publish(ctx context.Context, p *chat.Publication) {
	if err := s.broker.Publish(ctx, p); err != nil {
		// This node's own sessions still get it, straight from the hub.
		// Other nodes cannot know it exists until something carrying its
		// sequence reaches them, so the newest unpublished event of each
		// conversation is published again once the broker works; their
		// hubs then fill the gap from the store. Ephemeral events are
		// only lost elsewhere.
		s.log.Warn("publish failed; delivered locally, will republish", "channel", p.Channel, "seq", p.Seq, "err", err)
		s.hub.HandlePublication(p)
		if p.Seq > 0 {
			s.unpubMu.Lock()
			if old := s.unpublished[p.Channel]; old == nil || old.Seq < p.Seq {
				s.unpublished[p.Channel] = p
			}
			s.unpubMu.Unlock()
		}
	}
}

// republish retries, every interval until ctx ends, the newest event of
// each conversation whose publication failed.
func (s *Server) republish(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.unpubMu.Lock()
		pending := make([]*chat.Publication, 0, len(s.unpublished))
		for _, p := range s.unpublished {
			pending = append(pending, p)
		}
		s.unpubMu.Unlock()
		for _, p := range pending {
			if err := s.broker.Publish(ctx, p); err != nil {
				break // still down; try again next tick
			}
			s.unpubMu.Lock()
			if s.unpublished[p.Channel] == p {
				delete(s.unpublished, p.Channel)
			}
			s.unpubMu.Unlock()
			s.log.Info("republished after broker recovery", "channel", p.Channel, "seq", p.Seq)
		}
	}
}

func (s *Server) publishFrame(ctx context.Context, channel string, frame any) {
	s.publish(ctx, &chat.Publication{Channel: channel, Data: protocol.Encode(frame)})
}

// The operations below are shared by the WebSocket and HTTP front ends, so
// both enforce the same rules and tell every connection of the user.

func (s *Server) createRoom(ctx context.Context, id auth.Identity, name, topic string) (chat.Conversation, error) {
	if err := auth.Authorize(id, auth.ActCreateRoom); err != nil {
		return chat.Conversation{}, err
	}
	if name == "" || len(name) > 80 {
		return chat.Conversation{}, chat.Errorf(chat.CodeInvalidField, "a room name needs 1 to 80 characters")
	}
	if len(topic) > 500 {
		return chat.Conversation{}, chat.Errorf(chat.CodeInvalidField, "a room topic can have at most 500 characters")
	}
	c, err := s.store.CreateRoom(ctx, chat.Conversation{Kind: chat.KindRoom, Name: name, Topic: topic, CreatedBy: id.UserID})
	if err != nil {
		return c, err
	}
	s.log.Info("room created", "room", c.ID, "user", id.UserID)
	s.publishFrame(ctx, userChannel(id.UserID), protocol.ConversationEvent{Type: protocol.TypeConversation, Conversation: c})
	return c, nil
}

func (s *Server) joinRoom(ctx context.Context, id auth.Identity, room string) (chat.Conversation, error) {
	if err := auth.Authorize(id, auth.ActJoinRoom); err != nil {
		return chat.Conversation{}, err
	}
	if err := s.store.Join(ctx, room, id.UserID, s.cfg.MaxRoomsPerUser); err != nil {
		return chat.Conversation{}, err
	}
	c, err := s.store.Conversation(ctx, room)
	if err != nil {
		return c, err
	}
	s.publishFrame(ctx, userChannel(id.UserID), protocol.ConversationEvent{Type: protocol.TypeConversation, Conversation: c})
	s.publishFrame(ctx, room, protocol.MemberEvent{Type: protocol.TypeMember, Conv: room, User: identUser(id), Joined: true})
	if c.Members <= s.cfg.PresenceFanoutMax {
		s.announceOnline(ctx, room, id.UserID)
	}
	return c, nil
}

func (s *Server) leaveRoom(ctx context.Context, id auth.Identity, room string) error {
	if _, err := s.store.Conversation(ctx, room); err != nil {
		return err
	}
	if err := s.store.Leave(ctx, room, id.UserID); err != nil {
		return err
	}
	s.publishFrame(ctx, room, protocol.MemberEvent{Type: protocol.TypeMember, Conv: room, User: identUser(id), Joined: false})
	s.publishFrame(ctx, userChannel(id.UserID), protocol.LeftEvent{Type: protocol.TypeLeft, Conv: room})
	return nil
}

func (s *Server) openDM(ctx context.Context, id auth.Identity, other string) (chat.Conversation, error) {
	if err := auth.Authorize(id, auth.ActOpenDM); err != nil {
		return chat.Conversation{}, err
	}
	if other == "" || other == id.UserID {
		return chat.Conversation{}, chat.Errorf(chat.CodeInvalidField, "choose another user to talk with")
	}
	otherUser, err := s.store.User(ctx, other)
	if err != nil {
		return chat.Conversation{}, err
	}
	c, err := s.store.OpenDM(ctx, id.UserID, other)
	if err != nil {
		return c, err
	}
	// Each side sees the other's name as the conversation's name.
	mine, theirs := c, c
	mine.Name = otherUser.Name
	theirs.Name = id.Name
	s.publishFrame(ctx, userChannel(id.UserID), protocol.ConversationEvent{Type: protocol.TypeConversation, Conversation: mine})
	s.publishFrame(ctx, userChannel(other), protocol.ConversationEvent{Type: protocol.TypeConversation, Conversation: theirs})
	s.announceOnline(ctx, c.ID, id.UserID, other)
	return mine, nil
}

// announceOnline tells conv's members which of users are online: sessions
// announce presence only to the conversations they had when they started,
// so a new member would otherwise look offline until they reconnect.
func (s *Server) announceOnline(ctx context.Context, conv string, users ...string) {
	online, err := s.presence.Online(ctx, users)
	if err != nil {
		return
	}
	for _, u := range users {
		if online[u] {
			s.publishFrame(ctx, conv, protocol.Presence{Type: protocol.TypePresence, Conv: conv, User: u, Online: true})
		}
	}
}

// members lists conv's members with presence, for members only.
func (s *Server) members(ctx context.Context, id auth.Identity, conv string) ([]chat.Member, error) {
	if err := s.requireMember(ctx, id, conv); err != nil {
		return nil, err
	}
	ms, err := s.store.Members(ctx, conv)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ms))
	for i := range ms {
		ids[i] = ms[i].ID
	}
	online, err := s.presence.Online(ctx, ids)
	if err != nil {
		s.log.Warn("presence lookup failed", "conv", conv, "err", err)
	}
	for i := range ms {
		ms[i].Online = online[ms[i].ID]
	}
	return ms, nil
}

func (s *Server) history(ctx context.Context, id auth.Identity, conv string, before, after int64, limit int) ([]chat.Event, error) {
	if err := s.requireMember(ctx, id, conv); err != nil {
		return nil, err
	}
	switch {
	case limit <= 0:
		limit = 50
	case limit > 200:
		limit = 200
	}
	return s.store.History(ctx, conv, before, after, limit)
}

func (s *Server) requireMember(ctx context.Context, id auth.Identity, conv string) error {
	ok, err := s.store.IsMember(ctx, conv, id.UserID)
	if err != nil {
		return err
	}
	if !ok {
		if _, err := s.store.Conversation(ctx, conv); err != nil {
			return err
		}
		return chat.ErrNotMember
	}
	return nil
}

func identUser(id auth.Identity) chat.User {
	return chat.User{ID: id.UserID, Name: id.Name, Role: string(id.Role)}
}
