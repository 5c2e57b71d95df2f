package oidc

import (
	"fmt"
	"slices"
	"strings"

	gooidc "github.com/coreos/go-oidc/v3/oidc"

	"github.com/kindred-health/kindred/auth"
)

// Identity is who signed in, from a verified ID token.
type Identity struct {
	Issuer  string // the token's "iss": the configured issuer
	Subject string // "sub": the provider's stable id of the user, unique per issuer
	// Email is the "email" claim, possibly empty. Trust it only when
	// EmailVerified (the "email_verified" claim, true or "true") is set:
	// some providers let users type any address.
	Email         string
	EmailVerified bool
	// Name is "name", else "preferred_username", else "given_name
	// family_name"; possibly empty.
	Name string
	// Role is the highest role the role claim's values map to, or the
	// default role when none matched.
	Role auth.Role
	// Matched are the role claim's values found in the role map, in claim
	// order; empty when Role is the default role.
	Matched []string
}

// identity reads the Identity out of a verified token and maps its role.
func (p *Provider) identity(tok *gooidc.IDToken) (Identity, error) {
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("%w: its claims do not decode", ErrIDToken)
	}
	if azp, _ := claims["azp"].(string); !authorizedParty(tok.Audience, azp, p.clientID) {
		return Identity{}, fmt.Errorf("%w: it has several audiences and another authorized party", ErrIDToken)
	}
	id := Identity{
		Issuer:        tok.Issuer,
		Subject:       tok.Subject,
		Email:         str(claims["email"]),
		EmailVerified: truthy(claims["email_verified"]),
		Name:          displayName(claims),
	}
	id.Role, id.Matched = mapRole(claimValues(claims, p.roleClaim), p.roleMap, p.defRole)
	if id.Role == "" {
		return id, ErrNoRole
	}
	return id, nil
}

// authorizedParty applies OpenID Connect Core 3.1.3.7: a token for
// several audiences must name this client as its authorized party (azp);
// an azp, when present, must be this client.
func authorizedParty(aud []string, azp, clientID string) bool {
	if len(aud) > 1 || azp != "" {
		return azp == clientID
	}
	return true
}

// displayName picks the friendliest name the token offers.
func displayName(claims map[string]any) string {
	for _, k := range []string{"name", "preferred_username"} {
		if s := str(claims[k]); s != "" {
			return s
		}
	}
	parts := slices.DeleteFunc([]string{str(claims["given_name"]), str(claims["family_name"])},
		func(s string) bool { return s == "" })
	return strings.Join(parts, " ")
}

// str returns v trimmed if it is a string, else "".
func str(v any) string {
	s, _ := v.(string)
	return strings.TrimSpace(s)
}

// truthy is true for a JSON true or the string "true" (as some providers
// send email_verified).
func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}
