package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// maxBodyBytes bounds HTTP API request bodies.
const maxBodyBytes = 64 << 10

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /ws", s.serveWS)
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	m.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := contextTimeout(r, 2*time.Second)
		defer cancel()
		if err := s.Ready(ctx); err != nil {
			s.log.Warn("not ready", "err", err)
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "reason": "shutting down, or the store does not answer"})
			return
		}
		// A node cut off from the broker still serves its own clients and
		// stores every message, so it stays in rotation, marked degraded.
		if h, ok := s.broker.(interface{ Healthy() bool }); ok && !h.Healthy() {
			writeJSON(w, http.StatusOK, map[string]string{"status": "degraded", "reason": "broker unreachable; cross-node delivery resumes on reconnect"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	m.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))

	m.HandleFunc("GET /api/me", s.api(func(r *http.Request, id auth.Identity) (int, any, error) {
		return http.StatusOK, identUser(id), nil
	}))
	m.HandleFunc("GET /api/rooms", s.api(func(r *http.Request, id auth.Identity) (int, any, error) {
		rooms, err := s.store.Rooms(r.Context())
		return http.StatusOK, map[string]any{"rooms": nonNil(rooms)}, err
	}))
	m.HandleFunc("POST /api/rooms", s.api(func(r *http.Request, id auth.Identity) (int, any, error) {
		var in struct {
			Name  string `json:"name"`
			Topic string `json:"topic"`
		}
		if err := decodeBody(r, &in); err != nil {
			return 0, nil, err
		}
		c, err := s.createRoom(r.Context(), id, in.Name, in.Topic)
		return http.StatusCreated, c, err
	}))
	m.HandleFunc("POST /api/rooms/{id}/join", s.api(func(r *http.Request, id auth.Identity) (int, any, error) {
		c, err := s.joinRoom(r.Context(), id, r.PathValue("id"))
		return http.StatusOK, c, err
	}))
	m.HandleFunc("POST /api/rooms/{id}/leave", s.api(func(r *http.Request, id auth.Identity) (int, any, error) {
		err := s.leaveRoom(r.Context(), id, r.PathValue("id"))
		return http.StatusOK, map[string]string{"left": r.PathValue("id")}, err
	}))
	m.HandleFunc("GET /api/conversations", s.api(func(r *http.Request, id auth.Identity) (int, any, error) {
		cs, err := s.store.UserConversations(r.Context(), id.UserID)
		return http.StatusOK, map[string]any{"conversations": nonNil(cs)}, err
	}))
	m.HandleFunc("POST /api/dms", s.api(func(r *http.Request, id auth.Identity) (int, any, error) {
		var in struct {
			User string `json:"user"`
		}
		if err := decodeBody(r, &in); err != nil {
			return 0, nil, err
		}
		c, err := s.openDM(r.Context(), id, in.User)
		return http.StatusOK, c, err
	}))
	m.HandleFunc("GET /api/conversations/{id}/members", s.api(func(r *http.Request, id auth.Identity) (int, any, error) {
		ms, err := s.members(r.Context(), id, r.PathValue("id"))
		return http.StatusOK, map[string]any{"members": nonNil(ms)}, err
	}))
	m.HandleFunc("GET /api/conversations/{id}/messages", s.api(func(r *http.Request, id auth.Identity) (int, any, error) {
		q := r.URL.Query()
		before, err1 := queryInt(q.Get("before"))
		after, err2 := queryInt(q.Get("after"))
		limit, err3 := queryInt(q.Get("limit"))
		if err := errors.Join(err1, err2, err3); err != nil || (before > 0 && after > 0) {
			return 0, nil, chat.Errorf(chat.CodeInvalidField, "before, after and limit are whole numbers, and only one of before and after may be given")
		}
		evs, err := s.history(r.Context(), id, r.PathValue("id"), before, after, int(limit))
		// The same shape as the message frames of the WebSocket.
		msgs := make([]protocol.Event, len(evs))
		for i := range evs {
			msgs[i] = protocol.EventFrame(&evs[i])
		}
		return http.StatusOK, map[string]any{"messages": msgs}, err
	}))
	s.escalationRoutes(m)
	if s.cfg.Static != nil {
		m.Handle("GET /", s.cfg.Static)
	}
	s.mux = m
}

// api wraps an API handler: it authenticates the bearer token, runs h, and
// maps errors to statuses in one place.
func (s *Server) api(h func(r *http.Request, id auth.Identity) (int, any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, err := auth.BearerToken(r)
		if err != nil {
			writeError(w, chat.AsError(err))
			return
		}
		id, err := s.verifier.Verify(tok)
		if err != nil {
			writeError(w, chat.AsError(err))
			return
		}
		// Users who only use the HTTP API must be known too (names in
		// member lists, someone to open a DM with).
		if err := s.store.UpsertUser(r.Context(), identUser(id)); err != nil {
			s.log.Error("upsert user", "user", id.UserID, "err", err)
			writeError(w, &chat.Error{Code: chat.CodeUnavailable, Message: "the service is temporarily unavailable", Temporary: true})
			return
		}
		status, body, err := h(r, id)
		if err != nil {
			e := chat.AsError(err)
			if e.Code == chat.CodeInternal {
				s.log.Error("api failure", "path", r.URL.Path, "user", id.UserID, "err", err)
			}
			writeError(w, e)
			return
		}
		writeJSON(w, status, body)
	}
}

// statusOf maps error codes to HTTP statuses; docs/protocol.md lists them.
func statusOf(c chat.Code) int {
	switch c {
	case chat.CodeAuthRequired, chat.CodeTokenExpired, chat.CodeTokenInvalid:
		return http.StatusUnauthorized
	case chat.CodeForbidden, chat.CodeNotMember, chat.CodeNotAuthor, chat.CodeOriginForbidden:
		return http.StatusForbidden
	case chat.CodeNotFound:
		return http.StatusNotFound
	case chat.CodeRoomLimit, chat.CodeConflict:
		return http.StatusConflict
	case chat.CodeRateLimited:
		return http.StatusTooManyRequests
	case chat.CodeMessageTooLong, chat.CodeFrameTooLarge:
		return http.StatusRequestEntityTooLarge
	case chat.CodeUnavailable, chat.CodeShuttingDown:
		return http.StatusServiceUnavailable
	case chat.CodeInternal:
		return http.StatusInternalServerError
	default:
		return http.StatusBadRequest
	}
}

func writeError(w http.ResponseWriter, e *chat.Error) {
	if e.Code == chat.CodeAuthRequired || e.Code == chat.CodeTokenExpired || e.Code == chat.CodeTokenInvalid {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kindred"`)
	}
	writeJSON(w, statusOf(e.Code), map[string]*chat.Error{"error": e})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBodyBytes))
	if err := dec.Decode(v); err != nil {
		return chat.Errorf(chat.CodeBadJSON, "the request body is not the JSON object expected")
	}
	return nil
}

func queryInt(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err == nil && n < 0 {
		err = errors.New("negative")
	}
	return n, err
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func contextTimeout(r *http.Request, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), d)
}

// originAllowed applies the same rule as the WebSocket library (no Origin,
// the server's own host, or a host matching an allowed pattern) so that a
// refused page gets a JSON error with a code instead of the library's
// plain-text 403.
func originAllowed(r *http.Request, patterns []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, p := range patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(target)); ok {
			return true
		}
	}
	return false
}
