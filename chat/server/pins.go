package server

import (
	"context"
	"net/http"
	"strconv"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// pinRoutes: a room's pinned messages (docs/moderation.md#pinned-messages).
func (s *Server) pinRoutes(m *http.ServeMux) {
	m.HandleFunc("PUT /api/rooms/{id}/pins/{seq}", s.apiIn(auth.ActModerate, s.pinRoute(true)))
	m.HandleFunc("DELETE /api/rooms/{id}/pins/{seq}", s.apiIn(auth.ActModerate, s.pinRoute(false)))
	m.HandleFunc("GET /api/rooms/{id}/pins", s.apiIn(auth.ActReadHistory, func(r *http.Request, id auth.Identity) (int, any, error) {
		room := r.PathValue("id")
		floor, err := s.store.MemberSince(r.Context(), room, id.UserID)
		if err != nil {
			return 0, nil, err
		}
		pins, err := s.pinsAbove(r.Context(), room, floor)
		return http.StatusOK, map[string]any{"pins": pins}, err
	}))
}

// pinRoute pins (pin true) or unpins message {seq} of room {id}: once
// changed, one audit entry and the room's full list to its channel. A pin
// already there, or an unpin of a message not pinned, changes nothing.
// It answers with the list as the caller reads it.
func (s *Server) pinRoute(pin bool) handlerFunc {
	return func(r *http.Request, id auth.Identity) (int, any, error) {
		ctx, room := r.Context(), r.PathValue("id")
		seq, err := pathSeq(r)
		if err != nil {
			return 0, nil, err
		}
		var changed bool
		if pin {
			if _, err = s.roomMessage(ctx, room, seq); err == nil {
				changed, err = s.store.Pin(ctx, room, seq, id.UserID, chat.MaxPins)
			}
		} else if err = s.isRoom(ctx, room); err == nil {
			changed, err = s.store.Unpin(ctx, room, seq)
		}
		if err != nil {
			return 0, nil, err
		}
		if changed {
			action := "message.unpin"
			if pin {
				action = "message.pin"
			}
			s.audit(ctx, chat.AuditEntry{Actor: id.UserID, Action: action, Room: room, Detail: "seq=" + strconv.FormatInt(seq, 10)})
			s.tellPins(ctx, room)
		}
		floor, err := s.store.MemberSince(ctx, room, id.UserID)
		if err != nil {
			return 0, nil, err
		}
		pins, err := s.pinsAbove(ctx, room, floor)
		return http.StatusOK, map[string]any{"pins": pins}, err
	}
}

// pinsAbove is room's pins of messages after floor, newest first.
func (s *Server) pinsAbove(ctx context.Context, room string, floor int64) ([]chat.Pin, error) {
	pins, err := s.store.Pins(ctx, room)
	if err != nil {
		return nil, err
	}
	out := pins[:0]
	for _, p := range pins {
		if p.Seq > floor {
			out = append(out, p)
		}
	}
	return nonNil(out), nil
}

// tellPins publishes room's pins, all of them, to the room on every node.
func (s *Server) tellPins(ctx context.Context, room string) {
	pins, err := s.store.Pins(ctx, room)
	if err != nil {
		s.log.Error("pins not told", "conv", room, "err", err)
		return
	}
	s.pub.frame(ctx, room, protocol.Pins{Type: protocol.TypePins, Conv: room, Pins: nonNil(pins)})
}
