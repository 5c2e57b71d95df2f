package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// peopleRoutes: the people directory for admins, one's own name, and the
// sign-in settings (docs/protocol.md#people).
func (s *Server) peopleRoutes(m *http.ServeMux) {
	m.HandleFunc("PATCH /api/me", s.api(auth.ActEditProfile, s.editProfile))
	m.HandleFunc("GET /api/people", s.api(auth.ActManagePeople, s.listPeople))
	m.HandleFunc("GET /api/people/{id}", s.api(auth.ActManagePeople, s.person))
	m.HandleFunc("PATCH /api/people/{id}", s.api(auth.ActManagePeople, s.changePerson))
	m.HandleFunc("GET /api/settings/signin", s.api(auth.ActManageSignIn, s.signinSettings))
	m.HandleFunc("PUT /api/settings/signin", s.api(auth.ActManageSignIn, s.putSigninSettings))
}

// editProfile is PATCH /api/me {"name"}: the caller's display name. A
// token minted elsewhere brings its own name back at the next sign-in.
func (s *Server) editProfile(r *http.Request, id auth.Identity) (int, any, error) {
	var in struct {
		Name string `json:"name"`
	}
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 80 || auth.CheckSubject(in.Name) != nil {
		return 0, nil, chat.Errorf(chat.CodeInvalidField, "a name is 1 to 80 printable characters")
	}
	acct, err := s.store.Account(r.Context(), id.UserID)
	if err != nil {
		return 0, nil, err
	}
	acct.Name = in.Name
	acct, err = s.store.SaveAccount(r.Context(), acct, time.Time{})
	if err != nil {
		return 0, nil, err
	}
	s.audit(r.Context(), chat.AuditEntry{Actor: id.UserID, Action: "user.rename", Target: id.UserID})
	return http.StatusOK, acct, nil
}

// listPeople is GET /api/people?q=&role=&status=&after=&limit=.
func (s *Server) listPeople(r *http.Request, id auth.Identity) (int, any, error) {
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, nil, chat.Errorf(chat.CodeInvalidField, "limit must be a number from 1 to 200")
		}
		limit = n
	}
	people, err := s.store.ListAccounts(r.Context(), chat.AccountQuery{Search: q.Get("q"), Role: q.Get("role"),
		Status: chat.AccountStatus(q.Get("status")), After: q.Get("after"), Limit: limit})
	if err != nil {
		return 0, nil, err
	}
	out := map[string]any{"people": people}
	if len(people) == limit {
		out["next"] = people[len(people)-1].ID
	}
	return http.StatusOK, out, nil
}

// person is GET /api/people/{id}: the account and its browser sessions.
func (s *Server) person(r *http.Request, id auth.Identity) (int, any, error) {
	acct, err := s.store.Account(r.Context(), r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	sessions, err := s.store.AuthSessions(r.Context(), acct.ID)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"person": acct, "sessions": sessions}, nil
}

// changePerson is PATCH /api/people/{id} {"role"?, "status"?}. A new role
// or a deactivation ends the person's sessions on every node at once (a
// deactivation also their browser sessions, so they cannot sign back in);
// someone still signed in to a browser gets a token with the new role on
// their next refresh. Admins cannot change their own role or deactivate
// themselves (another admin must), so the last admin cannot lock
// everyone out by mistake.
func (s *Server) changePerson(r *http.Request, id auth.Identity) (int, any, error) {
	var in struct {
		Role   string             `json:"role"`
		Status chat.AccountStatus `json:"status"`
	}
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	target := r.PathValue("id")
	if in.Role == "" && in.Status == "" {
		return 0, nil, chat.Errorf(chat.CodeMissingField, "give a role or a status")
	}
	if in.Role != "" && !auth.Role(in.Role).Valid() {
		return 0, nil, chat.Errorf(chat.CodeInvalidField, "role must be peer, specialist, supervisor or admin")
	}
	if target == id.UserID {
		return 0, nil, chat.Errorf(chat.CodeForbidden, "you cannot change your own role or status; ask another admin")
	}
	ctx := r.Context()
	if in.Role != "" {
		acct, err := s.store.Account(ctx, target)
		if err != nil {
			return 0, nil, err
		}
		if acct.Source == chat.SourceToken {
			return 0, nil, chat.Errorf(chat.CodeForbidden, "this person's role comes from the token their organisation's system issues; change it there")
		}
		if err := s.store.SetAccountRole(ctx, target, in.Role); err != nil {
			return 0, nil, err
		}
		s.audit(ctx, chat.AuditEntry{Actor: id.UserID, Action: "user.role", Target: target, Detail: "role=" + in.Role})
	}
	if in.Status != "" {
		if err := s.store.SetAccountStatus(ctx, target, in.Status); err != nil {
			return 0, nil, err
		}
		s.audit(ctx, chat.AuditEntry{Actor: id.UserID, Action: "user.status", Target: target, Detail: "status=" + string(in.Status)})
	}
	if in.Role != "" || in.Status == chat.StatusDeactivated {
		if _, err := s.endSessions(ctx, target); err != nil {
			return 0, nil, err
		}
	}
	acct, err := s.store.Account(ctx, target)
	return http.StatusOK, acct, err
}

// endSessions refuses the user's tokens issued until now and closes their
// open sessions on every node.
func (s *Server) endSessions(ctx context.Context, user string) (chat.Revocation, error) {
	rev, err := s.store.RevokeSessions(ctx, user)
	if err != nil {
		return chat.Revocation{}, err
	}
	s.PublishRevocation(ctx, rev)
	return rev, nil
}

// signinSettings is GET /api/settings/signin.
func (s *Server) signinSettings(r *http.Request, id auth.Identity) (int, any, error) {
	v, err := s.store.Setting(r.Context(), chat.SettingSignup)
	return http.StatusOK, map[string]any{"signup": chat.SignupOf(v), "email": s.cfg.SignInEmail, "oidc": s.cfg.SignInOIDC}, err
}

// putSigninSettings is PUT /api/settings/signin {"signup":"open"|"invite"}.
func (s *Server) putSigninSettings(r *http.Request, id auth.Identity) (int, any, error) {
	var in struct {
		Signup string `json:"signup"`
	}
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	if chat.SignupOf(in.Signup) != chat.Signup(in.Signup) {
		return 0, nil, chat.Errorf(chat.CodeInvalidField, "signup must be open or invite")
	}
	if err := s.store.PutSetting(r.Context(), chat.SettingSignup, in.Signup); err != nil {
		return 0, nil, err
	}
	s.audit(r.Context(), chat.AuditEntry{Actor: id.UserID, Action: "signin.signup_policy", Detail: "signup=" + in.Signup})
	return s.signinSettings(r, id)
}
