package auth

import (
	"errors"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kindred-health/kindred/chat"
)

var update = flag.Bool("update", false, "rewrite the generated table in docs/permissions.md")

// wantNeeds is the permission table written out again, by hand, from the
// specification, so that the tests below can fail when permissions.go
// drifts. Keys are the action strings users see (not the constants, so that
// a misspelt constant fails too). Columns: peer, specialist, supervisor,
// admin; "never" is a refusal whatever the room role.
var wantNeeds = map[string][4]string{
	"view_own":           {"anyone", "anyone", "anyone", "anyone"},
	"list_rooms":         {"anyone", "anyone", "anyone", "anyone"},
	"create_room":        {"never", "anyone", "anyone", "anyone"},
	"join_room":          {"anyone", "anyone", "anyone", "anyone"},
	"leave_room":         {"member", "member", "member", "member"},
	"read_history":       {"member", "member", "member", "member"},
	"list_members":       {"member", "member", "member", "member"},
	"typing":             {"member", "member", "member", "member"},
	"send":               {"member", "member", "member", "member"},
	"edit":               {"member", "member", "member", "member"},
	"delete":             {"member", "member", "member", "member"},
	"flag":               {"member", "member", "member", "member"},
	"open_dm":            {"anyone", "anyone", "anyone", "anyone"},
	"block":              {"anyone", "anyone", "anyone", "anyone"},
	"support":            {"anyone", "anyone", "anyone", "anyone"},
	"raise_concern":      {"never", "anyone", "anyone", "anyone"},
	"report":             {"member", "member", "member", "member"},
	"view_room_policy":   {"member", "member", "anyone", "anyone"},
	"set_room_policy":    {"never", "moderator", "anyone", "anyone"},
	"set_room_settings":  {"never", "moderator", "anyone", "anyone"},
	"add_member":         {"moderator", "moderator", "anyone", "anyone"},
	"set_member_role":    {"never", "owner", "anyone", "anyone"},
	"moderate":           {"moderator", "moderator", "anyone", "anyone"},
	"manage_invites":     {"moderator", "moderator", "anyone", "anyone"},
	"accept_invite":      {"anyone", "anyone", "anyone", "anyone"},
	"accept_guidelines":  {"member", "member", "member", "member"},
	"handle_reports":     {"moderator", "moderator", "anyone", "anyone"},
	"view_reports":       {"never", "never", "anyone", "anyone"},
	"view_escalations":   {"never", "never", "anyone", "anyone"},
	"handle_escalation":  {"never", "never", "anyone", "anyone"},
	"receive_pages":      {"never", "never", "anyone", "anyone"},
	"push_subscribe":     {"never", "never", "anyone", "anyone"},
	"view_oncall":        {"never", "never", "anyone", "anyone"},
	"manage_oncall":      {"never", "never", "never", "anyone"},
	"view_supervisors":   {"never", "anyone", "anyone", "anyone"},
	"view_audit":         {"never", "never", "anyone", "anyone"},
	"revoke_sessions":    {"never", "never", "never", "anyone"},
	"edit_profile":       {"anyone", "anyone", "anyone", "anyone"},
	"manage_people":      {"never", "never", "never", "anyone"},
	"manage_signin":      {"never", "never", "never", "anyone"},
	"export_user":        {"never", "never", "never", "anyone"},
	"erase_user":         {"never", "never", "never", "anyone"},
	"legal_hold":         {"never", "never", "never", "anyone"},
	"set_room_retention": {"never", "owner", "owner", "anyone"},
	"start_video":        {"owner", "member", "member", "member"},
	"join_video":         {"member", "member", "member", "member"},
	"host_video":         {"moderator", "member", "member", "member"},
}

var (
	globalRoles = []Role{RolePeer, RoleSpecialist, RoleSupervisor, RoleAdmin}
	roomRoles   = []chat.RoomRole{chat.RoomOwner, chat.RoomModerator, chat.RoomMember, chat.RoomNone}
)

