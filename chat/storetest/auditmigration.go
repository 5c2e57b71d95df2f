package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// RunAuditMigration checks migration 0021 of each store (the audit chain)
// on a database at schema version 18, which legacy returns: the entries
// written before are chained first, in the order they were written, the
// next append follows them, and the chain verifies.
func RunAuditMigration(t *testing.T, legacy func(t *testing.T) Legacy) {
	db := legacy(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := db.Exec(ctx, `INSERT INTO audit_log (at, actor, action, room, target, reason, detail) VALUES
		(100, 'am_ann', 'member.ban', 'am_room', 'am_bob', 'spam', 'minutes=0'),
		(50, 'am_bob', 'room.create', 'am_room2', '', '', '')`); err != nil {
		t.Fatal(err)
	}
	s := db.Open(t)
	if err := s.AppendAudit(ctx, chat.AuditEntry{Actor: "am_ann", Action: "member.unban", Room: "am_room", Target: "am_bob"}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Audit(ctx, chat.AuditFilter{})
	if err != nil || len(got) != 3 {
		t.Fatalf("audit: %v %+v", err, got)
	}
	for i, want := range []string{"member.unban", "room.create", "member.ban"} {
		if got[i].Action != want || got[i].Position != int64(3-i) || got[i].Hash == "" {
			t.Fatalf("entry %d = %+v, want %s at position %d", i, got[i], want, 3-i)
		}
	}
	rep, err := s.VerifyAudit(ctx, chat.AuditHead{})
	if err != nil || len(rep.Problems) > 0 || rep.Count != 3 || rep.Head.Hash != got[0].Hash {
		t.Fatalf("verify: %v %+v", err, rep)
	}
}
