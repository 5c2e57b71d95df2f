package server

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// Invite limits (docs/moderation.md#invite-links).
const (
	inviteDefaultMinutes = 24 * 60
	inviteMaxMinutes     = 30 * 24 * 60
	inviteMaxUses        = 1000
)

// inviteRoutes: invite links, made by a room's owner and moderators (and
// staff), accepted by anyone signed in who has the code.
func (s *Server) inviteRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /api/rooms/{id}/invites", s.apiIn(auth.ActManageInvites, s.createInvite))
	m.HandleFunc("GET /api/rooms/{id}/invites", s.apiIn(auth.ActManageInvites, func(r *http.Request, id auth.Identity) (int, any, error) {
		list, err := s.store.Invites(r.Context(), r.PathValue("id"))
		return http.StatusOK, map[string]any{"invites": nonNil(list)}, err
	}))
	m.HandleFunc("DELETE /api/rooms/{id}/invites/{invite}", s.apiIn(auth.ActManageInvites, func(r *http.Request, id auth.Identity) (int, any, error) {
		room, inv := r.PathValue("id"), r.PathValue("invite")
		if err := s.store.RevokeInvite(r.Context(), room, inv); err != nil {
			return 0, nil, err
		}
		s.audit(r.Context(), chat.AuditEntry{Actor: id.UserID, Action: "invite.revoke", Room: room, Detail: "invite=" + inv})
		return http.StatusOK, map[string]string{"revoked": inv}, nil
	}))
	m.HandleFunc("POST /api/invites/{code}/accept", s.api(auth.ActAcceptInvite, func(r *http.Request, id auth.Identity) (int, any, error) {
		c, err := s.acceptInvite(r.Context(), id, r.PathValue("code"))
		return http.StatusOK, c, err
	}))
}

// createInvite answers POST /api/rooms/{id}/invites
// {"expires_in_minutes","max_uses"} (0: one day, one use).
func (s *Server) createInvite(r *http.Request, id auth.Identity) (int, any, error) {
	var in struct {
		ExpiresIn int `json:"expires_in_minutes"`
		MaxUses   int `json:"max_uses"`
	}
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	in.ExpiresIn, in.MaxUses = cmp0(in.ExpiresIn, inviteDefaultMinutes), cmp0(in.MaxUses, 1)
	if in.ExpiresIn < 1 || in.ExpiresIn > inviteMaxMinutes || in.MaxUses < 1 || in.MaxUses > inviteMaxUses {
		return 0, nil, chat.Errorf(chat.CodeInvalidField, "expires_in_minutes is 1 to %d, max_uses 1 to %d", inviteMaxMinutes, inviteMaxUses)
	}
	room := r.PathValue("id")
	inv, err := s.store.CreateInvite(r.Context(), chat.Invite{Conv: room, CreatedBy: id.UserID, MaxUses: in.MaxUses,
		ExpiresAt: time.Now().Add(time.Duration(in.ExpiresIn) * time.Minute)})
	if err != nil {
		return 0, nil, err
	}
	s.audit(r.Context(), chat.AuditEntry{Actor: id.UserID, Action: "invite.create", Room: room,
		Detail: "invite=" + inv.ID + " minutes=" + strconv.Itoa(in.ExpiresIn) + " max_uses=" + strconv.Itoa(in.MaxUses)})
	return http.StatusCreated, map[string]any{"invite": inv, "link": InviteLink(requestOrigin(r), inv.Code)}, nil
}

// acceptInvite joins id to the room of the invite with code, private
// rooms included, counting one use. The use is counted before the join
// and given back when the join is refused (a ban, the room limit): a
// refused join never keeps a use, and concurrent accepts never pass
// max_uses. A member already in the room uses nothing.
func (s *Server) acceptInvite(ctx context.Context, id auth.Identity, code string) (chat.Conversation, error) {
	inv, used, err := s.store.UseInvite(ctx, code, id.UserID)
	if err != nil {
		return chat.Conversation{}, err
	}
	c, err := s.store.Conversation(ctx, inv.Conv)
	if err == nil && used {
		err = s.joinable(ctx, c, id.UserID)
	}
	if err == nil {
		c, err = s.join(ctx, identUser(id), inv.Conv, s.cfg.MaxRoomsPerUser)
	}
	if err != nil {
		if used {
			if rerr := s.store.ReleaseInvite(context.WithoutCancel(ctx), code); rerr != nil {
				s.log.Error("invite use not given back", "invite", inv.ID, "err", rerr)
			}
		}
		return c, err
	}
	if used {
		s.audit(ctx, chat.AuditEntry{Actor: id.UserID, Action: "invite.accept", Room: inv.Conv, Target: id.UserID,
			Detail: "invite=" + inv.ID})
	}
	return c, nil
}

// InviteLink is the link a person opens to accept an invite: the web
// client reads the code from the fragment, which browsers never send to
// servers or put in Referer headers.
func InviteLink(origin, code string) string { return origin + "/#invite=" + code }

// requestOrigin is the origin the caller reached the server at: its
// Origin header (a browser's), else the Host it asked for.
func requestOrigin(r *http.Request) string {
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		return o
	}
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

func cmp0(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}
