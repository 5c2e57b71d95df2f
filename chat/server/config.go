package server

import (
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/webpush"
	"github.com/kindred-health/kindred/signaling"
)

// Config holds a node's dependencies and limits. The caller builds every
// dependency (cmd/kindred wires them); the server constructs none but an
// in-process session count when Sessions is nil. Zero
// limits take the defaults listed in DefaultConfig.
type Config struct {
	Store    chat.Store
	Broker   chat.Broker
	Presence chat.Presence
	// Sessions counts each user's sessions for MaxSessionsPerUser; the
	// server runs its heartbeat. Nodes that share a Broker should share
	// it too (redis.Sessions), or the cap holds per node. Nil: an
	// in-process count (memory.Sessions), right for a single node.
	Sessions chat.SessionCounter
	Verifier *auth.Verifier
	Logger   *slog.Logger
	// Static, when set, is served at "/" (the browser client).
	Static http.Handler
	// SignIn, when set, serves /auth/ (auth/signin): sign-in with the
	// clinic's identity provider or an emailed link, browser sessions.
	// SignInEmail and SignInOIDC say which ways in it offers, for the
	// admin's settings.
	SignIn                  http.Handler
	SignInEmail, SignInOIDC bool
	// Detector scores every message and edit for crisis signals; those
	// scored high or imminent are escalated. Nil disables detection.
	Detector crisis.Detector
	// Escalation is the crisis path (escalation store, engine, pager and
	// webhook sender; see NewEscalation). Nil: no escalations, and the
	// supervisor and on-call API answers unavailable. The server runs the
	// engine and the webhook sender until Shutdown.
	Escalation *Escalation
	// Push, when set, tells supervisors' browsers by Web Push that a page
	// waits for them, whether or not a tab is open (webpush.NewSender;
	// it needs Escalation to have anything to send). Nil: no pushes, and
	// the push routes answer unavailable. The server starts it and stops
	// it in Shutdown, after the escalation engine, once its queue is
	// sent.
	Push *webpush.Sender

	// Video is the node's SFU for video sessions; nil: none, and video
	// frames are refused with video_unavailable. Set its Config.OnEnded
	// to this server's VideoEnded. Shutdown closes it before the
	// WebSocket sessions, so participants hear video_ended with reason
	// node_shutdown.
	Video *signaling.SFU

	// AllowedOrigins are the host patterns (path.Match syntax, for example
	// "chat.example.org" or "*.example.org") whose pages may open a
	// WebSocket. The server's own host is always allowed.
	AllowedOrigins []string

	// MetricsToken, when set, serves /metrics on Handler() to requests
	// with "Authorization: Bearer <MetricsToken>". Empty: /metrics is not
	// on the public handler (answers 404); serve MetricsHandler on a
	// listener of its own.
	MetricsToken string

	// MaxFrameBytes is the largest client frame handled; a larger one is
	// refused with frame_too_large and the connection stays open.
	MaxFrameBytes int
	// HardFrameBytes is the size past which a frame is treated as abuse and
	// the connection closed with 1009.
	HardFrameBytes int
	// MaxMessageBytes is the largest message body, in bytes of UTF-8.
	MaxMessageBytes int
	// SendRate and SendBurst shape each user's token bucket for sends,
	// edits and deletes. A negative SendRate turns off every per-user
	// rate limit (for load generation).
	SendRate  float64
	SendBurst int
	// MembershipRate and MembershipBurst shape each user's bucket for
	// join, leave and open_dm frames, each of which is announced to a room
	// or a person.
	MembershipRate  float64
	MembershipBurst int
	// ReportsPerHour caps each user's flags, concerns and reports (one
	// bucket for the three), each of which pages people or a room's
	// moderators: bursts of that many, refilled at that many an hour, per
	// node. Reconnecting does not refill it.
	ReportsPerHour int
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
	// EscalationTimeout bounds the recording of a crisis message's
	// escalation; past it the sender gets a retryable error instead of
	// the ack (the server keeps trying to record it).
	EscalationTimeout time.Duration
	// CrisisWorkers is how many escalations of crisis messages are opened
	// at once (each on its own conversation).
	CrisisWorkers int
	// CrisisSupport is what the sender of a crisis message sees,
	// privately, and the resources of "Get help now"; the zero value
	// means DefaultCrisisSupport.
	CrisisSupport SupportWords
	// PresenceFanoutMax is the largest conversation that is told when a
	// member comes online or goes offline. Telling every member of an
	// N-member room about each of N members costs N² frames when a large
	// room connects at once; larger rooms show presence in member lists.
	PresenceFanoutMax int
	// DMPolicy says who may open a one-on-one chat with whom (empty:
	// DMSharedRoom).
	DMPolicy DMPolicy
	// IdleTimeout is how long a browser client may sit unused before it
	// signs out (shared devices), told in each welcome; zero: not told.
	// SupervisorIdleTimeout replaces it for roles that receive pages
	// (supervisors and admins watching the escalation queue); zero:
	// IdleTimeout. The client enforces both, on the user's activity;
	// SessionIdleTimeout and SessionMaxAge are the server's own limits.
	IdleTimeout           time.Duration
	SupervisorIdleTimeout time.Duration
	// SessionIdleTimeout, when positive, closes a session (4012,
	// session_idle) that has sent no frame for that long; pings count,
	// and the browser client pings after 20 s of quiet. The server's own
	// check, whatever the client does. Zero: none.
	SessionIdleTimeout time.Duration
	// SessionMaxAge, when positive, closes a session (4013,
	// session_max_age) that long after its hello, however active: the
	// client reconnects, and its token is checked again (expiry,
	// revocation). Zero: none (the token's expiry still ends it).
	SessionMaxAge time.Duration

	// Connection limits (zero: none). MaxConns caps this node's WebSocket
	// connections (server_busy, 503, past it); MaxConnsPerAddr those from
	// one client address (too_many_connections, 429); ConnRatePerAddr
	// and ConnBurstPerAddr shape a token bucket of new connections per
	// address (rate_limited, 429, with Retry-After). All three refuse the
	// upgrade, before any frame; their counts are per node.
	// MaxSessionsPerUser caps one user's signed-in sessions on every node
	// sharing Sessions: one more is refused at hello with
	// too_many_sessions and close 4029.
	MaxConns           int
	MaxConnsPerAddr    int
	MaxSessionsPerUser int
	ConnRatePerAddr    float64
	ConnBurstPerAddr   int

	// TrustedProxyHeader names the header (X-Forwarded-For, X-Real-IP)
	// that carries the client's address when the request comes from one
	// of TrustedProxies; the connection limits count by that address
	// (clientaddr.go). Empty: the socket's peer address, always.
	TrustedProxyHeader string
	TrustedProxies     []netip.Prefix

	// Retention (docs/security.md#retention-and-erasure). RetainMessages
	// removes conversation entries older than that (0: kept forever,
	// unless a room keeps less; a room may not keep more);
	// RetainEscalations removes resolved escalations that long after
	// they were resolved (0: kept forever). The purge runs at start and
	// every PurgeInterval (default 1 h), PurgeBatch entries per store
	// transaction (default 500), on one node at a time.
	RetainMessages    time.Duration
	RetainEscalations time.Duration
	PurgeInterval     time.Duration
	PurgeBatch        int
}

