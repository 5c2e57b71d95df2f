package server

import (
	"context"
	"time"
)

// RenewVideoNow runs one lease renewal of the node's video sessions, as
// its ticker does every videoRenew.
func (s *Server) RenewVideoNow() { s.renewVideos(context.Background(), time.Now()) }
