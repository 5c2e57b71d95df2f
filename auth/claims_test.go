package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kindred-health/kindred/chat"
)

// Correctly signed tokens whose claims have the wrong shape are refused
// with token_invalid and a message naming the claim: a sub that is not
// printable or too long (it becomes a stored user id), a name likewise,
// and times written as anything but JSON numbers.
func TestVerifyClaimShapes(t *testing.T) {
	v := mustVerifier(t)(NewHMACVerifier(testSecret, Options{}))
	exp := time.Now().Add(time.Hour).Unix()
	claims := func(kv ...any) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "u1", "role": "peer", "exp": exp}
		for i := 0; i < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		return c
	}
	tests := []struct {
		name   string
		claims jwt.MapClaims
		msg    string // "" means the token verifies
	}{
		{"plain", claims(), ""},
		{"sub of 128 bytes", claims("sub", strings.Repeat("é", 64)), ""},
		{"sub with spaces and non-ASCII letters", claims("sub", "José María"), ""},
		{"sub with NUL", claims("sub", "u1\x00admin"), "not printable"},
		{"sub with newline", claims("sub", "u1\nadmin"), "not printable"},
		{"sub with tab", claims("sub", "u1\tadmin"), "not printable"},
		{"sub with DEL", claims("sub", "u1\x7f"), "not printable"},
		{"sub with a bidi override", claims("sub", "u1\u202eadmin"), "not printable"},
		{"sub with a line separator", claims("sub", "u1\u2028"), "not printable"},
		{"sub of 129 bytes", claims("sub", strings.Repeat("a", 129)), "longer than 128 bytes"},
		{"sub of 11 KB", claims("sub", strings.Repeat("a", 11<<10)), "longer than 128 bytes"},
		{"sub not a string", claims("sub", 42), "malformed"},
		{"name with NUL", claims("name", "Ann\x00"), "name holds"},
		{"name with newline", claims("name", "Ann\nBob"), "name holds"},
		{"name of 257 bytes", claims("name", strings.Repeat("n", 257)), "name is longer"},
		{"exp as a string", claims("exp", "99999999999"), "exp is not a number"},
		{"iat as a string", claims("iat", "1"), "iat is not a number"},
		{"nbf as a string", claims("nbf", "1"), "nbf is not a number"},
		{"iat null", claims("iat", nil), "iat is not a number"},
		{"numeric iat and nbf", claims("iat", time.Now().Unix(), "nbf", time.Now().Unix()-5), ""},
		{"fractional exp", claims("exp", float64(exp)+0.5), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := sign(t, jwt.SigningMethodHS256, testSecret, "", tc.claims)
			id, err := v.Verify(tok)
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if id.UserID != tc.claims["sub"] {
					t.Fatalf("UserID %q, want %q", id.UserID, tc.claims["sub"])
				}
				return
			}
			e, ok := err.(*chat.Error)
			if !ok || e.Code != chat.CodeTokenInvalid || !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("got %v (identity %+v), want token_invalid mentioning %q", err, id, tc.msg)
			}
		})
	}
}

// The signer refuses what the verifier would refuse.
func TestMintRefusesBadSubjects(t *testing.T) {
	s, err := NewHMACSigner(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"", " ", "a\x00b", "a\nb", strings.Repeat("x", 129)} {
		if _, err := s.Mint(sub, "", RolePeer, time.Hour); err == nil {
			t.Errorf("Mint(%q) succeeded", sub)
		}
	}
	if _, err := s.Mint("u1", "Ann\x00", RolePeer, time.Hour); err == nil {
		t.Error("Mint with a NUL in the name succeeded")
	}
}
