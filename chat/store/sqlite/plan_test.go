package sqlite

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kindred-health/kindred/chat"
)

// TestAppendStatementsBuildNoTemporaryTable checks the plans of the
// statements Append runs per event: none opens a temporary b-tree. One
// did until migration 0025 (the CHECK on events.kind as an IN list), and
// opening, filling and freeing it for every inserted event cost the
// committer a page cache's worth of work per message.
func TestAppendStatementsBuildNoTemporaryTable(t *testing.T) {
	s := openTest(t, filepath.Join(t.TempDir(), "plan.db"))
	for name, q := range map[string]string{
		"memberSeq": sqlMemberSeq, "insertEvent": sqlInsertEvent, "findClientID": sqlFindClientID,
		"findTarget": sqlFindTarget, "applyEdit": sqlApplyEdit, "applyDelete": sqlApplyDelete,
		"blankEdits": sqlBlankEdits, "setLastSeq": sqlSetLastSeq, "convSeq": sqlConvSeq,
		"findHidden": sqlFindHidden, "applyHide": sqlApplyHide, "unpin": sqlUnpin,
	} {
		ops := opcodes(t, s, q)
		if len(ops) == 0 {
			t.Fatalf("%s: EXPLAIN returned no program", name)
		}
		for _, op := range ops {
			if op == "OpenEphemeral" || op == "OpenAutoindex" {
				t.Errorf("%s opens a temporary b-tree (%s) each time it runs: %s", name, op, q)
			}
		}
	}
}

// opcodes is the program SQLite compiles q to, with every parameter NULL,
// trigger programs included.
func opcodes(t *testing.T, s *Store, q string) []string {
	t.Helper()
	args := make([]any, strings.Count(q, "?"))
	rows, err := s.w.QueryContext(t.Context(), "EXPLAIN "+q, args...)
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", q, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	col := opcodeCol(t, cols)
	var ops []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		op, ok := vals[col].(string)
		if !ok {
			t.Fatalf("EXPLAIN %s: opcode %v is not text", q, vals[col])
		}
		ops = append(ops, op)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ops
}

// opcodeCol is the index of EXPLAIN's opcode column.
func opcodeCol(t *testing.T, cols []string) int {
	t.Helper()
	i := slices.Index(cols, "opcode")
	if i < 0 {
		t.Fatalf("EXPLAIN's columns %q have no opcode", cols)
	}
	return i
}

