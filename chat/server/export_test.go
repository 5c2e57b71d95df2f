package server

import (
	"context"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/escalation"
)

// RenewVideoNow runs one lease renewal of the node's video sessions, as
// its ticker does every videoRenew.
func (s *Server) RenewVideoNow() { s.renewVideos(context.Background(), time.Now()) }

// SupportMoves exposes supportMoves: the note's moves for a step, each as
// its target state and the states it may start from.
func SupportMoves(e *escalation.Escalation, step escalation.Step, reached int, notifyErr error) [][]chat.SupportState {
	var out [][]chat.SupportState
	for _, mv := range supportMoves(e, step, reached, notifyErr) {
		out = append(out, append([]chat.SupportState{mv.to}, mv.from...))
	}
	return out
}
