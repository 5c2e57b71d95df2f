package auth

import (
	"fmt"
	"strings"

	"github.com/kindred-health/kindred/chat"
)

// Action is something a caller may or may not be allowed to do. The strings
// appear in forbidden-error messages shown to users.
type Action string

// The actions the chat server checks, in the order of the permission table.
const (
	ActViewOwn          Action = "view_own"           // one's own profile and conversation list; ping
	ActListRooms        Action = "list_rooms"         // the room directory
	ActCreateRoom       Action = "create_room"        // the creator becomes the room's owner
	ActJoinRoom         Action = "join_room"          // any room (DMs cannot be joined)
	ActLeaveRoom        Action = "leave_room"         // a room one belongs to
	ActReadHistory      Action = "read_history"       // messages over HTTP, and a hello's resume catch-up
	ActListMembers      Action = "list_members"       // who belongs to a conversation
	ActTyping           Action = "typing"             // typing notices
	ActSend             Action = "send"               // post a message
	ActEdit             Action = "edit"               // authorship is checked beside the table
	ActDelete           Action = "delete"             // authorship is checked beside the table
	ActFlag             Action = "flag"               // flag a message for the crisis team
	ActOpenDM           Action = "open_dm"            // open (or reopen) a DM with someone
	ActBlock            Action = "block"              // block and unblock someone, list one's blocks
	ActRaiseConcern     Action = "raise_concern"      // a concern about a person
	ActSupport          Action = "support"            // the crisis resources; dismiss one's own support notes (ownership beside the table)
	ActReport           Action = "report"             // report a message or a person to a room's moderators
	ActViewRoomPolicy   Action = "view_room_policy"   // a room's crisis hold policy
	ActSetRoomPolicy    Action = "set_room_policy"    // change a room's crisis hold policy
	ActSetRoomSettings  Action = "set_room_settings"  // change a room's visibility and history
	ActSetRetention     Action = "set_room_retention" // change how long a room keeps its messages (beside set_room_settings)
	ActAddMember        Action = "add_member"         // add someone to a room (how private rooms are joined)
	ActSetMemberRole    Action = "set_member_role"    // name a room's moderators
	ActModerate         Action = "moderate"           // mute, remove and ban a room's members; decide held messages; hide and pin messages
	ActManageInvites    Action = "manage_invites"     // create, list and revoke a room's invite links
	ActAcceptInvite     Action = "accept_invite"      // join a room through an invite link
	ActAcceptGuidelines Action = "accept_guidelines"  // accept a room's guidelines, before posting there
	ActHandleReports    Action = "handle_reports"     // a room's report queue: list and resolve
	ActViewReports      Action = "view_reports"       // the report queue across every room
	ActViewEscalations  Action = "view_escalations"   // list escalations, read one
	ActHandleEscalation Action = "handle_escalation"  // ack, notes, hand-off, resolve, join, release, DM
	ActReceivePages     Action = "receive_pages"      // escalation pages and queue news pushed to a session
	ActPushSubscribe    Action = "push_subscribe"     // subscribe a browser to Web Push notices of pages, remove it
	ActViewOncall       Action = "view_oncall"        // read the on-call rota
	ActManageOncall     Action = "manage_oncall"      // change the on-call rota
	ActViewSupervisors  Action = "view_supervisors"   // who the supervisors are, on call and online (hand-offs)
	ActViewAudit        Action = "view_audit"         // read the audit log
	ActRevokeSessions   Action = "revoke_sessions"    // end every session of a user, refusing their tokens issued until now
	ActEditProfile      Action = "edit_profile"       // change one's own display name
	ActManagePeople     Action = "manage_people"      // the people directory: list, search, change roles, deactivate
	ActManageSignIn     Action = "manage_signin"      // how people sign in: who may sign up by email
	ActExportUser       Action = "export_user"        // everything kept about one user, as JSON
	ActEraseUser        Action = "erase_user"         // erase a user's messages and personal data, keeping what holds require
	ActLegalHold        Action = "legal_hold"         // set, lift and list legal holds on users and rooms
	ActStartVideo       Action = "start_video"        // start a conversation's video session
	ActJoinVideo        Action = "join_video"         // ask to join a video session, take part once admitted
	ActHostVideo        Action = "host_video"         // admit, deny, mute, stop cameras, remove, end: a session's hosts
)

// Need is what a global role needs in a conversation to perform an action.
// The zero value is NeedNever, so anything the table does not mention is
// refused.
type Need uint8

