package oidctest

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// storage is the provider's in-memory op.Storage. Records handed to op
// are never changed afterwards (completing a request stores a new copy),
// so op may read them without the lock.
type storage struct {
	key      signingKey
	loginURL string // client.LoginURL's prefix, ending in "?id="

	mu       sync.Mutex
	clients  map[string]*client
	users    map[string]User
	current  string                  // subject of the signed-in user, or ""
	requests map[string]*authRequest // by id
	codes    map[string]string       // code -> request id
	tokens   map[string]accessToken  // by id
}

var _ op.Storage = (*storage)(nil)
var _ op.CanSetUserinfoFromRequest = (*storage)(nil)

func newStorage(loginURL string, key *rsa.PrivateKey, clients []Client) *storage {
	s := &storage{key: signingKey{id: rand.Text(), key: key}, loginURL: loginURL,
		clients: map[string]*client{}, users: map[string]User{}, requests: map[string]*authRequest{},
		codes: map[string]string{}, tokens: map[string]accessToken{}}
	for _, c := range clients {
		s.clients[c.ID] = &client{Client: c, loginURL: loginURL}
	}
	return s
}

func (s *storage) addUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.Subject] = u
}

// signInAs sets the signed-in user; false for an unknown subject.
func (s *storage) signInAs(subject string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[subject]; !ok && subject != "" {
		return false
	}
	s.current = subject
	return true
}

// complete marks request id as authenticated by the signed-in user. It
// returns the request (nil if unknown) and whether someone signed in.
func (s *storage) complete(id string) (*authRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	req, ok := s.requests[id]
	if !ok {
		return nil, false
	}
	if s.current == "" {
		return req, false
	}
	done := *req
	done.subject, done.done, done.authTime = s.current, true, time.Now()
	s.requests[id] = &done
	return &done, true
}

// CreateAuthRequest stores a validated authorization request. PKCE with
// S256 is required, to prove that clients send it.
func (s *storage) CreateAuthRequest(_ context.Context, r *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if r.CodeChallenge == "" || r.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("this provider requires PKCE with code_challenge_method S256")
	}
	req := &authRequest{id: rand.Text(), clientID: r.ClientID, redirectURI: r.RedirectURI, state: r.State,
		nonce: r.Nonce, scopes: r.Scopes, responseType: r.ResponseType, responseMode: r.ResponseMode,
		challenge: oidc.CodeChallenge{Challenge: r.CodeChallenge, Method: r.CodeChallengeMethod}}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[req.id] = req
	return req, nil
}

func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if req, ok := s.requests[id]; ok {
		return req, nil
	}
	return nil, errors.New("no such authorization request")
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	id, ok := s.codes[code]
	s.mu.Unlock()
	if !ok {
		return nil, errors.New("unknown or used code")
	}
	return s.AuthRequestByID(ctx, id)
}

func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest forgets a request and its codes once tokens were
// issued, so a code works once.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.requests, id)
	for code, rid := range s.codes {
		if rid == id {
			delete(s.codes, code)
		}
	}
	return nil
}

func (s *storage) GetClientByClientID(_ context.Context, id string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[id]; ok {
		return c, nil
	}
	return nil, errors.New("no such client")
}

func (s *storage) AuthorizeClientIDSecret(_ context.Context, id, secret string) error {
	s.mu.Lock()
	c, ok := s.clients[id]
	s.mu.Unlock()
	if !ok || c.Secret == "" || !equal(c.Secret, secret) {
		return errors.New("wrong client id or secret")
	}
	return nil
}

func (s *storage) Health(context.Context) error { return nil }
