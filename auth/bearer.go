package auth

import (
	"net/http"
	"strings"

	"github.com/kindred-health/kindred/chat"
)

// BearerToken returns the token from the request's "Authorization: Bearer
// <token>" header. It never looks at the URL: query strings end up in access
// logs, browser history and Referer headers, which is no place for a
// credential. A missing header, another scheme, or an empty token gives a
// *chat.Error with chat.CodeAuthRequired; a malformed header (several
// Authorization headers, whitespace inside the token) gives
// chat.CodeTokenInvalid.
func BearerToken(r *http.Request) (string, error) {
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		return "", &chat.Error{Code: chat.CodeAuthRequired, Message: "send the token in an Authorization: Bearer header"}
	}
	if len(values) > 1 {
		// Proxies and servers may disagree on which one counts; refuse.
		return "", &chat.Error{Code: chat.CodeTokenInvalid, Message: "more than one Authorization header"}
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	// The scheme name is case-insensitive (RFC 9110 §11.1).
	if !strings.EqualFold(scheme, "Bearer") {
		return "", &chat.Error{Code: chat.CodeAuthRequired, Message: "send the token in an Authorization: Bearer header"}
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", &chat.Error{Code: chat.CodeAuthRequired, Message: "the Authorization header has no token"}
	}
	if strings.ContainsAny(token, " \t") {
		return "", &chat.Error{Code: chat.CodeTokenInvalid, Message: "the Authorization header is malformed"}
	}
	return token, nil
}