// wantOutcome is what Permit must answer for a cell of wantNeeds and a room
// role: "ok", "not_member" or "forbidden". It is written from the rules in
// the brief, independently of Need and roomRank.
func wantOutcome(need string, room chat.RoomRole) string {
	if need == "never" {
		return "forbidden"
	}
	if need == "anyone" {
		return "ok"
	}
	if room == chat.RoomNone {
		return "not_member"
	}
	allowed := map[string][]chat.RoomRole{
		"member":    {chat.RoomMember, chat.RoomModerator, chat.RoomOwner},
		"moderator": {chat.RoomModerator, chat.RoomOwner},
		"owner":     {chat.RoomOwner},
	}[need]
	if allowed == nil {
		panic("bad need in wantNeeds: " + need)
	}
	if slices.Contains(allowed, room) {
		return "ok"
	}
	return "forbidden"
}

func outcome(t *testing.T, err error) (string, *chat.Error) {
	t.Helper()
	if err == nil {
		return "ok", nil
	}
	var ce *chat.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *chat.Error", err, err)
	}
	return string(ce.Code), ce
}

func TestPermitEveryCell(t *testing.T) {
	var cells int
	for act, needs := range wantNeeds {
		for i, role := range globalRoles {
			for _, room := range roomRoles {
				cells++
				want := wantOutcome(needs[i], room)
				id := Identity{UserID: "u1", Name: "Ada", Role: role}
				got, ce := outcome(t, Permit(id, room, Action(act)))
				if got != want {
					t.Errorf("Permit(%s, room %q, %s) = %s, want %s", role, room, act, got, want)
					continue
				}
				switch got {
				case "not_member":
					if ce != chat.ErrNotMember {
						t.Errorf("Permit(%s, none, %s) = %#v, want chat.ErrNotMember itself", role, act, ce)
					}
				case "forbidden":
					// Who was refused: the global role when it may never do
					// this, else the role in the conversation.
					wantMsg := "your role (" + string(role) + ") may not " + act
					if needs[i] != "never" {
						wantMsg = "your role in this conversation (" + string(room) + ") may not " + act
					}
					if ce.Message != wantMsg {
						t.Errorf("Permit(%s, room %q, %s) message %q, want %q", role, room, act, ce.Message, wantMsg)
					}
				}
				if room == chat.RoomNone {
					// Authorize is Permit without a conversation.
					if got2, _ := outcome(t, Authorize(id, Action(act))); got2 != want {
						t.Errorf("Authorize(%s, %s) = %s, want %s", role, act, got2, want)
					}
				}
			}
		}
	}
	if want := len(wantNeeds) * 4 * 4; cells != want {
		t.Fatalf("checked %d cells, want %d", cells, want)
	}
}

// TestPermissionsCoverAllActions makes the written-out expectation and the
// table list the same actions, so a new action needs a new expectation.
func TestPermissionsCoverAllActions(t *testing.T) {
	var got []string
	for _, a := range Actions() {
		got = append(got, string(a))
	}
	var want []string
	for a := range wantNeeds {
		want = append(want, a)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("table actions %v\nwant %v", got, want)
	}
	// The constants spell the user-visible strings.
	for c, s := range map[Action]string{
		ActViewOwn: "view_own", ActListRooms: "list_rooms", ActCreateRoom: "create_room",
		ActJoinRoom: "join_room", ActLeaveRoom: "leave_room", ActReadHistory: "read_history",
		ActListMembers: "list_members", ActTyping: "typing", ActSend: "send", ActEdit: "edit",
		ActDelete: "delete", ActFlag: "flag", ActOpenDM: "open_dm", ActBlock: "block", ActSupport: "support", ActRaiseConcern: "raise_concern",
		ActViewRoomPolicy: "view_room_policy", ActSetRoomPolicy: "set_room_policy",
		ActSetRoomSettings: "set_room_settings", ActAddMember: "add_member",
		ActSetMemberRole: "set_member_role", ActModerate: "moderate", ActViewEscalations: "view_escalations",
		ActHandleEscalation: "handle_escalation", ActReceivePages: "receive_pages",
		ActPushSubscribe: "push_subscribe",
		ActViewOncall:    "view_oncall", ActManageOncall: "manage_oncall", ActViewAudit: "view_audit",
		ActViewSupervisors: "view_supervisors", ActRevokeSessions: "revoke_sessions",
		ActExportUser: "export_user", ActEraseUser: "erase_user", ActLegalHold: "legal_hold", ActSetRetention: "set_room_retention",
		ActManageInvites: "manage_invites", ActAcceptInvite: "accept_invite", ActAcceptGuidelines: "accept_guidelines",
		ActReport: "report", ActHandleReports: "handle_reports", ActViewReports: "view_reports",
		ActStartVideo: "start_video", ActJoinVideo: "join_video", ActHostVideo: "host_video",
	} {
		if string(c) != s {
			t.Errorf("constant for %s is %q", s, c)
		}
	}
}

