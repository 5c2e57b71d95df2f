package signaling

// The membership actions of a live call: each changes the Session under
// mu, gathers who must hear of it, then sends after releasing mu.

// join lets p in, or into the waiting room. A second join by someone
// already in replaces the first connection (told ReasonReplaced).
func (c *call) join(p Person, hostRole bool, send Sender) (bool, error) {
	var d deliveries
	defer func() { d.send() }()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended {
		return false, ErrEnded
	}
	if old := c.peers[p.User]; old != nil {
		d.add(old.send, Event{Type: EvRemoved, Session: c.id, Reason: ReasonReplaced})
		c.dropPeer(&d, p.User)
		_ = c.st.Leave(p.User)
	}
	if old, ok := c.waiters[p.User]; ok && old.conn != p.Conn {
		d.add(old.send, Event{Type: EvRemoved, Session: c.id, Reason: ReasonReplaced})
	}
	admitted, err := c.st.Join(p.User, p.Name, hostRole)
	if err != nil {
		return false, err
	}
	if !admitted {
		c.waiters[p.User] = waiter{send: send, conn: p.Conn}
		d.add(send, Event{Type: EvWaiting, Session: c.id})
		c.waitingChanged(&d)
	} else {
		c.enter(&d, p.User, waiter{send: send, conn: p.Conn})
	}
	c.armEmpty()
	return admitted, nil
}

// enter gives a new participant a peer, tells them who is in and tells
// the others. Called with mu held, after the Session let user in.
func (c *call) enter(d *deliveries, user string, w waiter) {
	delete(c.waiters, user)
	send := w.send
	pr := newPeer(c, user, send)
	pr.conn = w.conn
	c.peers[user] = pr
	for _, t := range c.tracks {
		pr.subscribe(t)
	}
	var servers []ICEServer
	if c.sfu.cfg.ICEServers != nil {
		servers = c.sfu.cfg.ICEServers(user)
	}
	d.add(send, Event{Type: EvJoined, Session: c.id, Participants: c.participantInfos(), ICEServers: servers})
	p, _ := c.st.Participant(user)
	pi := c.participantInfo(p)
	c.toAll(d, Event{Type: EvParticipant, Session: c.id, Participant: &pi}, user)
	if p.Host {
		d.add(send, Event{Type: EvWaitingList, Session: c.id, Waiting: c.st.Waiting()})
	}
}

// dropPeer stops user's peer and takes their tracks and subscriptions
// out of every forwarder, so nothing more reaches them or comes from
// them. Called with mu held; the peer's own shutdown runs on its owner.
func (c *call) dropPeer(d *deliveries, user string) {
	pr := c.peers[user]
	if pr == nil {
		return
	}
	delete(c.peers, user)
	c.spk.forget(user)
	pr.stop() // first: a subscription of theirs bound from now on is refused
	kept := c.tracks[:0]
	for _, t := range c.tracks {
		if t.pub == pr {
			t.paused.Store(true) // at once, not when each subscriber's owner gets to it
			t.removeSubscribers(func(*subscriber) bool { return true })
			for _, q := range c.peers {
				q.unsubscribe(t)
			}
			continue
		}
		t.dropSubscriber(pr)
		kept = append(kept, t)
	}
	clear(c.tracks[len(kept):])
	c.tracks = kept
	c.left(d, user)
}

func (c *call) admit(by, user string) error {
	var d deliveries
	defer func() { d.send() }()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.st.Admit(by, user); err != nil {
		return err
	}
	c.enter(&d, user, c.waiters[user])
	c.waitingChanged(&d)
	return nil
}

func (c *call) admitAll(by string) error {
	var d deliveries
	defer func() { d.send() }()
	c.mu.Lock()
	defer c.mu.Unlock()
	in, err := c.st.AdmitAll(by)
	for _, user := range in {
		c.enter(&d, user, c.waiters[user])
	}
	if len(in) > 0 {
		c.waitingChanged(&d)
	}
	return err
}

