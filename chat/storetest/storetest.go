// Package storetest is the conformance suite for chat.Store. Every
// implementation runs it from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) chat.Store { return openTestStore(t) })
//	}
//
// The suite checks the contract written in chat.Store and chat.AppendItem,
// clause by clause, plus the behaviour under concurrent writers. Every
// subtest works with IDs of its own (users, explicit room IDs, client IDs),
// so open may hand all subtests one shared database, and the suite may run
// against a database that already holds data. What is specific to an
// implementation (durability across restarts, migrations, pool settings)
// belongs in that implementation's own tests.
package storetest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// Run runs the conformance suite. open is called once per subtest and must
// return a ready Store; it owns the Store's lifetime (register Close with
// t.Cleanup, or share one Store across calls and close it elsewhere).
func Run(t *testing.T, open func(t *testing.T) chat.Store) {
	tests := []struct {
		name string
		fn   func(f *fixture)
	}{
		{"Users", testUsers},
		{"CreateRoom", testCreateRoom},
		{"Rooms", testRooms},
		{"OpenDM", testOpenDM},
		{"OpenDMConcurrent", testOpenDMConcurrent},
		{"Join", testJoin},
		{"JoinRoomLimit", testJoinRoomLimit},
		{"Leave", testLeave},
		{"Members", testMembers},
		{"UserConversations", testUserConversations},
		{"AppendSeq", testAppendSeq},
		{"AppendTime", testAppendTime},
		{"AppendIdempotent", testAppendIdempotent},
		{"AppendNotMember", testAppendNotMember},
		{"EditDelete", testEditDelete},
		{"EditDeleteRefused", testEditDeleteRefused},
		{"EditInSameBatch", testEditInSameBatch},
		{"AppendAtomic", testAppendAtomic},
		{"AppendConcurrent", testAppendConcurrent},
		{"History", testHistory},
		{"EventsAfter", testEventsAfter},
		{"Ping", testPing},
		{"RoomPolicy", testRoomPolicy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(newFixture(t, open(t)))
		})
	}
}

// runID keeps IDs fresh even against a database left over from an earlier
// run of the suite.
var (
	runID   = strings.ToLower(rand.Text()[:6])
	counter atomic.Int64
)

// fixture is one subtest's view of the store: its own ID namespace and a
// context bounded by the test.
type fixture struct {
	*testing.T
	s      chat.Store
	ctx    context.Context
	prefix string
}

func newFixture(t *testing.T, s chat.Store) *fixture {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return &fixture{
		T:      t,
		s:      s,
		ctx:    ctx,
		prefix: fmt.Sprintf("st_%s_%d_", runID, counter.Add(1)),
	}
}

// id returns a name unique to this subtest.
func (f *fixture) id(name string) string { return f.prefix + name }

// user records a user called name and returns its ID.
func (f *fixture) user(name string) string {
	f.Helper()
	id := f.id(name)
	if err := f.s.UpsertUser(f.ctx, chat.User{ID: id, Name: displayName(name), Role: "peer"}); err != nil {
		f.Fatalf("UpsertUser(%s): %v", id, err)
	}
	return id
}

func displayName(name string) string { return "Name of " + name }

// room creates a room made by creator and joins the others to it.
func (f *fixture) room(name, creator string, others ...string) chat.Conversation {
	f.Helper()
	c, err := f.s.CreateRoom(f.ctx, chat.Conversation{Name: name, Topic: "topic of " + name, CreatedBy: creator})
	if err != nil {
		f.Fatalf("CreateRoom(%s): %v", name, err)
	}
	for _, u := range others {
		if err := f.s.Join(f.ctx, c.ID, u, 0); err != nil {
			f.Fatalf("Join(%s, %s): %v", c.ID, u, err)
		}
	}
	return c
}

func msg(conv, sender, clientID, body string) chat.AppendItem {
	return chat.AppendItem{Event: chat.Event{Conv: conv, Kind: chat.EventMessage, Sender: sender, ClientID: clientID, Body: body}}
}

func edit(conv, sender string, target int64, body string) chat.AppendItem {
	return chat.AppendItem{Event: chat.Event{Conv: conv, Kind: chat.EventEdit, Sender: sender, Target: target, Body: body}}
}

func del(conv, sender string, target int64) chat.AppendItem {
	return chat.AppendItem{Event: chat.Event{Conv: conv, Kind: chat.EventDelete, Sender: sender, Target: target}}
}

// append stores items, failing the test on a batch error. It returns items
// for chaining.
func (f *fixture) append(items ...chat.AppendItem) []chat.AppendItem {
	f.Helper()
	if err := f.s.Append(f.ctx, items); err != nil {
		f.Fatalf("Append: %v", err)
	}
	return items
}

// send stores one item that must commit, and returns it.
func (f *fixture) send(it chat.AppendItem) chat.Event {
	f.Helper()
	it = f.append(it)[0]
	if it.Err != nil {
		f.Fatalf("Append %s by %s: refused: %v", it.Event.Kind, it.Event.Sender, it.Err)
	}
	if it.Duplicate {
		f.Fatalf("Append %s by %s: unexpectedly a duplicate", it.Event.Kind, it.Event.Sender)
	}
	return it.Event
}

// refused stores one item that must be refused with want, and checks that
// nothing was written.
func (f *fixture) refused(it chat.AppendItem, want error) {
	f.Helper()
	before := f.lastSeq(it.Event.Conv)
	it = f.append(it)[0]
	if !errors.Is(it.Err, want) {
		f.Errorf("%s by %s (target %d): Err = %v, want %v", it.Event.Kind, it.Event.Sender, it.Event.Target, it.Err, want)
	}
	if it.Event.Seq != 0 {
		f.Errorf("refused item got Seq %d", it.Event.Seq)
	}
	if after := f.lastSeq(it.Event.Conv); after != before {
		f.Errorf("refused item changed LastSeq from %d to %d", before, after)
	}
}

func (f *fixture) conversation(id string) chat.Conversation {
	f.Helper()
	c, err := f.s.Conversation(f.ctx, id)
	if err != nil {
		f.Fatalf("Conversation(%s): %v", id, err)
	}
	return c
}

// lastSeq is the conversation's LastSeq, or 0 when it does not exist.
func (f *fixture) lastSeq(id string) int64 {
	f.Helper()
	c, err := f.s.Conversation(f.ctx, id)
	if errors.Is(err, chat.ErrNotFound) {
		return 0
	}
	if err != nil {
		f.Fatalf("Conversation(%s): %v", id, err)
	}
	return c.LastSeq
}

func (f *fixture) history(conv string, before, after int64, limit int) []chat.Event {
	f.Helper()
	evs, err := f.s.History(f.ctx, conv, before, after, limit)
	if err != nil {
		f.Fatalf("History(%s, %d, %d, %d): %v", conv, before, after, limit, err)
	}
	return evs
}