func TestCanAndNeeds(t *testing.T) {
	for act, needs := range wantNeeds {
		for i, role := range globalRoles {
			if got := role.Needs(Action(act)).String(); got != needs[i] {
				t.Errorf("Role(%s).Needs(%s) = %s, want %s", role, act, got, needs[i])
			}
			if got, want := role.Can(Action(act)), needs[i] != "never"; got != want {
				t.Errorf("Role(%s).Can(%s) = %v, want %v", role, act, got, want)
			}
		}
	}
}

func TestPermitInvalidGlobalRole(t *testing.T) {
	for _, role := range []Role{"", "root", "Admin", " admin", "<script>alert(1)</script>"} {
		if role.Can(ActViewOwn) || role.Needs(ActViewOwn) != NeedNever {
			t.Errorf("invalid role %q can view_own", role)
		}
		for act := range wantNeeds {
			for _, room := range append(roomRoles, "banana") {
				err := Permit(Identity{UserID: "u1", Role: role}, room, Action(act))
				got, ce := outcome(t, err)
				if got != "forbidden" {
					t.Fatalf("Permit(role %q, room %q, %s) = %s, want forbidden", role, room, act, got)
				}
				if want := "your account has no recognised role and may not " + act; ce.Message != want {
					t.Errorf("message %q, want %q", ce.Message, want)
				}
			}
			if got, _ := outcome(t, Authorize(Identity{Role: role}, Action(act))); got != "forbidden" {
				t.Errorf("Authorize(role %q, %s) = %s, want forbidden", role, act, got)
			}
		}
	}
}

func TestPermitUnknownAction(t *testing.T) {
	for _, role := range globalRoles {
		for _, act := range []Action{"", "bogus", "Send", "send ", "delete_everything"} {
			if role.Can(act) {
				t.Errorf("Role(%s).Can(%q)", role, act)
			}
			for _, room := range roomRoles {
				got, ce := outcome(t, Permit(Identity{Role: role}, room, act))
				if got != "forbidden" {
					t.Fatalf("Permit(%s, room %q, %q) = %s, want forbidden", role, room, act, got)
				}
				if want := "your role (" + string(role) + ") may not " + string(act); ce.Message != want {
					t.Errorf("message %q, want %q", ce.Message, want)
				}
			}
		}
	}
}

// An unknown room role (from a newer server, or corrupt) meets no
// membership requirement and is not echoed; it does not block actions that
// need no membership.
func TestPermitUnknownRoomRole(t *testing.T) {
	const bad = chat.RoomRole("superowner<b>")
	for act, needs := range wantNeeds {
		for i, role := range globalRoles {
			want := "forbidden"
			if needs[i] == "anyone" {
				want = "ok"
			}
			got, ce := outcome(t, Permit(Identity{Role: role}, bad, Action(act)))
			if got != want {
				t.Errorf("Permit(%s, room %q, %s) = %s, want %s", role, bad, act, got, want)
			}
			if ce != nil && strings.Contains(ce.Message, string(bad)) {
				t.Errorf("message %q echoes the room role", ce.Message)
			}
		}
	}
}

// Each global role may do at least what the one below it may, in every room
// role (the order auth.go documents for roles).
func TestPermissionsMonotone(t *testing.T) {
	for _, a := range Actions() {
		for i := 1; i < len(globalRoles); i++ {
			for _, room := range roomRoles {
				lower := Permit(Identity{Role: globalRoles[i-1]}, room, a) == nil
				higher := Permit(Identity{Role: globalRoles[i]}, room, a) == nil
				if lower && !higher {
					t.Errorf("%s may %s in room role %q but %s may not", globalRoles[i-1], a, room, globalRoles[i])
				}
			}
		}
	}
}

