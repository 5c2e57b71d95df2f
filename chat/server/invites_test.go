package server_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
)

// Invite links (docs/moderation.md#invite-links): made by a room's
// moderators, accepted by anyone signed in, private rooms included,
// within their end, their uses and a ban.

type inviteAnswer struct {
	Invite chat.Invite
	Link   string
	Error  chat.Error
}

// invite creates an invite over HTTP, which must succeed.
func (e *env) invite(token, room string, minutes, uses int) inviteAnswer {
	e.t.Helper()
	var out inviteAnswer
	body := map[string]int{"expires_in_minutes": minutes, "max_uses": uses}
	if st := e.api("POST", "/api/rooms/"+room+"/invites", token, body, &out); st != http.StatusCreated {
		e.t.Fatalf("create invite: %d %+v", st, out.Error)
	}
	return out
}

// accept accepts an invite over HTTP and returns the status, the room and
// the error.
func (e *env) accept(token, code string) (int, chat.Conversation, chat.Error) {
	e.t.Helper()
	var out struct {
		chat.Conversation
		Error chat.Error
	}
	st := e.api("POST", "/api/invites/"+code+"/accept", token, nil, &out)
	return st, out.Conversation, out.Error
}

// auditActions lists the actions of room's audit entries, oldest first.
func (e *env) auditActions(room string) []string {
	e.t.Helper()
	es, err := e.store.Audit(context.Background(), chat.AuditFilter{Room: room, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		out = append(out, es[i].Action)
	}
	return out
}

func TestInviteIntoPrivateRoom(t *testing.T) {
	e := newEnv(t, noRateLimit)
	ann, bob, cat := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer), e.token("cat", auth.RolePeer)
	room := e.createRoomWith(ann, "Private group", chat.RoomSettings{Visibility: chat.VisibilityPrivate})
	// A plain member may not make invites.
	if st, er := e.mod("POST", "/api/rooms/"+room.ID+"/invites", bob, map[string]int{"max_uses": 1}); st != 403 || er.Code != chat.CodeNotMember {
		t.Fatalf("a non-member making an invite: %d %+v", st, er)
	}
	inv := e.invite(ann, room.ID, 60, 2)
	if inv.Invite.Code == "" || inv.Invite.MaxUses != 2 || !strings.HasSuffix(inv.Link, "/#invite="+inv.Invite.Code) ||
		time.Until(inv.Invite.ExpiresAt) < 59*time.Minute {
		t.Fatalf("invite answer %+v", inv)
	}
	b := e.dial(bob, nil)
	st, cv, er := e.accept(bob, inv.Invite.Code)
	if st != http.StatusOK || cv.ID != room.ID || cv.Role != chat.RoomMember {
		t.Fatalf("accepting: %d %+v %+v", st, cv, er)
	}
	b.membership(room.ID, func(cv chat.Conversation) bool { return cv.Role == chat.RoomMember })
	if f := b.trySend(room.ID, "hi", "hello all"); f.Type != "ack" {
		t.Fatalf("the newcomer's send answered %s", f.raw)
	}
	// Accepting again while a member uses nothing.
	if st, _, _ := e.accept(bob, inv.Invite.Code); st != http.StatusOK {
		t.Fatalf("accepting again: %d", st)
	}
	// The second use, then the link is used up.
	if st, _, _ := e.accept(cat, inv.Invite.Code); st != http.StatusOK {
		t.Fatalf("cat accepting: %d", st)
	}
	dan := e.token("dan", auth.RolePeer)
	if st, _, er := e.accept(dan, inv.Invite.Code); st != http.StatusGone || er.Code != chat.CodeInviteInvalid {
		t.Fatalf("a used-up invite: %d %+v", st, er)
	}
	var list struct{ Invites []chat.Invite }
	if st := e.api("GET", "/api/rooms/"+room.ID+"/invites", ann, nil, &list); st != 200 || len(list.Invites) != 1 || list.Invites[0].Uses != 2 {
		t.Fatalf("listing: %d %+v", st, list)
	}
	want := "room.create invite.create invite.accept invite.accept"
	if got := strings.Join(e.auditActions(room.ID), " "); got != want {
		t.Errorf("audit: %s; want %s", got, want)
	}
}

