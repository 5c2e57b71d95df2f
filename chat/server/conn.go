package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/protocol"
)

// conn is one WebSocket session. Its reader goroutine owns the session:
// it authenticates, handles client frames and, when it returns, tears
// everything down. Frames to the client go through a bounded queue drained
// by a writer goroutine that exists only while there is something to
// write, so an idle session costs one goroutine.
type conn struct {
	srv    *Server
	ws     *websocket.Conn
	id     string
	ident  auth.Identity
	userCh string
	bucket *bucket

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // writer, catch-ups and user-event handlers

	mu          sync.Mutex
	queue       []*chat.Publication
	spare       []*chat.Publication
	writing     bool
	closed      bool // no more frames are queued; the writer closes the socket
	closeCode   websocket.StatusCode
	closeReason string
	convs       map[string]*convState
	space       chan struct{} // signalled when the writer drains the queue

	strikes     int
	strikeReset time.Time
	lastTyping  time.Time
	expiry      *time.Timer // ends the session when the token expires
	// writeStart is when the write in progress began (unix ns), 0 when
	// none is; the server's write watchdog reads it.
	writeStart atomic.Int64
}

// convState is a session's position in one conversation.
type convState struct {
	// last is the highest sequence queued to the client; events arrive
	// in order, and anything at or below last is a duplicate.
	last int64
	// catchingUp is set while events are read from the store (after a
	// resume or a gap); live events are then only noted in maxSeen, and
	// the catch-up goes on until it has passed maxSeen.
	catchingUp bool
	maxSeen    int64
	// presence is set when the conversation is small enough to be told
	// when this user comes and goes (Config.PresenceFanoutMax).
	presence bool
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
	ws, err := websocket.Accept(leanHijacker{w}, r, &websocket.AcceptOptions{OriginPatterns: s.cfg.AllowedOrigins})
	if err != nil {
		// Accept has answered (426 for a plain HTTP request, say).
		s.log.Info("websocket handshake refused", "err", err)
		return
	}
	ws.SetReadLimit(int64(s.cfg.HardFrameBytes))
	c := &conn{
		srv:   s,
		ws:    ws,
		id:    newID("c_"),
		convs: make(map[string]*convState),
		space: make(chan struct{}, 1),
	}
	// Not derived from the server's context: Shutdown closes every session
	// itself, and a child context costs every session a registration in
	// its parent.
	c.ctx, c.cancel = context.WithCancel(context.Background())
	if !s.track(c) {
		ws.Close(protocol.CloseGoingAway, "server shutting down")
		return
	}
	// The hello (token check, database reads) runs here, on net/http's
	// goroutine, which ends with this handler. The session then runs on a
	// goroutine of its own whose stack never held that deep work, so an
	// idle session costs a small stack, and net/http's request and
	// response are freed.
	if !c.hello() {
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
	s.metrics.connections.Inc()
	defer s.metrics.connections.Dec()
	defer c.teardown()

	var buf []byte // grown by the first frame: idle sessions never need one
	var f protocol.ClientFrame
	for {
		var err error
		buf, err = c.readFrame(buf[:0])
		if err != nil {
			if errors.Is(err, errFrameTooLarge) {
				c.reject("", "", "", chat.Errorf(chat.CodeFrameTooLarge, "frames may have at most %d bytes", s.cfg.MaxFrameBytes))
				continue
			}
			c.closeOnReadError(err)
			return
		}
		f.Reset()
		if err := json.Unmarshal(buf, &f); err != nil {
			c.reject("", "", "", chat.Errorf(chat.CodeBadJSON, "the frame is not a JSON object"))
			continue
		}
		c.handle(&f)
		// Keep a large frame's buffer only while frames stay large.
		if cap(buf) > 4096 && len(buf) < 1024 {
			buf = nil
		}
	}
}

var errFrameTooLarge = errors.New("frame too large")

// readFrame reads one client frame into buf. A frame over MaxFrameBytes is
// drained and refused without closing; the library closes the connection
// (1009) past HardFrameBytes.
func (c *conn) readFrame(buf []byte) ([]byte, error) {
	// No context for the read: a cancellable one makes the library arm a
	// callback per read. A session's reads end when its socket is closed.
	typ, r, err := c.ws.Reader(context.Background())
	if err != nil {
		return buf, err
	}
	max := c.srv.cfg.MaxFrameBytes
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
			break
		}
		if err != nil {
			return buf, err
		}
	}
	if typ != websocket.MessageText {
		return buf[:0], nil // decodes as bad_json below
	}
	return buf, nil
}

