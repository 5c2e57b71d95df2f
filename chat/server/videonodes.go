package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/signaling"
)

// The record of which node hosts each live session (chat.VideoSession):
// claimed when a session starts, renewed while it lives, removed when it
// ends. A node that dies stops renewing, and once the lease lapses the
// conversation may start a new session elsewhere.
const (
	videoLease = 30 * time.Second
	videoRenew = 10 * time.Second
)

func newNodeID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// runVideo subscribes this node's relay channel, then relays and renews
// the leases of its sessions until ctx ends.
func (s *Server) runVideo(ctx context.Context) error {
	if err := s.hub.Subscribe(ctx, nodeChannel(s.relay.node), s.relay); err != nil {
		return err
	}
	s.bg.Go(func() { s.renewVideo(ctx) })
	s.relay.run(ctx)
	return nil
}

// videoClaims is the set of this node's sessions whose record claimVideo
// has written. SFU.Start makes a session visible to Sessions before its
// record exists; a renewal in that gap would find no row and end it.
type videoClaims struct {
	mu  sync.Mutex
	ids map[string]struct{}
}

func (v *videoClaims) add(id string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.ids == nil {
		v.ids = make(map[string]struct{})
	}
	v.ids[id] = struct{}{}
}

func (v *videoClaims) remove(id string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.ids, id)
}

// of is the claimed sessions among live, forgetting claims of sessions no
// longer live (one that ended before its claim was recorded).
func (v *videoClaims) of(live []signaling.SessionInfo) []signaling.SessionInfo {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := live[:0]
	seen := make(map[string]bool, len(live))
	for _, info := range live {
		seen[info.ID] = true
		if _, ok := v.ids[info.ID]; ok {
			out = append(out, info)
		}
	}
	for id := range v.ids {
		if !seen[id] {
			delete(v.ids, id)
		}
	}
	return out
}

// renewVideo extends the leases of this node's sessions every videoRenew.
func (s *Server) renewVideo(ctx context.Context) {
	t := time.NewTicker(videoRenew)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.renewVideos(ctx, now)
		}
	}
}

// renewVideos renews the leases of the sessions claimed here. A session
// whose record another node now holds (this node was cut off past its
// lease) ends here: two nodes must not both host it.
func (s *Server) renewVideos(ctx context.Context, now time.Time) {
	for _, info := range s.claimed.of(s.video.Sessions()) {
		ok, err := s.store.RenewVideoSession(ctx, info.ID, s.relay.node, now.Add(videoLease))
		if err != nil {
			s.log.Warn("video: lease renewal failed", "session", info.ID, "err", err)
			continue
		}
		if !ok {
			s.video.Terminate(info.ID, signaling.ReasonNodeShutdown)
		}
	}
}

// claimVideo records a session just started here. If another node
// hosts a live one in that conversation, the new one ends at once and
// the caller gets the refusal. A record of this node's for a session no
// longer live here is one whose end is still on its way (OnEnded runs on
// its own goroutine): it is removed and the claim made again.
func (s *Server) claimVideo(ctx context.Context, info signaling.SessionInfo) error {
	for try := 0; ; try++ {
		now := time.Now()
		old, err := s.store.ClaimVideoSession(ctx, chat.VideoSession{ID: info.ID, Conv: info.Conversation,
			Node: s.relay.node, Host: info.Host, HostName: info.HostName, WaitingRoom: info.WaitingRoom,
			Started: info.Started, LeaseUntil: now.Add(videoLease)}, now)
		if err == nil {
			s.claimed.add(info.ID)
			return nil
		}
		stale := chat.ErrorCode(err) == chat.CodeConflict && old.Node == s.relay.node && try == 0
		if stale {
			if _, live := s.video.Session(old.ID); !live {
				s.endVideoRecord(ctx, old.ID)
				continue
			}
		}
		s.video.Terminate(info.ID, signaling.ReasonNodeShutdown)
		if chat.ErrorCode(err) == chat.CodeConflict {
			return signaling.ErrLive
		}
		return err
	}
}

// endVideoRecord removes an ended session's record.
func (s *Server) endVideoRecord(ctx context.Context, id string) {
	if err := s.store.EndVideoSession(ctx, id, s.relay.node); err != nil {
		s.log.Warn("video: removing the session record failed", "session", id, "err", err)
	}
}

// videoHost finds where session lives: this node (ops is the SFU), or
// another (ops relays there for c). The conversation is the session's.
func (s *Server) videoHost(ctx context.Context, c *conn, session string) (ops videoOps, conv string, remote bool, err *chat.Error) {
	if info, ok := s.video.Session(session); ok {
		return s.video, info.Conversation, false, nil
	}
	rec, ok, e := s.store.VideoSessionByID(ctx, session, time.Now())
	switch {
	case e != nil:
		return nil, "", false, chat.AsError(e)
	case !ok || rec.Node == s.relay.node:
		return nil, "", false, errVideoNoSession
	}
	return remoteVideo{r: s.relay, node: rec.Node, conn: c.id}, rec.Conv, true, nil
}