func (f *fixture) eventsAfter(conv string, after int64, limit int) []chat.Event {
	f.Helper()
	evs, err := f.s.EventsAfter(f.ctx, conv, after, limit)
	if err != nil {
		f.Fatalf("EventsAfter(%s, %d, %d): %v", conv, after, limit, err)
	}
	return evs
}

func (f *fixture) isMember(conv, user string) bool {
	f.Helper()
	ok, err := f.s.IsMember(f.ctx, conv, user)
	if err != nil {
		f.Fatalf("IsMember(%s, %s): %v", conv, user, err)
	}
	return ok
}

// seqs returns the sequence numbers of evs.
func seqs(evs []chat.Event) []int64 {
	out := make([]int64, len(evs))
	for i, e := range evs {
		out[i] = e.Seq
	}
	return out
}

// span returns from, from+1, …, to.
func span(from, to int64) []int64 {
	var out []int64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

// wantCode checks that err is an *chat.Error with code.
func wantCode(t testing.TB, what string, err error, code chat.Code) {
	t.Helper()
	var e *chat.Error
	if !errors.As(err, &e) {
		t.Errorf("%s: err = %v, want a *chat.Error with code %s", what, err, code)
		return
	}
	if e.Code != code {
		t.Errorf("%s: code = %s, want %s", what, e.Code, code)
	}
}

// near reports whether got is within a few seconds of now (clock
// granularity and slow CI machines).
func near(got time.Time) bool {
	d := time.Since(got)
	return d > -5*time.Second && d < time.Minute
}

func testPing(f *fixture) {
	if err := f.s.Ping(f.ctx); err != nil {
		f.Fatalf("Ping: %v", err)
	}
}

func testUsers(f *fixture) {
	id := f.id("alice")
	_, err := f.s.User(f.ctx, id)
	if !errors.Is(err, chat.ErrNotFound) {
		f.Fatalf("User(unknown) = %v, want ErrNotFound", err)
	}
	if chat.ErrorCode(err) != chat.CodeNotFound {
		f.Errorf("ErrorCode(User(unknown)) = %s", chat.ErrorCode(err))
	}

	want := chat.User{ID: id, Name: "Alice", Role: "peer"}
	if err := f.s.UpsertUser(f.ctx, want); err != nil {
		f.Fatalf("UpsertUser: %v", err)
	}
	got, err := f.s.User(f.ctx, id)
	if err != nil || got != want {
		f.Fatalf("User = %+v, %v; want %+v", got, err, want)
	}

	// Upserting again with the same values is fine; new values replace
	// the old ones.
	if err := f.s.UpsertUser(f.ctx, want); err != nil {
		f.Fatalf("UpsertUser again: %v", err)
	}
	want = chat.User{ID: id, Name: "Alice B.", Role: "moderator"}
	if err := f.s.UpsertUser(f.ctx, want); err != nil {
		f.Fatalf("UpsertUser (update): %v", err)
	}
	if got, err := f.s.User(f.ctx, id); err != nil || got != want {
		f.Fatalf("User after update = %+v, %v; want %+v", got, err, want)
	}

	// Roles unique to this run, since the database may be shared.
	on, off := f.id("oncall"), f.id("offcall")
	for _, u := range []chat.User{{ID: f.id("zed"), Name: "Zed", Role: on}, {ID: f.id("amy"), Name: "Amy", Role: on}, {ID: f.id("bo"), Name: "Bo", Role: off}} {
		if err := f.s.UpsertUser(f.ctx, u); err != nil {
			f.Fatalf("UpsertUser: %v", err)
		}
	}
	byRole, err := f.s.UsersByRole(f.ctx, on)
	if err != nil || len(byRole) != 2 || byRole[0].ID != f.id("amy") || byRole[1].ID != f.id("zed") || byRole[0].Role != on {
		f.Fatalf("UsersByRole(%s) = %+v, %v", on, byRole, err)
	}
	if both, err := f.s.UsersByRole(f.ctx, on, off); err != nil || len(both) != 3 {
		f.Fatalf("UsersByRole(two roles) = %+v, %v", both, err)
	}
	if none, err := f.s.UsersByRole(f.ctx, f.id("nobody")); err != nil || len(none) != 0 {
		f.Fatalf("UsersByRole(unused role) = %+v, %v", none, err)
	}
}

func testCreateRoom(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	start := time.Now()
	c, err := f.s.CreateRoom(f.ctx, chat.Conversation{Name: "Coping", Topic: "Daily check-in", CreatedBy: alice})
	if err != nil {
		f.Fatalf("CreateRoom: %v", err)
	}
	if c.ID == "" {
		f.Fatal("CreateRoom did not assign an ID")
	}
	if c.Kind != chat.KindRoom || c.Name != "Coping" || c.Topic != "Daily check-in" || c.CreatedBy != alice {
		f.Errorf("CreateRoom = %+v", c)
	}
	if !near(c.CreatedAt) || c.CreatedAt.Before(start.Add(-5*time.Second)) {
		f.Errorf("CreatedAt = %v, want about %v", c.CreatedAt, start)
	}
	if c.LastSeq != 0 {
		f.Errorf("new room LastSeq = %d", c.LastSeq)
	}

	got := f.conversation(c.ID)
	if got.ID != c.ID || got.Kind != chat.KindRoom || got.Name != c.Name || got.Topic != c.Topic ||
		got.CreatedBy != alice || !got.CreatedAt.Equal(c.CreatedAt) || got.LastSeq != 0 || got.Members != 1 {
		f.Errorf("Conversation = %+v, want %+v with 1 member", got, c)
	}
	if !f.isMember(c.ID, alice) {
		f.Error("the creator is not a member")
	}
	if f.isMember(c.ID, bob) {
		f.Error("bob is a member of a room he never joined")
	}

	c2 := f.room("Other", alice)
	if c2.ID == c.ID {
		f.Errorf("two rooms share ID %s", c.ID)
	}

	// A caller-chosen ID is kept, and a second room cannot take it.
	explicit := f.id("room")
	c3, err := f.s.CreateRoom(f.ctx, chat.Conversation{ID: explicit, Name: "Explicit", CreatedBy: bob})
	if err != nil || c3.ID != explicit {
		f.Fatalf("CreateRoom with ID = %+v, %v", c3, err)
	}
	if _, err := f.s.CreateRoom(f.ctx, chat.Conversation{ID: explicit, Name: "Clash", CreatedBy: alice}); err == nil {
		f.Error("CreateRoom with a taken ID succeeded")
	}
	if got := f.conversation(explicit); got.Name != "Explicit" || got.CreatedBy != bob {
		f.Errorf("after a clashing CreateRoom, Conversation = %+v", got)
	}

	_, err = f.s.Conversation(f.ctx, f.id("nope"))
	if !errors.Is(err, chat.ErrNotFound) {
		f.Errorf("Conversation(unknown) = %v, want ErrNotFound", err)
	}
}

func testRooms(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r1 := f.room("First", alice, bob)
	r2 := f.room("Second", bob)
	dm, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil {
		f.Fatalf("OpenDM: %v", err)
	}

	rooms, err := f.s.Rooms(f.ctx)
	if err != nil {
		f.Fatalf("Rooms: %v", err)
	}
	i1, i2 := -1, -1
	for i, c := range rooms {
		switch c.ID {
		case r1.ID:
			i1 = i
			if c.Members != 2 || c.Name != "First" || c.Kind != chat.KindRoom {
				f.Errorf("Rooms entry %+v, want First with 2 members", c)
			}
		case r2.ID:
			i2 = i
			if c.Members != 1 {
				f.Errorf("Rooms entry %+v, want 1 member", c)
			}
		case dm.ID:
			f.Error("Rooms lists a DM")
		}
		if c.Kind != chat.KindRoom {
			f.Errorf("Rooms lists %s of kind %s", c.ID, c.Kind)
		}
	}
	if i1 < 0 || i2 < 0 {
		f.Fatalf("Rooms misses a room (positions %d, %d)", i1, i2)
	}
	if i1 > i2 {
		f.Error("Rooms is not oldest first")
	}
}

func testOpenDM(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	ab, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil {
		f.Fatalf("OpenDM: %v", err)
	}
	if ab.ID == "" || ab.Kind != chat.KindDM {
		f.Fatalf("OpenDM = %+v", ab)
	}
	ba, err := f.s.OpenDM(f.ctx, bob, alice)
	if err != nil || ba.ID != ab.ID {
		f.Fatalf("OpenDM(b, a) = %+v, %v; want conversation %s", ba, err, ab.ID)
	}
	again, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil || again.ID != ab.ID {
		f.Fatalf("OpenDM(a, b) again = %+v, %v; want %s", again, err, ab.ID)
	}
	c := f.conversation(ab.ID)
	if c.Kind != chat.KindDM || c.Members != 2 || c.LastSeq != 0 {
		f.Errorf("Conversation(dm) = %+v, want a DM with 2 members", c)
	}
	if !f.isMember(ab.ID, alice) || !f.isMember(ab.ID, bob) || f.isMember(ab.ID, carol) {
		f.Error("DM membership is not exactly {alice, bob}")
	}
	ac, err := f.s.OpenDM(f.ctx, alice, carol)
	if err != nil || ac.ID == ab.ID {
		f.Fatalf("OpenDM(alice, carol) = %+v, %v; want a new conversation", ac, err)
	}

	// Users who never connected can still be messaged.
	ghost := f.id("ghost")
	ag, err := f.s.OpenDM(f.ctx, alice, ghost)
	if err != nil || !f.isMember(ag.ID, ghost) {
		f.Errorf("OpenDM with an unknown user = %+v, %v", ag, err)
	}

	// A DM is messaged like a room.
	if e := f.send(msg(ab.ID, bob, f.id("c1"), "hi")); e.Seq != 1 {
		f.Errorf("first DM message Seq = %d", e.Seq)
	}
}

func testOpenDMConcurrent(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	const n = 16
	ids := make([]string, n)
	errs := make([]error, n)
	done := make(chan struct{})
	start := make(chan struct{})
	for i := range n {
		go func() {
			defer func() { done <- struct{}{} }()
			<-start
			a, b := alice, bob
			if i%2 == 1 {
				a, b = b, a
			}
			c, err := f.s.OpenDM(f.ctx, a, b)
			ids[i], errs[i] = c.ID, err
		}()
	}
	close(start)
	for range n {
		<-done
	}
	for i := range n {
		if errs[i] != nil {
			f.Fatalf("OpenDM #%d: %v", i, errs[i])
		}
		if ids[i] != ids[0] {
			f.Fatalf("concurrent OpenDM returned %s and %s", ids[0], ids[i])
		}
	}
	if c := f.conversation(ids[0]); c.Members != 2 {
		f.Errorf("DM has %d members, want 2", c.Members)
	}
	convs, err := f.s.UserConversations(f.ctx, alice)
	if err != nil {
		f.Fatalf("UserConversations: %v", err)
	}
	if len(convs) != 1 {
		f.Errorf("alice has %d conversations after concurrent OpenDM, want 1", len(convs))
	}
}

func testJoin(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r := f.room("Room", alice)

	if err := f.s.Join(f.ctx, r.ID, bob, 0); err != nil {
		f.Fatalf("Join: %v", err)
	}
	if !f.isMember(r.ID, bob) {
		f.Fatal("bob is not a member after Join")
	}
	// Joining twice is not an error and adds no second membership.
	if err := f.s.Join(f.ctx, r.ID, bob, 0); err != nil {
		f.Fatalf("second Join: %v", err)
	}
	if c := f.conversation(r.ID); c.Members != 2 {
		f.Errorf("Members = %d after a double Join, want 2", c.Members)
	}

	err := f.s.Join(f.ctx, f.id("no-such-room"), bob, 0)
	if !errors.Is(err, chat.ErrNotFound) {
		f.Errorf("Join(unknown room) = %v, want ErrNotFound", err)
	}

	// DMs are not joinable, not even by their own members.
	carol := f.user("carol")
	dm, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil {
		f.Fatalf("OpenDM: %v", err)
	}
	if err := f.s.Join(f.ctx, dm.ID, carol, 0); !errors.Is(err, chat.ErrNotFound) {
		f.Errorf("Join(dm) = %v, want ErrNotFound", err)
	}
	if f.isMember(dm.ID, carol) {
		f.Error("carol joined a DM")
	}
	if c := f.conversation(dm.ID); c.Members != 2 {
		f.Errorf("DM has %d members, want 2", c.Members)
	}
}

func testJoinRoomLimit(f *fixture) {
	owner, u := f.user("owner"), f.user("u")
	r1, r2, r3, r4 := f.room("1", owner), f.room("2", owner), f.room("3", owner), f.room("4", owner)
	// A DM does not count towards the limit.
	if _, err := f.s.OpenDM(f.ctx, u, owner); err != nil {
		f.Fatalf("OpenDM: %v", err)
	}

	for _, r := range []chat.Conversation{r1, r2} {
		if err := f.s.Join(f.ctx, r.ID, u, 2); err != nil {
			f.Fatalf("Join(%s) under the limit: %v", r.Name, err)
		}
	}
	err := f.s.Join(f.ctx, r3.ID, u, 2)
	wantCode(f, "Join over the limit", err, chat.CodeRoomLimit)
	if chat.ErrorCode(err) != chat.CodeRoomLimit {
		f.Errorf("ErrorCode = %s, want %s", chat.ErrorCode(err), chat.CodeRoomLimit)
	}
	if f.isMember(r3.ID, u) {
		f.Error("a refused Join made u a member")
	}
	// Re-joining a room one is in is fine even at the limit.
	if err := f.s.Join(f.ctx, r1.ID, u, 2); err != nil {
		f.Errorf("re-Join at the limit: %v", err)
	}
	// maxRooms <= 0 means no limit.
	if err := f.s.Join(f.ctx, r3.ID, u, 0); err != nil {
		f.Errorf("Join with maxRooms 0: %v", err)
	}
	if err := f.s.Join(f.ctx, r4.ID, u, -1); err != nil {
		f.Errorf("Join with maxRooms -1: %v", err)
	}
	// Leaving frees a place.
	if err := f.s.Join(f.ctx, f.room("5", owner).ID, u, 4); chat.ErrorCode(err) != chat.CodeRoomLimit {
		f.Errorf("Join a 5th room with limit 4 = %v, want room_limit", err)
	}
	if err := f.s.Leave(f.ctx, r4.ID, u); err != nil {
		f.Fatalf("Leave: %v", err)
	}
	if err := f.s.Join(f.ctx, f.room("6", owner).ID, u, 4); err != nil {
		f.Errorf("Join after Leave freed a place: %v", err)
	}
}

func testLeave(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	r := f.room("Room", alice, bob)

	if err := f.s.Leave(f.ctx, r.ID, bob); err != nil {
		f.Fatalf("Leave: %v", err)
	}
	if f.isMember(r.ID, bob) {
		f.Error("bob is still a member after Leave")
	}
	if c := f.conversation(r.ID); c.Members != 1 {
		f.Errorf("Members = %d after Leave, want 1", c.Members)
	}
	// Leaving again, or a room one never joined, is not an error.
	if err := f.s.Leave(f.ctx, r.ID, bob); err != nil {
		f.Errorf("second Leave: %v", err)
	}
	if err := f.s.Leave(f.ctx, r.ID, carol); err != nil {
		f.Errorf("Leave by a non-member: %v", err)
	}

	dm, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil {
		f.Fatalf("OpenDM: %v", err)
	}
	wantCode(f, "Leave(dm)", f.s.Leave(f.ctx, dm.ID, alice), chat.CodeForbidden)
	if !f.isMember(dm.ID, alice) {
		f.Error("a refused Leave removed alice from the DM")
	}
	// Messages from a former member are refused.
	f.refused(msg(r.ID, bob, f.id("late"), "still here?"), chat.ErrNotMember)
}

func testMembers(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	ghost := f.id("ghost") // never upserted
	r := f.room("Room", alice, bob, carol, ghost)

	ms, err := f.s.Members(f.ctx, r.ID)
	if err != nil {
		f.Fatalf("Members: %v", err)
	}
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID)
		if m.Online {
			f.Errorf("member %s is Online; the store leaves presence false", m.ID)
		}
		if m.JoinedAt.IsZero() || !near(m.JoinedAt) {
			f.Errorf("member %s JoinedAt = %v", m.ID, m.JoinedAt)
		}
	}
	if want := []string{alice, bob, carol, ghost}; !slices.Equal(ids, want) {
		f.Fatalf("Members = %v, want %v (oldest membership first)", ids, want)
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].JoinedAt.Before(ms[i-1].JoinedAt) {
			f.Errorf("JoinedAt goes backwards: %v then %v", ms[i-1].JoinedAt, ms[i].JoinedAt)
		}
	}
	if ms[1].Name != displayName("bob") || ms[1].Role != "peer" {
		f.Errorf("member bob = %+v, want name and role filled from the user", ms[1].User)
	}

	// Leaving and joining again moves one to the end.
	if err := f.s.Leave(f.ctx, r.ID, bob); err != nil {
		f.Fatal(err)
	}
	if err := f.s.Join(f.ctx, r.ID, bob, 0); err != nil {
		f.Fatal(err)
	}
	ms, err = f.s.Members(f.ctx, r.ID)
	if err != nil {
		f.Fatal(err)
	}
	if len(ms) != 4 || ms[3].ID != bob {
		f.Errorf("after re-joining, bob is not the newest member: %+v", ms)
	}

	if ms, err := f.s.Members(f.ctx, f.id("nope")); err != nil || len(ms) != 0 {
		f.Errorf("Members(unknown) = %v, %v; want none", ms, err)
	}
	if f.isMember(f.id("nope"), alice) {
		f.Error("IsMember(unknown conversation) = true")
	}
}

