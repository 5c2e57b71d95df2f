package oidc

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/auth/oidc/oidctest"
)

// An ID token changed on its way from the token endpoint is refused, and
// the error does not quote it.
func TestTamperedIDTokenRefused(t *testing.T) {
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		tamper  func(t *testing.T, parts []string) []string
		wantErr error
	}{
		{"unchanged", func(t *testing.T, p []string) []string { return p }, nil},
		{"signature byte flipped", func(t *testing.T, p []string) []string {
			p[2] = flip(p[2])
			return p
		}, ErrIDToken},
		{"payload byte flipped", func(t *testing.T, p []string) []string {
			p[1] = flip(p[1])
			return p
		}, ErrIDToken},
		{"groups rewritten to admin", func(t *testing.T, p []string) []string {
			p[1] = editClaims(t, p[1], func(c map[string]any) { c["groups"] = []string{"kindred-admins"} })
			return p
		}, ErrIDToken},
		{"alg none", func(t *testing.T, p []string) []string {
			return []string{base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)), p[1], ""}
		}, ErrIDToken},
		{"signed by another key with the same kid", func(t *testing.T, p []string) []string {
			p[1] = editClaims(t, p[1], func(c map[string]any) { c["groups"] = []string{"kindred-admins"} })
			sum := sha256.Sum256([]byte(p[0] + "." + p[1]))
			sig, err := rsa.SignPKCS1v15(rand.Reader, otherKey, crypto.SHA256, sum[:])
			if err != nil {
				t.Fatal(err)
			}
			p[2] = base64.RawURLEncoding.EncodeToString(sig)
			return p
		}, ErrIDToken},
	}
	idp := startIdP(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var original, sent string
			hook := &tokenHook{rewrite: func(raw string) string {
				original = raw
				sent = strings.Join(tc.tamper(t, strings.Split(raw, ".")), ".")
				return sent
			}}
			p := newProvider(t, testConfig(idp, hook))
			pend, callback := signIn(t, p)
			id, err := p.Finish(t.Context(), pend, callback)
			if tc.wantErr == nil {
				if err != nil || id.Role != auth.RoleSpecialist {
					t.Fatalf("Finish = %+v, %v; want alice as specialist", id, err)
				}
				return
			}
			wantErr(t, err, tc.wantErr)
			if id.Subject != "" || id.Role != "" {
				t.Errorf("a refused sign-in returned identity %+v", id)
			}
			for _, secret := range append(strings.Split(original, "."), strings.Split(sent, ".")...) {
				if len(secret) > 8 && strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes the token", err)
				}
			}
		})
	}
}

// An ID token the provider issued to another client (another audience)
// is refused, even though its signature is good.
func TestOtherAudienceRefused(t *testing.T) {
	idp := oidctest.Start(t,
		oidctest.Client{ID: testClient, Secret: testSecret, RedirectURIs: []string{testRedirect}},
		oidctest.Client{ID: "other-app", Secret: "other-secret", RedirectURIs: []string{testRedirect}})
	idp.AddUser(oidctest.User{Subject: "alice", Groups: []string{"kindred-admins"}})
	idp.SignInAs("alice")

	var stolen string
	otherCfg := testConfig(idp, &tokenHook{rewrite: func(raw string) string { stolen = raw; return raw }})
	otherCfg.ClientID, otherCfg.ClientSecret = "other-app", "other-secret"
	other := newProvider(t, otherCfg)
	pend, callback := signIn(t, other)
	if _, err := other.Finish(t.Context(), pend, callback); err != nil {
		t.Fatalf("the other app's sign-in: %v", err)
	}

	p := newProvider(t, testConfig(idp, &tokenHook{rewrite: func(string) string { return stolen }}))
	pend, callback = signIn(t, p)
	_, err := p.Finish(t.Context(), pend, callback)
	wantErr(t, err, ErrIDToken)
	if !strings.Contains(err.Error(), "audience") {
		t.Errorf("error %q does not say what was wrong", err)
	}
}

// flip changes one character in the middle of a base64url segment to
// another base64url character.
func flip(seg string) string {
	i := len(seg) / 2
	c := byte('A')
	if seg[i] == 'A' {
		c = 'B'
	}
	return seg[:i] + string(c) + seg[i+1:]
}

// editClaims decodes a JWT payload segment, edits it and encodes it back.
func editClaims(t *testing.T, seg string, edit func(map[string]any)) string {
	t.Helper()
	data, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(data, &claims); err != nil {
		t.Fatal(err)
	}
	edit(claims)
	out, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(out)
}
