package auth

import (
	"os"
	"strings"
	"testing"

	"github.com/kindred-health/kindred/chat"
)

// moderationActions are the actions docs/moderation.md's grid must hold a
// column for: every action a room's facilitators, its members or the
// supervisors reviewing it take about moderation.
var moderationActions = []Action{
	ActSend, ActAcceptGuidelines, ActAddMember, ActModerate, ActManageInvites,
	ActSetMemberRole, ActSetRoomSettings, ActSetRoomPolicy, ActAcceptInvite, ActViewAudit,
	ActReport, ActHandleReports, ActViewReports,
	ActStartVideo, ActJoinVideo, ActHostVideo,
}

const (
	moderationDoc   = "../docs/moderation.md"
	gridBeginMark   = "<!-- moderation-grid:begin -->"
	gridEndMark     = "<!-- moderation-grid:end -->"
	gridFixedColumn = 2 // global role, room role
)

// moderationGrid is the grid of docs/moderation.md as written: its action
// columns and one row per global role and room role.
type moderationGrid struct {
	actions []Action
	rows    []gridRow
}

type gridRow struct {
	role  Role
	room  chat.RoomRole
	cells []string
	line  int
}

// cells splits a Markdown table line into its trimmed cells.
func cells(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimSuffix(strings.TrimPrefix(line, "|"), "|")
	parts := strings.Split(line, "|")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func readModerationGrid(t *testing.T) moderationGrid {
	t.Helper()
	raw, err := os.ReadFile(moderationDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, gridBeginMark), strings.Index(doc, gridEndMark)
	if i < 0 || j < i || strings.Count(doc, gridBeginMark) != 1 {
		t.Fatalf("%s must hold %s then %s, once", moderationDoc, gridBeginMark, gridEndMark)
	}
	first := strings.Count(doc[:i], "\n") + 2
	lines := strings.Split(strings.TrimSpace(doc[i+len(gridBeginMark):j]), "\n")
	if len(lines) < 3 {
		t.Fatalf("%s: the grid has no rows", moderationDoc)
	}
	var g moderationGrid
	for _, h := range cells(lines[0])[gridFixedColumn:] {
		g.actions = append(g.actions, Action(strings.Trim(h, "`")))
	}
	for k, l := range lines[2:] {
		c := cells(l)
		if len(c) != gridFixedColumn+len(g.actions) {
			t.Fatalf("%s:%d: %d cells, want %d", moderationDoc, first+2+k, len(c), gridFixedColumn+len(g.actions))
		}
		room := chat.RoomRole(c[1])
		if c[1] == "not a member" {
			room = chat.RoomNone
		}
		g.rows = append(g.rows, gridRow{role: Role(c[0]), room: room, cells: c[gridFixedColumn:], line: first + 2 + k})
	}
	return g
}

// TestModerationDocGrid checks every cell of the grid in docs/moderation.md
// against Permit, and that the grid covers every global role, every room
// role (and none) and every moderation action, each once.
func TestModerationDocGrid(t *testing.T) {
	g := readModerationGrid(t)
	seenActs := map[Action]bool{}
	for _, a := range g.actions {
		if seenActs[a] {
			t.Errorf("the grid has two columns for %s", a)
		}
		seenActs[a] = true
	}
	for _, a := range moderationActions {
		if !seenActs[a] {
			t.Errorf("the grid has no column for %s", a)
		}
	}
	seenRows := map[string]bool{}
	for _, r := range g.rows {
		key := string(r.role) + "/" + string(r.room)
		if seenRows[key] {
			t.Errorf("%s:%d: a second row for %s", moderationDoc, r.line, key)
		}
		seenRows[key] = true
		for k, a := range g.actions {
			id := Identity{UserID: "u1", Name: "Ada", Role: r.role}
			got := gridOutcome(Permit(id, r.room, a))
			if got != r.cells[k] {
				t.Errorf("%s:%d: %s, room role %q, %s: the document says %q, Permit answers %q",
					moderationDoc, r.line, r.role, r.room, a, r.cells[k], got)
			}
		}
	}
	for _, role := range globalRoles {
		for _, room := range roomRoles {
			if !seenRows[string(role)+"/"+string(room)] {
				t.Errorf("the grid has no row for %s with room role %q", role, room)
			}
		}
	}
	if want := len(globalRoles) * len(roomRoles); len(g.rows) != want {
		t.Errorf("the grid has %d rows, want %d", len(g.rows), want)
	}
}

// gridOutcome words Permit's answer as the grid does.
func gridOutcome(err error) string {
	switch {
	case err == nil:
		return "yes"
	case err == chat.ErrNotMember:
		return "join first"
	default:
		return "no"
	}
}
