package oidc

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// clockSkew is how far in the future a Pending's Created may lie (it may
// have been made by another node, whose clock differs a little).
const clockSkew = time.Minute

// Finish completes the sign-in the browser came back from: pend is what
// Begin returned for that browser, callback the redirect's query
// parameters. In order, it
//
//   - refuses an empty Pending (ErrState) and one older than MaxPendingAge
//     (ErrExpired);
//   - requires the callback's state to equal pend.State, compared in
//     constant time, and an "iss" parameter, if any, to be the issuer
//     (ErrState);
//   - returns the provider's "error" parameter as a *ProviderError;
//   - exchanges the code, with the PKCE verifier and the client's
//     credentials, at the token endpoint (ErrExchange);
//   - verifies the ID token: signature by a key of the provider's JWKS,
//     issuer, audience containing the client id, expiry, and the
//     authorized party when there are several audiences (ErrIDToken);
//   - requires the ID token's nonce to equal pend.Nonce (ErrNonce);
//   - maps the role claim to a role (ErrNoRole; the Identity is then
//     returned too, with Role empty, so the caller may log who was refused
//     or keep a role given inside Kindred).
//
// The tokens are not returned and the access token is not used. Every
// error is safe to log: none holds the code, the verifier or a token. A
// Pending must be used once: the caller clears it whatever the outcome.
func (p *Provider) Finish(ctx context.Context, pend Pending, callback url.Values) (Identity, error) {
	if err := p.checkCallback(pend, callback); err != nil {
		return Identity{}, err
	}
	code := callback.Get("code")
	raw, err := p.exchange(ctx, code, pend.Verifier)
	if err != nil {
		return Identity{}, err
	}
	tok, err := p.verify(ctx, raw, pend.Nonce, code)
	if err != nil {
		return Identity{}, err
	}
	return p.identity(tok)
}

// checkCallback checks everything Finish can check without the network.
func (p *Provider) checkCallback(pend Pending, q url.Values) error {
	if pend.State == "" || pend.Nonce == "" || pend.Verifier == "" || pend.Created.IsZero() {
		return fmt.Errorf("%w (no sign-in was started in this browser)", ErrState)
	}
	if age := p.now().Sub(pend.Created); age > MaxPendingAge || age < -clockSkew {
		return ErrExpired
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(pend.State)) != 1 {
		return ErrState
	}
	if iss := q.Get("iss"); iss != "" && iss != p.issuer {
		return fmt.Errorf("%w (the answer names the issuer %q)", ErrState, clean(iss))
	}
	if code := q.Get("error"); code != "" {
		return &ProviderError{Code: clean(code), Description: clean(q.Get("error_description")), URI: clean(q.Get("error_uri"))}
	}
	if q.Get("code") == "" {
		return fmt.Errorf("%w: the answer carries neither a code nor an error", ErrExchange)
	}
	return nil
}

// exchange trades the code for tokens and returns the raw ID token; the
// other tokens are dropped.
func (p *Provider) exchange(ctx context.Context, code, verifier string) (string, error) {
	tok, err := p.oauth.Exchange(gooidc.ClientContext(ctx, p.client), code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		switch {
		case errors.As(err, &re) && re.ErrorCode != "":
			msg := fmt.Sprintf("the token endpoint answered %q", clean(re.ErrorCode))
			if re.ErrorDescription != "" {
				msg += fmt.Sprintf(": %q", clean(re.ErrorDescription))
			}
			return "", scrubbed(ErrExchange, errors.New(msg), code, verifier)
		case errors.As(err, &re) && re.Response != nil: // the body is not kept: it may hold anything
			return "", fmt.Errorf("%w: the token endpoint answered %s", ErrExchange, clean(re.Response.Status))
		}
		return "", scrubbed(ErrExchange, err, code, verifier)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return "", fmt.Errorf("%w: the token response has no ID token", ErrIDToken)
	}
	return raw, nil
}

// verify checks the ID token's signature and claims (go-oidc) and its
// nonce.
func (p *Provider) verify(ctx context.Context, raw, nonce, code string) (*gooidc.IDToken, error) {
	tok, err := p.verifier.Verify(gooidc.ClientContext(ctx, p.client), raw)
	if err != nil {
		return nil, scrubbed(ErrIDToken, err, append(strings.Split(raw, "."), raw, code)...)
	}
	if subtle.ConstantTimeCompare([]byte(tok.Nonce), []byte(nonce)) != 1 {
		return nil, ErrNonce
	}
	return tok, nil
}
