package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// conn is one WebSocket session. Its reader goroutine owns the session:
// it authenticates, handles client frames and, when it returns, tears
// everything down. Frames to the client go through a bounded queue drained
// by a writer goroutine that exists only while there is something to
// write, so an idle session costs one goroutine (outbox.go).
type conn struct {
	srv    *Server
	ws     *websocket.Conn
	sock   *sockWriter // where the writer puts its frames (sockwrite.go)
	fw     frameWait   // how the reader waits for a frame (framewait.go)
	id     string
	ident  auth.Identity
	userCh string
	// addr is the client's address (clientaddr.go); userSlot says that
	// the session counts towards its user's MaxSessionsPerUser.
	addr     string
	userSlot bool
	// pagesCh is set when the session's role may receive escalation
	// pages and queue news (see pager.go).
	pagesCh string
	bucket  *bucket

	ctx    context.Context
	cancel context.CancelFunc
	// quiet is ctx without its cancellation, for the store's calls:
	// every query given a cancellable context derives one from it, and
	// the first leaves a map of children in ctx for the session's life
	// (about 0.3 KiB per idle session). The store's calls are short; what
	// must stop with the session (catch-up loops, subscriptions) uses ctx.
	quiet context.Context
	wg    sync.WaitGroup // writer, catch-ups and user-event handlers

	mu          sync.Mutex
	queue       []*chat.Publication
	spare       []*chat.Publication
	writing     bool
	closed      bool // no more frames are queued; the writer closes the socket
	closeCode   websocket.StatusCode
	closeReason string
	convs       map[string]*convState
	// videos are the video sessions this connection joined or waits in,
	// by session id (video_conn.go); nil until its first video_join.
	videos map[string]*videoPlace
	// lookup is where the last video frame's check found a session this
	// connection has no place in (the reader's, and its handler's).
	lookup   videoLookup
	videoGen uint64        // numbers this connection's video places
	space    chan struct{} // signalled when the writer drains the queue
	// blocks are the blocks between this session's user and others, by
	// the other user (blockMine, blockTheirs, blockDuty: blocks.go); nil
	// when there are none. hiders counts those who block this user.
	blocks map[string]uint8
	hiders int

	strikes     int
	strikeReset time.Time
	lastTyping  time.Time
	// issued is the iat of the session's latest token (its hello's, or a
	// reauth's), which revocations are checked against; under mu.
	issued time.Time
	// tokenEnd and maxAgeAt are when the token expires and when the
	// session reaches Config.SessionMaxAge (unix ns; 0: never);
	// lastFrame is when the client's last frame arrived, kept while
	// Config.SessionIdleTimeout is on; limited is set once one of them
	// has ended the session. The node's watchdog reads them
	// (sessionlimits.go).
	tokenEnd  atomic.Int64
	maxAgeAt  atomic.Int64
	lastFrame atomic.Int64
	limited   atomic.Bool
	// counted is set once the session is in kindred_connections: before
	// its welcome, so that a client that has the welcome is counted.
	counted bool
	// writeStart is when the write in progress began (unix ns), 0 when
	// none is; the node's session watchdog reads it (sessionlimits.go).
	writeStart atomic.Int64
}

