package oidc

import (
	"slices"
	"testing"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/auth/oidc/oidctest"
)

// Roles come from the ID token's claim, through the role map, over a real
// sign-in each.
func TestRoleMapping(t *testing.T) {
	idp := startIdP(t)
	for _, u := range []oidctest.User{
		{Subject: "multi", Groups: []string{"kindred-peers", "everyone", "kindred-admins", "kindred-staff"}},
		{Subject: "keycloak", Claims: map[string]any{"realm_access": map[string]any{"roles": []string{"offline_access", "kindred-supervisors"}}}},
		{Subject: "auth0", Claims: map[string]any{"https://kindred.example/roles": []string{"kindred-admins"}}},
		{Subject: "single", Claims: map[string]any{"role": "kindred-staff"}},
		{Subject: "unmapped", Groups: []string{"everyone", "Kindred-Admins"}},
		{Subject: "nogroups"},
	} {
		idp.AddUser(u)
	}
	roles := map[string]auth.Role{"kindred-peers": auth.RolePeer, "kindred-staff": auth.RoleSpecialist,
		"kindred-supervisors": auth.RoleSupervisor, "kindred-admins": auth.RoleAdmin}
	tests := []struct {
		name, user, claim string
		def               auth.Role
		want              auth.Role
		matched           []string
		err               error
	}{
		{"highest match wins", "multi", "", "", auth.RoleAdmin, []string{"kindred-peers", "kindred-admins", "kindred-staff"}, nil},
		{"dotted path", "keycloak", "realm_access.roles", "", auth.RoleSupervisor, []string{"kindred-supervisors"}, nil},
		{"claim name with dots", "auth0", "https://kindred.example/roles", "", auth.RoleAdmin, []string{"kindred-admins"}, nil},
		{"string claim", "single", "role", "", auth.RoleSpecialist, []string{"kindred-staff"}, nil},
		{"default role", "unmapped", "", auth.RolePeer, auth.RolePeer, nil, nil},
		{"default role, no claim", "nogroups", "", auth.RoleSpecialist, auth.RoleSpecialist, nil, nil},
		{"no match, no default", "unmapped", "", "", "", nil, ErrNoRole},
		{"no claim, no default", "nogroups", "", "", "", nil, ErrNoRole},
		{"wrong claim", "keycloak", "groups", "", "", nil, ErrNoRole},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			idp.SignInAs(tc.user)
			c := testConfig(idp, nil)
			c.RoleClaim, c.RoleMap, c.DefaultRole = tc.claim, roles, tc.def
			p := newProvider(t, c)
			pend, callback := signIn(t, p)
			id, err := p.Finish(t.Context(), pend, callback)
			if tc.err != nil {
				wantErr(t, err, tc.err)
			} else if err != nil {
				t.Fatalf("Finish: %v", err)
			}
			if id.Subject != tc.user || id.Role != tc.want || !slices.Equal(id.Matched, tc.matched) {
				t.Errorf("identity = %+v, want %s as %q matching %q", id, tc.user, tc.want, tc.matched)
			}
		})
	}
}

// The role map is copied by New: changing the caller's map later changes
// nothing.
func TestRoleMapCopied(t *testing.T) {
	idp := startIdP(t)
	c := testConfig(idp, nil)
	p := newProvider(t, c)
	c.RoleMap["kindred-staff"] = auth.RoleAdmin
	pend, callback := signIn(t, p)
	id, err := p.Finish(t.Context(), pend, callback)
	if err != nil || id.Role != auth.RoleSpecialist {
		t.Fatalf("Finish = %+v, %v; want specialist", id, err)
	}
}
