package signaling

import (
	"log/slog"
	"sync"
	"time"
)

// call is a live session at run time: its membership state (Session),
// a peer per participant, the waiting people's Senders and the tracks
// being forwarded. mu guards all of it and is never held across I/O or
// a Sender call: events are gathered in a deliveries list under mu and
// sent after it is released.
type call struct {
	sfu          *SFU
	id           string
	conversation string
	hostName     string
	started      time.Time
	log          *slog.Logger

	mu       sync.Mutex
	st       *Session
	peers    map[string]*peer  // participants, by user
	waiters  map[string]waiter // the waiting room, by user
	tracks   []*track          // every published track
	empty    *time.Timer       // armed while nobody is in or waiting
	emptyGen uint64            // which arming the timer belongs to
	ended    bool

	spk  *speakers     // fed by the audio readers, read by speakLoop
	quit chan struct{} // closed by terminate: stops speakLoop
}

// waiter is a person in the waiting room: how to reach them, and which
// connection asked.
type waiter struct {
	send Sender
	conn string
}

// delivery is an event to send once mu is released.
type delivery struct {
	to Sender
	ev Event
}

type deliveries []delivery

func (d *deliveries) add(to Sender, ev Event) {
	if to != nil {
		*d = append(*d, delivery{to, ev})
	}
}

func (d deliveries) send() {
	for _, x := range d {
		x.to(x.ev)
	}
}

func newCall(s *SFU, st *Session, hostName string) *call {
	return &call{
		sfu:          s,
		id:           st.ID,
		conversation: st.Conversation,
		hostName:     hostName,
		started:      time.Now(),
		log:          s.log.With("session", st.ID),
		st:           st,
		peers:        make(map[string]*peer),
		waiters:      make(map[string]waiter),
		spk:          newSpeakers(),
		quit:         make(chan struct{}),
	}
}

// speakInterval is how often the call asks who is speaking; speaking.go
// reports a change at most every 300 ms.
const speakInterval = 100 * time.Millisecond

// speakLoop tells everyone when the speaker changes, until terminate.
func (c *call) speakLoop() {
	defer c.sfu.wg.Done()
	tick := time.NewTicker(speakInterval)
	defer tick.Stop()
	for {
		select {
		case <-c.quit:
			return
		case now := <-tick.C:
			user, changed := c.spk.loudest(now)
			if !changed {
				continue
			}
			var d deliveries
			c.mu.Lock()
			c.toAll(&d, Event{Type: EvSpeaking, Session: c.id, User: user}, "")
			c.mu.Unlock()
			d.send()
		}
	}
}

// info is the session's fixed description (no participant count).
func (c *call) info() SessionInfo {
	return SessionInfo{ID: c.id, Conversation: c.conversation, Host: c.st.Host, HostName: c.hostName,
		WaitingRoom: c.st.WaitingRoom, Started: c.started}
}

func (c *call) snapshot() SessionInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := c.info()
	i.Participants = len(c.peers)
	return i
}

// participantInfo is what others see of p. Called with mu held.
func (c *call) participantInfo(p Participant) ParticipantInfo {
	pi := ParticipantInfo{User: p.User, Name: p.Name, Host: p.Host, Joined: p.Joined,
		Audio: mediaState(p.AudioOff, p.AudioMuted), Video: mediaState(p.VideoOff, p.VideoStopped), Screen: StateOff}
	if pr := c.peers[p.User]; pr != nil {
		pi.Stream = pr.stream
	}
	for _, t := range c.tracks {
		if t.pub.user == p.User && t.label == LabelScreen {
			pi.Screen = StateOn
		}
	}
	return pi
}

func mediaState(off, held bool) string {
	switch {
	case held:
		return StateOffByHost
	case off:
		return StateOff
	}
	return StateOn
}

func (c *call) participantInfos() []ParticipantInfo {
	ps := c.st.Participants()
	out := make([]ParticipantInfo, len(ps))
	for i, p := range ps {
		out[i] = c.participantInfo(p)
	}
	return out
}

// toAll queues ev for every participant but skip. Called with mu held.
func (c *call) toAll(d *deliveries, ev Event, skip string) {
	for user, p := range c.peers {
		if user != skip {
			d.add(p.send, ev)
		}
	}
}

// changed tells everyone about user's (new) state. Called with mu held.
func (c *call) changed(d *deliveries, user string) {
	p, ok := c.st.Participant(user)
	if !ok {
		return
	}
	pi := c.participantInfo(p)
	c.toAll(d, Event{Type: EvParticipant, Session: c.id, Participant: &pi}, "")
}

// left tells everyone but user that user has gone. Called with mu held.
func (c *call) left(d *deliveries, user string) {
	c.toAll(d, Event{Type: EvParticipant, Session: c.id, Left: true,
		Participant: &ParticipantInfo{User: user}}, user)
}

// waitingChanged sends the waiting list to the hosts. Called with mu held.
func (c *call) waitingChanged(d *deliveries) {
	list := c.st.Waiting()
	for _, p := range c.st.Participants() {
		if p.Host {
			d.add(c.peers[p.User].send, Event{Type: EvWaitingList, Session: c.id, Waiting: list})
		}
	}
}

// armEmpty starts the empty timer when nobody is in or waiting, and
// stops it otherwise. Called with mu held (or before the call is shared).
// A timer that fires ends the call only if it is still the armed one and
// the call is still empty, checked and ended in one critical section, so
// a join that lands meanwhile is never ended under it.
func (c *call) armEmpty() {
	if !c.st.Empty() {
		if c.empty != nil {
			c.empty.Stop()
			c.empty = nil
		}
		return
	}
	if c.empty != nil || c.ended {
		return
	}
	c.emptyGen++
	gen := c.emptyGen
	c.empty = time.AfterFunc(c.sfu.cfg.EmptyGrace, func() {
		c.terminateIf(func() bool { return c.emptyGen == gen && c.empty != nil && c.st.Empty() }, ReasonEmpty)
	})
}

// terminate ends the call for everyone: each person is told, every peer
// is stopped (their owners close the connections and the SFU waits for
// them in Close) and the SFU forgets it.
func (c *call) terminate(reason string) {
	c.terminateIf(func() bool { return true }, reason)
}

// terminateIf is terminate when cond, checked under mu, holds.
func (c *call) terminateIf(cond func() bool, reason string) {
	c.mu.Lock()
	if c.ended || !cond() {
		c.mu.Unlock()
		return
	}
	c.ended = true
	close(c.quit)
	c.st.Terminate()
	if c.empty != nil {
		c.empty.Stop()
	}
	var d deliveries
	for _, p := range c.peers {
		p.stop()
		d.add(p.send, Event{Type: EvEnded, Session: c.id, Reason: reason})
	}
	for _, w := range c.waiters {
		d.add(w.send, Event{Type: EvEnded, Session: c.id, Reason: reason})
	}
	c.peers, c.waiters, c.tracks = map[string]*peer{}, map[string]waiter{}, nil
	c.mu.Unlock()
	d.send()
	c.sfu.forget(c, reason)
}
