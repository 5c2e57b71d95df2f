package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// videoT0 is the suite's clock: video session times are the callers'.
var videoT0 = time.Date(2026, 12, 3, 12, 0, 0, 123456789, time.UTC)

const videoLease = 10 * time.Second

// videoSession is a session of conv hosted on node, started at t0 with a
// lease to t0+videoLease.
func (f *fixture) videoSession(id, conv, node string) chat.VideoSession {
	return chat.VideoSession{ID: f.id(id), Conv: conv, Node: node, Host: f.id("alice"), HostName: "Alice",
		WaitingRoom: true, Started: videoT0, LeaseUntil: videoT0.Add(videoLease)}
}

func (f *fixture) claim(v chat.VideoSession, now time.Time) chat.VideoSession {
	f.Helper()
	got, err := f.s.ClaimVideoSession(f.ctx, v, now)
	if err != nil {
		f.Fatalf("ClaimVideoSession(%s of %s by %s) at %v: %v", v.ID, v.Conv, v.Node, now, err)
	}
	sameVideo(f, "ClaimVideoSession", got, v)
	return got
}

// liveByID is session id as VideoSessionByID has it at now.
func (f *fixture) liveByID(id string, now time.Time) (chat.VideoSession, bool) {
	f.Helper()
	v, ok, err := f.s.VideoSessionByID(f.ctx, id, now)
	if err != nil {
		f.Fatalf("VideoSessionByID(%s): %v", id, err)
	}
	return v, ok
}

// liveIDs is the sorted IDs of the sessions LiveVideoSessions lists.
func (f *fixture) liveIDs(convs []string, now time.Time) []string {
	f.Helper()
	vs, err := f.s.LiveVideoSessions(f.ctx, convs, now)
	if err != nil || vs == nil {
		f.Fatalf("LiveVideoSessions(%v) = %v, %v", convs, vs, err)
	}
	ids := make([]string, len(vs))
	for i, v := range vs {
		ids[i] = v.ID
	}
	slices.Sort(ids)
	return ids
}

func (f *fixture) renew(id, node string, until time.Time) bool {
	f.Helper()
	ok, err := f.s.RenewVideoSession(f.ctx, id, node, until)
	if err != nil {
		f.Fatalf("RenewVideoSession(%s, %s): %v", id, node, err)
	}
	return ok
}

func (f *fixture) endVideo(id, node string) {
	f.Helper()
	if err := f.s.EndVideoSession(f.ctx, id, node); err != nil {
		f.Fatalf("EndVideoSession(%s, %s): %v", id, node, err)
	}
}

// sameVideo checks that got records want, field by field.
func sameVideo(t testing.TB, what string, got, want chat.VideoSession) {
	t.Helper()
	if got.ID != want.ID || got.Conv != want.Conv || got.Node != want.Node || got.Host != want.Host ||
		got.HostName != want.HostName || got.WaitingRoom != want.WaitingRoom ||
		!got.Started.Equal(want.Started) || !got.LeaseUntil.Equal(want.LeaseUntil) ||
		got.Started.Location() != time.UTC || got.LeaseUntil.Location() != time.UTC {
		t.Errorf("%s = %+v, want %+v (times in UTC)", what, got, want)
	}
}

// testVideoClaim: a claim is recorded as given; a second one while the
// first is live changes nothing and names the first; once the lease has
// lapsed another node takes over, and the first node's renewals fail.
func testVideoClaim(f *fixture) {
	alice := f.user("alice")
	r := f.room("Room", alice)
	a := f.videoSession("va", r.ID, "node-a")
	f.claim(a, videoT0)
	if got, ok := f.liveByID(a.ID, videoT0.Add(videoLease-time.Nanosecond)); !ok {
		f.Error("a claimed session is not live before its lease ends")
	} else {
		sameVideo(f, "VideoSessionByID", got, a)
	}

	b := f.videoSession("vb", r.ID, "node-b")
	b.WaitingRoom, b.Started, b.LeaseUntil = false, videoT0.Add(5*time.Second), videoT0.Add(time.Minute)
	held, err := f.s.ClaimVideoSession(f.ctx, b, b.Started)
	wantCode(f, "a claim while another session is live", err, chat.CodeConflict)
	sameVideo(f, "the session a refused claim returns", held, a)
	if _, ok := f.liveByID(b.ID, b.Started); ok {
		f.Error("a refused claim was recorded")
	}

	// The lease lapses at LeaseUntil exactly.
	lapse := a.LeaseUntil
	if _, ok := f.liveByID(a.ID, lapse); ok {
		f.Error("a session is live at the end of its lease")
	}
	b.Started, b.LeaseUntil = lapse, lapse.Add(videoLease)
	f.claim(b, lapse)
	if _, ok := f.liveByID(a.ID, videoT0); ok {
		f.Error("the replaced session is still recorded")
	}
	if f.renew(a.ID, "node-a", lapse.Add(time.Hour)) {
		f.Error("the node whose session was taken over renewed it")
	}
	f.endVideo(a.ID, "node-a")
	if got, ok := f.liveByID(b.ID, lapse); !ok {
		f.Error("the old holder's end removed the new session")
	} else {
		sameVideo(f, "the session that took over", got, b)
	}

	// Started defaults to the claim's now.
	r2 := f.room("Room 2", alice)
	c := f.videoSession("vc", r2.ID, "node-a")
	c.Started = time.Time{}
	got, err := f.s.ClaimVideoSession(f.ctx, c, videoT0)
	if err != nil || !got.Started.Equal(videoT0) {
		f.Errorf("a claim without a start = %+v, %v; want started at now", got, err)
	}
}

