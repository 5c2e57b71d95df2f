package oidc

import (
	"crypto/rand"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Pending is what the caller keeps between Begin and Finish, for one
// sign-in in one browser: in a cookie that is signed (its integrity
// matters: the verifier and nonce bind the answer to this browser) and
// HttpOnly, for no longer than MaxPendingAge, and cleared once Finish has
// run. It marshals to about 150 bytes of JSON. It is a secret of that
// browser: never log it or put it in a URL.
type Pending struct {
	State    string    `json:"s"` // sent to the provider, comes back in the callback
	Nonce    string    `json:"n"` // sent to the provider, comes back in the ID token
	Verifier string    `json:"v"` // PKCE code verifier; only its S256 hash was sent
	Created  time.Time `json:"t"` // when Begin ran
}

// Begin starts a sign-in: it draws a state and a nonce (128 random bits
// each) and a PKCE verifier (256 bits) from crypto/rand, and returns the
// provider's authorization URL, which carries the state, the nonce and
// the verifier's S256 challenge, with the Pending to keep until the
// browser comes back. It contacts nobody. The error is reserved: since
// Go 1.24 crypto/rand does not fail (the program stops instead), so it is
// nil today.
func (p *Provider) Begin() (authURL string, pend Pending, err error) {
	pend = Pending{
		State:    rand.Text(),
		Nonce:    rand.Text(),
		Verifier: oauth2.GenerateVerifier(),
		Created:  p.now().UTC(),
	}
	authURL = p.oauth.AuthCodeURL(pend.State, oauth2.S256ChallengeOption(pend.Verifier), gooidc.Nonce(pend.Nonce))
	return authURL, pend, nil
}