func (c *conn) closeOnReadError(err error) {
	switch websocket.CloseStatus(err) {
	case -1:
		if errors.Is(err, websocket.ErrMessageTooBig) {
			c.srv.metrics.rejected.WithLabelValues(string(chat.CodeFrameTooLarge)).Inc()
		}
	default:
		// The client closed; nothing to say.
	}
	c.close(websocket.StatusNormalClosure, "")
}

// hello authenticates the session and starts its subscriptions.
func (c *conn) hello() bool {
	s := c.srv
	// A read deadline would make the library drop the connection without
	// a close frame; a timer lets the client learn why.
	timer := time.AfterFunc(s.cfg.HelloTimeout, func() {
		c.refuse(protocol.CloseHelloTimeout, &chat.Error{Code: chat.CodeAuthRequired, Message: "send a hello frame with your token first"})
	})
	typ, data, err := c.ws.Read(c.ctx)
	if !timer.Stop() || err != nil {
		c.close(websocket.StatusNormalClosure, "")
		return false
	}
	ctx := c.ctx
	var f protocol.ClientFrame
	if typ != websocket.MessageText || json.Unmarshal(data, &f) != nil || f.Type != protocol.TypeHello {
		c.refuse(protocol.CloseUnauthorized, &chat.Error{Code: chat.CodeAuthRequired, Message: "the first frame must be a hello with your token"})
		return false
	}
	id, err := s.verifier.Verify(f.Token)
	if err != nil {
		c.refuse(protocol.CloseUnauthorized, chat.AsError(err))
		return false
	}
	c.ident = id
	c.userCh = userChannel(id.UserID)
	u := identUser(id)
	if err := s.store.UpsertUser(ctx, u); err != nil {
		s.log.Error("upsert user", "user", id.UserID, "err", err)
		c.refuse(protocol.CloseInternal, chat.AsError(err))
		return false
	}
	convs, err := s.store.UserConversations(ctx, id.UserID)
	if err != nil {
		s.log.Error("list conversations", "user", id.UserID, "err", err)
		c.refuse(protocol.CloseInternal, chat.AsError(err))
		return false
	}
	c.bucket = s.buckets.acquire(id.UserID)

	// The token's expiry ends the session; the client must get a new one.
	if !id.Expires.IsZero() {
		c.expiry = time.AfterFunc(time.Until(id.Expires), func() {
			c.sendError("", "", "", &chat.Error{Code: chat.CodeTokenExpired, Message: "your sign-in expired"})
			c.close(protocol.CloseUnauthorized, "token expired")
		})
	}

	c.sendDirect(protocol.Encode(protocol.Welcome{
		Type: protocol.TypeWelcome, Session: c.id, User: u, Conversations: convs,
		Limits: protocol.Limits{
			MaxFrameBytes: s.cfg.MaxFrameBytes, MaxMessageBytes: s.cfg.MaxMessageBytes,
			SendRate: s.cfg.SendRate, SendBurst: s.cfg.SendBurst, MaxRooms: s.cfg.MaxRoomsPerUser,
		},
	}))
	if err := s.hub.Subscribe(ctx, c.userCh, c); err != nil {
		s.log.Error("subscribe user channel", "user", id.UserID, "err", err)
		c.close(protocol.CloseInternal, "subscription failed")
		return false
	}
	if isSupervisor(id.Role) {
		// Supervisors' sessions keep the escalation queue current.
		if err := s.hub.Subscribe(ctx, supervisorsChannel, c); err != nil {
			c.close(protocol.CloseInternal, "subscription failed")
			return false
		}
	}
	for i := range convs {
		from := convs[i].LastSeq
		if pos, ok := f.Resume[convs[i].ID]; ok && pos >= 0 && pos < from {
			from = pos
		}
		if err := c.subscribe(ctx, convs[i], from); err != nil {
			s.log.Error("subscribe", "conv", convs[i].ID, "err", err)
			c.close(protocol.CloseInternal, "subscription failed")
			return false
		}
	}
	if err := s.presence.Connect(ctx, id.UserID, c.id); err != nil {
		s.log.Warn("presence connect", "user", id.UserID, "err", err)
	}
	c.announcePresence(true)
	s.log.Info("session started", "session", c.id, "user", id.UserID, "role", id.Role, "conversations", len(convs))
	return true
}