func testUserConversations(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	own := f.room("Own", alice)
	joined := f.room("Joined", bob, alice)
	notMine := f.room("NotMine", carol)
	dm, err := f.s.OpenDM(f.ctx, bob, alice)
	if err != nil {
		f.Fatalf("OpenDM: %v", err)
	}
	f.append(msg(own.ID, alice, f.id("1"), "a"), msg(own.ID, alice, f.id("2"), "b"), msg(own.ID, alice, f.id("3"), "c"))
	f.send(msg(dm.ID, bob, f.id("4"), "hey"))

	convs, err := f.s.UserConversations(f.ctx, alice)
	if err != nil {
		f.Fatalf("UserConversations: %v", err)
	}
	byID := map[string]chat.Conversation{}
	for _, c := range convs {
		byID[c.ID] = c
	}
	if len(convs) != 3 || len(byID) != 3 {
		f.Fatalf("UserConversations = %+v, want exactly Own, Joined and the DM", convs)
	}
	if _, ok := byID[notMine.ID]; ok {
		f.Error("UserConversations lists a room alice is not in")
	}
	if c := byID[own.ID]; c.Kind != chat.KindRoom || c.Name != "Own" || c.LastSeq != 3 {
		f.Errorf("Own = %+v, want room named Own with LastSeq 3", c)
	}
	if c := byID[joined.ID]; c.Kind != chat.KindRoom || c.Name != "Joined" || c.LastSeq != 0 {
		f.Errorf("Joined = %+v", c)
	}
	if c := byID[dm.ID]; c.Kind != chat.KindDM || c.Name != displayName("bob") || c.LastSeq != 1 {
		f.Errorf("DM for alice = %+v, want Name %q and LastSeq 1", c, displayName("bob"))
	}
	// The other side sees the other name.
	bobs, err := f.s.UserConversations(f.ctx, bob)
	if err != nil {
		f.Fatal(err)
	}
	found := false
	for _, c := range bobs {
		if c.ID == dm.ID {
			found = true
			if c.Name != displayName("alice") {
				f.Errorf("DM for bob is named %q, want %q", c.Name, displayName("alice"))
			}
		}
	}
	if !found {
		f.Error("bob's conversations miss the DM")
	}

	if err := f.s.Leave(f.ctx, joined.ID, alice); err != nil {
		f.Fatal(err)
	}
	convs, err = f.s.UserConversations(f.ctx, alice)
	if err != nil {
		f.Fatal(err)
	}
	if len(convs) != 2 {
		f.Errorf("after Leave, UserConversations = %+v, want 2", convs)
	}
	if convs, err := f.s.UserConversations(f.ctx, f.id("nobody")); err != nil || len(convs) != 0 {
		f.Errorf("UserConversations(unknown) = %+v, %v; want none", convs, err)
	}
}