func (c *call) deny(by, user string) error {
	var d deliveries
	defer func() { d.send() }()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.st.Deny(by, user); err != nil {
		return err
	}
	d.add(c.waiters[user].send, Event{Type: EvDenied, Session: c.id, Reason: ReasonHostDenied})
	delete(c.waiters, user)
	c.waitingChanged(&d)
	c.armEmpty()
	return nil
}

// leave takes user out, in or waiting; with conn set, only if that
// connection is still the one in (a stale one's leave is a no-op).
func (c *call) leave(user, conn string) error {
	var d deliveries
	defer func() { d.send() }()
	c.mu.Lock()
	defer c.mu.Unlock()
	if conn != "" {
		if pr := c.peers[user]; pr != nil && pr.conn != conn {
			return nil
		}
		if w, ok := c.waiters[user]; ok && w.conn != conn {
			return nil
		}
	}
	if err := c.st.Leave(user); err != nil {
		return err
	}
	if _, ok := c.waiters[user]; ok {
		delete(c.waiters, user)
		c.waitingChanged(&d)
	}
	c.dropPeer(&d, user)
	c.armEmpty()
	return nil
}

// failed takes out a participant whose connection failed (ICE gave up
// after the client's restarts, or the client vanished with its
// WebSocket still open elsewhere, as when its node died): the others
// stop sending to nobody, and the person, if still listening, is told so
// they can join again.
func (c *call) failed(p *peer) {
	var d deliveries
	defer func() { d.send() }()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.peers[p.user] != p {
		return // already gone, or replaced by a new connection
	}
	c.log.Info("video: a participant's media connection failed or closed; taken out")
	d.add(p.send, Event{Type: EvRemoved, Session: c.id, Reason: ReasonConnFailed})
	_ = c.st.Leave(p.user)
	c.dropPeer(&d, p.user)
	c.armEmpty()
}

// control applies a host's or a person's own mute, unmute, camera stop or
// start, or a host's removal, and tells everyone.
func (c *call) control(by, user, action string) error {
	var d deliveries
	defer func() { d.send() }()
	c.mu.Lock()
	defer c.mu.Unlock()
	if action == ActionRemove {
		if err := c.st.Remove(by, user); err != nil {
			return err
		}
		d.add(c.peers[user].send, Event{Type: EvRemoved, Session: c.id, Reason: ReasonHostRemoved})
		c.dropPeer(&d, user)
		c.armEmpty()
		return nil
	}
	if err := c.st.Control(by, user, action); err != nil {
		return err
	}
	c.applyPauses(user)
	c.changed(&d, user)
	return nil
}

// applyPauses makes user's forwarders follow their switches and holds:
// a paused track is read but neither cached nor written. Called with mu
// held: it does no I/O (a resumed video track's key-frame request is
// sent by its reader).
func (c *call) applyPauses(user string) {
	p, ok := c.st.Participant(user)
	if !ok {
		return
	}
	for _, t := range c.tracks {
		if t.pub.user != user {
			continue
		}
		switch t.label {
		case LabelAudio:
			t.setPaused(p.AudioOff || p.AudioMuted)
			if p.AudioOff || p.AudioMuted {
				c.spk.forget(user) // a muted person is not the speaker
			}
		case LabelCamera:
			t.setPaused(p.VideoOff || p.VideoStopped)
		case LabelScreen:
			t.setPaused(p.VideoStopped) // a host's stop holds every video of the person
		}
	}
}

// setHost gives or takes user's host role; everyone sees the change and
// a new host gets the waiting list.
func (c *call) setHost(user string, host bool) error {
	var d deliveries
	defer func() { d.send() }()
	c.mu.Lock()
	defer c.mu.Unlock()
	changed, err := c.st.SetHost(user, host)
	if err != nil || !changed {
		return err
	}
	c.changed(&d, user)
	if host {
		d.add(c.peers[user].send, Event{Type: EvWaitingList, Session: c.id, Waiting: c.st.Waiting()})
	}
	return nil
}

func (c *call) end(by string) error {
	c.mu.Lock()
	err := c.st.checkHost(by)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	c.terminate(ReasonHostEnded)
	return nil
}