// TestKindCheckMigration checks migration 0025 (the kind CHECK rebuilt as
// comparisons) on a database at version 24: every row of events is the
// same after it, so are its columns, indexes and trigger (0024's records
// who wrote where, and still fires), and the kinds allowed are the same
// four.
func TestKindCheckMigration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v24.db")
	old, err := open(t.Context(), path, options{upto: 24})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { old.Close() })
	ctx := t.Context()
	for _, q := range []string{
		`INSERT INTO users (id, name, role, updated_at) VALUES ('km_a', 'A', 'peer', 1), ('km_b', 'B', 'moderator', 1)`,
		`INSERT INTO conversations (id, kind, name, topic, created_by, created_at, last_seq) VALUES
			('km_r', 'room', 'R', '', 'km_b', 1, 5), ('km_s', 'room', 'S', '', 'km_b', 1, 0)`,
		`INSERT INTO members (conv_id, user_id, joined_at, role) VALUES
			('km_r', 'km_a', 1, 'member'), ('km_r', 'km_b', 1, 'owner'), ('km_s', 'km_a', 1, 'member')`,
		`INSERT INTO events (conv_id, seq, kind, sender_id, client_id, body, key_id, target_seq, created_at, edited_at, deleted, hidden) VALUES
			('km_r', 1, 'message', 'km_a', 'c1', 'sealed-1', 'k1', NULL, 10, 12, 0, 0),
			('km_r', 2, 'edit', 'km_a', NULL, 'sealed-2', 'k1', 1, 12, NULL, 0, 0),
			('km_r', 3, 'message', 'km_a', 'c2', '', '', NULL, 13, NULL, 1, 0),
			('km_r', 4, 'delete', 'km_a', NULL, '', '', 3, 14, NULL, 0, 0),
			('km_r', 5, 'hide', '', NULL, '', '', 1, 15, NULL, 0, 0)`,
		`UPDATE events SET hidden = 5, deleted = 1, body = '' WHERE conv_id = 'km_r' AND seq = 1`,
	} {
		if _, err := old.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	before, schema := dumpEvents(t, old), eventsSchema(t, old)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, path)
	if want := migrationsAfter(t, 24); s.migrated != want {
		t.Fatalf("Open applied %d migrations to a version 24 database, want %d", s.migrated, want)
	}
	if after := dumpEvents(t, s); after != before {
		t.Errorf("events after migration 0025:\n%s\nbefore:\n%s", after, before)
	}
	if after := eventsSchema(t, s); after != schema {
		t.Errorf("events' columns, indexes and triggers after migration 0025:\n%s\nbefore:\n%s", after, schema)
	}
	for seq, kind := range map[int]string{10: "note", 11: "Message", 12: ""} {
		_, err := s.w.ExecContext(ctx, `INSERT INTO events (conv_id, seq, kind, sender_id, body, target_seq, created_at)
			VALUES ('km_r', ?, ?, 'km_a', 'x', 1, 20)`, seq, kind)
		if err == nil || !strings.Contains(err.Error(), "CHECK") {
			t.Errorf("an event of kind %q: err = %v, want a CHECK failure", kind, err)
		}
	}
	for seq, kind := range map[int]string{20: "edit", 21: "delete", 22: "hide"} {
		if _, err := s.w.ExecContext(ctx, `INSERT INTO events (conv_id, seq, kind, sender_id, body, target_seq, created_at)
			VALUES ('km_r', ?, ?, 'km_a', '', 1, 20)`, seq, kind); err != nil {
			t.Errorf("an event of kind %q: %v", kind, err)
		}
	}
	items := []chat.AppendItem{{Event: chat.Event{Conv: "km_s", Kind: chat.EventMessage, Sender: "km_a", ClientID: "c9", Body: "after"}}}
	if err := s.Append(ctx, items); err != nil || items[0].Err != nil || items[0].Event.Seq != 1 {
		t.Fatalf("Append after migrating: %v, %+v", err, items[0])
	}
	var pairs int
	if err := s.r.QueryRowContext(ctx, `SELECT count(*) FROM event_senders WHERE user_id = 'km_a' AND conv_id = 'km_s'`).Scan(&pairs); err != nil || pairs != 1 {
		t.Errorf("event_senders pair for a first message after migrating: %d (%v), want 1", pairs, err)
	}
}

// eventsSchema is events' columns (pragma table_xinfo) and the SQL of its
// indexes and triggers, in name order.
func eventsSchema(t *testing.T, s *Store) string {
	return strings.Join(rawStrings(t, s.w, `SELECT name || ' ' || type || ' ' || "notnull" || ' ' || ifnull(dflt_value, '-') || ' ' || pk
		FROM pragma_table_xinfo('events') UNION ALL
		SELECT type || ' ' || name || ' ' || ifnull(sql, '-') FROM sqlite_schema
		WHERE tbl_name = 'events' AND type <> 'table' ORDER BY 1`), "\n")
}

// dumpEvents is every column of every row of events, in key order.
func dumpEvents(t *testing.T, s *Store) string {
	return strings.Join(rawStrings(t, s.w, `SELECT concat_ws('|', conv_id, seq, kind, sender_id, ifnull(client_id, '-'), body, key_id,
		ifnull(target_seq, '-'), created_at, ifnull(edited_at, '-'), deleted, hidden) FROM events ORDER BY conv_id, seq`), "\n")
}