func testAppendSeq(f *fixture) {
	alice, bob, carol := f.user("alice"), f.user("bob"), f.user("carol")
	r := f.room("Room", alice, bob, carol)
	other := f.room("Other", alice)

	if err := f.s.Append(f.ctx, nil); err != nil {
		f.Errorf("Append(empty batch): %v", err)
	}

	var got []int64
	for i := range 5 {
		e := f.send(msg(r.ID, alice, f.id(fmt.Sprint("single", i)), "hello"))
		if e.Time.IsZero() || !near(e.Time) {
			f.Errorf("Append filled Time = %v", e.Time)
		}
		got = append(got, e.Seq)
	}
	batch := f.append(
		msg(r.ID, bob, f.id("b1"), "one"),
		msg(r.ID, carol, f.id("b2"), "two"),
		msg(other.ID, alice, f.id("b3"), "elsewhere"),
		msg(r.ID, alice, f.id("b4"), "three"),
		msg(other.ID, alice, f.id("b5"), "elsewhere too"),
	)
	for _, it := range batch {
		if it.Err != nil || it.Duplicate {
			f.Fatalf("batch item refused: %+v", it)
		}
		if it.Event.Conv == r.ID {
			got = append(got, it.Event.Seq)
		}
	}
	if want := span(1, 8); !slices.Equal(got, want) {
		f.Errorf("Seqs = %v, want %v", got, want)
	}
	if s := batch[2].Event.Seq; s != 1 {
		f.Errorf("first message of another conversation got Seq %d, want 1", s)
	}
	if s := batch[4].Event.Seq; s != 2 {
		f.Errorf("second message of another conversation got Seq %d, want 2", s)
	}
	if n := f.lastSeq(r.ID); n != 8 {
		f.Errorf("LastSeq = %d, want 8", n)
	}
	if n := f.lastSeq(other.ID); n != 2 {
		f.Errorf("other LastSeq = %d, want 2", n)
	}
	if evs := f.eventsAfter(r.ID, 0, 100); !slices.Equal(seqs(evs), span(1, 8)) {
		f.Errorf("EventsAfter seqs = %v", seqs(evs))
	}
}

