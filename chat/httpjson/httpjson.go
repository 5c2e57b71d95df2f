// Package httpjson is how every HTTP route of Kindred answers: JSON
// bodies that are never cached, and errors (*chat.Error) mapped to HTTP
// statuses in one place.
package httpjson

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/kindred-health/kindred/chat"
)

// Status maps error codes to HTTP statuses, for every route of every
// package; docs/protocol.md lists them.
func Status(c chat.Code) int {
	switch c {
	case chat.CodeAuthRequired, chat.CodeTokenExpired, chat.CodeTokenInvalid, chat.CodeTokenRevoked:
		return http.StatusUnauthorized
	case chat.CodeForbidden, chat.CodeNotMember, chat.CodeNotAuthor, chat.CodeOriginForbidden,
		chat.CodeMuted, chat.CodeBanned:
		return http.StatusForbidden
	case chat.CodeNotFound:
		return http.StatusNotFound
	case chat.CodeInviteInvalid, chat.CodeLinkInvalid:
		return http.StatusGone
	case chat.CodeAccountDeactivated, chat.CodeNotInvited:
		return http.StatusForbidden
	case chat.CodeGuidelinesReq, chat.CodeReadOnly, chat.CodeRoomLocked:
		return http.StatusForbidden
	case chat.CodeDMNotAllowed, chat.CodeBlocked:
		return http.StatusForbidden
	case chat.CodeRoomFull:
		return http.StatusConflict
	case chat.CodeSlowMode:
		return http.StatusTooManyRequests
	case chat.CodeRoomLimit, chat.CodeConflict:
		return http.StatusConflict
	case chat.CodeRateLimited, chat.CodeTooManyConnections, chat.CodeTooManySessions:
		return http.StatusTooManyRequests
	case chat.CodeMessageTooLong, chat.CodeFrameTooLarge, chat.CodeBodyTooLarge:
		return http.StatusRequestEntityTooLarge
	case chat.CodeUnavailable, chat.CodeShuttingDown, chat.CodeServerBusy:
		return http.StatusServiceUnavailable
	case chat.CodeInternal:
		return http.StatusInternalServerError
	default:
		return http.StatusBadRequest
	}
}

// WriteError answers with e as {"error": e}, its status, and the headers
// its code calls for (WWW-Authenticate, Retry-After).
func WriteError(w http.ResponseWriter, e *chat.Error) {
	if Status(e.Code) == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kindred"`)
	}
	if e.RetryAfterMS > 0 {
		// Whole seconds, rounded up: a client waiting that long finds a
		// token.
		w.Header().Set("Retry-After", strconv.FormatInt((e.RetryAfterMS+999)/1000, 10))
	}
	WriteJSON(w, Status(e.Code), map[string]*chat.Error{"error": e})
}

// WriteJSON answers with v as JSON, never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
