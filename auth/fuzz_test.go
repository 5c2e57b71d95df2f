package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kindred-health/kindred/chat"
)

// fuzzVerifier checks HS256 tokens signed with testSecret.
func fuzzVerifier(f *testing.F) *Verifier {
	v, err := NewHMACVerifier(testSecret, Options{})
	if err != nil {
		f.Fatal(err)
	}
	return v
}

// checkVerified is what any token Verify accepts or refuses must satisfy:
// a refusal is a token error with a message that never repeats the token;
// an identity has a printable sub of at most 128 bytes, a valid role and
// an expiry in the future.
func checkVerified(t *testing.T, token string, id Identity, err error) {
	if err != nil {
		var e *chat.Error
		if !errors.As(err, &e) || (e.Code != chat.CodeTokenInvalid && e.Code != chat.CodeTokenExpired && e.Code != chat.CodeAuthRequired) {
			t.Fatalf("refusal %v is not a token error", err)
		}
		if len(token) > 8 && strings.Contains(e.Message, token) {
			t.Fatalf("refusal message %q repeats the token", e.Message)
		}
		return
	}
	if checkSubject(id.UserID) != nil || len(id.UserID) > MaxSubjectBytes || !utf8.ValidString(id.UserID) {
		t.Fatalf("accepted sub %q", id.UserID)
	}
	if checkName(id.Name) != nil || !id.Role.Valid() || !id.Expires.After(time.Now().Add(-time.Minute)) {
		t.Fatalf("accepted identity %+v", id)
	}
}

// FuzzVerify feeds Verify arbitrary strings as tokens: headers, payloads
// and signatures an attacker chooses. Seeds: testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	v := fuzzVerifier(f)
	s, err := NewHMACSigner(testSecret)
	if err != nil {
		f.Fatal(err)
	}
	tok, err := s.Mint("u1", "Ann", RolePeer, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok) // a fresh valid token, besides the stored seeds
	f.Fuzz(func(t *testing.T, token string) {
		id, err := v.Verify(token)
		checkVerified(t, token, id, err)
	})
}

// FuzzVerifyClaims signs arbitrary header and payload bytes with the
// verifier's own key, so that the claim checks behind the signature are
// reached: whatever the claims say, an accepted identity keeps the rules.
// Seeds: testdata/fuzz/FuzzVerifyClaims.
func FuzzVerifyClaims(f *testing.F) {
	v := fuzzVerifier(f)
	f.Fuzz(func(t *testing.T, header, payload []byte) {
		unsigned := b64(header) + "." + b64(payload)
		mac := hmac.New(sha256.New, testSecret)
		mac.Write([]byte(unsigned))
		token := unsigned + "." + b64(mac.Sum(nil))
		id, err := v.Verify(token)
		checkVerified(t, token, id, err)
	})
}
