package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/kindred-health/kindred/auth"
)

// vsess is one video session of the run: a room whose first participant,
// a specialist, created it (so owns it) and starts the session in it.
type vsess struct {
	idx  int
	room string

	once  sync.Once
	ready chan struct{} // closed when id or err is set
	id    string
	err   error
}

func (s *vsess) setID(id string, err error) {
	s.once.Do(func() {
		s.id, s.err = id, err
		close(s.ready)
	})
}

// setupVideoRooms creates each session's room as its host (a specialist
// may create rooms and becomes the owner, who may start a session) and
// joins the other participants to it with their own tokens, all through
// the HTTP API before anyone signs in.
func setupVideoRooms(ctx context.Context, r *videoRun) error {
	c := r.cfg
	err := parallel(ctx, c.sessions, 8, func(ctx context.Context, i int) error {
		s := r.sessions[i]
		tok, err := r.a.token(userID(r.runID, i*c.people), auth.RoleSpecialist)
		if err != nil {
			return err
		}
		var room struct {
			ID string `json:"id"`
		}
		name := fmt.Sprintf("bench %s video %d", r.runID, i)
		if err := r.a.call(ctx, c.url, "/api/rooms", tok, map[string]string{"name": name}, &room); err != nil {
			return fmt.Errorf("create room: %w", err)
		}
		s.room = room.ID
		return nil
	})
	if err != nil {
		return err
	}
	return parallel(ctx, c.participants(), 32, func(ctx context.Context, i int) error {
		if i%c.people == 0 {
			return nil // the host owns the room
		}
		tok, err := r.a.token(userID(r.runID, i), auth.RolePeer)
		if err != nil {
			return err
		}
		if err := r.a.call(ctx, c.url, "/api/rooms/"+r.sessions[i/c.people].room+"/join", tok, struct{}{}, nil); err != nil {
			return fmt.Errorf("join room: %w", err)
		}
		return nil
	})
}