// refuse tells the client why, then closes with code.
func (c *conn) refuse(code websocket.StatusCode, e *chat.Error) {
	c.sendError("", "", "", e)
	c.close(code, string(e.Code))
}

func (c *conn) teardown() {
	s := c.srv
	if c.expiry != nil {
		c.expiry.Stop()
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
	if isSupervisor(c.ident.Role) {
		_ = s.hub.Unsubscribe(ctx, supervisorsChannel, c)
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

// announcePresence tells the members of this session's conversations,
// those small enough for it, that the user is online or offline.
func (c *conn) announcePresence(online bool) {
	c.publishPresence(c.ctx, c.presenceConvs(), online)
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
		c.srv.publishFrame(ctx, id, protocol.Presence{Type: protocol.TypePresence, Conv: id, User: c.ident.UserID, Online: online})
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

func (c *conn) startWriterLocked() {
	if !c.writing {
		c.writing = true
		c.wg.Add(1)
		go c.writeLoop()
	}
}

// Deliver implements hub.Subscriber. It runs on the publisher's goroutine
// with hub locks held, so it only queues.
func (c *conn) Deliver(p *chat.Publication) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if p.Channel == c.userCh {
		c.enqueueLocked(p)
		c.wg.Add(1)
		go c.userEvent(p.Data)
		return
	}
	if p.Seq > 0 {
		st := c.convs[p.Channel]
		if st == nil {
			return
		}
		if st.catchingUp {
			st.maxSeen = max(st.maxSeen, p.Seq)
			return
		}
		if p.Seq <= st.last {
			return
		}
		if p.Seq > st.last+1 {
			// A publication was missed: fetch the gap from the store
			// rather than deliver out of order.
			st.catchingUp = true
			st.maxSeen = p.Seq
			c.startCatchUp(p.Channel, st, false)
			return
		}
		st.last = p.Seq
	}
	c.enqueueLocked(p)
}

// enqueueLocked queues p for the writer. A full queue means the client
// does not keep up: it is closed with 4008 and resumes on reconnect, so
// the hub never waits for it.
func (c *conn) enqueueLocked(p *chat.Publication) {
	if c.closed {
		return
	}
	if len(c.queue) >= c.srv.cfg.QueueSize {
		c.srv.metrics.slowClosed.Inc()
		c.srv.log.Info("slow consumer closed", "session", c.id, "user", c.ident.UserID)
		c.queue = c.queue[:0] // it resumes from its last sequence instead
		c.closeLocked(protocol.CloseSlowConsumer, "outbound queue overflow; reconnect and resume")
		return
	}
	c.queue = append(c.queue, p)
	c.startWriterLocked()
}

// sendDirect queues a frame for this session only.
func (c *conn) sendDirect(data []byte) {
	c.mu.Lock()
	c.enqueueLocked(&chat.Publication{Data: data})
	c.mu.Unlock()
}

func (c *conn) sendError(ref, id, conv string, e *chat.Error) {
	c.srv.metrics.rejected.WithLabelValues(string(e.Code)).Inc()
	c.sendDirect(protocol.Encode(protocol.ErrorFrame{Type: protocol.TypeError, Ref: ref, ID: id, Conv: conv, Error: *e}))
}

const maxWriteBatch = 64 << 10

var writeBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// writeLoop drains the queue, joining queued frames with "\n" into one
// WebSocket message per write, and exits when the queue is empty. After
// close it writes what is left and performs the close handshake.
func (c *conn) writeLoop() {
	defer c.wg.Done()
	bp := writeBufs.Get().(*[]byte)
	defer writeBufs.Put(bp)
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			closed := c.closed
			if !closed {
				c.writing = false
			}
			code, reason := c.closeCode, c.closeReason
			c.mu.Unlock()
			if closed {
				_ = c.ws.Close(code, reason)
				c.cancel()
			}
			return
		}
		q := c.queue
		c.queue = c.spare
		c.spare = nil
		c.mu.Unlock()
		select {
		case c.space <- struct{}{}:
		default:
		}

		err := c.writeFrames(q, bp)
		clear(q)
		c.mu.Lock()
		c.spare = q[:0]
		c.mu.Unlock()
		if err != nil {
			c.mu.Lock()
			c.closed, c.queue = true, nil
			c.mu.Unlock()
			c.ws.CloseNow()
			c.cancel()
			return
		}
	}
}

func (c *conn) writeFrames(q []*chat.Publication, bp *[]byte) error {
	s := c.srv
	write := func(b []byte) error {
		// No deadline context: arming and disarming a timer for every
		// write showed in broadcast profiles. The server's watchdog
		// closes a session whose write has been stuck too long.
		c.writeStart.Store(time.Now().UnixNano())
		defer c.writeStart.Store(0)
		s.metrics.writes.Inc()
		return c.ws.Write(context.Background(), websocket.MessageText, b)
	}
	s.metrics.deliveries.Add(float64(len(q)))
	if len(q) == 1 {
		return write(q[0].Data)
	}
	buf := (*bp)[:0]
	for _, p := range q {
		if len(buf) > 0 && len(buf)+len(p.Data) >= maxWriteBatch {
			if err := write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
		if len(buf) > 0 {
			buf = append(buf, '\n')
		}
		buf = append(buf, p.Data...)
	}
	*bp = buf
	return write(buf)
}

// subscribe starts following conv from sequence from: the session joins
// the hub first, then catches up from the store, then receives live
// events, so nothing falls between the two.
func (c *conn) subscribe(ctx context.Context, cv chat.Conversation, from int64) error {
	conv := cv.ID
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	if _, ok := c.convs[conv]; ok {
		c.mu.Unlock()
		return nil
	}
	st := &convState{last: from, catchingUp: true, presence: cv.Members <= c.srv.cfg.PresenceFanoutMax}
	c.convs[conv] = st
	c.mu.Unlock()
	if err := c.srv.hub.Subscribe(ctx, conv, c); err != nil {
		c.mu.Lock()
		delete(c.convs, conv)
		c.mu.Unlock()
		return err
	}
	c.mu.Lock()
	c.startCatchUp(conv, st, true)
	c.mu.Unlock()
	return nil
}

func (c *conn) unsubscribe(ctx context.Context, conv string) {
	c.mu.Lock()
	_, ok := c.convs[conv]
	delete(c.convs, conv)
	c.mu.Unlock()
	if ok {
		_ = c.srv.hub.Unsubscribe(ctx, conv, c)
	}
}

// startCatchUp runs a catch-up of conv in its own goroutine. Called with
// c.mu held.
func (c *conn) startCatchUp(conv string, st *convState, announce bool) {
	if c.closed {
		return
	}
	c.srv.metrics.recoveries.Inc()
	c.wg.Add(1)
	go c.catchUp(conv, st, announce)
}

// catchUp replays conv's events after st.last from the store, pacing
// itself on the outbound queue, until it has passed every live event seen
// meanwhile. Then live delivery takes over. With announce it ends with a
// synced frame.
func (c *conn) catchUp(conv string, st *convState, announce bool) {
	defer c.wg.Done()
	s := c.srv
	// Catch-up fills at most half the queue, leaving the rest for live
	// frames (acks, presence), so replaying history never overflows it.
	page := min(256, max(1, s.cfg.QueueSize/4))
	backoff := 100 * time.Millisecond
	for {
		c.mu.Lock()
		if c.closed || c.convs[conv] != st {
			c.mu.Unlock()
			return
		}
		from := st.last
		c.mu.Unlock()

		events, err := s.store.EventsAfter(c.ctx, conv, from, page)
		if err != nil {
			if c.ctx.Err() != nil {
				return
			}
			s.log.Warn("catch-up read failed", "session", c.id, "conv", conv, "err", err)
			select {
			case <-time.After(backoff):
				backoff = min(2*backoff, 5*time.Second)
				continue
			case <-c.ctx.Done():
				return
			}
		}
		if len(events) > 0 {
			if !c.waitSpace(len(events)) {
				return
			}
			c.mu.Lock()
			if c.closed || c.convs[conv] != st {
				c.mu.Unlock()
				return
			}
			for i := range events {
				if e := &events[i]; e.Seq > st.last {
					st.last = e.Seq
					c.enqueueLocked(&chat.Publication{Channel: conv, Seq: e.Seq, Data: protocol.EncodeEvent(e)})
				}
			}
			c.mu.Unlock()
			if len(events) == page {
				continue
			}
		}
		c.mu.Lock()
		if c.closed || c.convs[conv] != st {
			c.mu.Unlock()
			return
		}
		if st.maxSeen > st.last {
			c.mu.Unlock()
			continue
		}
		st.catchingUp = false
		if announce {
			c.enqueueLocked(&chat.Publication{Data: protocol.Encode(protocol.Synced{Type: protocol.TypeSynced, Conv: conv, Seq: st.last})})
		}
		c.mu.Unlock()
		return
	}
}

// waitSpace blocks until n more frames fit in half the queue.
func (c *conn) waitSpace(n int) bool {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return false
		}
		if len(c.queue)+n <= max(n, c.srv.cfg.QueueSize/2) {
			c.mu.Unlock()
			return true
		}
		c.mu.Unlock()
		select {
		case <-c.space:
		case <-c.ctx.Done():
			return false
		}
	}
}

