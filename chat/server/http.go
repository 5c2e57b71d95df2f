package server

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/httpjson"
)

// handlerFunc is an API handler: it returns a status and a body to encode
// as JSON, or an error that api maps to a status.
type handlerFunc func(r *http.Request, id auth.Identity) (int, any, error)

// routes builds the node's HTTP handler; the API's resources register
// their routes in routes_*.go, each behind a permission from the table in
// the auth package.
func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /ws", s.serveWS)
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	m.HandleFunc("GET /readyz", s.readyz)
	m.Handle("GET /metrics", s.publicMetrics())
	s.roomRoutes(m)
	s.moderationRoutes(m)
	s.memberModRoutes(m)
	s.premodRoutes(m)
	s.messageModRoutes(m)
	s.pinRoutes(m)
	s.escalationRoutes(m)
	s.oncallRoutes(m)
	s.pushRoutes(m)
	s.supervisorRoutes(m)
	s.auditRoutes(m)
	s.revokeRoutes(m)
	s.userDataRoutes(m)
	s.reportRoutes(m)
	s.blockRoutes(m)
	s.supportRoutes(m)
	s.peopleRoutes(m)
	if s.cfg.SignIn != nil {
		// By method: a pattern for every method would conflict with the
		// static files' "GET /".
		m.Handle("GET /auth/", s.cfg.SignIn)
		m.Handle("POST /auth/", s.cfg.SignIn)
	}
	if s.cfg.Static != nil {
		m.Handle("GET /", s.cfg.Static)
	}
	s.handler = secureHeaders(m)
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
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
}

// api wraps a route that needs action a and no conversation: it
// authenticates the bearer token, checks a, runs h, and maps errors to
// statuses in one place.
func (s *Server) api(a auth.Action, h handlerFunc) http.HandlerFunc {
	return s.authed(func(r *http.Request, id auth.Identity) (int, any, error) {
		if err := auth.Permit(id, chat.RoomNone, a); err != nil {
			return 0, nil, err
		}
		return h(r, id)
	})
}

// apiIn wraps a route about the conversation in its {id}: action a is
// checked against the caller's room role there, read at the time of the
// request.
func (s *Server) apiIn(a auth.Action, h handlerFunc) http.HandlerFunc {
	return s.authed(func(r *http.Request, id auth.Identity) (int, any, error) {
		if _, err := s.permitIn(r.Context(), id, r.PathValue("id"), a); err != nil {
			return 0, nil, err
		}
		return h(r, id)
	})
}

// authed authenticates the bearer token, runs h and writes its answer.
func (s *Server) authed(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, err := auth.BearerToken(r)
		if err != nil {
			writeError(w, chat.AsError(err))
			return
		}
		addr := s.clientAddr(r)
		r = r.WithContext(withSource(r.Context(), addr))
		id, err := s.verifier.Verify(tok)
		if err != nil {
			e := chat.AsError(err)
			s.signins.refused(r.Context(), addr, "http", "", e.Code)
			writeError(w, e)
			return
		}
		if e := s.checkRevoked(r.Context(), id); e != nil {
			if e.Code == chat.CodeTokenRevoked || e.Code == chat.CodeAccountDeactivated {
				s.signins.refused(r.Context(), addr, "http", id.UserID, e.Code)
			}
			writeError(w, e)
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

// writeError and writeJSON answer as every HTTP route of Kindred does
// (chat/httpjson).
func writeError(w http.ResponseWriter, e *chat.Error)    { httpjson.WriteError(w, e) }
func writeJSON(w http.ResponseWriter, status int, v any) { httpjson.WriteJSON(w, status, v) }

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

func splitComma(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
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
