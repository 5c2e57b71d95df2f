package server

import (
	"sync"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// Deliver implements hub.Subscriber. It runs on the publisher's goroutine
// with hub locks held, so it only queues. The hub hands each
// conversation's events over in sequence order without gaps; the session
// only drops those its own catch-up already sent.
func (c *conn) Deliver(p *chat.Publication) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if p.Channel == c.userCh {
		// News about a conversation this session follows takes effect
		// before the client can see it, so a frame sent after the news
		// is checked against it; subscribing is left to userEvent.
		ev, ok := c.userNewsLocked(p.Data)
		if ok && c.userEventLocked(&ev) {
			c.wg.Add(1)
			go c.userEvent(ev)
		}
		if ok && ev.Type == typeSessionsRevoked {
			c.revokedLocked(p.Data)
			return
		}
		if ok && ev.Type == typeBlockedBy {
			return // for the server only: the client is not told
		}
		c.enqueueLocked(p)
		return
	}
	if c.hiders > 0 && c.hiddenLocked(p) {
		return // presence or typing of someone who blocks this user
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

func (c *conn) startWriterLocked() {
	if !c.writing {
		c.writing = true
		c.wg.Add(1)
		go c.writeLoop()
	}
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

// writeFrames writes q, joined with "\n" into text messages of at most
// maxWriteBatch bytes, each framed in bp and written to the socket in one
// write(2) (sockwrite.go).
func (c *conn) writeFrames(q []*chat.Publication, bp *[]byte) error {
	s := c.srv
	write := func(b []byte) error {
		// No deadline: arming and disarming a timer for every write
		// showed in broadcast profiles. The server's watchdog closes a
		// session whose write has been stuck too long.
		c.writeStart.Store(time.Now().UnixNano())
		defer c.writeStart.Store(0)
		s.metrics.writes.Inc()
		return c.sock.writeText(textFrame(b))
	}
	s.metrics.deliveries.Add(float64(len(q)))
	buf := (*bp)[:frameHeaderRoom]
	for _, p := range q {
		if len(buf) > frameHeaderRoom && len(buf)+len(p.Data) >= maxWriteBatch {
			if err := write(buf); err != nil {
				return err
			}
			buf = buf[:frameHeaderRoom]
		}
		if len(buf) > frameHeaderRoom {
			buf = append(buf, '\n')
		}
		buf = append(buf, p.Data...)
	}
	*bp = buf
	return write(buf)
}