// The requirements, weakest last: NeedOwner is met only by a room's owner,
// NeedModerator by its owner or a moderator, NeedMember by any member, and
// NeedAnyone without any membership (including when no conversation is
// involved).
const (
	NeedNever     Need = iota // refused, whatever the room role
	NeedOwner                 // chat.RoomOwner
	NeedModerator             // chat.RoomModerator or chat.RoomOwner
	NeedMember                // any room role: member, moderator or owner
	NeedAnyone                // no membership needed
)

// String returns the requirement as it reads in docs/permissions.md, except
// that NeedNever is "never" (the doc shows "—").
func (n Need) String() string {
	switch n {
	case NeedNever:
		return "never"
	case NeedOwner:
		return "owner"
	case NeedModerator:
		return "moderator"
	case NeedMember:
		return "member"
	case NeedAnyone:
		return "anyone"
	}
	return fmt.Sprintf("Need(%d)", uint8(n))
}

// roomRank orders the room roles; 0 is RoomNone and -1 a role the server
// does not know (stored by a newer version, or corrupt), which meets no
// membership requirement.
func roomRank(r chat.RoomRole) int {
	switch r {
	case chat.RoomNone:
		return 0
	case chat.RoomMember:
		return 1
	case chat.RoomModerator:
		return 2
	case chat.RoomOwner:
		return 3
	}
	return -1
}

// minRoomRank is the least roomRank that meets n (NeedAnyone: 0, so RoomNone
// and unknown room roles are fine; NeedNever: beyond any role).
func (n Need) minRoomRank() int {
	switch n {
	case NeedAnyone:
		return -1
	case NeedMember:
		return 1
	case NeedModerator:
		return 2
	case NeedOwner:
		return 3
	}
	return 4
}

// permission is one row of the table: an action, what each global role needs
// for it, and where the server checks it.
type permission struct {
	act  Action
	what string // a short description for the doc
	// need is indexed by global role: peer, specialist, supervisor, admin
	// (Role.rank()-1).
	need   [4]Need
	frames []string // client WebSocket frames checked against act
	pushes []string // server frames only sent to sessions allowed act
	routes []string // HTTP routes (ServeMux patterns) checked against act
	beside string   // where the server checks act beside another row's route, for the doc
}

