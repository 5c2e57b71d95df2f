package oidc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Why Finish refused a sign-in. Test with errors.Is; the *ProviderError
// type with errors.As. No error text holds a code or a token.
var (
	// ErrState: the callback does not belong to the Pending (a missing or
	// different state, an empty Pending, another issuer named in "iss"),
	// as when a sign-in was started in another tab or a link was forged.
	ErrState = errors.New("oidc: the sign-in answer does not match the sign-in that was started")
	// ErrExpired: more than MaxPendingAge passed between Begin and Finish.
	ErrExpired = errors.New("oidc: the sign-in took too long; start again")
	// ErrExchange: the callback had no code, or the token endpoint refused
	// the code or could not be reached.
	ErrExchange = errors.New("oidc: the code could not be exchanged")
	// ErrIDToken: the token response had no ID token, or it failed
	// verification (signature, issuer, audience, expiry, authorized party).
	ErrIDToken = errors.New("oidc: the ID token was refused")
	// ErrNonce: the ID token's nonce is not the Pending's.
	ErrNonce = errors.New("oidc: the ID token's nonce does not match the sign-in")
	// ErrNoRole: no claim value is in the role map and there is no default
	// role.
	ErrNoRole = errors.New("oidc: the user's groups map to no Kindred role")
)

// ProviderError is the error the provider sent back to the redirect URL
// instead of a code (RFC 6749 section 4.1.2.1), such as "access_denied"
// when the user cancelled or is not assigned to the application.
type ProviderError struct {
	Code        string // the "error" parameter, e.g. access_denied
	Description string // "error_description", possibly empty
	URI         string // "error_uri", possibly empty
}

func (e *ProviderError) Error() string {
	s := fmt.Sprintf("oidc: the identity provider answered %q", e.Code)
	if e.Description != "" {
		s += fmt.Sprintf(": %q", e.Description)
	}
	return s
}

// maxParam bounds provider-supplied text kept in errors.
const maxParam = 300

// clean shortens provider-supplied text and drops control characters, so
// it is safe in a log line.
func clean(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxParam {
		s = strings.ToValidUTF8(s[:maxParam], "") + "…"
	}
	return s
}

// scrubbed wraps kind with err's text, with every secret (code, token)
// replaced by "[redacted]". Only the cause's text is kept, so nothing
// reaching the caller can print a secret; errors.Is still finds kind,
// and context.Canceled or context.DeadlineExceeded when the cause was one.
func scrubbed(kind error, err error, secrets ...string) error {
	text := err.Error()
	for _, s := range secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, "[redacted]")
		}
	}
	e := &safeError{text: kind.Error() + ": " + text, kinds: []error{kind}}
	for _, c := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, c) {
			e.kinds = append(e.kinds, c)
		}
	}
	return e
}

// safeError is an error whose text was scrubbed of secrets.
type safeError struct {
	text  string
	kinds []error
}

func (e *safeError) Error() string   { return e.text }
func (e *safeError) Unwrap() []error { return e.kinds }