// convState is a session's position in one conversation.
type convState struct {
	// role is the user's room role, checked with every frame about it.
	role chat.RoomRole
	// mutedUntil is when the user's mute in the room ends (unix
	// nanoseconds; 0: not muted), checked with every send and edit.
	mutedUntil int64
	// rules are the room's settings that sends and edits are checked
	// against (roomrules.go); lastSend is when this session's last send
	// there was admitted (unix nanoseconds), for slow mode.
	rules    roomRules
	lastSend int64
	// last is the highest sequence queued to the client. The hub delivers
	// each conversation's events in order without gaps; anything at or
	// below last is one the catch-up already sent.
	last int64
	// catchingUp is set while events are read from the store after the
	// session starts following the conversation; live events are then
	// only noted in maxSeen, and the catch-up goes on until it has passed
	// maxSeen.
	catchingUp bool
	maxSeen    int64
	// presence is set when the conversation is small enough to be told
	// when this user comes and goes (Config.PresenceFanoutMax).
	presence bool
	// peer is, in a DM, the other member, whose blocks close it.
	peer string
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if s.stopping.Load() {
		writeError(w, &chat.Error{Code: chat.CodeShuttingDown, Message: "the server is shutting down", Temporary: true})
		return
	}
	if !originAllowed(r, s.cfg.AllowedOrigins) {
		s.metrics.rejected.WithLabelValues(string(chat.CodeOriginForbidden)).Inc()
		s.log.Info("websocket refused: origin not allowed", "origin", r.Header.Get("Origin"))
		writeError(w, &chat.Error{Code: chat.CodeOriginForbidden, Message: "pages from this origin may not connect"})
		return
	}
	addr := s.clientAddr(r)
	if e := s.connLim.admit(addr, time.Now()); e != nil {
		s.metrics.rejected.WithLabelValues(string(e.Code)).Inc()
		writeError(w, e)
		return
	}
	lh := &leanHijacker{ResponseWriter: w}
	// No permessage-deflate, said here rather than left to the library's
	// default: the session writer frames its batches itself (sockwrite.go)
	// and writes them uncompressed.
	ws, err := websocket.Accept(lh, r, &websocket.AcceptOptions{
		OriginPatterns:  s.cfg.AllowedOrigins,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		// Accept has answered (426 for a plain HTTP request, say).
		s.connLim.release(addr)
		s.log.Info("websocket handshake refused", "err", err)
		return
	}
	ws.SetReadLimit(int64(s.cfg.HardFrameBytes))
	c := &conn{
		srv:   s,
		ws:    ws,
		sock:  lh.sock,
		fw:    lh.wait,
		id:    newID("c_"),
		addr:  addr,
		convs: make(map[string]*convState),
		space: make(chan struct{}, 1),
	}
	// Not derived from the server's context: Shutdown closes every session
	// itself, and a child context costs every session a registration in
	// its parent.
	c.ctx, c.cancel = context.WithCancel(withSource(context.Background(), addr))
	c.quiet = context.WithoutCancel(c.ctx)
	if !s.track(c) {
		s.connLim.release(addr)
		ws.Close(protocol.CloseGoingAway, "server shutting down")
		return
	}
	// The hello (token check, database reads) runs here, on net/http's
	// goroutine, which ends with this handler. The session then runs on a
	// goroutine of its own whose stack never held that deep work, so an
	// idle session costs a small stack, and net/http's request and
	// response are freed.
	if !c.hello() {
		if c.counted {
			s.metrics.connections.Dec()
		}
		c.wg.Wait()
		c.cancel()
		s.untrack(c)
		return
	}
	go func() {
		defer s.untrack(c)
		c.run()
	}()
}

// run is the session's owning goroutine once it is signed in.
func (c *conn) run() {
	defer c.cancel()
	s := c.srv
	defer s.metrics.connections.Dec()
	defer c.teardown()
	for {
		c.waitFrame()
		bp, err := c.readFrame()
		if c.srv.cfg.SessionIdleTimeout > 0 {
			c.lastFrame.Store(time.Now().UnixNano())
		}
		if err != nil {
			if errors.Is(err, errFrameTooLarge) {
				c.reject("", "", "", chat.Errorf(chat.CodeFrameTooLarge, "frames may have at most %d bytes", s.cfg.MaxFrameBytes))
				continue
			}
			c.closeOnReadError(err)
			return
		}
		c.handleFrame(*bp)
		putReadBuf(bp)
	}
}

// readBufs and clientFrames hold a client frame while it is read, decoded
// and handled: a session waiting for its next frame holds neither, and
// keeps no text of the last one.
var (
	readBufs     = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}
	clientFrames = sync.Pool{New: func() any { return new(protocol.ClientFrame) }}
)

// maxPooledRead is the largest frame buffer kept for reuse: video
// offers can be far larger than chat frames.
const maxPooledRead = 16 << 10

func putReadBuf(bp *[]byte) {
	if cap(*bp) <= maxPooledRead {
		*bp = (*bp)[:0]
		readBufs.Put(bp)
	}
}

// handleFrame decodes one client frame and handles it.
func (c *conn) handleFrame(buf []byte) {
	s := c.srv
	f := clientFrames.Get().(*protocol.ClientFrame)
	defer func() {
		f.Reset()
		clientFrames.Put(f)
	}()
	if err := protocol.DecodeClientFrame(buf, f); err != nil {
		c.reject("", "", "", chat.Errorf(chat.CodeBadJSON, "the frame is not a JSON object"))
		return
	}
	if len(buf) > s.cfg.MaxFrameBytes && !bigFrame(f.Type) {
		// Read up to the video limit, which only SDP frames may use.
		c.reject(f.Ref, "", "", chat.Errorf(chat.CodeFrameTooLarge, "frames may have at most %d bytes", s.cfg.MaxFrameBytes))
		return
	}
	c.handle(f)
}

var errFrameTooLarge = errors.New("frame too large")

