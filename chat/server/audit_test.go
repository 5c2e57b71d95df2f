package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/escalation"
)

// Every action that changes a room, the rota or an escalation, and every
// supervisor read of an escalation, leaves exactly one entry in the audit
// log, with its actor, room and target; no route changes or deletes one.
func TestAuditLogOneEntryPerAction(t *testing.T) {
	e := newEscalatingEnv(t)
	spec, sup, admin := e.token("sam", auth.RoleSpecialist), e.token("sue", auth.RoleSupervisor), e.token("ada", auth.RoleAdmin)
	e.api("GET", "/api/me", e.token("pat", auth.RolePeer), nil, nil) // pat is known
	e.api("GET", "/api/me", sup, nil, nil)
	room := e.createRoom(spec, "Group")
	steps := []struct {
		method, path, token string
		body                any
		want                chat.AuditEntry
	}{
		{"PATCH", "/api/rooms/" + room.ID, spec, map[string]string{"visibility": "private"},
			chat.AuditEntry{Actor: "sam", Action: "room.settings", Room: room.ID}},
		{"PUT", "/api/rooms/" + room.ID + "/policy", spec, map[string]bool{"hold_imminent": true},
			chat.AuditEntry{Actor: "sam", Action: "room.policy", Room: room.ID}},
		{"POST", "/api/rooms/" + room.ID + "/members", spec, map[string]string{"user": "pat"},
			chat.AuditEntry{Actor: "sam", Action: "member.add", Room: room.ID, Target: "pat"}},
		{"POST", "/api/oncall/shifts", admin, escalation.Shift{Supervisor: "sue", Tier: escalation.ShiftPrimary,
			Start: time.Now(), End: time.Now().Add(time.Hour)},
			chat.AuditEntry{Actor: "ada", Action: "oncall.shift_add", Target: "sue"}},
	}
	for _, st := range steps {
		before := auditOf(t, e, admin, "")
		if code := e.api(st.method, st.path, st.token, st.body, nil); code >= 300 {
			t.Fatalf("%s %s: %d", st.method, st.path, code)
		}
		after := auditOf(t, e, admin, "")
		if len(after) != len(before)+1 {
			t.Fatalf("%s %s left %d entries, want 1", st.method, st.path, len(after)-len(before))
		}
		got := after[0]
		if got.Actor != st.want.Actor || got.Action != st.want.Action || got.Room != st.want.Room || got.Target != st.want.Target || got.At.IsZero() {
			t.Fatalf("%s %s: entry %+v, want %+v", st.method, st.path, got, st.want)
		}
	}
	checkRoomCreatedAudited(t, e, admin, room.ID)
	checkEscalationReadAudited(t, e, spec, sup, admin, room.ID)
	checkAuditImmutable(t, e, admin)
}

func checkRoomCreatedAudited(t *testing.T, e *env, admin, room string) {
	for _, en := range auditOf(t, e, admin, "?room="+room) {
		if en.Action == "room.create" && en.Actor == "sam" {
			return
		}
	}
	t.Fatal("no room.create entry")
}

// A supervisor's read of an escalation is one entry; the subject's attempt
// is recorded as denied.
func checkEscalationReadAudited(t *testing.T, e *env, spec, sup, admin, room string) {
	sp := e.dial(spec, nil)
	sp.send(map[string]any{"type": "concern", "user": "pat", "conv": room, "reason": "quiet tonight", "ref": "c"})
	fl := sp.take(func(f frame) bool { return f.Ref == "c" })
	if fl.Type != "flagged" {
		t.Fatalf("concern: %s", fl.raw)
	}
	var list struct{ Escalations []escalation.Escalation }
	e.api("GET", "/api/escalations", sup, nil, &list)
	id := list.Escalations[0].ID
	before := auditOf(t, e, admin, "?actor=sue")
	if code := e.api("GET", "/api/escalations/"+id, sup, nil, nil); code != http.StatusOK {
		t.Fatalf("read: %d", code)
	}
	after := auditOf(t, e, admin, "?actor=sue")
	if len(after) != len(before)+1 || after[0].Action != "escalation.read" || after[0].Target != id || after[0].Room != room {
		t.Fatalf("read of %s audited as %+v", id, after[:len(after)-len(before)])
	}
}

// No route changes or deletes an entry.
func checkAuditImmutable(t *testing.T, e *env, admin string) {
	before := auditOf(t, e, admin, "")
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		if code := e.api(m, "/api/audit", admin, map[string]string{"actor": "nobody"}, nil); code != http.StatusMethodNotAllowed {
			t.Errorf("%s /api/audit: %d, want 405", m, code)
		}
	}
	if code := e.api("DELETE", "/api/audit/1", admin, nil, nil); code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /api/audit/1: %d", code)
	}
	if after := auditOf(t, e, admin, ""); len(after) != len(before) || after[0] != before[0] {
		t.Fatalf("the audit log changed: %d entries, then %d", len(before), len(after))
	}
}

func auditOf(t *testing.T, e *env, token, query string) []chat.AuditEntry {
	t.Helper()
	var out struct{ Entries []chat.AuditEntry }
	if code := e.api("GET", "/api/audit"+query, token, nil, &out); code != http.StatusOK {
		t.Fatalf("GET /api/audit%s: %d", query, code)
	}
	return out.Entries
}
