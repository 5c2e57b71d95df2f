// Package auth decides who a Kindred caller is and what they may do.
//
// Kindred does not run its own login flow: an identity provider (or the
// operator's mint tool) issues short-lived JWTs, and this package verifies
// them into an Identity (user id, display name, role, expiry). Roles then
// map to the actions the chat server enforces (creating rooms, moderating,
// managing the on-call rota, ...).
//
// Verification is deliberately narrow. A Verifier is bound to one key family
// (an HMAC secret, an RSA or Ed25519 public key, or a JWKS file) and accepts
// only that family's algorithm, so the classic JWT attacks ("alg": "none",
// an RS256 public key reused as an HS256 secret, algorithm swaps) fail
// before any signature is checked. Every failure is a *chat.Error whose
// message is safe to show a client: it never contains the token, because
// tokens are credentials and error text ends up in logs.
package auth

import (
	"fmt"

	"github.com/kindred-health/kindred/chat"
)

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

// rank orders the roles; 0 means "not a role". Keeping the order in one
// place is what makes the permission table below cumulative by construction.
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

// Action is something a caller may or may not be allowed to do. The strings
// appear in forbidden-error messages shown to users.
type Action string

// The actions the chat server checks.
const (
	ActCreateRoom      Action = "create_room"
	ActJoinRoom        Action = "join_room"
	ActSend            Action = "send"
	ActOpenDM          Action = "open_dm"
	ActModerate        Action = "moderate"
	ActManageOncall    Action = "manage_oncall"
	ActViewEscalations Action = "view_escalations"
)

// minRole is the least role allowed each action. An action missing from this
// table is denied to everyone, admins included, so a misspelt or newly added
// action fails closed until someone decides who may do it.
var minRole = map[Action]Role{
	ActJoinRoom:        RolePeer,
	ActSend:            RolePeer,
	ActOpenDM:          RolePeer,
	ActCreateRoom:      RoleSpecialist,
	ActModerate:        RoleSpecialist,
	ActViewEscalations: RoleSupervisor,
	ActManageOncall:    RoleAdmin,
}

// Can reports whether role r may perform a. Peers may join rooms, send and
// open DMs; specialists may also create rooms and moderate; supervisors may
// also view escalations; admins may do all of that and manage the on-call
// rota. Invalid roles and unknown actions are always refused.
func (r Role) Can(a Action) bool {
	need, ok := minRole[a]
	return ok && r.Valid() && r.rank() >= need.rank()
}

// Authorize returns nil if id may perform a, and otherwise a *chat.Error with
// code chat.CodeForbidden that tells the user which role was refused what.
func Authorize(id Identity, a Action) error {
	if id.Role.Can(a) {
		return nil
	}
	if !id.Role.Valid() {
		// Do not echo an unrecognised role back: it is not a name the user
		// could act on, and an empty one would read as "your role ()".
		return chat.Errorf(chat.CodeForbidden, "your account has no recognised role and may not %s", a)
	}
	return chat.Errorf(chat.CodeForbidden, "your role (%s) may not %s", id.Role, a)
}