func TestInviteRefusals(t *testing.T) {
	e := newEnv(t, noRateLimit)
	ann, bob, cat := e.token("ann", auth.RoleSpecialist), e.token("bob", auth.RolePeer), e.token("cat", auth.RolePeer)
	room := e.createRoomWith(ann, "Private group", chat.RoomSettings{Visibility: chat.VisibilityPrivate})
	if st, _, er := e.accept(bob, "NOSUCHCODE"); st != http.StatusNotFound || er.Code != chat.CodeNotFound {
		t.Errorf("an unknown code: %d %+v", st, er)
	}
	// Revoked.
	rev := e.invite(ann, room.ID, 60, 5)
	e.mustMod("DELETE", "/api/rooms/"+room.ID+"/invites/"+rev.Invite.ID, ann, nil)
	if st, _, er := e.accept(bob, rev.Invite.Code); st != http.StatusGone || er.Code != chat.CodeInviteInvalid || !strings.Contains(er.Message, "revoked") {
		t.Errorf("a revoked invite: %d %+v", st, er)
	}
	// Expired (made through the store: the route's shortest is a minute).
	short, err := e.store.CreateInvite(context.Background(), chat.Invite{Conv: room.ID, CreatedBy: "ann", MaxUses: 5,
		ExpiresAt: time.Now().Add(50 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if st, _, er := e.accept(bob, short.Code); st != http.StatusGone || !strings.Contains(er.Message, "expired") {
		t.Errorf("an expired invite: %d %+v", st, er)
	}
	// Banned: refused, and the use is given back.
	e.api("GET", "/api/me", cat, nil, nil) // cat signs in once
	e.mustMod("POST", "/api/rooms/"+room.ID+"/bans", ann, map[string]any{"user": "cat", "minutes": 0})
	good := e.invite(ann, room.ID, 60, 1)
	if st, _, er := e.accept(cat, good.Invite.Code); st != http.StatusForbidden || er.Code != chat.CodeBanned {
		t.Errorf("a banned user: %d %+v", st, er)
	}
	if st, _, er := e.accept(bob, good.Invite.Code); st != http.StatusOK {
		t.Errorf("the use the banned user did not keep: %d %+v", st, er)
	}
	if st, er := e.mod("POST", "/api/rooms/"+room.ID+"/invites", ann, map[string]int{"expires_in_minutes": 99999999}); st != 400 || er.Code != chat.CodeInvalidField {
		t.Errorf("an invite too long: %d %+v", st, er)
	}
	want := "room.create invite.create invite.revoke member.ban invite.create invite.accept"
	if got := strings.Join(e.auditActions(room.ID), " "); got != want {
		t.Errorf("audit: %s; want %s", got, want)
	}
}

func TestInviteConcurrentAccepts(t *testing.T) {
	e := newEnv(t, noRateLimit)
	ann := e.token("ann", auth.RoleSpecialist)
	room := e.createRoomWith(ann, "Private group", chat.RoomSettings{Visibility: chat.VisibilityPrivate})
	inv := e.invite(ann, room.ID, 60, 3)
	toks := make([]string, 12)
	for i := range toks {
		toks[i] = e.token("user"+string(rune('a'+i)), auth.RolePeer)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for _, tok := range toks {
		wg.Go(func() {
			st, _, _ := e.accept(tok, inv.Invite.Code)
			mu.Lock()
			codes[st]++
			mu.Unlock()
		})
	}
	wg.Wait()
	c, err := e.store.Conversation(context.Background(), room.ID)
	if codes[200] != 3 || codes[410] != 9 || err != nil || c.Members != 4 {
		t.Fatalf("answers %v, %d members (%v); want 3 in, 9 refused", codes, c.Members, err)
	}
}

// inviteCases are the permission cells of the invite routes (invites to
// the "mod" room, accepted into "join-route": joining it again is
// harmless) and of accepting main's guidelines.
func (fx *permFixture) inviteCases() map[string]*permCase {
	noBody := func(*permUser) any { return nil }
	invites := "/api/rooms/" + fx.rooms["mod"] + "/invites"
	made := func(t *testing.T, room string) chat.Invite {
		inv, err := fx.e.store.CreateInvite(context.Background(), chat.Invite{Conv: room, CreatedBy: fx.founder,
			MaxUses: 1, ExpiresAt: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatalf("fixture: invite: %v", err)
		}
		return inv
	}
	return map[string]*permCase{
		"POST /api/rooms/{id}/invites": {path: func(*testing.T, *permUser) string { return invites }, ok: 201,
			body: func(*permUser) any { return map[string]int{"expires_in_minutes": 5, "max_uses": 1} }},
		"GET /api/rooms/{id}/invites": {path: func(*testing.T, *permUser) string { return invites }, body: noBody, ok: 200},
		"DELETE /api/rooms/{id}/invites/{invite}": {body: noBody, ok: 200, path: func(t *testing.T, _ *permUser) string {
			return invites + "/" + made(t, fx.rooms["mod"]).ID
		}},
		"POST /api/invites/{code}/accept": {body: noBody, ok: 200, path: func(t *testing.T, _ *permUser) string {
			return "/api/invites/" + made(t, fx.rooms["join-route"]).Code + "/accept"
		}},
		"POST /api/rooms/{id}/guidelines/accept": {body: noBody, ok: 200, path: func(*testing.T, *permUser) string {
			return "/api/rooms/" + fx.main + "/guidelines/accept"
		}},
	}
}
