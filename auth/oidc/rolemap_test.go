package oidc

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/kindred-health/kindred/auth"
)

func TestParseRoleMap(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]auth.Role
		errPart string // the error must contain this (the bad pair)
	}{
		{"", map[string]auth.Role{}, ""},
		{" , ", map[string]auth.Role{}, ""},
		{"kindred-admins=admin,kindred-staff=specialist", map[string]auth.Role{"kindred-admins": auth.RoleAdmin, "kindred-staff": auth.RoleSpecialist}, ""},
		{" kindred-admins = admin , kindred-peers=peer, ", map[string]auth.Role{"kindred-admins": auth.RoleAdmin, "kindred-peers": auth.RolePeer}, ""},
		{"/clinic/supervisors=supervisor", map[string]auth.Role{"/clinic/supervisors": auth.RoleSupervisor}, ""},
		{"cn=kindred=admin", map[string]auth.Role{"cn=kindred": auth.RoleAdmin}, ""},
		{"kindred-admins=admin,kindred-staff", nil, `"kindred-staff"`},
		{"kindred-admins=root", nil, `"kindred-admins=root"`},
		{"kindred-admins=Admin", nil, `"kindred-admins=Admin"`},
		{"=admin", nil, `"=admin"`},
		{"a=admin,b=", nil, `"b="`},
		{"a=admin,a=peer", nil, `"a=peer"`},
	}
	for _, tc := range tests {
		got, err := ParseRoleMap(tc.in)
		switch {
		case tc.errPart == "" && err != nil:
			t.Errorf("ParseRoleMap(%q): %v", tc.in, err)
		case tc.errPart != "" && (err == nil || !strings.Contains(err.Error(), tc.errPart)):
			t.Errorf("ParseRoleMap(%q) error = %v, want one naming %s", tc.in, err, tc.errPart)
		case tc.errPart == "" && !maps.Equal(got, tc.want):
			t.Errorf("ParseRoleMap(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestMapRole(t *testing.T) {
	roles := map[string]auth.Role{"p": auth.RolePeer, "s": auth.RoleSpecialist, "v": auth.RoleSupervisor, "a": auth.RoleAdmin}
	tests := []struct {
		values  []string
		def     auth.Role
		want    auth.Role
		matched []string
	}{
		{[]string{"p", "a", "s"}, "", auth.RoleAdmin, []string{"p", "a", "s"}},
		{[]string{"v", "x", "s"}, auth.RoleAdmin, auth.RoleSupervisor, []string{"v", "s"}},
		{[]string{"x"}, auth.RolePeer, auth.RolePeer, nil},
		{nil, "", "", nil},
	}
	for _, tc := range tests {
		got, matched := mapRole(tc.values, roles, tc.def)
		if got != tc.want || !slices.Equal(matched, tc.matched) {
			t.Errorf("mapRole(%q, default %q) = %q %q, want %q %q", tc.values, tc.def, got, matched, tc.want, tc.matched)
		}
	}
}

func TestClaimValues(t *testing.T) {
	claims := map[string]any{
		"groups":       []any{"a", 7.0, "b", nil},
		"role":         "c",
		"realm_access": map[string]any{"roles": []any{"d"}, "n": 1.0},
		"x.y":          []any{"e"},
		"x":            map[string]any{"y": []any{"f"}},
	}
	for name, want := range map[string][]string{
		"groups": {"a", "b"}, "role": {"c"}, "realm_access.roles": {"d"}, "x.y": {"e"},
		"realm_access.n": nil, "realm_access": nil, "missing": nil, "role.sub": nil, "": nil,
	} {
		if got := claimValues(claims, name); !slices.Equal(got, want) {
			t.Errorf("claimValues(%q) = %q, want %q", name, got, want)
		}
	}
}
