package server

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// subscribe starts following cv from sequence from: the session joins the
// hub first, then catches up from the store, then receives live events,
// so nothing falls between the two. The hub learns the conversation's
// position from cv.LastSeq, so it can fill any gap before the first live
// event it hands over.
func (c *conn) subscribe(ctx context.Context, cv chat.Conversation, from int64) error {
	return c.follow(ctx, cv, from, true)
}

// follow is subscribe; with refresh false it leaves a conversation the
// session already follows as it is. News on the user channel takes that
// path: Deliver applied it already, and a later copy would undo news that
// arrived after it.
func (c *conn) follow(ctx context.Context, cv chat.Conversation, from int64, refresh bool) error {
	added, err := c.followQuiet(ctx, cv, from, refresh)
	if added && c.srv.video != nil {
		c.announceVideo([]string{cv.ID})
	}
	return err
}

// followQuiet is follow without telling the session of a live video
// session there; added reports whether it started following cv (the
// hello tells of all its conversations' sessions at once).
func (c *conn) followQuiet(ctx context.Context, cv chat.Conversation, from int64, refresh bool) (added bool, err error) {
	conv := cv.ID
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false, nil
	}
	if st, ok := c.convs[conv]; ok {
		// News of the membership (a join, a new role, a mute) carries
		// the role and the mute together.
		if refresh && cv.Role.Valid() {
			st.role, st.mutedUntil = cv.Role, cv.MutedUntil
		}
		if refresh {
			st.rules.update(cv)
		}
		c.mu.Unlock()
		return false, nil
	}
	role := cv.Role
	if !role.Valid() {
		role = chat.RoomMember
	}
	st := &convState{role: role, mutedUntil: cv.MutedUntil, last: from, catchingUp: true,
		presence: cv.Members <= c.srv.cfg.PresenceFanoutMax, peer: cv.Peer}
	st.rules.update(cv)
	c.convs[conv] = st
	c.mu.Unlock()
	if err := c.srv.hub.SubscribeAt(ctx, conv, c, cv.LastSeq); err != nil {
		c.mu.Lock()
		delete(c.convs, conv)
		c.mu.Unlock()
		return false, err
	}
	c.mu.Lock()
	c.startCatchUp(conv, st, true)
	c.mu.Unlock()
	return true, nil
}

func (c *conn) unsubscribe(ctx context.Context, conv string) {
	c.mu.Lock()
	_, ok := c.convs[conv]
	delete(c.convs, conv)
	c.mu.Unlock()
	if ok {
		_ = c.srv.hub.Unsubscribe(ctx, conv, c)
	}
	if c.srv.video != nil {
		// No longer a member: out of the conversation's video session.
		c.leaveVideos(conv)
	}
}

// roomRole is the session's role in conv, RoomNone when it does not
// follow conv.
func (c *conn) roomRole(conv string) chat.RoomRole {
	role, _ := c.roomState(conv)
	return role
}

// roomState is the session's role in conv (RoomNone when it does not
// follow conv) and when its mute there ends (0: not muted).
func (c *conn) roomState(conv string) (chat.RoomRole, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.convs[conv]; st != nil {
		return st.role, st.mutedUntil
	}
	return chat.RoomNone, 0
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

// catchUp replays conv's events after st.last from the store (through
// eventsAfter, the path the hub fills gaps with), pacing itself on the
// outbound queue, until it has passed every live event seen meanwhile.
// Then live delivery takes over. With announce it ends with a synced
// frame.
func (c *conn) catchUp(conv string, st *convState, announce bool) {
	defer c.wg.Done()
	// Catch-up fills at most half the queue, leaving the rest for live
	// frames (acks, presence), so replaying history never overflows it.
	page := min(256, max(1, c.srv.cfg.QueueSize/4))
	backoff := 100 * time.Millisecond
	audited := !staff(c.ident) // peers' reads are not audited
	for {
		from, ok := c.position(conv, st)
		if !ok {
			return
		}
		pubs, err := c.srv.eventsAfter(c.quiet, conv, from, 0, page)
		if err == nil && len(pubs) > 0 && !audited {
			// A staff member's catch-up is recorded, once, before any of
			// it is sent; if it cannot be, nothing is sent yet.
			err = c.srv.recordAudit(c.quiet, chat.AuditEntry{Actor: c.ident.UserID, Action: "history.catchup", Room: conv,
				Detail: fmt.Sprintf("after=%d first=%d", from, pubs[0].Seq)})
			audited = err == nil
		}
		if err != nil {
			if !c.pause(conv, err, &backoff) {
				return
			}
			continue
		}
		if len(pubs) > 0 {
			if !c.waitSpace(len(pubs)) || !c.queueCaughtUp(conv, st, pubs) {
				return
			}
			if len(pubs) == page {
				continue
			}
		}
		done, ok := c.finishCatchUp(conv, st, announce)
		if !ok || done {
			return
		}
	}
}

// position is where a catch-up of conv stands; false once the session
// closed or stopped following conv.
func (c *conn) position(conv string, st *convState) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.convs[conv] != st {
		return 0, false
	}
	return st.last, true
}