func testAppendTime(f *fixture) {
	alice := f.user("alice")
	r := f.room("Room", alice)
	// Millisecond precision so that any store can keep it exactly.
	at := time.Date(2024, 5, 6, 7, 8, 9, 123_000_000, time.FixedZone("X", 3600))
	e := f.send(chat.AppendItem{Event: chat.Event{Conv: r.ID, Kind: chat.EventMessage, Sender: alice,
		ClientID: f.id("c"), Body: "dated", Time: at}})
	if !e.Time.Equal(at) {
		f.Errorf("given Time became %v, want %v", e.Time, at)
	}
	auto := f.send(msg(r.ID, alice, f.id("d"), "now"))
	h := f.history(r.ID, 0, 0, 10)
	if len(h) != 2 {
		f.Fatalf("History has %d messages, want 2", len(h))
	}
	if !h[0].Time.Equal(at) {
		f.Errorf("History Time = %v, want %v", h[0].Time, at)
	}
	if !h[1].Time.Equal(auto.Time) {
		f.Errorf("History Time = %v, Append reported %v", h[1].Time, auto.Time)
	}
}

func testAppendIdempotent(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r := f.room("Room", alice, bob)
	other := f.room("Other", alice)

	first := f.send(msg(r.ID, alice, f.id("c1"), "original"))
	again := f.append(msg(r.ID, alice, f.id("c1"), "resent with other text"))[0]
	if again.Err != nil || !again.Duplicate {
		f.Fatalf("resend = %+v, want Duplicate", again)
	}
	if again.Event.Seq != first.Seq || again.Event.Body != "original" || !again.Event.Time.Equal(first.Time) {
		f.Errorf("duplicate Event = %+v, want the original %+v", again.Event, first)
	}
	if n := f.lastSeq(r.ID); n != 1 {
		f.Errorf("LastSeq = %d after a duplicate, want 1", n)
	}

	// Within one batch: the second copy is the duplicate of the first.
	b := f.append(
		msg(r.ID, alice, f.id("c2"), "two"),
		msg(r.ID, alice, f.id("c2"), "two again"),
		msg(r.ID, alice, f.id("c3"), "three"),
		msg(r.ID, alice, f.id("c1"), "one again"),
	)
	if b[0].Duplicate || b[0].Event.Seq != 2 {
		f.Errorf("batch[0] = %+v, want new Seq 2", b[0])
	}
	if !b[1].Duplicate || b[1].Event.Seq != 2 || b[1].Event.Body != "two" {
		f.Errorf("batch[1] = %+v, want Duplicate of Seq 2", b[1])
	}
	if b[2].Duplicate || b[2].Event.Seq != 3 {
		f.Errorf("batch[2] = %+v, want new Seq 3 (no gap after a duplicate)", b[2])
	}
	if !b[3].Duplicate || b[3].Event.Seq != 1 {
		f.Errorf("batch[3] = %+v, want Duplicate of Seq 1", b[3])
	}
	if n := f.lastSeq(r.ID); n != 3 {
		f.Errorf("LastSeq = %d, want 3", n)
	}
	h := f.history(r.ID, 0, 0, 100)
	if !slices.Equal(seqs(h), []int64{1, 2, 3}) {
		f.Errorf("History seqs = %v, want [1 2 3]", seqs(h))
	}

	// The key is (conversation, sender, client id): the same client id
	// from someone else, or in another conversation, is a new message.
	if e := f.send(msg(r.ID, bob, f.id("c1"), "bob's own")); e.Seq != 4 {
		f.Errorf("same client id, other sender: Seq %d, want 4", e.Seq)
	}
	if e := f.send(msg(other.ID, alice, f.id("c1"), "other room")); e.Seq != 1 {
		f.Errorf("same client id, other conversation: Seq %d, want 1", e.Seq)
	}

	// A duplicate reports the message's current state after an edit.
	f.send(edit(r.ID, alice, 1, "edited"))
	d := f.append(msg(r.ID, alice, f.id("c1"), "x"))[0]
	if !d.Duplicate || d.Event.Seq != 1 {
		f.Errorf("resend after edit = %+v, want Duplicate of Seq 1", d)
	}
}

