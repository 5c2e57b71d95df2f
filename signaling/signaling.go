package signaling

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Person is someone taking part, as chat/server knows them. Conn names
// the connection (and its place) that asks: a later Join of the same user
// from elsewhere replaces it, and LeaveFrom with an older Conn is then a
// no-op, so a closing old tab cannot take out the new one. Empty: any.
type Person struct{ User, Name, Conn string }

// Candidate is an ICE candidate in the browser's RTCIceCandidateInit form.
// An empty Candidate ends the sender's gathering.
type Candidate struct {
	Candidate     string
	SDPMid        *string
	SDPMLineIndex *uint16
}

// ICEServer is a STUN or TURN server handed to a client.
type ICEServer struct {
	URLs                 []string
	Username, Credential string
}

// Media states of a participant's microphone, camera or screen share.
const (
	StateOn        = "on"
	StateOff       = "off"
	StateOffByHost = "off_by_host"
)

// ParticipantInfo is what everyone sees of a participant.
type ParticipantInfo struct {
	User, Name string
	// Stream is the msid stream id of this person's forwarded tracks, so
	// a client can tell whose a remote track is.
	Stream               string
	Host                 bool
	Audio, Video, Screen string // StateOn, StateOff or StateOffByHost
	Joined               time.Time
}

// The event types sent to one person through their Sender.
const (
	EvJoined      = "joined"       // Participants, ICEServers: in; send an offer
	EvWaiting     = "waiting"      // in the waiting room
	EvWaitingList = "waiting_list" // to hosts: Waiting, the whole list, on every change
	EvDenied      = "denied"       // Reason: host_denied or session_ended
	EvRemoved     = "removed"      // Reason: host_removed, replaced or connection_failed
	EvParticipant = "participant"  // Participant joined or changed; Left when gone
	EvOffer       = "offer"        // SDP: the server's offer; reply with Answer
	EvAnswer      = "answer"       // SDP: the answer to the client's offer
	EvCandidate   = "candidate"    // Candidate: one of the server's
	EvSpeaking    = "speaking"     // User: the current speaker ("" when quiet)
	EvEnded       = "ended"        // Reason: host_ended, empty or node_shutdown
)

// The reasons carried by EvDenied, EvRemoved and EvEnded.
const (
	ReasonHostDenied   = "host_denied"
	ReasonHostRemoved  = "host_removed"
	ReasonReplaced     = "replaced"
	ReasonConnFailed   = "connection_failed"
	ReasonHostEnded    = "host_ended"
	ReasonEmpty        = "empty"
	ReasonNodeShutdown = "node_shutdown"
)

// Event is one thing a person must hear about; Type says which fields are
// set.
type Event struct {
	Type, Session string
	SDP           string
	Candidate     *Candidate
	Participants  []ParticipantInfo
	Participant   *ParticipantInfo
	Left          bool
	Waiting       []Waiting
	ICEServers    []ICEServer
	User, Reason  string
}

// Sender delivers an event to one person's connection. It must not block
// (chat/server enqueues into the connection's outbox) and may be called
// from any SFU goroutine, never with an SFU lock held.
type Sender func(Event)

// SessionInfo describes a live session.
type SessionInfo struct {
	ID, Conversation, Host string
	HostName               string
	WaitingRoom            bool
	Started                time.Time
	Participants           int
}

// Config is an SFU's configuration. Zero values take the defaults.
type Config struct {
	// MaxParticipants is each session's limit, counting hosts
	// (DefaultMaxParticipants when 0).
	MaxParticipants int
	// Configure sets up the media network (UDP mux, ICE-TCP, NAT 1:1) on
	// every PeerConnection's SettingEngine; nil leaves pion's defaults.
	Configure func(*webrtc.SettingEngine)
	// ICEServers lists the STUN and TURN servers handed to user on
	// joining (with fresh credentials); nil hands none.
	ICEServers func(user string) []ICEServer
	// OnEnded is told when a session ends, on a goroutine of its own.
	OnEnded func(s SessionInfo, reason string)
	// EmptyGrace is how long a session with nobody in it or waiting stays
	// live for someone to come back (a host reloading the page) before it
	// ends with ReasonEmpty. Default 30 s.
	EmptyGrace time.Duration
	Logger     *slog.Logger
}

// ErrLive: the conversation already has a live session on this node.
var ErrLive = &Error{"video_not_allowed", "a session is already live in this conversation"}

// SFU is a node's selective forwarding unit: the live sessions, each
// forwarding every participant's tracks to every other participant.
type SFU struct {
	cfg Config
	api *webrtc.API
	log *slog.Logger

	mu     sync.Mutex
	calls  map[string]*call  // by session id
	live   map[string]string // conversation -> session id
	closed bool
	wg     sync.WaitGroup // OnEnded callbacks and call timers
}