// userEvent acts on a frame published to this user's channel: another
// session of the same user joined or left a room, or someone opened a DM.
func (c *conn) userEvent(data []byte) {
	defer c.wg.Done()
	var ev struct {
		Type         string            `json:"type"`
		Conv         string            `json:"conv"`
		Conversation chat.Conversation `json:"conversation"`
	}
	if json.Unmarshal(data, &ev) != nil {
		return
	}
	switch ev.Type {
	case protocol.TypeConversation:
		if err := c.subscribe(c.ctx, ev.Conversation, ev.Conversation.LastSeq); err != nil && c.ctx.Err() == nil {
			c.srv.log.Error("subscribe", "session", c.id, "conv", ev.Conversation.ID, "err", err)
			c.close(protocol.CloseInternal, "subscription failed")
		}
	case protocol.TypeLeft:
		c.unsubscribe(c.ctx, ev.Conv)
	}
}

// handle answers one decoded client frame.
func (c *conn) handle(f *protocol.ClientFrame) {
	s := c.srv
	switch f.Type {
	case protocol.TypeSend, protocol.TypeEdit, protocol.TypeDelete:
		c.handleWrite(f)
	case protocol.TypeTyping:
		if f.Conv == "" {
			c.reject(f.Ref, "", "", missing("conv"))
			return
		}
		if !c.isMember(f.Conv) {
			c.reject(f.Ref, "", f.Conv, chat.ErrNotMember)
			return
		}
		// Typing is advisory: at most one a second per session.
		if now := time.Now(); now.Sub(c.lastTyping) >= time.Second {
			c.lastTyping = now
			s.publishFrame(c.ctx, f.Conv, protocol.Typing{Type: protocol.TypeTypingEvent, Conv: f.Conv, From: c.ident.UserID, Name: c.ident.Name})
		}
	case protocol.TypeJoin, protocol.TypeLeave, protocol.TypeOpenDM, protocol.TypeMembers, protocol.TypeFlag, protocol.TypeConcern:
		// These read and write the database, whose driver runs deep
		// stacks; they run on a short-lived goroutine, in order, so that
		// the reader's stack stays small for the session's whole life.
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.handleMembership(f)
		}()
		<-done
	case protocol.TypePing:
		c.sendDirect(protocol.Encode(protocol.Pong{Type: protocol.TypePong, Ref: f.Ref}))
	case protocol.TypeHello:
		c.reject(f.Ref, "", "", &chat.Error{Code: chat.CodeAlreadyHello, Message: "this session is already signed in"})
	case "":
		c.reject(f.Ref, "", "", missing("type"))
	default:
		c.reject(f.Ref, "", "", chat.Errorf(chat.CodeUnknownType, "unknown frame type %.40q", f.Type))
	}
}

