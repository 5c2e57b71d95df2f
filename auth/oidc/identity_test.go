package oidc

import "testing"

func TestAuthorizedParty(t *testing.T) {
	for _, tc := range []struct {
		aud  []string
		azp  string
		want bool
	}{
		{[]string{"kindred"}, "", true},
		{[]string{"kindred"}, "kindred", true},
		{[]string{"kindred"}, "other", false},
		{[]string{"kindred", "other"}, "kindred", true},
		{[]string{"kindred", "other"}, "other", false},
		{[]string{"kindred", "other"}, "", false},
	} {
		if got := authorizedParty(tc.aud, tc.azp, "kindred"); got != tc.want {
			t.Errorf("authorizedParty(%q, %q) = %v, want %v", tc.aud, tc.azp, got, tc.want)
		}
	}
}

func TestDisplayNameAndEmailVerified(t *testing.T) {
	for _, tc := range []struct {
		claims map[string]any
		want   string
	}{
		{map[string]any{"name": " Alice ", "preferred_username": "alice"}, "Alice"},
		{map[string]any{"preferred_username": "alice@clinic.example"}, "alice@clinic.example"},
		{map[string]any{"given_name": "Alice", "family_name": "Example"}, "Alice Example"},
		{map[string]any{"family_name": "Example", "name": 7.0}, "Example"},
		{map[string]any{}, ""},
	} {
		if got := displayName(tc.claims); got != tc.want {
			t.Errorf("displayName(%v) = %q, want %q", tc.claims, got, tc.want)
		}
	}
	for v, want := range map[any]bool{true: true, false: false, "true": true, "TRUE": true, "false": false, "yes": false, nil: false, 1.0: false} {
		if got := truthy(v); got != want {
			t.Errorf("truthy(%#v) = %v, want %v", v, got, want)
		}
	}
}
