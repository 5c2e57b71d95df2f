package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/kindred-health/kindred/chat"
)

// With MaxAge a token is refused when exp - iat, or exp - now, exceeds
// it, however it was signed: a 100-year admin token, one without iat that
// expires in a month, and one whose iat is put in the future to look young.
func TestVerifyMaxAge(t *testing.T) {
	const week = 7 * 24 * time.Hour
	v := mustVerifier(t)(NewHMACVerifier(testSecret, Options{MaxAge: week}))
	now := time.Now()
	at := func(d time.Duration) int64 { return now.Add(d).Unix() }
	tests := []struct {
		name   string
		claims jwt.MapClaims
		ok     bool
	}{
		{"a day, with iat", jwt.MapClaims{"iat": at(0), "exp": at(24 * time.Hour)}, true},
		{"exactly a week, with iat", jwt.MapClaims{"iat": at(0), "exp": at(week)}, true},
		{"a day, without iat", jwt.MapClaims{"exp": at(24 * time.Hour)}, true},
		{"minted 6 days ago for a week", jwt.MapClaims{"iat": at(-6 * 24 * time.Hour), "exp": at(24 * time.Hour)}, true},
		{"100 years, admin", jwt.MapClaims{"role": "admin", "iat": at(0), "exp": at(100 * 365 * 24 * time.Hour)}, false},
		{"8 days, with iat", jwt.MapClaims{"iat": at(0), "exp": at(8 * 24 * time.Hour)}, false},
		{"minted a month ago for 31 days", jwt.MapClaims{"iat": at(-30 * 24 * time.Hour), "exp": at(24 * time.Hour)}, false},
		{"a month, without iat", jwt.MapClaims{"exp": at(30 * 24 * time.Hour)}, false},
		{"iat in the future", jwt.MapClaims{"iat": at(365 * 24 * time.Hour), "exp": at(366 * 24 * time.Hour)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := jwt.MapClaims{"sub": "u1", "role": "peer"}
			for k, val := range tc.claims {
				c[k] = val
			}
			id, err := v.Verify(sign(t, jwt.SigningMethodHS256, testSecret, "", c))
			if tc.ok {
				if err != nil || id.UserID != "u1" {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			e, ok := err.(*chat.Error)
			if !ok || e.Code != chat.CodeTokenInvalid || !strings.Contains(e.Message, "lives longer than this server allows") {
				t.Fatalf("got %v (identity %+v), want token_invalid for its age", err, id)
			}
		})
	}
	// Without MaxAge a 100-year token verifies: the cap is the option's.
	open := mustVerifier(t)(NewHMACVerifier(testSecret, Options{}))
	long := jwt.MapClaims{"sub": "u1", "role": "admin", "iat": at(0), "exp": at(100 * 365 * 24 * time.Hour)}
	if _, err := open.Verify(sign(t, jwt.SigningMethodHS256, testSecret, "", long)); err != nil {
		t.Fatalf("without MaxAge: %v", err)
	}
}

// A signer with a MaxAge refuses to mint past it, and what it mints at the
// cap verifies under the same cap.
func TestMintMaxAge(t *testing.T) {
	const week = 7 * 24 * time.Hour
	base, err := NewHMACSigner(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	s := base.WithMaxAge(week)
	if _, err := s.Mint("u1", "", RoleAdmin, week+time.Second); err == nil || !strings.Contains(err.Error(), "maximum token age") {
		t.Fatalf("minted past the cap: %v", err)
	}
	tok, err := s.Mint("u1", "", RoleAdmin, week)
	if err != nil {
		t.Fatal(err)
	}
	v := mustVerifier(t)(NewHMACVerifier(testSecret, Options{MaxAge: week}))
	if _, err := v.Verify(tok); err != nil {
		t.Fatalf("a token minted at the cap is refused: %v", err)
	}
	if _, err := base.Mint("u1", "", RoleAdmin, 2*week); err != nil {
		t.Fatalf("the base signer is capped too: %v", err)
	}
}
