package memory

import (
	"context"
	"sync"

	"github.com/kindred-health/kindred/chat"
)

var _ chat.SessionCounter = (*Sessions)(nil)

// Sessions counts each user's sessions in this process: the embedded
// node is the whole cluster, so its count is the cluster's. It never
// fails, and has nothing to refresh.
type Sessions struct {
	mu    sync.Mutex
	users map[string]map[string]struct{} // userID -> session IDs
}

// NewSessions returns an empty in-process session count.
func NewSessions() *Sessions {
	return &Sessions{users: make(map[string]map[string]struct{})}
}

// Admit counts sessID unless userID has max sessions already.
func (s *Sessions) Admit(_ context.Context, userID, sessID string, max int) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.users[userID]
	if _, ok := m[sessID]; ok {
		return true, nil
	}
	if len(m) >= max {
		return false, nil
	}
	if m == nil {
		m = make(map[string]struct{}, 1)
		s.users[userID] = m
	}
	m[sessID] = struct{}{}
	return true, nil
}

// Release uncounts sessID.
func (s *Sessions) Release(_ context.Context, userID, sessID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.users[userID]; m != nil {
		delete(m, sessID)
		if len(m) == 0 {
			delete(s.users, userID)
		}
	}
	return nil
}

// Run returns nil at once: nothing lapses in one process.
func (s *Sessions) Run(context.Context) error { return nil }
