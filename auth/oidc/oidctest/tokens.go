package oidctest

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// tokenLifetime is the life of access and ID tokens.
const tokenLifetime = 5 * time.Minute

// accessToken is what an opaque access token stands for (at /userinfo).
type accessToken struct {
	subject string
	scopes  []string
	expires time.Time
}

var errUnsupported = errors.New("not supported by oidctest")

func (s *storage) CreateAccessToken(_ context.Context, r op.TokenRequest) (string, time.Time, error) {
	id, exp := rand.Text(), time.Now().Add(tokenLifetime)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[id] = accessToken{subject: r.GetSubject(), scopes: slices.Clone(r.GetScopes()), expires: exp}
	return id, exp, nil
}

// SetUserinfoFromRequest fills the ID token's user claims.
func (s *storage) SetUserinfoFromRequest(_ context.Context, ui *oidc.UserInfo, r op.IDTokenRequest, scopes []string) error {
	return s.setUserinfo(ui, r.GetSubject(), scopes)
}

// SetUserinfoFromToken answers /userinfo for an access token.
func (s *storage) SetUserinfoFromToken(_ context.Context, ui *oidc.UserInfo, tokenID, _, _ string) error {
	s.mu.Lock()
	tok, ok := s.tokens[tokenID]
	s.mu.Unlock()
	if !ok || time.Now().After(tok.expires) {
		return errors.New("unknown or expired access token")
	}
	return s.setUserinfo(ui, tok.subject, tok.scopes)
}

// setUserinfo puts subject's claims, as scopes allow, in ui. The subject
// must be set: op copies it into the ID token.
func (s *storage) setUserinfo(ui *oidc.UserInfo, subject string, scopes []string) error {
	s.mu.Lock()
	u, ok := s.users[subject]
	s.mu.Unlock()
	if !ok {
		return errors.New("no such user")
	}
	ui.Subject = subject
	if slices.Contains(scopes, oidc.ScopeProfile) {
		ui.Name, ui.PreferredUsername = u.Name, u.Subject
	}
	if slices.Contains(scopes, oidc.ScopeEmail) && u.Email != "" {
		ui.Email, ui.EmailVerified = u.Email, oidc.Bool(!u.EmailUnverified)
	}
	if u.Groups != nil {
		ui.AppendClaims("groups", slices.Clone(u.Groups))
	}
	for k, v := range u.Claims {
		ui.AppendClaims(k, v)
	}
	return nil
}

// The rest of op.Storage: what these tests do not use is refused.

func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, errUnsupported
}

func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, op.ErrInvalidRefreshToken
}

func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

func (s *storage) TerminateSession(context.Context, string, string) error { return nil }

func (s *storage) RevokeToken(_ context.Context, tokenID, _, _ string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, tokenID)
	return nil
}

func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil // superseded by SetUserinfoFromRequest
}

func (s *storage) SetIntrospectionFromToken(context.Context, *oidc.IntrospectionResponse, string, string, string) error {
	return errUnsupported
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errUnsupported
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errUnsupported
}

// equal compares secrets in constant time.
func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
