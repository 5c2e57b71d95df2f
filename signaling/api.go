package signaling

// The SFU's requests, as chat/server relays them from the wire. Each
// finds the live session (ErrEnded when there is none), then asks its
// call. Errors are *Error values whose Code is the wire error code.

// Join asks to join session as p. hostRole says p may host (chat/server
// decides from the permission table at the time of the request); a
// person who cannot host waits when the waiting room is on. admitted is
// false for the waiting room. A second Join by the same user replaces the
// first connection.
func (s *SFU) Join(session string, p Person, hostRole bool, send Sender) (admitted bool, err error) {
	c := s.call(session)
	if c == nil {
		return false, ErrEnded
	}
	return c.join(p, hostRole, send)
}

// Leave takes user out of session, or out of its waiting room.
func (s *SFU) Leave(session, user string) error {
	return s.with(session, func(c *call) error { return c.leave(user, "") })
}

// LeaveFrom is Leave on behalf of connection conn (Person.Conn at its
// Join): a no-op when another connection of the user has joined since.
func (s *SFU) LeaveFrom(session, user, conn string) error {
	return s.with(session, func(c *call) error { return c.leave(user, conn) })
}

// Admit lets user in from the waiting room; by must host.
func (s *SFU) Admit(session, by, user string) error {
	return s.with(session, func(c *call) error { return c.admit(by, user) })
}

// AdmitAll lets everyone waiting in, up to the limit (ErrFull if some
// still wait); by must host.
func (s *SFU) AdmitAll(session, by string) error {
	return s.with(session, func(c *call) error { return c.admitAll(by) })
}

// Deny turns user away from the waiting room; by must host.
func (s *SFU) Deny(session, by, user string) error {
	return s.with(session, func(c *call) error { return c.deny(by, user) })
}

// Control is a mute, unmute, stop_camera or start_camera (Session.Control
// says who may do what) or a host's remove.
func (s *SFU) Control(session, by, user, action string) error {
	return s.with(session, func(c *call) error { return c.control(by, user, action) })
}

// SetHost gives or takes user's host role in session, when the
// permission that decided it at their join has changed.
func (s *SFU) SetHost(session, user string, host bool) error {
	return s.with(session, func(c *call) error { return c.setHost(user, host) })
}

// End ends session for everyone; by must host.
func (s *SFU) End(session, by string) error {
	return s.with(session, func(c *call) error { return c.end(by) })
}

// Offer is the client's offer; the answer comes back as EvAnswer. labels
// maps the offer's MIDs to LabelAudio, LabelCamera or LabelScreen (nil:
// the first video is the camera, another the screen).
func (s *SFU) Offer(session, user, sdp string, labels map[string]string) error {
	return s.withPeer(session, user, func(p *peer) error { return p.offer(sdp, labels) })
}

// Answer is the client's answer to the server's EvOffer.
func (s *SFU) Answer(session, user, sdp string) error {
	return s.withPeer(session, user, func(p *peer) error { return p.answer(sdp) })
}

// Candidate is one of the client's ICE candidates.
func (s *SFU) Candidate(session, user string, cand Candidate) error {
	return s.withPeer(session, user, func(p *peer) error { return p.candidate(cand) })
}

func (s *SFU) with(session string, f func(*call) error) error {
	c := s.call(session)
	if c == nil {
		return ErrEnded
	}
	return f(c)
}

// withPeer runs f for user's peer, outside the call's lock (negotiation
// waits for the peer's owner).
func (s *SFU) withPeer(session, user string, f func(*peer) error) error {
	c := s.call(session)
	if c == nil {
		return ErrEnded
	}
	c.mu.Lock()
	p := c.peers[user]
	c.mu.Unlock()
	if p == nil {
		return ErrNotParticipant
	}
	return f(p)
}