func testAppendNotMember(f *fixture) {
	alice, bob, mallory := f.user("alice"), f.user("bob"), f.user("mallory")
	r := f.room("Room", alice, bob)
	b := f.append(
		msg(r.ID, alice, f.id("1"), "one"),
		msg(r.ID, mallory, f.id("2"), "let me in"),
		msg(r.ID, bob, f.id("3"), "two"),
		msg(f.id("no-such-room"), alice, f.id("4"), "nowhere"),
		msg(r.ID, alice, f.id("5"), "three"),
	)
	if !errors.Is(b[1].Err, chat.ErrNotMember) {
		f.Errorf("non-member item Err = %v, want ErrNotMember", b[1].Err)
	}
	if chat.ErrorCode(b[1].Err) != chat.CodeNotMember {
		f.Errorf("ErrorCode = %s", chat.ErrorCode(b[1].Err))
	}
	if err := b[3].Err; !errors.Is(err, chat.ErrNotMember) && !errors.Is(err, chat.ErrNotFound) {
		f.Errorf("unknown conversation item Err = %v, want ErrNotMember or ErrNotFound", err)
	}
	var got []int64
	for _, i := range []int{0, 2, 4} {
		if b[i].Err != nil {
			f.Errorf("item %d refused: %v", i, b[i].Err)
		}
		got = append(got, b[i].Event.Seq)
	}
	if !slices.Equal(got, []int64{1, 2, 3}) {
		f.Errorf("committed items got Seqs %v, want [1 2 3] (refusals use no number)", got)
	}
	if b[1].Event.Seq != 0 || b[3].Event.Seq != 0 {
		f.Error("refused items got a Seq")
	}
	evs := f.eventsAfter(r.ID, 0, 100)
	if len(evs) != 3 {
		f.Fatalf("stored %d events, want 3", len(evs))
	}
	for _, e := range evs {
		if e.Sender == mallory {
			f.Error("a non-member's message was stored")
		}
	}
	// Members may also be refused in DMs they are not part of.
	dm, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil {
		f.Fatal(err)
	}
	f.refused(msg(dm.ID, mallory, f.id("6"), "psst"), chat.ErrNotMember)
}

func testEditDelete(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r := f.room("Room", alice, bob)
	m1 := f.send(msg(r.ID, alice, f.id("1"), "hello"))
	m2 := f.send(msg(r.ID, bob, f.id("2"), "hi"))

	ed := f.send(edit(r.ID, alice, m1.Seq, "hello, all"))
	if ed.Seq != 3 || ed.Kind != chat.EventEdit || ed.Target != m1.Seq {
		f.Errorf("edit = %+v, want Seq 3 targeting %d", ed, m1.Seq)
	}
	h := f.history(r.ID, 0, 0, 10)
	if !slices.Equal(seqs(h), []int64{m1.Seq, m2.Seq}) {
		f.Fatalf("History seqs = %v, want only the messages", seqs(h))
	}
	if h[0].Body != "hello, all" || h[0].EditedAt == nil || h[0].Deleted {
		f.Errorf("edited message in History = %+v", h[0])
	} else if !near(*h[0].EditedAt) {
		f.Errorf("EditedAt = %v", *h[0].EditedAt)
	}
	if h[1].Body != "hi" || h[1].EditedAt != nil {
		f.Errorf("untouched message in History = %+v", h[1])
	}
	evs := f.eventsAfter(r.ID, m2.Seq, 10)
	if len(evs) != 1 || evs[0].Kind != chat.EventEdit || evs[0].Target != m1.Seq ||
		evs[0].Body != "hello, all" || evs[0].Sender != alice {
		f.Errorf("EventsAfter the messages = %+v, want the edit", evs)
	}

	dl := f.send(del(r.ID, alice, m1.Seq))
	if dl.Seq != 4 || dl.Kind != chat.EventDelete || dl.Target != m1.Seq {
		f.Errorf("delete = %+v, want Seq 4 targeting %d", dl, m1.Seq)
	}
	h = f.history(r.ID, 0, 0, 10)
	if len(h) != 2 || !h[0].Deleted || h[0].Body != "" || h[0].Seq != m1.Seq {
		f.Errorf("History after delete = %+v, want a tombstone with empty Body", h)
	}

	evs = f.eventsAfter(r.ID, 0, 10)
	if len(evs) != 4 {
		f.Fatalf("EventsAfter = %d events, want 4", len(evs))
	}
	kinds := []chat.EventKind{chat.EventMessage, chat.EventMessage, chat.EventEdit, chat.EventDelete}
	for i, e := range evs {
		if e.Seq != int64(i+1) || e.Kind != kinds[i] || e.Conv != r.ID {
			f.Errorf("EventsAfter[%d] = %+v, want Seq %d kind %s", i, e, i+1, kinds[i])
		}
	}
	if evs[3].Target != m1.Seq || evs[3].Body != "" || evs[3].Sender != alice {
		f.Errorf("delete event = %+v", evs[3])
	}
	if evs[0].ClientID != f.id("1") {
		f.Errorf("message ClientID = %q, want %q", evs[0].ClientID, f.id("1"))
	}
	if n := f.lastSeq(r.ID); n != 4 {
		f.Errorf("LastSeq = %d, want 4", n)
	}
}

func testEditDeleteRefused(f *fixture) {
	alice, bob, mallory := f.user("alice"), f.user("bob"), f.user("mallory")
	r := f.room("Room", alice, bob)
	other := f.room("Other", alice)
	for i := range 6 {
		f.send(msg(other.ID, alice, f.id(fmt.Sprint("o", i)), "filler"))
	}
	m1 := f.send(msg(r.ID, alice, f.id("1"), "mine"))
	ed := f.send(edit(r.ID, alice, m1.Seq, "mine, edited"))

	// Someone else's message.
	f.refused(edit(r.ID, bob, m1.Seq, "hijacked"), chat.ErrNotAuthor)
	f.refused(del(r.ID, bob, m1.Seq), chat.ErrNotAuthor)
	// Not a member at all.
	f.refused(edit(r.ID, mallory, m1.Seq, "x"), chat.ErrNotMember)
	// Targets that are not messages of this conversation.
	f.refused(edit(r.ID, alice, 999, "x"), chat.ErrNotFound)
	f.refused(del(r.ID, alice, 999), chat.ErrNotFound)
	f.refused(edit(r.ID, alice, 0, "x"), chat.ErrNotFound)
	f.refused(edit(r.ID, alice, ed.Seq, "editing an edit"), chat.ErrNotFound)
	f.refused(edit(r.ID, alice, 5, "seq 5 exists only in the other room"), chat.ErrNotFound)
	if got := f.history(r.ID, 0, 0, 10); len(got) != 1 || got[0].Body != "mine, edited" {
		f.Errorf("History after refusals = %+v", got)
	}

	f.send(del(r.ID, alice, m1.Seq))
	f.refused(edit(r.ID, alice, m1.Seq, "too late"), chat.ErrDeleted)
	f.refused(del(r.ID, alice, m1.Seq), chat.ErrDeleted)
	if chat.ErrorCode(chat.ErrDeleted) != chat.CodeConflict {
		f.Error("ErrDeleted lost its code")
	}

	// Refusals inside a batch leave the rest committed and gap-free.
	m2 := f.send(msg(r.ID, bob, f.id("2"), "bob's"))
	b := f.append(
		edit(r.ID, bob, m2.Seq, "bob's, edited"),
		edit(r.ID, alice, m2.Seq, "not yours"),
		del(r.ID, alice, m1.Seq),
		msg(r.ID, alice, f.id("3"), "after"),
	)
	if b[0].Err != nil || b[3].Err != nil || b[0].Event.Seq != m2.Seq+1 || b[3].Event.Seq != m2.Seq+2 {
		f.Errorf("committed items = %+v / %+v, want Seqs %d and %d", b[0], b[3], m2.Seq+1, m2.Seq+2)
	}
	if !errors.Is(b[1].Err, chat.ErrNotAuthor) || !errors.Is(b[2].Err, chat.ErrDeleted) {
		f.Errorf("refusals = %v, %v; want ErrNotAuthor, ErrDeleted", b[1].Err, b[2].Err)
	}
	if n := f.lastSeq(r.ID); n != m2.Seq+2 {
		f.Errorf("LastSeq = %d, want %d", n, m2.Seq+2)
	}
}

