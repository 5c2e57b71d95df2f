package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// Blocking (docs/moderation.md#one-on-one-chats-and-blocking) is a
// personal safety setting, not moderation: nothing about it is audited.
// The store keeps it; each session caches the blocks that involve its
// user (conn.blocks), loaded at hello and refreshed by news on the user
// channels of both people on every node: a blocks frame to the blocker's
// sessions, and blocked_by news to the other's, which the server applies
// and never forwards, so the person blocked learns nothing of it.

// What a session knows of another user, in conn.blocks.
const (
	blockMine   uint8 = 1 << iota // this session's user blocks them
	blockTheirs                   // they block this session's user
	// blockDuty: they are a supervisor or an admin, whose DMs this
	// user's block leaves open (dutyBound).
	blockDuty
)

// typeBlockedBy is the news of a block on the user channel of the person
// blocked; sessions apply it and never send it to the client.
const typeBlockedBy = "blocked_by"

type blockedByNews struct {
	Type    string `json:"type"`
	User    string `json:"user"`
	Blocked bool   `json:"blocked"`
}

func (s *Server) blockRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/blocks", s.api(auth.ActBlock, func(r *http.Request, id auth.Identity) (int, any, error) {
		list, err := s.store.Blocks(r.Context(), id.UserID)
		return http.StatusOK, map[string]any{"blocks": nonNil(list)}, err
	}))
	m.HandleFunc("PUT /api/blocks/{user}", s.api(auth.ActBlock, func(r *http.Request, id auth.Identity) (int, any, error) {
		b, err := s.block(r.Context(), id, r.PathValue("user"))
		return http.StatusOK, b, err
	}))
	m.HandleFunc("DELETE /api/blocks/{user}", s.api(auth.ActBlock, func(r *http.Request, id auth.Identity) (int, any, error) {
		removed, err := s.store.Unblock(r.Context(), id.UserID, r.PathValue("user"))
		if err == nil && removed {
			s.tellBlock(r.Context(), id.UserID, chat.Block{User: r.PathValue("user")}, false)
		}
		return http.StatusOK, map[string]bool{"ok": true}, err
	}))
}

// block records that id blocks other (again: nothing changes) and tells
// both people's sessions.
func (s *Server) block(ctx context.Context, id auth.Identity, other string) (chat.Block, error) {
	if other == id.UserID {
		return chat.Block{}, chat.Errorf(chat.CodeInvalidField, "you cannot block yourself")
	}
	if err := s.store.Block(ctx, id.UserID, other); err != nil {
		if chat.ErrorCode(err) == chat.CodeNotFound {
			return chat.Block{}, chat.Errorf(chat.CodeNotFound, "no such user")
		}
		return chat.Block{}, err
	}
	list, err := s.store.Blocks(ctx, id.UserID)
	if err != nil {
		return chat.Block{}, err
	}
	for _, b := range list {
		if b.User == other {
			s.tellBlock(ctx, id.UserID, b, true)
			return b, nil
		}
	}
	return chat.Block{}, chat.Errorf(chat.CodeConflict, "the block was lifted meanwhile")
}

// tellBlock publishes a block (on) or its end to the blocker's sessions
// (a blocks frame) and to the other's (blocked_by news), on every node.
func (s *Server) tellBlock(ctx context.Context, blocker string, b chat.Block, on bool) {
	ev := protocol.BlockEvent{Type: protocol.TypeBlocks, User: b.User, Blocked: on}
	if on {
		ev.Name, ev.Role, ev.Since = b.Name, b.Role, &b.Since
	}
	s.pub.frame(ctx, userChannel(blocker), ev)
	s.pub.frame(ctx, userChannel(b.User), blockedByNews{Type: typeBlockedBy, User: blocker, Blocked: on})
}

// loadBlocks fills the session's cache of the blocks its user is part of
// (at hello, before the welcome).
func (c *conn) loadBlocks(ctx context.Context) error {
	mine, err := c.srv.store.Blocks(ctx, c.ident.UserID)
	if err != nil {
		return err
	}
	by, err := c.srv.store.BlockedBy(ctx, c.ident.UserID)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range mine {
		c.markBlockLocked(b.User, blockMine, true, isStaff(auth.Role(b.Role)))
	}
	for _, u := range by {
		c.markBlockLocked(u, blockTheirs, true, false)
	}
	return nil
}

