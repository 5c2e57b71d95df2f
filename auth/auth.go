// Package auth decides who a Kindred caller is and what they may do.
//
// Kindred does not run its own login flow: an identity provider (or the
// operator's mint tool) issues short-lived JWTs, and this package verifies
// them into an Identity (user id, display name, role, expiry). What a caller
// may do is decided by one table (permissions.go, rendered in
// docs/permissions.md): for each Action, the room role each global role
// needs. Permit is the one check every WebSocket frame, HTTP route and push
// of escalation data goes through.
//
// Verification is deliberately narrow. A Verifier is bound to one key family
// (an HMAC secret, an RSA or Ed25519 public key, or a JWKS file) and accepts
// only that family's algorithm, so the classic JWT attacks ("alg": "none",
// an RS256 public key reused as an HS256 secret, algorithm swaps) fail
// before any signature is checked. Every failure is a *chat.Error whose
// message is safe to show a client: it never contains the token, because
// tokens are credentials and error text ends up in logs.
package auth

import "fmt"

// Role is what a user is in the peer-support service. Roles are strictly
// ordered (peer < specialist < supervisor < admin): each one may do
// everything the one below it may, plus more.
type Role string

// The roles a token may carry. The strings are what appears in the JWT
// "role" claim, so they are part of the contract with identity providers.
const (
	RolePeer       Role = "peer"
	RoleSpecialist Role = "specialist"
	RoleSupervisor Role = "supervisor"
	RoleAdmin      Role = "admin"
)

// rank orders the roles; 0 means "not a role". The permission table in
// permissions.go has one column per role, in this order (column rank-1).
func (r Role) rank() int {
	switch r {
	case RolePeer:
		return 1
	case RoleSpecialist:
		return 2
	case RoleSupervisor:
		return 3
	case RoleAdmin:
		return 4
	}
	return 0
}

// Above reports whether r is a higher role than o (any role is above "",
// or a string that is not a role).
func (r Role) Above(o Role) bool { return r.rank() > o.rank() }

// Valid reports whether r is one of the defined roles. Matching is exact and
// case-sensitive so that a role has exactly one spelling everywhere.
func (r Role) Valid() bool { return r.rank() > 0 }

// ParseRole converts s to a Role, failing for anything that is not exactly
// one of the defined role names.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", fmt.Errorf("auth: unknown role %q (want peer, specialist, supervisor or admin)", s)
	}
	return r, nil
}
