package chat

import (
	"errors"
	"fmt"
)

// Code is a stable, documented error code (see docs/protocol.md). Clients
// branch on codes, never on message text.
type Code string

// Error codes. Keep this list and the table in docs/protocol.md in step.
const (
	CodeBadJSON         Code = "bad_json"
	CodeUnknownType     Code = "unknown_type"
	CodeMissingField    Code = "missing_field"
	CodeInvalidField    Code = "invalid_field"
	CodeFrameTooLarge   Code = "frame_too_large"
	CodeBodyTooLarge    Code = "body_too_large"
	CodeMessageTooLong  Code = "message_too_long"
	CodeRateLimited     Code = "rate_limited"
	CodeRoomLimit       Code = "room_limit"
	CodeNotMember       Code = "not_member"
	CodeNotFound        Code = "not_found"
	CodeForbidden       Code = "forbidden"
	CodeNotAuthor       Code = "not_author"
	CodeAuthRequired    Code = "auth_required"
	CodeTokenExpired    Code = "token_expired"
	CodeTokenInvalid    Code = "token_invalid"
	CodeTokenRevoked    Code = "token_revoked"
	CodeSessionIdle     Code = "session_idle"
	CodeSessionMaxAge   Code = "session_max_age"
	CodeAlreadyHello    Code = "already_authenticated"
	CodeConflict        Code = "conflict"
	CodeUnavailable     Code = "unavailable"
	CodeInternal        Code = "internal"
	CodeShuttingDown    Code = "shutting_down"
	CodeOriginForbidden Code = "origin_forbidden"
	CodeMuted           Code = "muted"
	CodeBanned          Code = "banned"
	CodeInviteInvalid   Code = "invite_invalid"
	CodeGuidelinesReq   Code = "guidelines_required"
	CodeRoomLocked      Code = "room_locked"
	CodeReadOnly        Code = "read_only"
	CodeSlowMode        Code = "slow_mode"
	CodeRoomFull        Code = "room_full"
	CodeDMNotAllowed    Code = "dm_not_allowed"
	CodeBlocked         Code = "blocked"
	// Sign-in (auth routes, docs/protocol.md#signing-in).
	CodeLinkInvalid        Code = "link_invalid"
	CodeAccountDeactivated Code = "account_deactivated"
	CodeNotInvited         Code = "not_invited"
	// Connection limits (connlimit.go), refused before or at hello.
	CodeTooManyConnections Code = "too_many_connections"
	CodeServerBusy         Code = "server_busy"
	CodeTooManySessions    Code = "too_many_sessions"
)

// Error is an error a client is shown: a code to branch on, a sentence for a
// person, and whether trying the same thing again later may succeed.
type Error struct {
	Code      Code   `json:"code"`
	Message   string `json:"message"`
	Temporary bool   `json:"temporary,omitempty"`
	// RetryAfterMS, when set, is how long to wait before retrying.
	RetryAfterMS int64 `json:"retry_after_ms,omitempty"`
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf builds an Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Common errors returned by stores and services.
var (
	ErrNotFound  = &Error{Code: CodeNotFound, Message: "no such conversation or message"}
	ErrNotMember = &Error{Code: CodeNotMember, Message: "you are not a member of this conversation"}
	ErrNotAuthor = &Error{Code: CodeNotAuthor, Message: "you can only change your own messages"}
	ErrDeleted   = &Error{Code: CodeConflict, Message: "the message was deleted"}
)

// ErrorCode returns the code of err if it is (or wraps) an *Error, and
// CodeInternal otherwise, so that unexpected failures never leak details.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// AsError returns err as a client-facing *Error. Anything that is not
// already one becomes a generic internal error: its text may hold details
// (SQL, paths) that clients must not see, so callers log the original.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Message: "internal error; please retry", Temporary: true}
}