func TestRoutesAndFrames(t *testing.T) {
	wantRoutes := map[string]Action{
		"GET /api/me":                                "view_own",
		"GET /api/conversations":                     "view_own",
		"GET /api/rooms":                             "list_rooms",
		"POST /api/rooms":                            "create_room",
		"POST /api/rooms/{id}/join":                  "join_room",
		"POST /api/rooms/{id}/leave":                 "leave_room",
		"POST /api/dms":                              "open_dm",
		"GET /api/conversations/{id}/members":        "list_members",
		"GET /api/conversations/{id}/messages":       "read_history",
		"GET /api/rooms/{id}/policy":                 "view_room_policy",
		"PUT /api/rooms/{id}/policy":                 "set_room_policy",
		"PATCH /api/rooms/{id}":                      "set_room_settings",
		"POST /api/rooms/{id}/members":               "add_member",
		"PUT /api/rooms/{id}/members/{user}/role":    "set_member_role",
		"POST /api/rooms/{id}/members/{user}/mute":   "moderate",
		"DELETE /api/rooms/{id}/members/{user}/mute": "moderate",
		"DELETE /api/rooms/{id}/members/{user}":      "moderate",
		"POST /api/rooms/{id}/bans":                  "moderate",
		"GET /api/rooms/{id}/bans":                   "moderate",
		"POST /api/rooms/{id}/invites":               "manage_invites",
		"GET /api/rooms/{id}/invites":                "manage_invites",
		"DELETE /api/rooms/{id}/invites/{invite}":    "manage_invites",
		"POST /api/invites/{code}/accept":            "accept_invite",
		"POST /api/rooms/{id}/guidelines/accept":     "accept_guidelines",
		"DELETE /api/rooms/{id}/bans/{user}":         "moderate",
		"GET /api/rooms/{id}/pending":                "moderate",
		"POST /api/rooms/{id}/pending/{pid}/approve": "moderate",
		"POST /api/rooms/{id}/pending/{pid}/reject":  "moderate",
		"POST /api/rooms/{id}/messages/{seq}/hide":   "moderate",
		"PUT /api/rooms/{id}/pins/{seq}":             "moderate",
		"DELETE /api/rooms/{id}/pins/{seq}":          "moderate",
		"GET /api/rooms/{id}/pins":                   "read_history",
		"GET /api/escalations":                       "view_escalations",
		"GET /api/escalations/{id}":                  "view_escalations",
		"POST /api/escalations/{id}/ack":             "handle_escalation",
		"POST /api/escalations/{id}/notes":           "handle_escalation",
		"POST /api/escalations/{id}/handoff":         "handle_escalation",
		"POST /api/escalations/{id}/resolve":         "handle_escalation",
		"POST /api/escalations/{id}/join":            "handle_escalation",
		"POST /api/escalations/{id}/release":         "handle_escalation",
		"POST /api/escalations/{id}/dm":              "handle_escalation",
		"GET /api/oncall/shifts":                     "view_oncall",
		"GET /api/push/key":                          "push_subscribe",
		"POST /api/push/subscriptions":               "push_subscribe",
		"DELETE /api/push/subscriptions":             "push_subscribe",
		"GET /api/supervisors":                       "view_supervisors",
		"POST /api/oncall/shifts":                    "manage_oncall",
		"DELETE /api/oncall/shifts/{id}":             "manage_oncall",
		"GET /api/audit":                             "view_audit",
		"POST /api/users/{id}/revoke":                "revoke_sessions",
		"GET /api/users/{id}/export":                 "export_user",
		"POST /api/users/{id}/erase":                 "erase_user",
		"PUT /api/holds/users/{id}":                  "legal_hold",
		"DELETE /api/holds/users/{id}":               "legal_hold",
		"PUT /api/holds/rooms/{id}":                  "legal_hold",
		"DELETE /api/holds/rooms/{id}":               "legal_hold",
		"GET /api/holds":                             "legal_hold",
		"POST /api/rooms/{id}/reports":               "report",
		"GET /api/rooms/{id}/reports":                "handle_reports",
		"POST /api/reports/{id}/resolve":             "handle_reports",
		"GET /api/reports":                           "view_reports",
		"PUT /api/blocks/{user}":                     "block",
		"DELETE /api/blocks/{user}":                  "block",
		"GET /api/blocks":                            "block",
		"GET /api/support":                           "support",
		"PATCH /api/me":                              "edit_profile",
		"GET /api/people":                            "manage_people",
		"GET /api/people/{id}":                       "manage_people",
		"PATCH /api/people/{id}":                     "manage_people",
		"GET /api/settings/signin":                   "manage_signin",
		"PUT /api/settings/signin":                   "manage_signin",
	}
	wantFrames := map[string]Action{
		"send": "send", "edit": "edit", "delete": "delete", "typing": "typing",
		"join": "join_room", "leave": "leave_room", "open_dm": "open_dm",
		"members": "list_members", "flag": "flag", "concern": "raise_concern", "ping": "view_own", "reauth": "view_own",
		"report": "report", "dismiss_support": "support", "video_start": "start_video",
		"video_join": "join_video", "video_leave": "join_video", "video_offer": "join_video",
		"video_answer": "join_video", "video_candidate": "join_video", "video_control": "join_video",
		"video_admit": "host_video", "video_deny": "host_video", "video_end": "host_video",
	}
	if got := Routes(); !mapsEqual(got, wantRoutes) {
		t.Errorf("Routes() = %v\nwant %v", got, wantRoutes)
	}
	if got := Frames(); !mapsEqual(got, wantFrames) {
		t.Errorf("Frames() = %v\nwant %v", got, wantFrames)
	}
	// Each route and frame is listed under one action only.
	seen := map[string]Action{}
	for _, p := range permissions {
		for _, u := range slices.Concat(p.routes, p.frames) {
			if prev, dup := seen[u]; dup {
				t.Errorf("%q is listed under %s and %s", u, prev, p.act)
			}
			seen[u] = p.act
		}
	}
}