// testVideoRenew: only the holding node renews, and a renewal moves when
// the session lapses.
func testVideoRenew(f *fixture) {
	alice := f.user("alice")
	r := f.room("Room", alice)
	a := f.claim(f.videoSession("va", r.ID, "node-a"), videoT0)
	later := a.LeaseUntil.Add(time.Minute)
	if f.renew(a.ID, "node-b", later) {
		f.Error("another node renewed the session")
	}
	if _, ok := f.liveByID(a.ID, a.LeaseUntil); ok {
		f.Error("another node's renewal extended the lease")
	}
	if f.renew(f.id("nosuch"), "node-a", later) {
		f.Error("renewed a session that does not exist")
	}
	if !f.renew(a.ID, "node-a", later) {
		f.Fatal("the holder could not renew its session")
	}
	if got, ok := f.liveByID(a.ID, later.Add(-time.Nanosecond)); !ok || !got.LeaseUntil.Equal(later) {
		f.Errorf("after renewal: %+v, live %v; want live until %v", got, ok, later)
	}
	if _, ok := f.liveByID(a.ID, later); ok {
		f.Error("a renewed session is live past its new lease")
	}
	// A lapse nobody acted on: the holder still holds the record.
	if !f.renew(a.ID, "node-a", later.Add(time.Hour)) {
		f.Error("the holder could not renew a lapsed session nobody took over")
	}
}

// testVideoEnd: only the holder ends a session; ending again, or a
// session that never was, is no error; the conversation is then free.
func testVideoEnd(f *fixture) {
	alice := f.user("alice")
	r := f.room("Room", alice)
	a := f.claim(f.videoSession("va", r.ID, "node-a"), videoT0)
	f.endVideo(a.ID, "node-b")
	if _, ok := f.liveByID(a.ID, videoT0); !ok {
		f.Fatal("another node ended the session")
	}
	f.endVideo(a.ID, "node-a")
	if _, ok := f.liveByID(a.ID, videoT0); ok {
		f.Fatal("an ended session is still live")
	}
	f.endVideo(a.ID, "node-a")
	f.endVideo(f.id("nosuch"), "node-a")
	if f.renew(a.ID, "node-a", videoT0.Add(time.Hour)) {
		f.Error("renewed an ended session")
	}
	f.claim(f.videoSession("vb", r.ID, "node-b"), videoT0)
}

// testVideoLive: by id and in lists, lapsed sessions are left out; two
// conversations' sessions are independent.
func testVideoLive(f *fixture) {
	alice, bob := f.user("alice"), f.user("bob")
	r1, r2, r3 := f.room("One", alice), f.room("Two", alice), f.room("Three", alice)
	dm, err := f.s.OpenDM(f.ctx, alice, bob)
	if err != nil {
		f.Fatal(err)
	}
	v1 := f.claim(f.videoSession("v1", r1.ID, "node-a"), videoT0)
	v2 := f.videoSession("v2", r2.ID, "node-b")
	v2.LeaseUntil = videoT0.Add(time.Second)
	f.claim(v2, videoT0)
	vdm := f.claim(f.videoSession("vdm", dm.ID, "node-b"), videoT0)
	convs := []string{r1.ID, r2.ID, r3.ID, dm.ID, f.id("unknown")}
	if got, want := f.liveIDs(convs, videoT0), sorted(v1.ID, v2.ID, vdm.ID); !slices.Equal(got, want) {
		f.Errorf("live sessions = %v, want %v", got, want)
	}
	at := v2.LeaseUntil // v2 lapses
	if got, want := f.liveIDs(convs, at), sorted(v1.ID, vdm.ID); !slices.Equal(got, want) {
		f.Errorf("live sessions after one lapsed = %v, want %v", got, want)
	}
	if _, ok := f.liveByID(v2.ID, at); ok {
		f.Error("VideoSessionByID returned a lapsed session")
	}
	f.endVideo(v1.ID, "node-a")
	if got, want := f.liveIDs(convs, videoT0), sorted(v2.ID, vdm.ID); !slices.Equal(got, want) {
		f.Errorf("live sessions after one ended = %v, want %v", got, want)
	}
	if got := f.liveIDs([]string{r1.ID, r3.ID}, videoT0); len(got) != 0 {
		f.Errorf("live sessions of conversations without one = %v", got)
	}
	if got := f.liveIDs(nil, videoT0); len(got) != 0 {
		f.Errorf("live sessions of no conversations = %v", got)
	}
	many := make([]string, 1200) // more than one query's worth
	for i := range many {
		many[i] = f.id(fmt.Sprint("c", i))
	}
	many[1100] = dm.ID
	if got := f.liveIDs(many, videoT0); !slices.Equal(got, []string{vdm.ID}) {
		f.Errorf("live sessions among 1200 conversations = %v, want %v", got, vdm.ID)
	}
}

func sorted(s ...string) []string { slices.Sort(s); return s }