// permissions is THE permission table: every WebSocket frame, every HTTP
// route and every push of escalation data is checked against one row of it,
// through Permit. docs/permissions.md shows it (MarkdownTable; the test
// TestPermissionsDoc keeps the two in step).
//
// Columns: peer, specialist, supervisor, admin. Each role may do at least
// what the one before it may (TestPermissionsMonotone).
var permissions = [...]permission{
	{act: ActViewOwn, what: "see one's own profile and conversations; keep the session alive",
		need:   [4]Need{NeedAnyone, NeedAnyone, NeedAnyone, NeedAnyone},
		frames: []string{"ping", "reauth"}, routes: []string{"GET /api/me", "GET /api/conversations"}},
	{act: ActListRooms, what: "list the public rooms, and the private rooms one belongs to",
		need:   [4]Need{NeedAnyone, NeedAnyone, NeedAnyone, NeedAnyone},
		routes: []string{"GET /api/rooms"}},
	{act: ActCreateRoom, what: "create a room (its creator becomes its owner)",
		need:   [4]Need{NeedNever, NeedAnyone, NeedAnyone, NeedAnyone},
		routes: []string{"POST /api/rooms"}},
	{act: ActJoinRoom, what: "join a public room (a private room only by being added, `add_member`, or with an invite, `accept_invite`)",
		need:   [4]Need{NeedAnyone, NeedAnyone, NeedAnyone, NeedAnyone},
		frames: []string{"join"}, routes: []string{"POST /api/rooms/{id}/join"}},
	{act: ActLeaveRoom, what: "leave a room",
		need:   [4]Need{NeedMember, NeedMember, NeedMember, NeedMember},
		frames: []string{"leave"}, routes: []string{"POST /api/rooms/{id}/leave"}},
	{act: ActReadHistory, what: "read a conversation's messages, including the catch-up a `hello` with `resume` replays",
		need:   [4]Need{NeedMember, NeedMember, NeedMember, NeedMember},
		routes: []string{"GET /api/conversations/{id}/messages", "GET /api/rooms/{id}/pins"}},
	{act: ActListMembers, what: "list a conversation's members",
		need:   [4]Need{NeedMember, NeedMember, NeedMember, NeedMember},
		frames: []string{"members"}, routes: []string{"GET /api/conversations/{id}/members"}},
	{act: ActTyping, what: "show that one is typing",
		need:   [4]Need{NeedMember, NeedMember, NeedMember, NeedMember},
		frames: []string{"typing"}},
	{act: ActSend, what: "send a message",
		need:   [4]Need{NeedMember, NeedMember, NeedMember, NeedMember},
		frames: []string{"send"}},
	{act: ActEdit, what: "edit a message (one's own: checked beside the table)",
		need:   [4]Need{NeedMember, NeedMember, NeedMember, NeedMember},
		frames: []string{"edit"}},
	{act: ActDelete, what: "delete a message (one's own: checked beside the table)",
		need:   [4]Need{NeedMember, NeedMember, NeedMember, NeedMember},
		frames: []string{"delete"}},
	{act: ActFlag, what: "flag a message for the crisis team",
		need:   [4]Need{NeedMember, NeedMember, NeedMember, NeedMember},
		frames: []string{"flag"}},
	{act: ActOpenDM, what: "open a direct conversation with someone",
		need:   [4]Need{NeedAnyone, NeedAnyone, NeedAnyone, NeedAnyone},
		frames: []string{"open_dm"}, routes: []string{"POST /api/dms"}},
	{act: ActBlock, what: "block someone (no DMs either way, no presence of the blocker to them), unblock them, list one's blocks",
		need:   [4]Need{NeedAnyone, NeedAnyone, NeedAnyone, NeedAnyone},
		routes: []string{"PUT /api/blocks/{user}", "DELETE /api/blocks/{user}", "GET /api/blocks"}},
	{act: ActSupport, what: "read the crisis resources (\"Get help now\"); dismiss one's own support notes (only their owner: checked beside the table)",
		need:   [4]Need{NeedAnyone, NeedAnyone, NeedAnyone, NeedAnyone},
		frames: []string{"dismiss_support"}, routes: []string{"GET /api/support"}},
	{act: ActRaiseConcern, what: "raise a concern about a person (naming a conversation also needs `read_history` there)",
		need:   [4]Need{NeedNever, NeedAnyone, NeedAnyone, NeedAnyone},
		frames: []string{"concern"}},
	{act: ActReport, what: "report a message or a person of a room to its moderators (a report in the danger category also opens an escalation)",
		need:   [4]Need{NeedMember, NeedMember, NeedMember, NeedMember},
		frames: []string{"report"}, routes: []string{"POST /api/rooms/{id}/reports"}},
	{act: ActViewRoomPolicy, what: "read a room's crisis hold policy",
		need:   [4]Need{NeedMember, NeedMember, NeedAnyone, NeedAnyone},
		routes: []string{"GET /api/rooms/{id}/policy"}},
	{act: ActSetRoomPolicy, what: "change a room's crisis hold policy",
		need:   [4]Need{NeedNever, NeedModerator, NeedAnyone, NeedAnyone},
		routes: []string{"PUT /api/rooms/{id}/policy"}},
	{act: ActSetRoomSettings, what: "change a room's settings: visibility, history, guidelines, locked, read-only, slow mode, member limit, pre-moderation",
		need:   [4]Need{NeedNever, NeedModerator, NeedAnyone, NeedAnyone},
		routes: []string{"PATCH /api/rooms/{id}"}},
	{act: ActSetRetention, what: "set how long a room keeps its messages (which also needs `set_room_settings`)",
		need:   [4]Need{NeedNever, NeedOwner, NeedOwner, NeedAnyone},
		beside: "`retain_days` in `PATCH /api/rooms/{id}`"},
	{act: ActAddMember, what: "add someone to a room (the only way into a private room)",
		need:   [4]Need{NeedModerator, NeedModerator, NeedAnyone, NeedAnyone},
		routes: []string{"POST /api/rooms/{id}/members"}},
	{act: ActSetMemberRole, what: "name a room's moderators, or make one a member again (never the owner)",
		need:   [4]Need{NeedNever, NeedOwner, NeedAnyone, NeedAnyone},
		routes: []string{"PUT /api/rooms/{id}/members/{user}/role"}},
	{act: ActModerate, what: "mute, unmute, remove, ban and unban a room's members (the rules beside the table limit whom) and list its bans; list, approve and reject the messages pre-moderation holds; hide any message; pin and unpin messages",
		need: [4]Need{NeedModerator, NeedModerator, NeedAnyone, NeedAnyone},
		routes: []string{
			"POST /api/rooms/{id}/members/{user}/mute", "DELETE /api/rooms/{id}/members/{user}/mute",
			"DELETE /api/rooms/{id}/members/{user}",
			"GET /api/rooms/{id}/bans", "POST /api/rooms/{id}/bans", "DELETE /api/rooms/{id}/bans/{user}",
			"GET /api/rooms/{id}/pending", "POST /api/rooms/{id}/pending/{pid}/approve", "POST /api/rooms/{id}/pending/{pid}/reject",
			"POST /api/rooms/{id}/messages/{seq}/hide",
			"PUT /api/rooms/{id}/pins/{seq}", "DELETE /api/rooms/{id}/pins/{seq}",
		}},
	{act: ActManageInvites, what: "create, list and revoke a room's invite links",
		need: [4]Need{NeedModerator, NeedModerator, NeedAnyone, NeedAnyone},
		routes: []string{
			"POST /api/rooms/{id}/invites", "GET /api/rooms/{id}/invites", "DELETE /api/rooms/{id}/invites/{invite}",
		}},
	{act: ActAcceptInvite, what: "join a room, private ones included, through an invite link (a ban still keeps one out)",
		need:   [4]Need{NeedAnyone, NeedAnyone, NeedAnyone, NeedAnyone},
		routes: []string{"POST /api/invites/{code}/accept"}},
	{act: ActAcceptGuidelines, what: "accept a room's guidelines (a member who has not accepted the current ones may not post)",
		need:   [4]Need{NeedMember, NeedMember, NeedMember, NeedMember},
		routes: []string{"POST /api/rooms/{id}/guidelines/accept"}},
	{act: ActHandleReports, what: "list a room's reports and resolve them (never one about oneself); the room's owner and moderators are told of each one live",
		need:   [4]Need{NeedModerator, NeedModerator, NeedAnyone, NeedAnyone},
		pushes: []string{"report_news"},
		routes: []string{
			"GET /api/rooms/{id}/reports", "POST /api/reports/{id}/resolve",
		}},
	{act: ActViewReports, what: "list the reports of every room",
		need:   [4]Need{NeedNever, NeedNever, NeedAnyone, NeedAnyone},
		routes: []string{"GET /api/reports"}},
	{act: ActViewEscalations, what: "list escalations and read one",
		need:   [4]Need{NeedNever, NeedNever, NeedAnyone, NeedAnyone},
		routes: []string{"GET /api/escalations", "GET /api/escalations/{id}"}},
	{act: ActHandleEscalation, what: "acknowledge, annotate, hand off or resolve an escalation, join its room, release its held message, DM its subject",
		need: [4]Need{NeedNever, NeedNever, NeedAnyone, NeedAnyone},
		routes: []string{
			"POST /api/escalations/{id}/ack", "POST /api/escalations/{id}/notes",
			"POST /api/escalations/{id}/handoff", "POST /api/escalations/{id}/resolve",
			"POST /api/escalations/{id}/join", "POST /api/escalations/{id}/release",
			"POST /api/escalations/{id}/dm",
		}},
	{act: ActReceivePages, what: "be paged, and receive news of the escalation queue",
		need:   [4]Need{NeedNever, NeedNever, NeedAnyone, NeedAnyone},
		pushes: []string{"escalation"}},
	{act: ActPushSubscribe, what: "subscribe a browser to Web Push notices that an escalation pages one (never what it says), read the key to do so, and remove a subscription",
		need:   [4]Need{NeedNever, NeedNever, NeedAnyone, NeedAnyone},
		routes: []string{"GET /api/push/key", "POST /api/push/subscriptions", "DELETE /api/push/subscriptions"}},
	{act: ActViewOncall, what: "read the on-call rota",
		need:   [4]Need{NeedNever, NeedNever, NeedAnyone, NeedAnyone},
		routes: []string{"GET /api/oncall/shifts"}},
	{act: ActManageOncall, what: "add and remove on-call shifts",
		need:   [4]Need{NeedNever, NeedNever, NeedNever, NeedAnyone},
		routes: []string{"POST /api/oncall/shifts", "DELETE /api/oncall/shifts/{id}"}},
	{act: ActViewSupervisors, what: "list the supervisors and admins, whether each is on call and online now (for hand-offs and the rota)",
		need:   [4]Need{NeedNever, NeedAnyone, NeedAnyone, NeedAnyone},
		routes: []string{"GET /api/supervisors"}},
	{act: ActViewAudit, what: "read the audit log (every moderation action, setting change, report, escalation step and supervisor read)",
		need:   [4]Need{NeedNever, NeedNever, NeedAnyone, NeedAnyone},
		routes: []string{"GET /api/audit"}},
	{act: ActRevokeSessions, what: "revoke every session of a user: tokens issued until now are refused, and open sessions on every node close with 4011",
		need:   [4]Need{NeedNever, NeedNever, NeedNever, NeedAnyone},
		routes: []string{"POST /api/users/{id}/revoke"}},
	{act: ActEditProfile, what: "change one's own display name (accounts that sign in to Kindred; a token minted elsewhere brings its own name)",
		need:   [4]Need{NeedAnyone, NeedAnyone, NeedAnyone, NeedAnyone},
		routes: []string{"PATCH /api/me"}},
	{act: ActManagePeople, what: "the people directory: list and search people, see when they last signed in, change a role, deactivate (ending every session on every node) and reactivate",
		need:   [4]Need{NeedNever, NeedNever, NeedNever, NeedAnyone},
		routes: []string{"GET /api/people", "GET /api/people/{id}", "PATCH /api/people/{id}"}},
	{act: ActManageSignIn, what: "see how people sign in and choose who may sign up with an email link (anyone, or invited people only)",
		need:   [4]Need{NeedNever, NeedNever, NeedNever, NeedAnyone},
		routes: []string{"GET /api/settings/signin", "PUT /api/settings/signin"}},
	{act: ActExportUser, what: "export everything kept about one user (profile, memberships, messages, reports, blocks, push subscriptions, support notes, audit entries, escalations)",
		need:   [4]Need{NeedNever, NeedNever, NeedNever, NeedAnyone},
		routes: []string{"GET /api/users/{id}/export"}},
	{act: ActEraseUser, what: "erase a user: their messages become tombstones and their personal data goes, except what a legal hold or an open escalation keeps; their sessions are revoked",
		need:   [4]Need{NeedNever, NeedNever, NeedNever, NeedAnyone},
		routes: []string{"POST /api/users/{id}/erase"}},
	{act: ActLegalHold, what: "set, lift and list legal holds on a user or a room (the purge and erasures keep what they cover)",
		need: [4]Need{NeedNever, NeedNever, NeedNever, NeedAnyone},
		routes: []string{"PUT /api/holds/users/{id}", "DELETE /api/holds/users/{id}",
			"PUT /api/holds/rooms/{id}", "DELETE /api/holds/rooms/{id}", "GET /api/holds"}},
	// Video: staff who belong to the conversation, and a room's owner,
	// start sessions; in a DM (two members, no owner) only a staff
	// member can. Hosting adds the room's moderators, so a peer who
	// moderates a group can run its waiting room.
	{act: ActStartVideo, what: "start a video session in a conversation, as its host (a room's owner; staff who are members, in a DM too)",
		need:   [4]Need{NeedOwner, NeedMember, NeedMember, NeedMember},
		frames: []string{"video_start"}},
	{act: ActJoinVideo, what: "ask to join a conversation's video session and, once admitted, take part: send media, mute oneself, turn one's camera off, leave",
		need:   [4]Need{NeedMember, NeedMember, NeedMember, NeedMember},
		frames: []string{"video_join", "video_leave", "video_offer", "video_answer", "video_candidate", "video_control"}},
	{act: ActHostVideo, what: "host a conversation's video sessions: admit one or all from the waiting room, deny, mute a microphone, stop a camera, remove someone, end the session",
		need:   [4]Need{NeedModerator, NeedMember, NeedMember, NeedMember},
		frames: []string{"video_admit", "video_deny", "video_end"}},
}