// handleMembership answers join, leave, open_dm and members.
func (c *conn) handleMembership(f *protocol.ClientFrame) {
	s := c.srv
	switch f.Type {
	case protocol.TypeJoin:
		if f.Conv == "" {
			c.reject(f.Ref, "", "", missing("conv"))
			return
		}
		conv, err := s.joinRoom(c.ctx, c.ident, f.Conv)
		if err != nil {
			c.reject(f.Ref, "", f.Conv, chat.AsError(err))
			return
		}
		c.answerConversation(f.Ref, conv)
	case protocol.TypeLeave:
		if f.Conv == "" {
			c.reject(f.Ref, "", "", missing("conv"))
			return
		}
		if err := s.leaveRoom(c.ctx, c.ident, f.Conv); err != nil {
			c.reject(f.Ref, "", f.Conv, chat.AsError(err))
			return
		}
		c.sendDirect(protocol.Encode(protocol.LeftEvent{Type: protocol.TypeLeft, Ref: f.Ref, Conv: f.Conv}))
	case protocol.TypeOpenDM:
		if f.User == "" {
			c.reject(f.Ref, "", "", missing("user"))
			return
		}
		conv, err := s.openDM(c.ctx, c.ident, f.User)
		if err != nil {
			c.reject(f.Ref, "", "", chat.AsError(err))
			return
		}
		c.answerConversation(f.Ref, conv)
	case protocol.TypeMembers:
		if f.Conv == "" {
			c.reject(f.Ref, "", "", missing("conv"))
			return
		}
		ms, err := s.members(c.ctx, c.ident, f.Conv)
		if err != nil {
			c.reject(f.Ref, "", f.Conv, chat.AsError(err))
			return
		}
		c.sendDirect(protocol.Encode(protocol.MemberList{Type: protocol.TypeMemberList, Ref: f.Ref, Conv: f.Conv, Members: ms}))
	case protocol.TypeFlag, protocol.TypeConcern:
		// Each flag pages people: it draws from the sender's rate limit.
		if ok, wait := c.bucket.take(time.Now()); !ok {
			c.reject(f.Ref, "", f.Conv, &chat.Error{Code: chat.CodeRateLimited, Message: "please wait a moment before flagging again",
				Temporary: true, RetryAfterMS: max(1, wait.Milliseconds())})
			return
		}
		var e *escalation.Escalation
		var err error
		if f.Type == protocol.TypeFlag {
			e, err = s.flag(c.ctx, c.ident, f.Conv, f.Seq, f.Reason)
		} else {
			e, err = s.concern(c.ctx, c.ident, f.User, f.Conv, f.Reason)
		}
		if err != nil {
			c.reject(f.Ref, "", f.Conv, chat.AsError(err))
			return
		}
		s.log.Info("escalation raised by hand", "escalation", e.ID, "source", e.Source, "user", c.ident.UserID)
		c.sendDirect(protocol.Encode(protocol.Flagged{Type: protocol.TypeFlagged, Ref: f.Ref, Escalation: e.ID}))
	}
}