// markBlockLocked sets or clears bit (blockMine, with duty, or
// blockTheirs) for user. Called with c.mu held.
func (c *conn) markBlockLocked(user string, bit uint8, on, duty bool) {
	old := c.blocks[user]
	v := old
	if on {
		v |= bit
	} else {
		v &^= bit
	}
	if bit == blockMine {
		v &^= blockDuty
		if on && duty {
			v |= blockDuty
		}
	}
	switch {
	case old&blockTheirs == 0 && v&blockTheirs != 0:
		c.hiders++
	case old&blockTheirs != 0 && v&blockTheirs == 0:
		c.hiders--
	}
	if v == 0 {
		delete(c.blocks, user)
		return
	}
	if c.blocks == nil {
		c.blocks = make(map[string]uint8)
	}
	c.blocks[user] = v
}

// dmClosedLocked reports whether a block closes this user's DM with peer:
// they block peer (unless peer is a supervisor or an admin), or peer
// blocks them (unless they are). Called with c.mu held; no allocation.
func (c *conn) dmClosedLocked(peer string) bool {
	v := c.blocks[peer]
	return (v&blockMine != 0 && v&blockDuty == 0) || (v&blockTheirs != 0 && !isStaff(c.ident.Role))
}

// typingAllowed reports whether a typing notice may go to conv: not in a
// DM a block closes.
func (c *conn) typingAllowed(conv string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.convs[conv]
	return st == nil || st.peer == "" || len(c.blocks) == 0 || !c.dmClosedLocked(st.peer)
}

// blockedVideos is the DMs this connection has a video place in that a
// block closes: a block during a call ends the user's part in it, as it
// would have refused their video_start or video_join.
func (c *conn) blockedVideos() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, p := range c.videos {
		if st := c.convs[p.conv]; st != nil && st.peer != "" && c.dmClosedLocked(st.peer) {
			out = append(out, p.conv)
		}
	}
	return out
}

// blockNewsLocked applies news of a block (a blocks frame, or blocked_by
// news) on the user channel. Called with c.mu held.
func (c *conn) blockNewsLocked(ev *userNews) {
	var user, role string
	if json.Unmarshal(ev.User, &user) != nil || user == "" {
		return
	}
	on := string(ev.Blocked) == "true"
	if ev.Type == typeBlockedBy {
		c.markBlockLocked(user, blockTheirs, on, false)
		return
	}
	_ = json.Unmarshal(ev.Role, &role)
	c.markBlockLocked(user, blockMine, on, isStaff(auth.Role(role)))
}

// hiddenLocked reports whether p is a presence or typing frame about
// someone who blocks this session's user, which it must not see. Only
// sessions with such blockers (c.hiders) look. Called with c.mu held.
func (c *conn) hiddenLocked(p *chat.Publication) bool {
	if c.hiders == 0 || p.Seq != 0 {
		return false
	}
	subject, ok := ephemeralSubject(p.Data)
	return ok && c.blocks[string(subject)]&blockTheirs != 0
}

var (
	presencePrefix = []byte(`{"type":"presence",`)
	typingPrefix   = []byte(`{"type":"typing",`)
	userKey        = []byte(`"user":"`)
	fromKey        = []byte(`"from":"`)
)

// ephemeralSubject is the user a presence or typing frame (as
// protocol.Encode writes them) is about. The key cannot occur inside an
// earlier string, whose quotes are escaped; an ID with escapes is decoded.
func ephemeralSubject(data []byte) ([]byte, bool) {
	key := userKey
	switch {
	case bytes.HasPrefix(data, presencePrefix):
	case bytes.HasPrefix(data, typingPrefix):
		key = fromKey
	default:
		return nil, false
	}
	i := bytes.Index(data, key)
	if i < 0 {
		return nil, false
	}
	v := data[i+len(key):]
	j := bytes.IndexByte(v, '"')
	if j < 0 {
		return nil, false
	}
	if bytes.IndexByte(v[:j], '\\') < 0 {
		return v[:j], true
	}
	var f struct{ User, From string }
	if json.Unmarshal(data, &f) != nil {
		return nil, false
	}
	return []byte(f.User + f.From), true
}

// hiddenUsers is who blocks this session's user, whose presence member
// lists must not show them (nil: nobody).
func (c *conn) hiddenUsers() map[string]bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hiders == 0 {
		return nil
	}
	out := make(map[string]bool, c.hiders)
	for u, v := range c.blocks {
		if v&blockTheirs != 0 {
			out[u] = true
		}
	}
	return out
}

// hiddenFrom is hiddenUsers for an HTTP caller, read from the store.
func (s *Server) hiddenFrom(ctx context.Context, user string) (map[string]bool, error) {
	by, err := s.store.BlockedBy(ctx, user)
	if err != nil || len(by) == 0 {
		return nil, err
	}
	out := make(map[string]bool, len(by))
	for _, u := range by {
		out[u] = true
	}
	return out, nil
}