// readFrame reads one client frame into a buffer of readBufs, which the
// caller puts back. A frame over MaxFrameBytes is drained and refused
// without closing; the library closes the connection (1009) past
// HardFrameBytes. A binary frame reads as empty (bad_json).
func (c *conn) readFrame() (*[]byte, error) {
	// No context for the read: a cancellable one makes the library arm a
	// callback per read. A session's reads end when its socket is closed.
	typ, r, err := c.ws.Reader(context.Background())
	if err != nil {
		return nil, err
	}
	bp := readBufs.Get().(*[]byte)
	buf, err := readAll(r, (*bp)[:0], c.srv.frameLimit())
	*bp = buf
	if err != nil {
		putReadBuf(bp)
		return nil, err
	}
	if typ != websocket.MessageText {
		*bp = buf[:0]
	}
	return bp, nil
}

// readAll appends what r holds to buf, up to max bytes; past that it
// drains r and returns errFrameTooLarge.
func readAll(r io.Reader, buf []byte, max int) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > max {
			if _, err := io.Copy(io.Discard, r); err != nil {
				return buf[:0], err
			}
			return buf[:0], errFrameTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func (c *conn) closeOnReadError(err error) {
	if websocket.CloseStatus(err) == -1 && errors.Is(err, websocket.ErrMessageTooBig) {
		c.srv.metrics.rejected.WithLabelValues(string(chat.CodeFrameTooLarge)).Inc()
	}
	// Otherwise the client closed; nothing to say.
	c.close(websocket.StatusNormalClosure, "")
}

// refuse tells the client why, then closes with code.
func (c *conn) refuse(code websocket.StatusCode, e *chat.Error) {
	c.sendError("", "", "", e)
	c.close(code, string(e.Code))
}

// reject answers a refused frame and counts a strike; a client that keeps
// sending refused frames is closed with 4009.
func (c *conn) reject(ref, id, conv string, e *chat.Error) {
	c.sendError(ref, id, conv, e)
	now := time.Now()
	if now.After(c.strikeReset) {
		c.strikes = 0
		c.strikeReset = now.Add(time.Minute)
	}
	c.strikes++
	if c.strikes > c.srv.cfg.MaxStrikes {
		c.srv.log.Info("closing abusive session", "session", c.id, "user", c.ident.UserID, "last_code", e.Code)
		c.close(protocol.ClosePolicy, "too many refused frames")
	}
}

// close ends the session with code once the frames already queued (an
// error explaining why, say) are written. It is safe to call from any
// goroutine and more than once; only the first call counts.
func (c *conn) close(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	c.closeLocked(code, reason)
	c.mu.Unlock()
}

func (c *conn) closeLocked(code websocket.StatusCode, reason string) {
	if c.closed {
		return
	}
	c.closed = true
	c.closeCode, c.closeReason = code, reason
	// The close handshake waits for the peer; the writer goroutine does it
	// after its last frame, never the caller, which may be the hub.
	c.startWriterLocked()
}

// teardown undoes the hello once the session ends: subscriptions,
// presence, the rate-limit bucket.
func (c *conn) teardown() {
	s := c.srv
	if s.video != nil {
		c.leaveVideos("")
	}
	c.close(websocket.StatusNormalClosure, "")
	c.wg.Wait()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.ctx), 5*time.Second)
	defer cancel()
	c.mu.Lock()
	convs := make([]string, 0, len(c.convs))
	for id := range c.convs {
		convs = append(convs, id)
	}
	c.mu.Unlock()
	announce := c.presenceConvs()
	for _, id := range convs {
		_ = s.hub.Unsubscribe(ctx, id, c)
	}
	_ = s.hub.Unsubscribe(ctx, c.userCh, c)
	if c.pagesCh != "" {
		_ = s.hub.Unsubscribe(ctx, c.pagesCh, c)
		if err := s.presence.Disconnect(ctx, pagerKey(c.ident.UserID), c.id); err != nil {
			s.log.Warn("presence disconnect", "user", c.ident.UserID, "err", err)
		}
	}
	if err := s.presence.Disconnect(ctx, c.ident.UserID, c.id); err != nil {
		s.log.Warn("presence disconnect", "user", c.ident.UserID, "err", err)
	}
	if on, err := s.presence.Online(ctx, []string{c.ident.UserID}); err == nil && !on[c.ident.UserID] {
		c.publishPresence(ctx, announce, false)
	}
	s.buckets.release(c.ident.UserID)
	s.log.Info("session ended", "session", c.id, "user", c.ident.UserID)
}

// presenceConvs lists this session's conversations small enough to be
// told about presence.
func (c *conn) presenceConvs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	convs := make([]string, 0, len(c.convs))
	for id, st := range c.convs {
		if st.presence {
			convs = append(convs, id)
		}
	}
	return convs
}

func (c *conn) publishPresence(ctx context.Context, convs []string, online bool) {
	for _, id := range convs {
		c.srv.pub.frame(ctx, id, protocol.Presence{Type: protocol.TypePresence, Conv: id, User: c.ident.UserID, Online: online})
	}
}