// answerConversation subscribes this session to conv before answering, so
// that a send right after the answer is accepted; the copy of the news that
// reaches this session through the user channel then changes nothing.
func (c *conn) answerConversation(ref string, conv chat.Conversation) {
	if err := c.subscribe(c.ctx, conv, conv.LastSeq); err != nil {
		c.srv.log.Error("subscribe", "session", c.id, "conv", conv.ID, "err", err)
		c.close(protocol.CloseInternal, "subscription failed")
		return
	}
	c.sendDirect(protocol.Encode(protocol.ConversationEvent{Type: protocol.TypeConversation, Ref: ref, Conversation: conv}))
}

func missing(field string) *chat.Error {
	return chat.Errorf(chat.CodeMissingField, "the %s field is required", field)
}

func (c *conn) isMember(conv string) bool {
	c.mu.Lock()
	_, ok := c.convs[conv]
	c.mu.Unlock()
	return ok
}

// handleWrite checks a send, edit or delete and hands it to the committer;
// the ack follows the commit.
func (c *conn) handleWrite(f *protocol.ClientFrame) {
	s := c.srv
	ev := chat.Event{Conv: f.Conv, Sender: c.ident.UserID, Name: c.ident.Name}
	switch f.Type {
	case protocol.TypeSend:
		ev.Kind, ev.ClientID, ev.Body = chat.EventMessage, f.ID, f.Body
	case protocol.TypeEdit:
		ev.Kind, ev.Target, ev.Body = chat.EventEdit, f.Seq, f.Body
	case protocol.TypeDelete:
		ev.Kind, ev.Target = chat.EventDelete, f.Seq
	}
	if err := c.checkWrite(f, &ev); err != nil {
		c.reject(f.Ref, f.ID, f.Conv, err)
		return
	}
	if ok, wait := c.bucket.take(time.Now()); !ok {
		c.reject(f.Ref, f.ID, f.Conv, &chat.Error{
			Code: chat.CodeRateLimited, Message: "you are sending too fast; wait a moment",
			Temporary: true, RetryAfterMS: max(1, wait.Milliseconds()),
		})
		return
	}
	s.metrics.messagesIn.Inc()
	req := &commitReq{item: chat.AppendItem{Event: ev}, conn: c, ref: f.Ref}
	if ev.Kind != chat.EventDelete {
		req.crisis = s.detect(ev.Body)
	}
	if req.crisis != nil && req.crisis.verdict.Severity == crisis.Imminent && ev.Kind == chat.EventMessage {
		// The room may hold such messages for a supervisor. The policy
		// and the escalation live in the database: off the reader's stack.
		held := false
		done := make(chan struct{})
		go func() {
			defer close(done)
			held = c.holdIfPolicy(f.Ref, ev, req.crisis)
		}()
		<-done
		if held {
			return
		}
	}
	// Strings decoded from the frame are not retained beyond it except in
	// ev, which owns fresh copies made by encoding/json.
	if err := s.commit.submit(c.ctx, req); err != nil {
		c.sendError(f.Ref, f.ID, f.Conv, &chat.Error{Code: chat.CodeShuttingDown, Message: "the server is shutting down; resend after reconnecting", Temporary: true})
	}
}

