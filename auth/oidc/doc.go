// Package oidc signs staff in through the clinic's OpenID Connect identity
// provider (Okta, Entra ID, Google Workspace, Keycloak, ...).
//
// The flow is the authorization code flow with PKCE (S256):
//
//	p, err := oidc.New(ctx, cfg)              // discovery, once
//	authURL, pend, err := p.Begin()           // keep pend (signed cookie), redirect to authURL
//	id, err := p.Finish(ctx, pend, r.URL.Query()) // on the redirect back
//
// Begin draws a fresh state, nonce and PKCE verifier from crypto/rand.
// Finish checks the callback's state against the Pending (in constant
// time), refuses a Pending older than MaxPendingAge, reports an error the
// provider sent back as a *ProviderError, exchanges the code together with
// the verifier, verifies the ID token with go-oidc (signature against the
// provider's JWKS, issuer, audience = client id, expiry), checks the
// nonce, and maps the user's groups or roles to a Kindred role.
//
// # Roles
//
// Config.RoleClaim names the ID token claim that holds the user's groups
// or roles (a string or an array of strings); a dotted path such as
// "realm_access.roles" (Keycloak realm roles) walks nested objects. Each
// value is looked up in Config.RoleMap; the highest matched role wins.
// When nothing matches, the user gets Config.DefaultRole, and when that is
// empty (the default) the sign-in is refused with ErrNoRole: a clinic's
// provider holds every employee, and an unmapped employee must not read
// peer groups.
//
// # Scopes and claims per provider
//
// The default scopes are openid, profile and email. No "groups" scope is
// added on its own: Google and Entra ID refuse scopes they do not know.
// Where the provider needs one to release the groups claim, list it in
// Config.Scopes:
//
//   - Okta: add a "groups" claim to the authorization server (filter e.g.
//     "Starts with kindred-") and request the "groups" scope.
//   - Keycloak: a "Group Membership" mapper (claim "groups", full path off)
//     on the client's dedicated scope; or RoleClaim "realm_access.roles"
//     (or "resource_access.<client-id>.roles") for roles.
//   - Entra ID: "groups" is emitted when the app registration's
//     groupMembershipClaims is set; its values are group object ids (GUIDs)
//     unless "cloud_only_group_display_names" is configured. A user in more
//     than 200 groups gets an overage marker instead of the claim, so
//     nothing matches: prefer app roles (RoleClaim "roles").
//   - Google Workspace: ID tokens carry no groups; set DefaultRole (and
//     restrict the client to the clinic's domain at Google), or promote
//     people inside Kindred.
//
// Email is reported with the provider's email_verified; callers should
// trust the address only when it is true.
//
// # Secrets
//
// Nothing here logs, and no error text contains an authorization code, an
// access token or an ID token: error text ends up in logs.
package oidc
