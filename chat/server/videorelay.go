package server

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/signaling"
)

// Video across nodes (docs/architecture.md, "Video sessions"): a session
// lives on the node where it was started, recorded in the store with a
// lease that node renews. A participant whose WebSocket is on another
// node has its requests relayed over the broker to the hosting node's
// channel, video:<node>, and the SFU's events for it come back on its own
// node's channel, addressed to its connection. Media goes straight to
// the hosting node: its ICE candidates are the hosting node's.

// relayMsg is one message between nodes about video.
type relayMsg struct {
	Kind    string               `json:"k"`              // relayReq, relayRes or relayEv
	ID      uint64               `json:"id,omitempty"`   // a request's number, echoed by its answer
	From    string               `json:"from"`           // the sending node
	Conn    string               `json:"conn,omitempty"` // the connection on the origin node
	Gen     uint64               `json:"gen,omitempty"`  // its place in the session (join, events)
	Op      string               `json:"op,omitempty"`   // the request: a video frame type
	Session string               `json:"session,omitempty"`
	User    string               `json:"user,omitempty"` // who asks
	Name    string               `json:"name,omitempty"`
	Target  string               `json:"target,omitempty"` // admit, deny, control: whom
	Host    bool                 `json:"host,omitempty"`   // join: may host, by the origin's table
	All     bool                 `json:"all,omitempty"`
	SDP     string               `json:"sdp,omitempty"`
	Labels  map[string]string    `json:"labels,omitempty"`
	Cand    *signaling.Candidate `json:"cand,omitempty"`
	Action  string               `json:"action,omitempty"`
	Err     *chat.Error          `json:"err,omitempty"`   // an answer's refusal
	Ev      string               `json:"ev,omitempty"`    // an event's type
	Frame   json.RawMessage      `json:"frame,omitempty"` // an event's encoded server frame
}

const (
	relayReq = "req"
	relayRes = "res"
	relayEv  = "ev"

	relayTimeout = 5 * time.Second
	relayQueue   = 4096
)

// errVideoNodeGone: the hosting node did not answer in time.
var errVideoNodeGone = &chat.Error{Code: codeVideoUnavailable, Message: "the server hosting this video session does not answer; try again, or start a new session"}

// videoRelay is a node's side of the relay. Deliver (the hub) and the
// SFU's remote Senders only queue; the relay's goroutines publish and
// handle, so neither the hub nor an SFU goroutine waits on the broker.
type videoRelay struct {
	s    *Server
	node string

	in  chan *chat.Publication // from the hub
	out chan *chat.Publication // to the broker
	wg  sync.WaitGroup         // request handlers and retries (later)

	seq     atomic.Uint64
	mu      sync.Mutex
	stopped bool                     // run is over: later starts nothing
	pending map[uint64]chan relayMsg // requests waiting for their answer
	conns   map[string]*conn         // origin side: connections with a place elsewhere
	hosts   map[string]string        // session -> hosting node, as last looked up
}

func newVideoRelay(s *Server, node string) *videoRelay {
	return &videoRelay{s: s, node: node, in: make(chan *chat.Publication, relayQueue),
		out: make(chan *chat.Publication, relayQueue), pending: map[uint64]chan relayMsg{},
		conns: map[string]*conn{}, hosts: map[string]string{}}
}

func nodeChannel(node string) string { return "video:" + node }

// Deliver is the hub handing over a message for this node.
func (r *videoRelay) Deliver(p *chat.Publication) {
	select {
	case r.in <- p:
	default:
		r.s.log.Warn("video relay: inbound queue full, message dropped")
	}
}

// send queues m for node's channel.
func (r *videoRelay) send(node string, m *relayMsg) {
	m.From = r.node
	data, err := json.Marshal(m)
	if err != nil {
		return
	}
	select {
	case r.out <- &chat.Publication{Channel: nodeChannel(node), Data: data}:
	default:
		r.s.log.Warn("video relay: outbound queue full, message dropped")
	}
}

// run publishes and handles until ctx ends, each on a goroutine of its
// own: a publish stuck on the broker must not hold up the answers and
// events already here. Then it publishes what is still queued (the SFU's
// last events: a node shutting down tells everyone) and waits for the
// request handlers and retries.
func (r *videoRelay) run(ctx context.Context) {
	var loops sync.WaitGroup
	loops.Go(func() { r.publishLoop(ctx) })
	for done := false; !done; {
		select {
		case p := <-r.in:
			r.handle(p)
		case <-ctx.Done():
			done = true
		}
	}
	loops.Wait()
	r.mu.Lock()
	r.stopped = true // no new retry from now on: wg is about to be waited
	r.mu.Unlock()
	r.wg.Wait()
}

func (r *videoRelay) publishLoop(ctx context.Context) {
	for {
		select {
		case p := <-r.out:
			r.publish(p)
		case <-ctx.Done():
			for {
				select {
				case p := <-r.out:
					r.publish(p)
				default:
					return
				}
			}
		}
	}
}

func (r *videoRelay) publish(p *chat.Publication) {
	ctx, cancel := context.WithTimeout(context.Background(), relayTimeout)
	defer cancel()
	if err := r.s.broker.Publish(ctx, p); err != nil {
		r.s.log.Warn("video relay: publish failed", "err", err)
	}
}

// handle acts on one message: a request runs on its own goroutine (an
// offer waits for the participant's owner), answers and events are
// quick.
func (r *videoRelay) handle(p *chat.Publication) {
	var m relayMsg
	if json.Unmarshal(p.Data, &m) != nil {
		return
	}
	switch m.Kind {
	case relayReq:
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.serve(&m)
		}()
	case relayRes:
		r.mu.Lock()
		ch := r.pending[m.ID]
		delete(r.pending, m.ID)
		r.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	case relayEv:
		r.mu.Lock()
		c := r.conns[m.Conn]
		r.mu.Unlock()
		if c != nil {
			c.deliverVideo(m.Session, m.Gen, m.Ev, m.Frame)
		}
	}
}

// call sends a request to node and waits for its answer.
func (r *videoRelay) call(node string, m *relayMsg) (relayMsg, error) {
	m.Kind, m.ID = relayReq, r.seq.Add(1)
	ch := make(chan relayMsg, 1)
	r.mu.Lock()
	r.pending[m.ID] = ch
	r.mu.Unlock()
	r.send(node, m)
	t := time.NewTimer(relayTimeout)
	defer t.Stop()
	select {
	case res := <-ch:
		if res.Err != nil {
			return res, res.Err
		}
		return res, nil
	case <-t.C:
	case <-r.s.ctx.Done(): // shutting down: no answer will be read
	}
	r.mu.Lock()
	delete(r.pending, m.ID)
	r.mu.Unlock()
	return relayMsg{}, errVideoNodeGone
}

// notify sends a request to node whose answer nobody waits for.
func (r *videoRelay) notify(node string, m *relayMsg) {
	m.Kind, m.ID = relayReq, r.seq.Add(1)
	r.send(node, m)
}

// later runs f on a goroutine the relay owns after delay, unless the node
// stops first.
func (r *videoRelay) later(delay time.Duration, f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
			f()
		case <-r.s.ctx.Done():
		}
	}()
}

// track and untrack keep the connections that hold a place elsewhere,
// so events addressed to them find them.
func (r *videoRelay) track(c *conn) {
	r.mu.Lock()
	r.conns[c.id] = c
	r.mu.Unlock()
}

func (r *videoRelay) untrack(c *conn) {
	r.mu.Lock()
	delete(r.conns, c.id)
	r.mu.Unlock()
}