func mapsEqual(a, b map[string]Action) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestMarkdownTableShape(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(MarkdownTable(), "\n"), "\n")
	if len(lines) != 2+len(wantNeeds) {
		t.Fatalf("%d lines, want %d", len(lines), 2+len(wantNeeds))
	}
	if lines[0] != "| Action | What | peer | specialist | supervisor | admin | Frames and routes |" {
		t.Errorf("header %q", lines[0])
	}
	for _, l := range lines {
		if n := strings.Count(l, "|"); n != 8 {
			t.Errorf("%d pipes in %q (a cell contains one?)", n, l)
		}
	}
	// Spot-check the rendering of one row against the expectation.
	var row string
	for _, l := range lines {
		if strings.HasPrefix(l, "| `set_room_policy` |") {
			row = l
		}
	}
	if !strings.Contains(row, "| — | moderator | anyone | anyone | `PUT /api/rooms/{id}/policy` |") {
		t.Errorf("set_room_policy row %q", row)
	}
}

const (
	docPath   = "../docs/permissions.md"
	beginMark = "<!-- permissions:begin -->"
	endMark   = "<!-- permissions:end -->"
)

// TestPermissionsDoc fails when docs/permissions.md does not hold exactly
// MarkdownTable() between its markers. go test ./auth -run
// TestPermissionsDoc -update rewrites it.
func TestPermissionsDoc(t *testing.T) {
	raw, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	if strings.Count(doc, beginMark) != 1 || strings.Count(doc, endMark) != 1 {
		t.Fatalf("%s must hold %s and %s once each", docPath, beginMark, endMark)
	}
	i := strings.Index(doc, beginMark) + len(beginMark)
	j := strings.Index(doc, endMark)
	if j < i {
		t.Fatalf("%s: %s comes before %s", docPath, endMark, beginMark)
	}
	want := "\n" + MarkdownTable()
	if doc[i:j] == want {
		return
	}
	if *update {
		if err := os.WriteFile(docPath, []byte(doc[:i]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote the table in %s", docPath)
		return
	}
	t.Fatalf("the table in %s is not the one auth.MarkdownTable generates; run: go test ./auth -run TestPermissionsDoc -update\ngot:\n%s\nwant:\n%s", docPath, doc[i:j], want)
}
