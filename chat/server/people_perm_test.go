package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// peopleCases are valid requests for the people directory's routes, for
// the permission table's test. The role change is made on an account
// that signs in to Kindred (a token account's role is its token's).
func (fx *permFixture) peopleCases() map[string]*permCase {
	path := func(p string) func(*testing.T, *permUser) string {
		return func(*testing.T, *permUser) string { return p }
	}
	noBody := func(*permUser) any { return nil }
	body := func(v any) func(*permUser) any { return func(*permUser) any { return v } }
	return map[string]*permCase{
		"PATCH /api/me":            {path: path("/api/me"), body: body(map[string]string{"name": "A new name"}), ok: 200},
		"GET /api/people":          {path: path("/api/people?q=subj"), body: noBody, ok: 200},
		"GET /api/people/{id}":     {path: path("/api/people/subj"), body: noBody, ok: 200},
		"GET /api/settings/signin": {path: path("/api/settings/signin"), body: noBody, ok: 200},
		"PUT /api/settings/signin": {path: path("/api/settings/signin"), body: body(map[string]string{"signup": "invite"}), ok: 200},
		"PATCH /api/people/{id}": {body: body(map[string]string{"role": "specialist"}), ok: 200,
			path: func(t *testing.T, _ *permUser) string {
				_, err := fx.e.store.SaveAccount(context.Background(), chat.Account{
					User: chat.User{ID: "directory-person", Name: "Dee", Role: "peer"}, Source: chat.SourceEmail}, time.Time{})
				if err != nil {
					t.Fatalf("fixture: account: %v", err)
				}
				return "/api/people/directory-person"
			}},
	}
}
