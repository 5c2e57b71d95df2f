package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// testVideoRefused: claims the store cannot record are refused with a
// code and record nothing; lookups of what no column holds find nothing.
func testVideoRefused(f *fixture) {
	alice := f.user("alice")
	r, other := f.room("Room", alice), f.room("Other", alice)
	ok := f.videoSession("va", r.ID, "node-a")
	for _, c := range []struct {
		what string
		edit func(v *chat.VideoSession)
		code chat.Code
	}{
		{"no id", func(v *chat.VideoSession) { v.ID = "" }, chat.CodeInvalidField},
		{"no node", func(v *chat.VideoSession) { v.Node = "" }, chat.CodeInvalidField},
		{"no conversation", func(v *chat.VideoSession) { v.Conv = "" }, chat.CodeInvalidField},
		{"an unknown conversation", func(v *chat.VideoSession) { v.Conv = f.id("nosuch") }, chat.CodeNotFound},
		{"a lease ending now", func(v *chat.VideoSession) { v.LeaseUntil = videoT0 }, chat.CodeInvalidField},
	} {
		v := ok
		c.edit(&v)
		_, err := f.s.ClaimVideoSession(f.ctx, v, videoT0)
		wantCode(f, "a claim with "+c.what, err, c.code)
	}
	if got := f.liveIDs([]string{r.ID}, videoT0); len(got) != 0 {
		f.Fatalf("refused claims recorded %v", got)
	}
	f.claim(ok, videoT0)
	reused := f.videoSession("va", other.ID, "node-b")
	_, err := f.s.ClaimVideoSession(f.ctx, reused, videoT0)
	wantCode(f, "a claim reusing another conversation's session id", err, chat.CodeInvalidField)
	if got := f.liveIDs([]string{other.ID}, videoT0); len(got) != 0 {
		f.Errorf("a claim reusing an id recorded %v", got)
	}

	// Text: stored as given, or refused as a field (PostgreSQL holds no NUL).
	odd := f.videoSession("vodd", other.ID, "node-b")
	odd.HostName = "A\x00lice \xff"
	if _, err := f.s.ClaimVideoSession(f.ctx, odd, videoT0); err != nil {
		wantCode(f, "a claim with a NUL in the host's name", err, chat.CodeInvalidField)
	} else if got, _ := f.liveByID(odd.ID, videoT0); got.HostName != odd.HostName {
		f.Errorf("host name stored as %q, want %q", got.HostName, odd.HostName)
	}
	if _, found := f.liveByID("x\x00\xff", videoT0); found {
		f.Error("VideoSessionByID found a session with a NUL in its id")
	}
	f.liveIDs([]string{"x\x00", r.ID}, videoT0)
	f.renew("x\x00", "node-a", videoT0.Add(time.Hour))
	f.endVideo(ok.ID, "node\x00")
	if _, found := f.liveByID(ok.ID, videoT0); !found {
		f.Error("an end by a node named with a NUL removed the session")
	}
}

func testVideoClaimConcurrent(f *fixture) { videoClaimRace(f, f.s) }

// RunVideoClaimRace checks that of claims racing for one conversation's
// video session exactly one wins, both for a conversation without a
// record and to take over a lapsed one, with the claimants spread over
// stores (nodes of one database: each its own pool).
func RunVideoClaimRace(t *testing.T, stores ...chat.Store) {
	videoClaimRace(newFixture(t, stores[0]), stores...)
}

func videoClaimRace(f *fixture, stores ...chat.Store) {
	const claimants = 12
	alice := f.user("alice")
	for round := range 3 {
		r := f.room(fmt.Sprint("Room ", round), alice)
		winner := raceClaims(f, stores, r.ID, fmt.Sprint(round, "-fresh-"), videoT0, claimants)
		lapse := winner.LeaseUntil
		again := raceClaims(f, stores, r.ID, fmt.Sprint(round, "-takeover-"), lapse, claimants)
		if f.renew(winner.ID, winner.Node, lapse.Add(time.Hour)) {
			f.Errorf("round %d: the first winner renewed after %s took over", round, again.Node)
		}
	}
}

// raceClaims has n claimants claim conv at now at once, over stores in
// turn, checks that exactly one won and that the others were shown the
// winner's session, and returns it.
func raceClaims(f *fixture, stores []chat.Store, conv, tag string, now time.Time, n int) chat.VideoSession {
	f.Helper()
	type result struct {
		mine, got chat.VideoSession
		err       error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		v := chat.VideoSession{ID: f.id("v" + tag + fmt.Sprint(i)), Conv: conv, Node: fmt.Sprint("node-", tag, i),
			Host: f.id("alice"), Started: now, LeaseUntil: now.Add(videoLease)}
		wg.Go(func() {
			<-start
			got, err := stores[i%len(stores)].ClaimVideoSession(f.ctx, v, now)
			results[i] = result{v, got, err}
		})
	}
	close(start)
	wg.Wait()
	var won []chat.VideoSession
	for _, r := range results {
		switch {
		case r.err == nil:
			won = append(won, r.got)
		case chat.ErrorCode(r.err) != chat.CodeConflict:
			f.Fatalf("%s: a racing claim failed: %v", tag, r.err)
		}
	}
	if len(won) != 1 {
		f.Fatalf("%s: %d racing claims won, want exactly 1", tag, len(won))
	}
	for _, r := range results {
		if r.err != nil {
			sameVideo(f, tag+": the session a losing claim returns", r.got, won[0])
		}
	}
	if got, ok := f.liveByID(won[0].ID, now); !ok || got.Node != won[0].Node {
		f.Errorf("%s: the winner's session = %+v, live %v", tag, got, ok)
	}
	return won[0]
}

// RunVideoMigration checks migration 0015 of each store (video session
// records) on a database at schema version 14, which legacy returns: the
// table is new, the conversations stored before are kept, and their
// sessions can be claimed and listed.
func RunVideoMigration(t *testing.T, legacy func(t *testing.T) Legacy) {
	db := legacy(t)
	ctx := t.Context()
	if err := db.Exec(ctx, `INSERT INTO video_sessions (id, conv_id, node, started_at, lease_until)
		VALUES ('x', 'y', 'z', 1, 2)`); err == nil {
		t.Fatal("a version 14 database already has video_sessions")
	}
	db.seed(ctx, t, 14, []string{
		`INSERT INTO users (id, name, role, updated_at) VALUES ('vm_alice', 'Alice', 'peer', 1)`,
		`INSERT INTO conversations (id, kind, name, topic, created_by, created_at) VALUES
			('vm_room', 'room', 'Room', '', 'vm_alice', 1)`,
		`INSERT INTO members (conv_id, user_id, joined_at, role) VALUES ('vm_room', 'vm_alice', 1, 'owner')`,
	}...)
	f := newFixture(t, db.Open(t))
	if c := f.conversation("vm_room"); c.Name != "Room" || c.Members != 1 {
		f.Errorf("the room after migrating = %+v", c)
	}
	v := chat.VideoSession{ID: "vm_session", Conv: "vm_room", Node: "node-a", Host: "vm_alice", HostName: "Alice",
		Started: videoT0, LeaseUntil: videoT0.Add(videoLease)}
	f.claim(v, videoT0)
	if got := f.liveIDs([]string{"vm_room"}, videoT0); len(got) != 1 || got[0] != v.ID {
		f.Errorf("live sessions after migrating = %v, want [%s]", got, v.ID)
	}
}