func testEditInSameBatch(f *fixture) {
	alice := f.user("alice")
	r := f.room("Room", alice)
	// The message gets Seq 1; the edit and delete in the same batch may
	// already target it.
	b := f.append(
		msg(r.ID, alice, f.id("1"), "draft"),
		edit(r.ID, alice, 1, "final"),
		msg(r.ID, alice, f.id("2"), "oops"),
		del(r.ID, alice, 3),
	)
	for i, it := range b {
		if it.Err != nil || it.Event.Seq != int64(i+1) {
			f.Errorf("item %d = %+v, want Seq %d", i, it, i+1)
		}
	}
	h := f.history(r.ID, 0, 0, 10)
	if len(h) != 2 || h[0].Body != "final" || h[0].EditedAt == nil || !h[1].Deleted {
		f.Errorf("History = %+v", h)
	}
}

// countdownCtx is a context that reports itself canceled once Done or Err
// has been consulted more than n times: a way to make a store fail in the
// middle of a batch without knowing how it is built.
type countdownCtx struct {
	context.Context
	left atomic.Int64
	done chan struct{}
	once atomic.Bool
}

func newCountdownCtx(parent context.Context, n int64) *countdownCtx {
	c := &countdownCtx{Context: parent, done: make(chan struct{})}
	c.left.Store(n)
	return c
}

func (c *countdownCtx) tick() {
	if c.left.Add(-1) < 0 && c.once.CompareAndSwap(false, true) {
		close(c.done)
	}
}

func (c *countdownCtx) Done() <-chan struct{} {
	c.tick()
	return c.done
}

func (c *countdownCtx) Err() error {
	c.tick()
	select {
	case <-c.done:
		return context.Canceled
	default:
		return nil
	}
}

func testAppendAtomic(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r := f.room("Room", alice, bob)
	f.send(msg(r.ID, alice, f.id("first"), "first"))

	// A canceled context stores nothing.
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	items := []chat.AppendItem{msg(r.ID, alice, f.id("c1"), "x"), msg(r.ID, bob, f.id("c2"), "y")}
	if err := f.s.Append(ctx, items); err == nil {
		f.Error("Append with a canceled context returned nil")
	}
	if n := f.lastSeq(r.ID); n != 1 {
		f.Errorf("LastSeq = %d after a failed Append, want 1", n)
	}

	// Cancel at every point of a batch in turn: each attempt must be all
	// or nothing, and the store must carry on afterwards.
	const size = 8
	last := f.lastSeq(r.ID)
	failed, committed := 0, 0
	failedID := "" // a client id from a batch that was not stored
	for n := int64(0); n < 400 && committed < 3; n++ {
		items := make([]chat.AppendItem, size)
		for i := range items {
			sender := alice
			if i%2 == 1 {
				sender = bob
			}
			items[i] = msg(r.ID, sender, f.id(fmt.Sprintf("n%d_%d", n, i)), "batch")
		}
		// Make one item an edit and one a refusal, so every kind of
		// write is interrupted somewhere.
		items[3] = edit(r.ID, bob, 1, "edit by non-author")
		items[5] = edit(r.ID, alice, 1, fmt.Sprint("edit ", n))
		err := f.s.Append(newCountdownCtx(f.ctx, n), items)
		evs := f.eventsAfter(r.ID, last, 100)
		now := f.lastSeq(r.ID)
		if err != nil {
			failed++
			if failedID == "" {
				failedID = items[0].Event.ClientID
			}
			if now != last || len(evs) != 0 {
				f.Fatalf("countdown %d: Append failed (%v) but LastSeq went %d -> %d and %d events were stored",
					n, err, last, now, len(evs))
			}
			continue
		}
		committed++
		if now != last+size-1 || len(evs) != size-1 {
			f.Fatalf("countdown %d: Append succeeded but LastSeq went %d -> %d with %d events, want +%d",
				n, last, now, len(evs), size-1)
		}
		if !errors.Is(items[3].Err, chat.ErrNotAuthor) {
			f.Errorf("countdown %d: refusal lost: %v", n, items[3].Err)
		}
		for i, e := range evs {
			if e.Seq != last+int64(i)+1 {
				f.Fatalf("countdown %d: seqs %v are not contiguous after %d", n, seqs(evs), last)
			}
		}
		last = now
	}
	f.Logf("interrupted batches: %d failed, %d committed", failed, committed)

	// The client ids of failed batches were not stored: sending them now
	// makes new messages.
	if failedID != "" {
		e := f.send(msg(r.ID, alice, failedID, "retry"))
		if e.Seq != last+1 {
			f.Errorf("retry of a failed send got Seq %d, want %d", e.Seq, last+1)
		}
	}
}

func testAppendConcurrent(f *fixture) {
	const writers, perWriter = 8, 50
	owner := f.user("owner")
	senders := make([]string, writers)
	for i := range senders {
		senders[i] = f.user(fmt.Sprint("w", i))
	}
	r := f.room("Busy", owner, senders...)

	type result struct {
		seqs []int64
		err  error
	}
	results := make(chan result, writers)
	start := make(chan struct{})
	for w := range writers {
		go func() {
			<-start
			var res result
			// Writers use different batch sizes: 1, 2, 3 and 5.
			size := []int{1, 2, 3, 5}[w%4]
			for sent := 0; sent < perWriter; {
				n := min(size, perWriter-sent)
				items := make([]chat.AppendItem, n)
				for i := range items {
					items[i] = msg(r.ID, senders[w], f.id(fmt.Sprintf("w%d_%d", w, sent+i)), "concurrent")
				}
				if err := f.s.Append(f.ctx, items); err != nil {
					res.err = err
					break
				}
				for _, it := range items {
					if it.Err != nil || it.Duplicate {
						res.err = fmt.Errorf("item %+v refused", it)
					}
					res.seqs = append(res.seqs, it.Event.Seq)
				}
				sent += n
			}
			results <- res
		}()
	}
	close(start)
	var all []int64
	for range writers {
		res := <-results
		if res.err != nil {
			f.Fatalf("concurrent Append: %v", res.err)
		}
		if !slices.IsSorted(res.seqs) {
			f.Errorf("one writer's seqs are not increasing: %v", res.seqs)
		}
		all = append(all, res.seqs...)
	}
	slices.Sort(all)
	const total = writers * perWriter
	if !slices.Equal(all, span(1, total)) {
		f.Fatalf("seqs are not exactly 1..%d: %d values, first %v", total, len(all), all[:min(len(all), 10)])
	}
	if n := f.lastSeq(r.ID); n != total {
		f.Errorf("LastSeq = %d, want %d", n, total)
	}
	evs := f.eventsAfter(r.ID, 0, 2*total)
	if !slices.Equal(seqs(evs), span(1, total)) {
		f.Errorf("EventsAfter returned %d events, not 1..%d in order", len(evs), total)
	}
}