// byAction indexes permissions.
var byAction = func() map[Action]*permission {
	m := make(map[Action]*permission, len(permissions))
	for i := range permissions {
		p := &permissions[i]
		if _, dup := m[p.act]; dup {
			panic("auth: action " + string(p.act) + " appears twice in the permission table")
		}
		m[p.act] = p
	}
	return m
}()

// Needs returns what role r needs in a conversation to perform a: NeedNever
// for an invalid role or an action the table does not list.
func (r Role) Needs(a Action) Need {
	p, ok := byAction[a]
	if !ok || !r.Valid() {
		return NeedNever
	}
	return p.need[r.rank()-1]
}

// Can reports whether role r may perform a in at least some conversation
// (given the right room role there). Invalid roles and unknown actions are
// always refused.
func (r Role) Can(a Action) bool { return r.Needs(a) != NeedNever }

// Permit is the permission check: it returns nil if id, whose role in the
// conversation concerned is room (chat.RoomNone when they are not a member,
// or when no conversation is involved), may perform a.
//
// When the only thing missing is membership (a needs a room role and room is
// chat.RoomNone) it returns chat.ErrNotMember; otherwise a refusal is a
// *chat.Error with code chat.CodeForbidden saying which role (global, or in
// the conversation) may not do what. Unknown actions, invalid global roles
// and unknown room roles are refused (an unknown room role still passes an
// action that needs no membership).
//
// Permit decides from the table alone; the checks that depend on data (that
// one edits or deletes only one's own messages, that an escalation's subject
// never sees or handles it) are the caller's, beside it.
func Permit(id Identity, room chat.RoomRole, a Action) error {
	if !id.Role.Valid() {
		// Do not echo an unrecognised role back: it is not a name the user
		// could act on, and an empty one would read as "your role ()".
		return chat.Errorf(chat.CodeForbidden, "your account has no recognised role and may not %s", a)
	}
	need := id.Role.Needs(a)
	if need == NeedNever {
		return chat.Errorf(chat.CodeForbidden, "your role (%s) may not %s", id.Role, a)
	}
	rank := roomRank(room)
	if rank >= need.minRoomRank() {
		return nil
	}
	switch {
	case rank == 0:
		return chat.ErrNotMember
	case rank < 0:
		return chat.Errorf(chat.CodeForbidden, "your membership of this conversation has no recognised role and may not %s", a)
	}
	return chat.Errorf(chat.CodeForbidden, "your role in this conversation (%s) may not %s", room, a)
}