// New returns an SFU with Opus, VP8 and H.264, RTCP reports, NACK
// generation toward publishers, and the audio-level and simulcast header
// extensions (docs/decisions/0002, "Interceptors").
func New(cfg Config) (*SFU, error) {
	if cfg.MaxParticipants <= 0 {
		cfg.MaxParticipants = DefaultMaxParticipants
	}
	if cfg.EmptyGrace <= 0 {
		cfg.EmptyGrace = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	api, err := newAPI(cfg.Configure, cfg.Logger)
	if err != nil {
		return nil, err
	}
	return &SFU{
		cfg:   cfg,
		api:   api,
		log:   cfg.Logger.With("component", "sfu"),
		calls: make(map[string]*call),
		live:  make(map[string]string),
	}, nil
}

// newAPI builds the pion API every PeerConnection shares.
func newAPI(configure func(*webrtc.SettingEngine), log *slog.Logger) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := registerCodecs(m); err != nil {
		return nil, err
	}
	for _, ext := range []struct {
		uri  string
		kind webrtc.RTPCodecType
	}{
		{sdp.AudioLevelURI, webrtc.RTPCodecTypeAudio},
		{sdp.SDESMidURI, webrtc.RTPCodecTypeVideo},
		{sdp.SDESRTPStreamIDURI, webrtc.RTPCodecTypeVideo},
		{sdp.SDESRepairRTPStreamIDURI, webrtc.RTPCodecTypeVideo},
		{sdp.SDESMidURI, webrtc.RTPCodecTypeAudio},
	} {
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: ext.uri}, ext.kind); err != nil {
			return nil, err
		}
	}
	reg := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return nil, err
	}
	if err := configureNackGenerator(m, reg); err != nil {
		return nil, err
	}
	if err := configureUplinkTWCC(m, reg); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{LoggerFactory: netLogFactory{log.With("component", "webrtc")}}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled) // a server has a real address
	if configure != nil {
		configure(&se)
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se)), nil
}

// Start makes a live session in conversation hosted by host, who then
// joins with Join like anyone else.
func (s *SFU) Start(conversation string, host Person, waitingRoom bool) (SessionInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return SessionInfo{}, ErrEnded
	}
	if _, ok := s.live[conversation]; ok {
		return SessionInfo{}, ErrLive
	}
	st := NewSession(newID(), conversation, host.User, waitingRoom)
	st.MaxParticipants = s.cfg.MaxParticipants
	c := newCall(s, st, host.Name)
	s.wg.Add(1)
	go c.speakLoop()
	s.calls[st.ID] = c
	s.live[conversation] = st.ID
	c.armEmpty()
	return c.info(), nil
}

// Live returns the session live in conversation, if any.
func (s *SFU) Live(conversation string) (SessionInfo, bool) {
	s.mu.Lock()
	c := s.calls[s.live[conversation]]
	s.mu.Unlock()
	if c == nil {
		return SessionInfo{}, false
	}
	return c.snapshot(), true
}

// Session returns session id's description, if it is live.
func (s *SFU) Session(id string) (SessionInfo, bool) {
	c := s.call(id)
	if c == nil {
		return SessionInfo{}, false
	}
	return c.snapshot(), true
}

// Sessions lists the sessions live on this node (for renewing their
// records).
func (s *SFU) Sessions() []SessionInfo {
	s.mu.Lock()
	calls := make([]*call, 0, len(s.calls))
	for _, c := range s.calls {
		calls = append(calls, c)
	}
	s.mu.Unlock()
	out := make([]SessionInfo, len(calls))
	for i, c := range calls {
		out[i] = c.snapshot()
	}
	return out
}

// Terminate ends session for everyone without a host: its record was
// lost to another node, or it could not be recorded. reason is one of
// the Reason constants.
func (s *SFU) Terminate(session, reason string) {
	if c := s.call(session); c != nil {
		c.terminate(reason)
	}
}

func (s *SFU) call(id string) *call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[id]
}

// forget drops an ended call and tells OnEnded.
func (s *SFU) forget(c *call, reason string) {
	s.mu.Lock()
	delete(s.calls, c.id)
	if s.live[c.conversation] == c.id {
		delete(s.live, c.conversation)
	}
	s.mu.Unlock()
	if s.cfg.OnEnded != nil {
		info := c.info()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.cfg.OnEnded(info, reason)
		}()
	}
}

// Close ends every session with ReasonNodeShutdown and waits for their
// peers and callbacks. Idempotent.
func (s *SFU) Close() {
	s.mu.Lock()
	s.closed = true
	calls := make([]*call, 0, len(s.calls))
	for _, c := range s.calls {
		calls = append(calls, c)
	}
	s.mu.Unlock()
	for _, c := range calls {
		c.terminate(ReasonNodeShutdown)
	}
	s.wg.Wait()
}

// goUnlessClosed runs f on a goroutine Close waits for, unless Close has
// begun (pion calls back on goroutines of its own, after Close may have
// started waiting; everything is ending then anyway).
func (s *SFU) goUnlessClosed(f func()) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.wg.Go(f)
	}
	return !s.closed
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