// DefaultConfig returns the default limits.
func DefaultConfig() Config {
	return Config{
		MaxFrameBytes:     16 << 10,
		HardFrameBytes:    1 << 20,
		MaxMessageBytes:   4000,
		SendRate:          5,
		SendBurst:         20,
		MembershipRate:    1,
		MembershipBurst:   10,
		ReportsPerHour:    10,
		MaxRoomsPerUser:   50,
		QueueSize:         1024,
		HelloTimeout:      10 * time.Second,
		WriteTimeout:      10 * time.Second,
		MaxStrikes:        30,
		CommitBatch:       256,
		CommitLinger:      2 * time.Millisecond,
		EscalationTimeout: 5 * time.Second,
		CrisisWorkers:     8,
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
	setDur := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	setInt(&c.MaxFrameBytes, d.MaxFrameBytes)
	setInt(&c.HardFrameBytes, d.HardFrameBytes)
	setInt(&c.MaxMessageBytes, d.MaxMessageBytes)
	setInt(&c.SendBurst, d.SendBurst)
	setInt(&c.MembershipBurst, d.MembershipBurst)
	setInt(&c.ReportsPerHour, d.ReportsPerHour)
	setInt(&c.MaxRoomsPerUser, d.MaxRoomsPerUser)
	setInt(&c.QueueSize, d.QueueSize)
	setInt(&c.MaxStrikes, d.MaxStrikes)
	setInt(&c.CommitBatch, d.CommitBatch)
	setInt(&c.CrisisWorkers, d.CrisisWorkers)
	setInt(&c.PresenceFanoutMax, d.PresenceFanoutMax)
	setInt(&c.PurgeBatch, 500)
	setDur(&c.PurgeInterval, time.Hour)
	if c.CommitLinger == 0 {
		c.CommitLinger = d.CommitLinger
	}
	if c.HardFrameBytes < c.MaxFrameBytes {
		c.HardFrameBytes = c.MaxFrameBytes
	}
	if c.SendRate == 0 {
		c.SendRate = d.SendRate
	}
	if c.MembershipRate == 0 {
		c.MembershipRate = d.MembershipRate
	}
	if c.SendRate < 0 {
		c.MembershipRate, c.ReportsPerHour = -1, -1
	}
	setDur(&c.HelloTimeout, d.HelloTimeout)
	setDur(&c.WriteTimeout, d.WriteTimeout)
	setDur(&c.EscalationTimeout, d.EscalationTimeout)
	if c.ConnRatePerAddr > 0 && c.ConnBurstPerAddr <= 0 {
		c.ConnBurstPerAddr = max(1, int(2*c.ConnRatePerAddr))
	}
	if c.DMPolicy == "" {
		c.DMPolicy = DMSharedRoom
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.CrisisSupport.Text == "" {
		c.CrisisSupport = DefaultCrisisSupport()
	} else {
		c.CrisisSupport.States = withDefaultStates(c.CrisisSupport.States)
	}
}