func (c *conn) checkWrite(f *protocol.ClientFrame, ev *chat.Event) *chat.Error {
	s := c.srv
	if f.Conv == "" {
		return missing("conv")
	}
	switch ev.Kind {
	case chat.EventMessage:
		if f.ID == "" {
			return missing("id")
		}
		if len(f.ID) > 64 || strings.ContainsRune(f.ID, 0) {
			return chat.Errorf(chat.CodeInvalidField, "a message id is at most 64 bytes, without NUL characters")
		}
	default:
		if f.Seq <= 0 {
			return missing("seq")
		}
	}
	if ev.Kind != chat.EventDelete {
		if strings.TrimSpace(f.Body) == "" {
			return missing("body")
		}
		if len(f.Body) > s.cfg.MaxMessageBytes {
			return chat.Errorf(chat.CodeMessageTooLong, "messages can have at most %d bytes", s.cfg.MaxMessageBytes)
		}
		// NUL is valid UTF-8 but PostgreSQL cannot store it; refuse it in
		// every mode so clients see one behaviour.
		if strings.ContainsRune(f.Body, 0) {
			return chat.Errorf(chat.CodeInvalidField, "messages may not contain NUL characters")
		}
	}
	if !c.isMember(f.Conv) {
		return chat.ErrNotMember
	}
	return nil
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

// Resync implements hub.Resyncer: publications of conv may have been lost,
// so catch up from the store unless a catch-up is already running.
func (c *conn) Resync(conv string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.convs[conv]; st != nil && !st.catchingUp {
		st.catchingUp = true
		c.startCatchUp(conv, st, false)
	}
}