// historyFixture makes a room holding 30 messages, with an edit after every
// 10th, and returns it and the messages' Seqs in order.
func historyFixture(f *fixture) (chat.Conversation, []int64, string) {
	alice := f.user("alice")
	r := f.room("Room", alice)
	var msgs []int64
	for i := 1; i <= 30; i++ {
		e := f.send(msg(r.ID, alice, f.id(fmt.Sprint(i)), fmt.Sprint("message ", i)))
		msgs = append(msgs, e.Seq)
		if i%10 == 0 {
			f.send(edit(r.ID, alice, e.Seq, fmt.Sprint("message ", i, " (edited)")))
		}
	}
	return r, msgs, alice
}

func testHistory(f *fixture) {
	r, msgs, alice := historyFixture(f)

	check := func(name string, got []chat.Event, want []int64) {
		f.Helper()
		if !slices.Equal(seqs(got), want) {
			f.Errorf("%s: seqs %v, want %v", name, seqs(got), want)
		}
	}
	check("latest 10", f.history(r.ID, 0, 0, 10), msgs[20:])
	check("all", f.history(r.ID, 0, 0, 100), msgs)
	check("before msg 21, 5", f.history(r.ID, msgs[20], 0, 5), msgs[15:20])
	check("before msg 3, 10", f.history(r.ID, msgs[2], 0, 10), msgs[:2])
	check("before 1", f.history(r.ID, 1, 0, 10), nil)
	check("after msg 5, 5", f.history(r.ID, 0, msgs[4], 5), msgs[5:10])
	check("after msg 28, 10", f.history(r.ID, 0, msgs[27], 10), msgs[28:])
	check("after the end", f.history(r.ID, 0, msgs[29]+1, 10), nil)
	check("limit 1", f.history(r.ID, 0, 0, 1), msgs[29:])
	// An edit's Seq is a valid cursor too.
	check("before an edit", f.history(r.ID, msgs[9]+1, 0, 3), msgs[7:10])

	h := f.history(r.ID, 0, 0, 100)
	for i, e := range h {
		if e.Kind != chat.EventMessage || e.Conv != r.ID || e.Sender != alice || e.Time.IsZero() {
			f.Errorf("History[%d] = %+v", i, e)
		}
		if e.Name != displayName("alice") {
			f.Errorf("History[%d].Name = %q, want %q", i, e.Name, displayName("alice"))
		}
		if e.ClientID != f.id(fmt.Sprint(i+1)) {
			f.Errorf("History[%d].ClientID = %q", i, e.ClientID)
		}
		wantBody := fmt.Sprint("message ", i+1)
		if (i+1)%10 == 0 {
			wantBody += " (edited)"
			if e.EditedAt == nil {
				f.Errorf("History[%d] edited but EditedAt is nil", i)
			}
		} else if e.EditedAt != nil {
			f.Errorf("History[%d] not edited but EditedAt = %v", i, e.EditedAt)
		}
		if e.Body != wantBody {
			f.Errorf("History[%d].Body = %q, want %q", i, e.Body, wantBody)
		}
	}

	empty := f.room("Empty", alice)
	if h := f.history(empty.ID, 0, 0, 10); len(h) != 0 {
		f.Errorf("History of an empty room = %+v", h)
	}
	if h := f.history(f.id("nope"), 0, 0, 10); len(h) != 0 {
		f.Errorf("History of an unknown room = %+v", h)
	}
}

func testEventsAfter(f *fixture) {
	r, msgs, _ := historyFixture(f)
	const total = 33 // 30 messages and 3 edits

	all := f.eventsAfter(r.ID, 0, 100)
	if !slices.Equal(seqs(all), span(1, total)) {
		f.Fatalf("EventsAfter(0) seqs = %v, want 1..%d", seqs(all), total)
	}
	edits := 0
	for _, e := range all {
		if e.Kind == chat.EventEdit {
			edits++
			if e.Target != e.Seq-1 || !strings.HasSuffix(e.Body, "(edited)") {
				f.Errorf("edit event = %+v", e)
			}
		} else if e.Kind != chat.EventMessage {
			f.Errorf("unexpected event %+v", e)
		}
	}
	if edits != 3 {
		f.Errorf("EventsAfter holds %d edits, want 3", edits)
	}
	if got := f.eventsAfter(r.ID, 10, 5); !slices.Equal(seqs(got), span(11, 15)) {
		f.Errorf("EventsAfter(10, 5) = %v, want 11..15", seqs(got))
	}
	// The last message (Seq 32) was edited afterwards (Seq 33).
	if got := f.eventsAfter(r.ID, msgs[29], 10); !slices.Equal(seqs(got), []int64{total}) {
		f.Errorf("EventsAfter(last message) = %v, want only the edit that followed it", seqs(got))
	}
	if got := f.eventsAfter(r.ID, total-2, 100); !slices.Equal(seqs(got), span(total-1, total)) {
		f.Errorf("EventsAfter(%d) = %v", total-2, seqs(got))
	}
	if got := f.eventsAfter(r.ID, total, 10); len(got) != 0 {
		f.Errorf("EventsAfter(LastSeq) = %v, want none", seqs(got))
	}
	if got := f.eventsAfter(f.id("nope"), 0, 10); len(got) != 0 {
		f.Errorf("EventsAfter(unknown) = %v", seqs(got))
	}
}

func testRoomPolicy(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	room := f.room("policy", alice)
	if p, err := f.s.RoomPolicy(f.ctx, room.ID); err != nil || p.HoldImminent {
		f.Fatalf("RoomPolicy of a new room = %+v, %v; want the zero policy", p, err)
	}
	if err := f.s.SetRoomPolicy(f.ctx, room.ID, chat.RoomPolicy{HoldImminent: true}); err != nil {
		f.Fatalf("SetRoomPolicy: %v", err)
	}
	if p, err := f.s.RoomPolicy(f.ctx, room.ID); err != nil || !p.HoldImminent {
		f.Fatalf("RoomPolicy after set = %+v, %v", p, err)
	}
	if err := f.s.SetRoomPolicy(f.ctx, room.ID, chat.RoomPolicy{}); err != nil {
		f.Fatalf("SetRoomPolicy (clear): %v", err)
	}
	if p, _ := f.s.RoomPolicy(f.ctx, room.ID); p.HoldImminent {
		f.Fatalf("RoomPolicy after clearing = %+v", p)
	}
	dm, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil {
		f.Fatal(err)
	}
	wantCode(f.T, "RoomPolicy(DM)", func() error { _, err := f.s.RoomPolicy(f.ctx, dm.ID); return err }(), chat.CodeNotFound)
	wantCode(f.T, "SetRoomPolicy(unknown)", f.s.SetRoomPolicy(f.ctx, f.id("nope"), chat.RoomPolicy{HoldImminent: true}), chat.CodeNotFound)
}