// pause waits before a catch-up read is retried; false when the session
// ended meanwhile.
func (c *conn) pause(conv string, err error, backoff *time.Duration) bool {
	if c.ctx.Err() != nil {
		return false
	}
	c.srv.log.Warn("catch-up read failed", "session", c.id, "conv", conv, "err", err)
	select {
	case <-time.After(*backoff):
		*backoff = min(2**backoff, 5*time.Second)
		return true
	case <-c.ctx.Done():
		return false
	}
}

// queueCaughtUp queues events read from the store that the client lacks.
func (c *conn) queueCaughtUp(conv string, st *convState, pubs []*chat.Publication) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.convs[conv] != st {
		return false
	}
	for _, p := range pubs {
		if p.Seq > st.last {
			st.last = p.Seq
			c.enqueueLocked(p)
		}
	}
	return true
}

// finishCatchUp hands conv over to live delivery unless live events went
// past the catch-up meanwhile (then it must read on: done is false).
func (c *conn) finishCatchUp(conv string, st *convState, announce bool) (done, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.convs[conv] != st {
		return false, false
	}
	if st.maxSeen > st.last {
		return false, true
	}
	st.catchingUp = false
	if announce {
		c.enqueueLocked(&chat.Publication{Data: protocol.Encode(protocol.Synced{Type: protocol.TypeSynced, Conv: conv, Seq: st.last})})
	}
	return true, true
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

// userNews is a frame published on the user's channel, decoded once.
type userNews struct {
	Type         string            `json:"type"`
	Conv         string            `json:"conv"`
	Conversation chat.Conversation `json:"conversation"`
	// Blocks news (blocks.go); raw, so that no other frame's fields of
	// the same names fail the decoding.
	User    json.RawMessage `json:"user"`
	Role    json.RawMessage `json:"role"`
	Blocked json.RawMessage `json:"blocked"`
}

// userNewsLocked applies news on the user's channel to a conversation the
// session already follows: a new role, a mute, new room rules, or the end
// of the membership (no role there any more, until userEvent unsubscribes).
// Called by Deliver with c.mu held, so the news takes effect before the
// client can see it; such news is rare (membership and settings changes),
// so decoding it here costs the message path nothing.
func (c *conn) userNewsLocked(data []byte) (userNews, bool) {
	var ev userNews
	if json.Unmarshal(data, &ev) != nil {
		return ev, false
	}
	switch ev.Type {
	case protocol.TypeConversation:
		if st := c.convs[ev.Conversation.ID]; st != nil {
			if ev.Conversation.Role.Valid() {
				st.role, st.mutedUntil = ev.Conversation.Role, ev.Conversation.MutedUntil
			}
			st.rules.update(ev.Conversation)
		}
	case protocol.TypeLeft:
		if st := c.convs[ev.Conv]; st != nil {
			st.role = chat.RoomNone
		}
	case protocol.TypeBlocks, typeBlockedBy:
		c.blockNewsLocked(&ev)
	}
	return ev, true
}

// userEventLocked reports whether news on the user's channel asks more
// than userNewsLocked did (userEvent). Called with c.mu held.
func (c *conn) userEventLocked(ev *userNews) bool {
	switch ev.Type {
	case protocol.TypeConversation, protocol.TypeLeft:
		return true
	case protocol.TypeBlocks, typeBlockedBy:
		return len(c.videos) > 0
	}
	return false
}

// userEvent does what news on the user's channel asks beyond the state
// Deliver already applied: follow a conversation another session of the
// user joined or someone opened, stop following one the user left, leave
// the video of a DM a block now closes.
func (c *conn) userEvent(ev userNews) {
	defer c.wg.Done()
	switch ev.Type {
	case protocol.TypeConversation:
		if !ev.Conversation.Role.Valid() {
			// News of a room's settings (or of a membership that has
			// just ended): it updates a room followed, never starts one.
			return
		}
		if err := c.follow(c.ctx, ev.Conversation, ev.Conversation.LastSeq, false); err != nil && c.ctx.Err() == nil {
			c.srv.log.Error("subscribe", "session", c.id, "conv", ev.Conversation.ID, "err", err)
			c.close(protocol.CloseInternal, "subscription failed")
		}
		if c.srv.video != nil {
			c.refreshVideoHosts(ev.Conversation.ID)
		}
	case protocol.TypeLeft:
		c.unsubscribe(c.ctx, ev.Conv)
	case protocol.TypeBlocks, typeBlockedBy:
		for _, conv := range c.blockedVideos() {
			c.leaveVideos(conv)
		}
	}
}
