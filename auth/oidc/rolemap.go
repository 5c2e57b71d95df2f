package oidc

import (
	"fmt"
	"strings"

	"github.com/kindred-health/kindred/auth"
)

// ParseRoleMap parses "claim-value=role" pairs separated by commas, as in
// "kindred-admins=admin,kindred-staff=specialist". Blanks around values
// and roles are trimmed, and empty items (a trailing comma) are skipped,
// so "" gives an empty map. The role follows the last "=", so a claim
// value may itself contain "=" (but not ","). An error names the bad
// pair: a missing "=", an empty claim value, a role that is not peer,
// specialist, supervisor or admin, or a claim value listed twice.
func ParseRoleMap(s string) (map[string]auth.Role, error) {
	m := make(map[string]auth.Role)
	for item := range strings.SplitSeq(s, ",") {
		pair := strings.TrimSpace(item)
		if pair == "" {
			continue
		}
		i := strings.LastIndex(pair, "=")
		if i < 0 {
			return nil, fmt.Errorf("oidc: role map pair %q: want claim-value=role", pair)
		}
		value, name := strings.TrimSpace(pair[:i]), strings.TrimSpace(pair[i+1:])
		if value == "" {
			return nil, fmt.Errorf("oidc: role map pair %q: the claim value is empty", pair)
		}
		role, err := auth.ParseRole(name)
		if err != nil {
			return nil, fmt.Errorf("oidc: role map pair %q: %w", pair, err)
		}
		if _, dup := m[value]; dup {
			return nil, fmt.Errorf("oidc: role map pair %q: %q is listed twice", pair, value)
		}
		m[value] = role
	}
	return m, nil
}

// mapRole returns the highest role that values map to, and the values
// that matched (in claim order). With no match it returns def and no
// values; the caller refuses the sign-in when def is "".
func mapRole(values []string, roles map[string]auth.Role, def auth.Role) (auth.Role, []string) {
	var best auth.Role
	var matched []string
	for _, v := range values {
		r, ok := roles[v]
		if !ok {
			continue
		}
		matched = append(matched, v)
		if r.Above(best) {
			best = r
		}
	}
	if len(matched) == 0 {
		return def, nil
	}
	return best, matched
}

// claimValues reads the role claim from the ID token's claims: the claim
// named name if present, else the dotted path through nested objects. A
// string is one value; an array contributes its string elements; anything
// else, or a missing claim, gives none.
func claimValues(claims map[string]any, name string) []string {
	v, ok := claims[name]
	if !ok {
		v, ok = lookupPath(claims, strings.Split(name, "."))
	}
	if !ok {
		return nil
	}
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// lookupPath walks path through nested JSON objects.
func lookupPath(claims map[string]any, path []string) (any, bool) {
	var cur any = claims
	for _, key := range path {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[key]; !ok {
			return nil, false
		}
	}
	return cur, true
}
