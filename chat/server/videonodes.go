package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

// renewVideo extends the leases of this node's sessions every videoRenew.
// A session whose record another node now holds (this node was cut off
// past its lease) ends here: two nodes must not both host it.
func (s *Server) renewVideo(ctx context.Context) {
	t := time.NewTicker(videoRenew)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			for _, info := range s.video.Sessions() {
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
