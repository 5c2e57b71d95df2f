package auth

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kindred-health/kindred/chat"
)

// MaxSubjectBytes and MaxNameBytes bound a token's "sub" and "name": they
// become the user's id and display name, stored and shown to others.
const (
	MaxSubjectBytes = 128
	MaxNameBytes    = 256
)

// CheckSubject refuses what checkSubject refuses: a user id that no
// verified token could carry.
func CheckSubject(sub string) *chat.Error { return checkSubject(sub) }

// checkSubject refuses a "sub" that is blank, longer than MaxSubjectBytes,
// not UTF-8, or holding anything but printable characters and spaces (no
// NUL, newline or other control, no invisible format character).
func checkSubject(sub string) *chat.Error {
	switch {
	case strings.TrimSpace(sub) == "":
		return invalid("token has no subject (sub)")
	case len(sub) > MaxSubjectBytes:
		return invalid("token subject (sub) is longer than 128 bytes")
	case !printable(sub):
		return invalid("token subject (sub) holds characters that are not printable")
	}
	return nil
}

// checkName refuses a "name" longer than MaxNameBytes or not printable.
func checkName(name string) *chat.Error {
	switch {
	case len(name) > MaxNameBytes:
		return invalid("token name is longer than 256 bytes")
	case !printable(name):
		return invalid("token name holds characters that are not printable")
	}
	return nil
}

// printable reports whether s is UTF-8 made of graphic characters and
// spaces only (unicode.IsPrint).
func printable(s string) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return false
		}
		if !unicode.IsPrint(r) {
			return false
		}
		i += n
	}
	return true
}

// timeClaims are the raw time claims, to check their JSON type: the jwt
// library also reads a number written as a string ("exp":"1700000000").
type timeClaims struct {
	Exp json.RawMessage `json:"exp"`
	Iat json.RawMessage `json:"iat"`
	Nbf json.RawMessage `json:"nbf"`
}

// checkTimes refuses a token whose exp, iat or nbf is present but not a
// JSON number. token has already been parsed, so its payload decodes.
func checkTimes(token string) *chat.Error {
	_, rest, _ := strings.Cut(token, ".")
	payload, _, _ := strings.Cut(rest, ".")
	data, err := base64.RawURLEncoding.DecodeString(payload)
	var tc timeClaims
	if err != nil || json.Unmarshal(data, &tc) != nil {
		return invalid("token is malformed")
	}
	for _, c := range []struct {
		name string
		raw  json.RawMessage
	}{{"exp", tc.Exp}, {"iat", tc.Iat}, {"nbf", tc.Nbf}} {
		if c.raw != nil && !isNumber(c.raw) {
			return invalid("token claim " + c.name + " is not a number")
		}
	}
	return nil
}

// isNumber reports whether raw, one valid JSON value, is a number.
func isNumber(raw json.RawMessage) bool {
	return len(raw) > 0 && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9')
}
