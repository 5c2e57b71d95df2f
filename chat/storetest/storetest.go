// Package storetest is the conformance suite for chat.Store, and for
// webpush.Store, which every store implements beside it. Every
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
		{"Accounts", testAccounts},
		{"ListAccounts", testListAccounts},
		{"RefreshRotation", testRefreshRotation},
		{"RefreshConcurrent", testRefreshConcurrent},
		{"SignInLinks", testSignInLinks},
		{"PutSetting", testPutSetting},
		{"CreateRoom", testCreateRoom},
		{"Rooms", testRooms},
		{"OpenDM", testOpenDM},
		{"OpenDMConcurrent", testOpenDMConcurrent},
		{"Join", testJoin},
		{"JoinRoomLimit", testJoinRoomLimit},
		{"Leave", testLeave},
		{"Members", testMembers},
		{"MemberRole", testMemberRole},
		{"MemberRoleRejoin", testMemberRoleRejoin},
		{"UserConversationsRole", testUserConversationsRole},
		{"UserConversations", testUserConversations},
		{"AppendSeq", testAppendSeq},
		{"AppendTime", testAppendTime},
		{"AppendIdempotent", testAppendIdempotent},
		{"AppendNotMember", testAppendNotMember},
		{"EditDelete", testEditDelete},
		{"EditDeleteRefused", testEditDeleteRefused},
		{"EditInSameBatch", testEditInSameBatch},
		{"Hide", testHide},
		{"HideRefused", testHideRefused},
		{"HideInSameBatch", testHideInSameBatch},
		{"Pins", testPins},
		{"PinsErased", testPinsErased},
		{"AppendAtomic", testAppendAtomic},
		{"AppendConcurrent", testAppendConcurrent},
		{"History", testHistory},
		{"EventsAfter", testEventsAfter},
		{"Ping", testPing},
		{"RoomPolicy", testRoomPolicy},
		{"RoomSettings", testRoomSettings},
		{"RoomsVisibility", testRoomsVisibility},
		{"MemberSince", testMemberSince},
		{"Audit", testAudit},
		{"AuditText", testAuditText},
		{"AuditChain", testAuditChain},
		{"AuditFilters", testAuditFilters},
		{"SetMemberRole", testSetMemberRole},
		{"Mute", testMute},
		{"Ban", testBan},
		{"Bans", testBans},
		{"MembersMuted", testMembersMuted},
		{"Invites", testInvites},
		{"InviteConcurrent", testInviteConcurrent},
		{"RoomRules", testRoomRules},
		{"Guidelines", testGuidelines},
		{"PremodSetting", testPremodSetting},
		{"HoldMessage", testHoldMessage},
		{"DecidePending", testDecidePending},
		{"PendingAfterLeaving", testPendingAfterLeaving},
		{"Reports", testReports},
		{"ReportsList", testReportsList},
		{"ResolveReport", testResolveReport},
		{"Blocks", testBlocks},
		{"ShareRoom", testShareRoom},
		{"VideoClaim", testVideoClaim},
		{"VideoRenew", testVideoRenew},
		{"VideoEnd", testVideoEnd},
		{"VideoLive", testVideoLive},
		{"VideoRefused", testVideoRefused},
		{"VideoClaimConcurrent", testVideoClaimConcurrent},
		{"SupportNotes", testSupportNotes},
		{"SupportRefused", testSupportRefused},
		{"SupportConcurrent", testSupportConcurrent},
		{"PushSubscriptions", testPushSubscriptions},
		{"Revocations", testRevocations},
		{"InitSetting", testInitSetting},
		{"PurgeRoom", testPurgeRoom},
		{"PurgeGlobal", testPurgeGlobal},
		{"PurgeHolds", testPurgeHolds},
		{"HoldsRefused", testHoldsRefused},
		{"JobLease", testJobLease},
		{"ExportUser", testExportUser},
		{"EraseUser", testEraseUser},
		{"EraseHeldUser", testEraseHeldUser},
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
