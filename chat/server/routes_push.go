package server

import (
	"net/http"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/webpush"
)

var errNoPush = &chat.Error{Code: chat.CodeUnavailable, Message: "Web Push is not configured on this server"}

// pushSubscription is a subscription as the browser's
// PushSubscription.toJSON() gives it (its expirationTime is ignored).
type pushSubscription struct {
	Endpoint string `json:"endpoint"`
	Keys     struct {
		P256DH string `json:"p256dh"`
		Auth   string `json:"auth"`
	} `json:"keys"`
}

// pushRoutes: a supervisor's browsers subscribe to Web Push notices of
// their pages (docs/protocol.md#web-push).
func (s *Server) pushRoutes(m *http.ServeMux) {
	push := func(h handlerFunc) http.HandlerFunc {
		return s.api(auth.ActPushSubscribe, func(r *http.Request, id auth.Identity) (int, any, error) {
			if s.push == nil {
				return 0, nil, errNoPush
			}
			return h(r, id)
		})
	}
	m.HandleFunc("GET /api/push/key", push(func(r *http.Request, id auth.Identity) (int, any, error) {
		return http.StatusOK, map[string]string{"public_key": s.push.PublicKey()}, nil
	}))
	m.HandleFunc("POST /api/push/subscriptions", push(func(r *http.Request, id auth.Identity) (int, any, error) {
		var in pushSubscription
		if err := decodeBody(r, &in); err != nil {
			return 0, nil, err
		}
		sub := webpush.Subscription{User: id.UserID, Endpoint: in.Endpoint, P256DH: in.Keys.P256DH, Auth: in.Keys.Auth}
		if err := s.push.Subscribe(r.Context(), sub); err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, map[string]string{"endpoint": sub.Endpoint}, nil
	}))
	m.HandleFunc("DELETE /api/push/subscriptions", push(func(r *http.Request, id auth.Identity) (int, any, error) {
		var in pushSubscription
		if err := decodeBody(r, &in); err != nil {
			return 0, nil, err
		}
		if in.Endpoint == "" {
			return 0, nil, missing("endpoint")
		}
		ok, err := s.push.Unsubscribe(r.Context(), id.UserID, in.Endpoint)
		return http.StatusOK, map[string]bool{"deleted": ok}, err
	}))
}