// Authorize is Permit for actions that involve no conversation:
// Permit(id, chat.RoomNone, a). For an action that needs a room role at id's
// global role it returns chat.ErrNotMember, so a caller checking a
// conversation's action must use Permit with the caller's room role.
func Authorize(id Identity, a Action) error { return Permit(id, chat.RoomNone, a) }

// Actions returns every action in the table, in table order.
func Actions() []Action {
	out := make([]Action, len(permissions))
	for i, p := range permissions {
		out[i] = p.act
	}
	return out
}

// Routes returns the HTTP routes (ServeMux patterns such as
// "GET /api/rooms/{id}/policy") the table lists, each with the action it is
// checked against, so that the server can check it guards each of them.
func Routes() map[string]Action {
	m := make(map[string]Action)
	for _, p := range permissions {
		for _, r := range p.routes {
			m[r] = p.act
		}
	}
	return m
}

// Frames returns the client WebSocket frame types (after hello) the table
// lists, each with the action it is checked against.
func Frames() map[string]Action {
	m := make(map[string]Action)
	for _, p := range permissions {
		for _, f := range p.frames {
			m[f] = p.act
		}
	}
	return m
}

// roles are the table's columns, in order.
var roles = [4]Role{RolePeer, RoleSpecialist, RoleSupervisor, RoleAdmin}

