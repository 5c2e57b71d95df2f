package server

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// maxBodyBytes bounds HTTP API request bodies.
const maxBodyBytes = 64 << 10

// apiCSP is the Content-Security-Policy of every response that is not a
// page of the browser client (API answers, errors, 404s, metrics): such a
// response may load nothing, run nothing and be framed by no one. The
// client's files get their own, wider policy from the static handler.
const apiCSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// secureHeaders sets the headers every response carries, before the route
// runs: a route (the static handler) may replace the policy with its own.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", apiCSP)
		next.ServeHTTP(w, r)
	})
}

// MetricsHandler serves the node's Prometheus metrics, unauthenticated:
// mount it on a listener of its own that only monitoring can reach.
func (s *Server) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})
}

// publicMetrics is /metrics on the public handler: with Config.MetricsToken
// set it needs "Authorization: Bearer <token>"; without, it is not there.
func (s *Server) publicMetrics() http.Handler {
	if s.cfg.MetricsToken == "" {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, chat.Errorf(chat.CodeNotFound, "metrics are not served on this address"))
		})
	}
	want := []byte(s.cfg.MetricsToken)
	metrics := s.MetricsHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, err := auth.BearerToken(r)
		if err != nil || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			writeError(w, chat.Errorf(chat.CodeAuthRequired, "metrics need the metrics bearer token"))
			return
		}
		metrics.ServeHTTP(w, r)
	})
}

// errBodyTooLarge is the refusal of a body over maxBodyBytes.
func errBodyTooLarge() error {
	return chat.Errorf(chat.CodeBodyTooLarge, "the request body may have at most %d bytes", maxBodyBytes)
}

// readBody reads a request body of at most maxBodyBytes; a longer one is
// refused whole, never cut to the limit.
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > maxBodyBytes {
		return nil, errBodyTooLarge()
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, chat.Errorf(chat.CodeBadJSON, "the request body could not be read")
	}
	if len(data) > maxBodyBytes {
		return nil, errBodyTooLarge()
	}
	return data, nil
}

// errEmptyBody is what decodeJSON says of a body with no JSON value.
var errEmptyBody = errors.New("empty body")

// decodeJSON decodes exactly one JSON value from data into v: nothing but
// white space may follow it. An empty body is errEmptyBody.
func decodeJSON(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errEmptyBody
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// decodeBody reads r's body into v: one JSON value of at most maxBodyBytes
// (body_too_large, 413, past that), nothing after it (bad_json).
func decodeBody(r *http.Request, v any) error {
	data, err := readBody(r)
	if err != nil {
		return err
	}
	if decodeJSON(data, v) != nil {
		return chat.Errorf(chat.CodeBadJSON, "the request body is not the JSON object expected")
	}
	return nil
}