// MarkdownTable renders the permission table as the Markdown that
// docs/permissions.md holds between its permissions markers: one row per
// action, one column per global role whose cell is the room role needed
// ("—" for never), and the frames and routes checked against the action.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| Action | What | ")
	for _, r := range roles {
		fmt.Fprintf(&b, "%s | ", r)
	}
	b.WriteString("Frames and routes |\n| --- | --- | ")
	for range roles {
		b.WriteString("--- | ")
	}
	b.WriteString("--- |\n")
	for _, p := range permissions {
		fmt.Fprintf(&b, "| `%s` | %s | ", p.act, p.what)
		for _, n := range p.need {
			cell := n.String()
			if n == NeedNever {
				cell = "—"
			}
			fmt.Fprintf(&b, "%s | ", cell)
		}
		var uses []string
		for _, f := range p.frames {
			uses = append(uses, "`"+f+"` frame")
		}
		for _, f := range p.pushes {
			uses = append(uses, "`"+f+"` frames pushed")
		}
		for _, r := range p.routes {
			uses = append(uses, "`"+r+"`")
		}
		if p.beside != "" {
			uses = append(uses, p.beside)
		}
		if len(uses) == 0 {
			uses = append(uses, "none yet")
		}
		fmt.Fprintf(&b, "%s |\n", strings.Join(uses, ", "))
	}
	return b.String()
}
