// Package escalationtest holds what tests of the escalation path share: the
// conformance suite every escalation.Store implementation runs, and
// FakeClock.
//
//	func TestEscalationConformance(t *testing.T) {
//		escalationtest.Run(t, func(t *testing.T) escalation.Store { return openFreshStore(t) })
//	}
//
// The suite checks the contract written in escalation.Store clause by
// clause, including under concurrent writers. Due, List, OnCall and
// DueWebhooks look at the whole store, so open must return an empty store
// (a fresh file, schema or instance) for every subtest.
package escalationtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/escalation"
)

// Run runs the conformance suite; open is called once per subtest and must
// return an empty Store whose lifetime it manages (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) escalation.Store) {
	tests := []struct {
		name string
		fn   func(f *fixture)
	}{
		{"CreateGet", testCreateGet},
		{"CreateDefaults", testCreateDefaults},
		{"CreateIdempotent", testCreateIdempotent},
		{"CreateConcurrent", testCreateConcurrent},
		{"NotFound", testNotFound},
		{"Update", testUpdate},
		{"UpdateRefused", testUpdateRefused},
		{"UpdateConcurrent", testUpdateConcurrent},
		{"List", testList},
		{"Due", testDue},
		{"Lease", testLease},
		{"LeaseConcurrent", testLeaseConcurrent},
		{"Shifts", testShifts},
		{"OnCall", testOnCall},
		{"Webhooks", testWebhooks},
		{"WebhooksOutbox", testWebhooksOutbox},
		{"WebhooksConcurrent", testWebhooksConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(&fixture{t: t, s: open(t), ctx: t.Context()})
		})
	}
}

type fixture struct {
	t   *testing.T
	s   escalation.Store
	ctx context.Context
}

// base is a time with nanoseconds, so stores must keep full precision.
var base = time.Date(2031, 3, 4, 5, 6, 7, 123456789, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

// sample returns a fully populated escalation about message seq of conv.
func sample(id, conv string, seq int64) *escalation.Escalation {
	edited := at(-30 * time.Second).In(time.FixedZone("X", 3600))
	msg := chat.Event{Conv: conv, Seq: seq, Kind: chat.EventMessage, Sender: "u_subject", Name: "Sam",
		ClientID: "c1", Body: "I can't do this anymore 💔", Time: at(-time.Minute), EditedAt: &edited}
	var ctxEvents []chat.Event
	for i := int64(1); i < seq && i <= 3; i++ {
		ctxEvents = append(ctxEvents, chat.Event{Conv: conv, Seq: seq - i, Kind: chat.EventMessage,
			Sender: "u_other", Body: fmt.Sprintf("earlier %d", i), Time: at(-time.Duration(i+1) * time.Minute)})
	}
	return &escalation.Escalation{
		ID: id, Conv: conv, ConvKind: chat.KindRoom, ConvName: "Evening group",
		Subject: "u_subject", SubjectName: "Sam", Source: escalation.SourceDetector,
		Reason: "", Severity: crisis.Imminent,
		Categories: []crisis.Category{crisis.Suicide, crisis.Overdose},
		Evidence:   []crisis.Span{{Start: 2, End: 17, Text: "can't do this", Rule: "hopeless.1"}},
		Message:    msg, Context: ctxEvents,
		Status: escalation.StatusOpen, Tier: -1,
		CreatedAt: at(0), AckDeadline: at(0),
		Timeline: []escalation.Step{{At: at(0), Kind: escalation.StepCreated, Actor: escalation.SystemActor, Detail: "detector"}},
	}
}

// norm returns e as a store returns it: times in UTC without monotonic
// readings, empty slices as nil, no lease or outbox. Comparing normalised
// values keeps the suite about the contract, not about representation.
func norm(e *escalation.Escalation) *escalation.Escalation {
	c := e.Clone()
	c.Outbox = nil
	c.LeaseOwner, c.LeaseUntil = "", time.Time{}
	c.CreatedAt, c.AckDeadline, c.AckedAt, c.ResolvedAt = ct(c.CreatedAt), ct(c.AckDeadline), ct(c.AckedAt), ct(c.ResolvedAt)
	if len(c.Categories) == 0 {
		c.Categories = nil
	}
	if len(c.Evidence) == 0 {
		c.Evidence = nil
	}
	if len(c.Context) == 0 {
		c.Context = nil
	}
	if len(c.Timeline) == 0 {
		c.Timeline = nil
	}
	normEvent(&c.Message)
	for i := range c.Context {
		normEvent(&c.Context[i])
	}
	for i := range c.Timeline {
		c.Timeline[i].At = ct(c.Timeline[i].At)
		if len(c.Timeline[i].Recipients) == 0 {
			c.Timeline[i].Recipients = nil
		}
	}
	return c
}

func normEvent(ev *chat.Event) {
	ev.Time = ct(ev.Time)
	if ev.EditedAt != nil {
		t := ct(*ev.EditedAt)
		ev.EditedAt = &t
	}
}

func ct(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Round(0).UTC()
}

func (f *fixture) equal(what string, got, want *escalation.Escalation) {
	f.t.Helper()
	g, w := norm(got), norm(want)
	if !reflect.DeepEqual(g, w) {
		gj, _ := json.MarshalIndent(g, "", "  ")
		wj, _ := json.MarshalIndent(w, "", "  ")
		f.t.Fatalf("%s:\ngot  %s\nwant %s", what, gj, wj)
	}
}

func (f *fixture) create(e *escalation.Escalation) *escalation.Escalation {
	f.t.Helper()
	got, created, err := f.s.Create(f.ctx, e)
	if err != nil {
		f.t.Fatalf("Create(%s): %v", e.ID, err)
	}
	if !created {
		f.t.Fatalf("Create(%s): created = false for a new escalation", e.ID)
	}
	return got
}

func (f *fixture) get(id string) *escalation.Escalation {
	f.t.Helper()
	e, err := f.s.Get(f.ctx, id)
	if err != nil {
		f.t.Fatalf("Get(%s): %v", id, err)
	}
	return e
}

func ids(es []*escalation.Escalation) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func isNotFound(err error) bool { return chat.ErrorCode(err) == chat.CodeNotFound }

func testCreateGet(f *fixture) {
	in := sample("esc_full", "r_a", 4)
	in.ReportedBy = "u_rep"
	in.Reason = "sounds serious"
	in.AssignedTo = "sup9"
	in.Timeline = append(in.Timeline, escalation.Step{At: at(time.Millisecond), Kind: escalation.StepNotified,
		Actor: escalation.SystemActor, Detail: "tier 0", Recipients: []string{"sup1", "sup2"}})
	want := in.Clone()
	got := f.create(in)
	if got.ID != "esc_full" {
		f.t.Fatalf("Create kept ID %q, want esc_full", got.ID)
	}
	f.equal("Create result", got, want)
	f.equal("Get", f.get("esc_full"), want)

	// Neither the caller's value nor a returned one shares state with
	// the store.
	in.Timeline[0].Detail = "changed"
	in.Categories[0] = "x"
	got.Timeline[1].Recipients[0] = "changed"
	g := f.get("esc_full")
	f.equal("Get after callers changed their copies", g, want)
	g.Timeline[0].Detail = "mine"
	if f.get("esc_full").Timeline[0].Detail == "mine" {
		f.t.Fatal("Get returned shared state")
	}
	if g.LeaseOwner != "" || !g.LeaseUntil.IsZero() {
		f.t.Fatalf("new escalation has lease %q until %v", g.LeaseOwner, g.LeaseUntil)
	}

	// A concern about a person: no message, no context, few fields.
	c := &escalation.Escalation{ID: "esc_concern", Subject: "u_x", Source: escalation.SourceConcern,
		ReportedBy: "u_rep", Severity: crisis.High, Status: escalation.StatusAcknowledged, Tier: 2,
		CreatedAt: at(time.Hour), AckedAt: at(time.Hour + time.Second), ResolvedAt: time.Time{}}
	wantC := c.Clone()
	f.create(c)
	f.equal("Get concern", f.get("esc_concern"), wantC)
}

func testCreateDefaults(f *fixture) {
	e := sample("", "r_a", 1)
	e.CreatedAt = time.Time{}
	got := f.create(e)
	if got.ID == "" {
		f.t.Fatal("Create left the ID empty")
	}
	if got.CreatedAt.IsZero() {
		f.t.Fatal("Create left CreatedAt zero")
	}
	if g := f.get(got.ID); !g.CreatedAt.Equal(got.CreatedAt) {
		f.t.Fatalf("CreatedAt: Get %v, Create %v", g.CreatedAt, got.CreatedAt)
	}
	// A time in another zone comes back as the same instant in UTC.
	e2 := sample("esc_zone", "r_a", 2)
	e2.CreatedAt = at(time.Minute).In(time.FixedZone("Y", -5*3600))
	got2 := f.create(e2)
	if !got2.CreatedAt.Equal(at(time.Minute)) || got2.CreatedAt.Location() != time.UTC {
		f.t.Fatalf("CreatedAt = %v, want %v in UTC", got2.CreatedAt, at(time.Minute))
	}
}

func testCreateIdempotent(f *fixture) {
	first := sample("esc_1", "r_a", 5)
	first.Outbox = []escalation.Delivery{{ID: "whd_1", EscalationID: "esc_1", Event: "escalation.created", Body: []byte(`{}`), NextAttempt: at(0), CreatedAt: at(0)}}
	want := first.Clone()
	f.create(first)

	// Same ID.
	again := sample("esc_1", "r_b", 9)
	got, created, err := f.s.Create(f.ctx, again)
	if err != nil || created || got.ID != "esc_1" || got.Conv != "r_a" {
		f.t.Fatalf("Create(same ID) = %v, %v, %v; want the original, false, nil", got, created, err)
	}
	// Same message, another ID and another source: a message escalates
	// once.
	flag := sample("esc_2", "r_a", 5)
	flag.Source = escalation.SourceFlag
	flag.ReportedBy = "u_rep"
	flag.Severity = crisis.High
	flag.Outbox = []escalation.Delivery{{ID: "whd_2", EscalationID: "esc_2", Event: "escalation.created", Body: []byte(`{}`), NextAttempt: at(0), CreatedAt: at(0)}}
	got, created, err = f.s.Create(f.ctx, flag)
	if err != nil || created {
		f.t.Fatalf("Create(same message) = created %v, err %v; want the original", created, err)
	}
	f.equal("Create(same message)", got, want)
	if _, err := f.s.Get(f.ctx, "esc_2"); !isNotFound(err) {
		f.t.Fatalf("Get(esc_2) after a duplicate Create: %v, want not found", err)
	}
	// Nothing of the duplicate was written, its outbox included.
	ds, err := f.s.DueWebhooks(f.ctx, at(time.Hour), 10)
	if err != nil {
		f.t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].ID != "whd_1" {
		f.t.Fatalf("outbox after a duplicate Create: %v, want only whd_1", ds)
	}
	// Even once resolved, the same message does not escalate again.
	if _, err := f.s.Update(f.ctx, "esc_1", func(e *escalation.Escalation) error {
		e.Status = escalation.StatusResolved
		e.ResolvedAt = at(time.Minute)
		return nil
	}); err != nil {
		f.t.Fatal(err)
	}
	if got, created, err := f.s.Create(f.ctx, sample("esc_3", "r_a", 5)); err != nil || created || got.ID != "esc_1" {
		f.t.Fatalf("Create(resolved message) = %v, %v, %v; want esc_1, false", got.ID, created, err)
	}
	// Other messages, and the same seq in another conversation, are new.
	f.create(sample("esc_4", "r_a", 6))
	f.create(sample("esc_5", "r_b", 5))
	// Concerns are not tied to a message: each is its own escalation.
	for _, id := range []string{"esc_c1", "esc_c2"} {
		c := &escalation.Escalation{ID: id, Conv: "r_a", Subject: "u_x", Source: escalation.SourceConcern,
			ReportedBy: "u_rep", Severity: crisis.High, Status: escalation.StatusOpen, CreatedAt: at(0)}
		f.create(c)
	}
	// A conversation ID that embeds a separator must not collide.
	x := sample("esc_6", "r:1", 23)
	y := sample("esc_7", "r", 0)
	y.Message.Seq = 123
	y.Conv = "r:1:2"
	f.create(x)
	f.create(y)
}

func testCreateConcurrent(f *fixture) {
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	seen := map[string]bool{}
	for i := range n {
		wg.Go(func() {
			e := sample(fmt.Sprintf("esc_race%d", i), "r_race", 3)
			got, ok, err := f.s.Create(f.ctx, e)
			if err != nil {
				f.t.Errorf("Create: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if ok {
				created++
			}
			seen[got.ID] = true
		})
	}
	wg.Wait()
	if created != 1 || len(seen) != 1 {
		f.t.Fatalf("%d racing Creates of one message: %d created, IDs %v; want 1 and 1", n, created, seen)
	}
}

func testNotFound(f *fixture) {
	if _, err := f.s.Get(f.ctx, "esc_none"); !isNotFound(err) {
		f.t.Errorf("Get: %v, want not found", err)
	}
	called := false
	if _, err := f.s.Update(f.ctx, "esc_none", func(*escalation.Escalation) error { called = true; return nil }); !isNotFound(err) || called {
		f.t.Errorf("Update: %v (fn called %v), want not found and no call", err, called)
	}
	if _, err := f.s.TryLease(f.ctx, "esc_none", "n1", at(0), time.Second); !isNotFound(err) {
		f.t.Errorf("TryLease: %v, want not found", err)
	}
	if err := f.s.ReleaseLease(f.ctx, "esc_none", "n1"); err != nil {
		f.t.Errorf("ReleaseLease: %v, want nil", err)
	}
	if err := f.s.DeleteShift(f.ctx, "sh_none"); !isNotFound(err) {
		f.t.Errorf("DeleteShift: %v, want not found", err)
	}
	if err := f.s.MarkWebhook(f.ctx, "whd_none", true, time.Time{}, 1); !isNotFound(err) {
		f.t.Errorf("MarkWebhook: %v, want not found", err)
	}
}

func testUpdate(f *fixture) {
	f.create(sample("esc_u", "r_a", 2))
	step := escalation.Step{At: at(time.Minute), Kind: escalation.StepEscalated, Actor: escalation.SystemActor,
		Detail: "tier 1", Recipients: []string{"b1", "s1"}}
	got, err := f.s.Update(f.ctx, "esc_u", func(e *escalation.Escalation) error {
		if e.ID != "esc_u" || len(e.Timeline) != 1 {
			return fmt.Errorf("fn got %s with %d steps", e.ID, len(e.Timeline))
		}
		e.Severity = crisis.High
		e.Categories = []crisis.Category{crisis.SelfHarm}
		e.Evidence = nil
		e.Reason = "raised"
		e.Status = escalation.StatusAcknowledged
		e.Tier = 1
		e.AssignedTo = "s1"
		e.Outcome = "o"
		e.AckDeadline = time.Time{}
		e.AckedAt = at(2 * time.Minute)
		e.ResolvedAt = at(3 * time.Minute)
		e.Timeline = append(e.Timeline, step)
		// Fields Update does not store:
		e.Subject = "someone else"
		e.Conv = "r_other"
		e.Message.Body = "rewritten"
		e.Context = nil
		e.CreatedAt = at(time.Hour)
		e.LeaseOwner = "thief"
		e.LeaseUntil = at(time.Hour)
		e.Timeline[0].Detail = "rewritten history"
		return nil
	})
	if err != nil {
		f.t.Fatalf("Update: %v", err)
	}
	want := sample("esc_u", "r_a", 2)
	want.Severity = crisis.High
	want.Categories = []crisis.Category{crisis.SelfHarm}
	want.Evidence = nil
	want.Reason = "raised"
	want.Status = escalation.StatusAcknowledged
	want.Tier = 1
	want.AssignedTo = "s1"
	want.Outcome = "o"
	want.AckDeadline = time.Time{}
	want.AckedAt = at(2 * time.Minute)
	want.ResolvedAt = at(3 * time.Minute)
	want.Timeline = append(want.Timeline, step)
	f.equal("Update result", got, want)
	g := f.get("esc_u")
	f.equal("Get after Update", g, want)
	if g.LeaseOwner != "" {
		f.t.Fatalf("Update changed the lease to %q", g.LeaseOwner)
	}
	// Outbox deliveries are enqueued with the update.
	_, err = f.s.Update(f.ctx, "esc_u", func(e *escalation.Escalation) error {
		e.Timeline = append(e.Timeline, escalation.Step{At: at(4 * time.Minute), Kind: escalation.StepNote, Actor: "s1", Detail: "n"})
		e.Outbox = []escalation.Delivery{{ID: "whd_u", EscalationID: e.ID, Event: "escalation.note", Body: []byte(`{"a":1}`), NextAttempt: at(4 * time.Minute), CreatedAt: at(4 * time.Minute)}}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	ds, err := f.s.DueWebhooks(f.ctx, at(4*time.Minute), 10)
	if err != nil || len(ds) != 1 || ds[0].ID != "whd_u" || !bytes.Equal(ds[0].Body, []byte(`{"a":1}`)) {
		f.t.Fatalf("DueWebhooks after Update with Outbox = %v, %v; want whd_u", ds, err)
	}
	if g := f.get("esc_u"); len(g.Timeline) != 3 || g.Outbox != nil {
		f.t.Fatalf("after second Update: %d steps, outbox %v; want 3 and none", len(g.Timeline), g.Outbox)
	}
}

func testUpdateRefused(f *fixture) {
	want := sample("esc_r", "r_a", 2)
	f.create(want.Clone())
	boom := errors.New("boom")
	refuse := func(what string, fn func(*escalation.Escalation) error, wantErr error) {
		f.t.Helper()
		_, err := f.s.Update(f.ctx, "esc_r", fn)
		if err == nil || (wantErr != nil && !errors.Is(err, wantErr)) {
			f.t.Fatalf("Update (%s): err %v, want %v", what, err, wantErr)
		}
		f.equal("after refused Update ("+what+")", f.get("esc_r"), want)
		if ds, _ := f.s.DueWebhooks(f.ctx, at(time.Hour), 10); len(ds) != 0 {
			f.t.Fatalf("refused Update (%s) enqueued %d deliveries", what, len(ds))
		}
	}
	outbox := []escalation.Delivery{{ID: "whd_r", EscalationID: "esc_r", Event: "x", Body: []byte(`{}`), NextAttempt: at(0), CreatedAt: at(0)}}
	refuse("fn error", func(e *escalation.Escalation) error {
		e.Status = escalation.StatusResolved
		e.Timeline = append(e.Timeline, escalation.Step{At: at(time.Second), Kind: escalation.StepResolved})
		e.Outbox = outbox
		return boom
	}, boom)
	refuse("dropped step", func(e *escalation.Escalation) error {
		e.Timeline = e.Timeline[:0]
		e.Outbox = outbox
		return nil
	}, nil)
	refuse("invalid status", func(e *escalation.Escalation) error {
		e.Status = "lost"
		e.Outbox = outbox
		return nil
	}, nil)
}

func testUpdateConcurrent(f *fixture) {
	f.create(sample("esc_c", "r_a", 2))
	const writers, each = 8, 5
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				_, err := f.s.Update(f.ctx, "esc_c", func(e *escalation.Escalation) error {
					e.Tier++
					e.Timeline = append(e.Timeline, escalation.Step{At: at(time.Duration(w*each+i) * time.Second),
						Kind: escalation.StepNote, Actor: fmt.Sprint("w", w), Detail: fmt.Sprint(i)})
					return nil
				})
				if err != nil {
					f.t.Errorf("Update: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	g := f.get("esc_c")
	if g.Tier != -1+writers*each || len(g.Timeline) != 1+writers*each {
		f.t.Fatalf("after %d concurrent Updates: tier %d, %d steps; want %d and %d (an update was lost)",
			writers*each, g.Tier, len(g.Timeline), -1+writers*each, 1+writers*each)
	}
	// Each writer's steps are in its own order.
	last := map[string]string{}
	for _, s := range g.Timeline[1:] {
		if prev, ok := last[s.Actor]; ok && s.Detail <= prev {
			f.t.Fatalf("steps of %s out of order: %s after %s", s.Actor, s.Detail, prev)
		}
		last[s.Actor] = s.Detail
	}
}

func testList(f *fixture) {
	mk := func(id string, sev crisis.Severity, st escalation.Status, created time.Duration, subject string) {
		e := &escalation.Escalation{ID: id, Subject: subject, Source: escalation.SourceConcern, ReportedBy: "u_rep",
			Severity: sev, Status: st, CreatedAt: at(created),
			Timeline: []escalation.Step{{At: at(created), Kind: escalation.StepCreated, Actor: "u_rep"}}}
		f.create(e)
	}
	mk("esc_h_new", crisis.High, escalation.StatusOpen, 3*time.Minute, "u_a")
	mk("esc_i_new", crisis.Imminent, escalation.StatusOpen, 2*time.Minute, "u_b")
	mk("esc_h_old", crisis.High, escalation.StatusAcknowledged, 1*time.Minute, "u_a")
	mk("esc_c_old", crisis.Concern, escalation.StatusOpen, 0, "u_c")
	mk("esc_i_res", crisis.Imminent, escalation.StatusResolved, 4*time.Minute, "u_a")
	mk("esc_i_old", crisis.Imminent, escalation.StatusOpen, 1*time.Minute, "u_c")

	check := func(flt escalation.Filter, want ...string) {
		f.t.Helper()
		got, err := f.s.List(f.ctx, flt)
		if err != nil {
			f.t.Fatalf("List(%+v): %v", flt, err)
		}
		if !slices.Equal(ids(got), want) {
			f.t.Fatalf("List(%+v) = %v, want %v", flt, ids(got), want)
		}
		for _, e := range got {
			if len(e.Timeline) != 1 {
				f.t.Fatalf("List(%+v): %s has %d steps, want its timeline", flt, e.ID, len(e.Timeline))
			}
		}
	}
	// Unacknowledged first, then acknowledged, then resolved; then by
	// severity and age.
	check(escalation.Filter{}, "esc_i_old", "esc_i_new", "esc_h_new", "esc_c_old", "esc_h_old", "esc_i_res")
	check(escalation.Filter{Status: []escalation.Status{escalation.StatusOpen}}, "esc_i_old", "esc_i_new", "esc_h_new", "esc_c_old")
	// The limit keeps what nobody has acknowledged over what is more
	// severe but taken.
	check(escalation.Filter{Status: []escalation.Status{escalation.StatusOpen, escalation.StatusAcknowledged}, Limit: 3},
		"esc_i_old", "esc_i_new", "esc_h_new")
	check(escalation.Filter{Status: []escalation.Status{escalation.StatusResolved}}, "esc_i_res")
	check(escalation.Filter{Subject: "u_a"}, "esc_h_new", "esc_h_old", "esc_i_res")
	check(escalation.Filter{Subject: "u_a", Status: []escalation.Status{escalation.StatusOpen}}, "esc_h_new")
	check(escalation.Filter{Subject: "u_nobody"})
}

func testDue(f *fixture) {
	mk := func(id string, st escalation.Status, deadline time.Time) {
		e := sample(id, "r_"+id, 1)
		e.Status = st
		e.AckDeadline = deadline
		f.create(e)
	}
	mk("esc_d2", escalation.StatusOpen, at(2*time.Second))
	mk("esc_d1", escalation.StatusOpen, at(time.Second))
	mk("esc_d3", escalation.StatusOpen, at(3*time.Second))
	mk("esc_later", escalation.StatusOpen, at(time.Hour))
	mk("esc_acked", escalation.StatusAcknowledged, at(0))
	mk("esc_resolved", escalation.StatusResolved, at(0))
	mk("esc_nodeadline", escalation.StatusOpen, time.Time{})

	due := func(now time.Time, limit int, want ...string) {
		f.t.Helper()
		got, err := f.s.Due(f.ctx, now, limit)
		if err != nil {
			f.t.Fatalf("Due: %v", err)
		}
		if !slices.Equal(ids(got), want) {
			f.t.Fatalf("Due(%v, %d) = %v, want %v", now.Sub(base), limit, ids(got), want)
		}
	}
	due(at(0), 10)
	due(at(2*time.Second), 10, "esc_d1", "esc_d2") // deadline <= now
	due(at(10*time.Second), 10, "esc_d1", "esc_d2", "esc_d3")
	due(at(10*time.Second), 2, "esc_d1", "esc_d2")

	// A live lease hides an escalation; an expired one does not.
	if ok, err := f.s.TryLease(f.ctx, "esc_d1", "n1", at(5*time.Second), 10*time.Second); err != nil || !ok {
		f.t.Fatalf("TryLease = %v, %v", ok, err)
	}
	due(at(10*time.Second), 10, "esc_d2", "esc_d3")
	due(at(15*time.Second), 10, "esc_d1", "esc_d2", "esc_d3")
	if err := f.s.ReleaseLease(f.ctx, "esc_d1", "n1"); err != nil {
		f.t.Fatal(err)
	}
	due(at(10*time.Second), 10, "esc_d1", "esc_d2", "esc_d3")

	// Acknowledging takes it off the list.
	if _, err := f.s.Update(f.ctx, "esc_d2", func(e *escalation.Escalation) error {
		e.Status = escalation.StatusAcknowledged
		e.AckDeadline = time.Time{}
		return nil
	}); err != nil {
		f.t.Fatal(err)
	}
	due(at(10*time.Second), 10, "esc_d1", "esc_d3")
	got, _ := f.s.Due(f.ctx, at(10*time.Second), 10)
	if len(got) > 0 && len(got[0].Timeline) != 1 {
		f.t.Fatalf("Due returned %d steps, want the timeline", len(got[0].Timeline))
	}
}

func testLease(f *fixture) {
	f.create(sample("esc_l", "r_a", 1))
	try := func(node string, now time.Time, want bool) {
		f.t.Helper()
		ok, err := f.s.TryLease(f.ctx, "esc_l", node, now, 10*time.Second)
		if err != nil || ok != want {
			f.t.Fatalf("TryLease(%s, +%v) = %v, %v; want %v", node, now.Sub(base), ok, err, want)
		}
	}
	owner := func(want string, until time.Time) {
		f.t.Helper()
		g := f.get("esc_l")
		if g.LeaseOwner != want || !g.LeaseUntil.Equal(until) {
			f.t.Fatalf("lease = %q until +%v, want %q until +%v", g.LeaseOwner, g.LeaseUntil.Sub(base), want, until.Sub(base))
		}
	}
	try("n1", at(0), true)
	owner("n1", at(10*time.Second))
	try("n2", at(5*time.Second), false)
	try("n2", at(10*time.Second-1), false)
	try("n1", at(5*time.Second), true) // renewal
	owner("n1", at(15*time.Second))
	try("n2", at(14*time.Second), false)
	if err := f.s.ReleaseLease(f.ctx, "esc_l", "n2"); err != nil { // not n2's: nothing happens
		f.t.Fatal(err)
	}
	owner("n1", at(15*time.Second))
	try("n2", at(15*time.Second), true) // expired exactly now
	owner("n2", at(25*time.Second))
	try("n1", at(16*time.Second), false)
	if err := f.s.ReleaseLease(f.ctx, "esc_l", "n2"); err != nil {
		f.t.Fatal(err)
	}
	owner("", time.Time{})
	try("n1", at(17*time.Second), true)
	// Updates do not touch the lease.
	if _, err := f.s.Update(f.ctx, "esc_l", func(e *escalation.Escalation) error { e.Tier = 3; return nil }); err != nil {
		f.t.Fatal(err)
	}
	owner("n1", at(27*time.Second))
}

func testLeaseConcurrent(f *fixture) {
	f.create(sample("esc_lc", "r_a", 1))
	const nodes = 8
	var wg sync.WaitGroup
	var won sync.Map
	for i := range nodes {
		wg.Go(func() {
			node := fmt.Sprint("n", i)
			ok, err := f.s.TryLease(f.ctx, "esc_lc", node, at(0), time.Minute)
			if err != nil {
				f.t.Errorf("TryLease: %v", err)
			}
			if ok {
				won.Store(node, true)
			}
		})
	}
	wg.Wait()
	var winners []string
	won.Range(func(k, _ any) bool { winners = append(winners, k.(string)); return true })
	if len(winners) != 1 {
		f.t.Fatalf("%d nodes raced for a free lease; winners %v, want exactly one", nodes, winners)
	}
	if g := f.get("esc_lc"); g.LeaseOwner != winners[0] {
		f.t.Fatalf("lease owner %q, winner %q", g.LeaseOwner, winners[0])
	}
}

func testShifts(f *fixture) {
	s1, err := f.s.PutShift(f.ctx, escalation.Shift{Supervisor: "sup1", Tier: escalation.ShiftPrimary, Start: at(0), End: at(8 * time.Hour)})
	if err != nil || s1.ID == "" {
		f.t.Fatalf("PutShift = %+v, %v", s1, err)
	}
	s2, err := f.s.PutShift(f.ctx, escalation.Shift{ID: "sh_2", Supervisor: "sup2", Tier: escalation.ShiftBackup,
		Start: at(4 * time.Hour).In(time.FixedZone("Z", 7200)), End: at(12 * time.Hour)})
	if err != nil || s2.ID != "sh_2" {
		f.t.Fatalf("PutShift(sh_2) = %+v, %v", s2, err)
	}
	s3, err := f.s.PutShift(f.ctx, escalation.Shift{ID: "sh_3", Supervisor: "sup3", Tier: escalation.ShiftPrimary, Start: at(8 * time.Hour), End: at(16 * time.Hour)})
	if err != nil {
		f.t.Fatal(err)
	}
	list := func(from, to time.Time, want ...string) {
		f.t.Helper()
		got, err := f.s.ListShifts(f.ctx, from, to)
		if err != nil {
			f.t.Fatalf("ListShifts: %v", err)
		}
		var gotIDs []string
		for _, s := range got {
			gotIDs = append(gotIDs, s.ID)
		}
		if !slices.Equal(gotIDs, want) {
			f.t.Fatalf("ListShifts(+%v, +%v) = %v, want %v", from.Sub(base), to.Sub(base), gotIDs, want)
		}
	}
	list(time.Time{}, time.Time{}, s1.ID, "sh_2", "sh_3")
	list(at(8*time.Hour), time.Time{}, "sh_2", "sh_3") // s1 ends at 8h: not overlapping
	list(time.Time{}, at(4*time.Hour), s1.ID)          // sh_2 starts at 4h
	list(at(13*time.Hour), at(14*time.Hour), "sh_3")
	all, _ := f.s.ListShifts(f.ctx, time.Time{}, time.Time{})
	if got := all[1]; got.Supervisor != "sup2" || got.Tier != escalation.ShiftBackup ||
		!got.Start.Equal(at(4*time.Hour)) || got.Start.Location() != time.UTC || !got.End.Equal(at(12*time.Hour)) {
		f.t.Fatalf("stored shift = %+v", got)
	}

	// Replace by ID.
	s3.Supervisor = "sup4"
	s3.End = at(20 * time.Hour)
	if _, err := f.s.PutShift(f.ctx, s3); err != nil {
		f.t.Fatal(err)
	}
	all, _ = f.s.ListShifts(f.ctx, time.Time{}, time.Time{})
	if len(all) != 3 || all[2].Supervisor != "sup4" || !all[2].End.Equal(at(20*time.Hour)) {
		f.t.Fatalf("after replacing sh_3: %+v", all)
	}
	if err := f.s.DeleteShift(f.ctx, "sh_2"); err != nil {
		f.t.Fatal(err)
	}
	list(time.Time{}, time.Time{}, s1.ID, "sh_3")

	for _, bad := range []escalation.Shift{
		{Supervisor: "", Tier: escalation.ShiftPrimary, Start: at(0), End: at(time.Hour)},
		{Supervisor: "s", Tier: "tertiary", Start: at(0), End: at(time.Hour)},
		{Supervisor: "s", Tier: escalation.ShiftPrimary, Start: at(time.Hour), End: at(time.Hour)},
		{Supervisor: "s", Tier: escalation.ShiftPrimary, Start: time.Time{}, End: at(time.Hour)},
	} {
		if _, err := f.s.PutShift(f.ctx, bad); chat.ErrorCode(err) != chat.CodeInvalidField {
			f.t.Errorf("PutShift(%+v): %v, want invalid_field", bad, err)
		}
	}
	list(time.Time{}, time.Time{}, s1.ID, "sh_3")
}

func testOnCall(f *fixture) {
	put := func(id, sup string, tier escalation.ShiftTier, from, to time.Duration) {
		if _, err := f.s.PutShift(f.ctx, escalation.Shift{ID: id, Supervisor: sup, Tier: tier, Start: at(from), End: at(to)}); err != nil {
			f.t.Fatal(err)
		}
	}
	put("sh_a", "ann", escalation.ShiftPrimary, 0, 8*time.Hour)
	put("sh_b", "bob", escalation.ShiftPrimary, 6*time.Hour, 14*time.Hour) // overlap hand-over
	put("sh_a2", "ann", escalation.ShiftPrimary, 7*time.Hour, 9*time.Hour) // ann twice
	put("sh_c", "cat", escalation.ShiftBackup, 0, 24*time.Hour)
	oncall := func(t time.Duration, tier escalation.ShiftTier, want ...string) {
		f.t.Helper()
		got, err := f.s.OnCall(f.ctx, at(t), tier)
		if err != nil {
			f.t.Fatalf("OnCall: %v", err)
		}
		if !slices.Equal(got, want) {
			f.t.Fatalf("OnCall(+%v, %s) = %v, want %v", t, tier, got, want)
		}
	}
	oncall(-time.Nanosecond, escalation.ShiftPrimary)
	oncall(0, escalation.ShiftPrimary, "ann") // start inclusive
	oncall(7*time.Hour, escalation.ShiftPrimary, "ann", "bob")
	oncall(8*time.Hour, escalation.ShiftPrimary, "bob", "ann") // sh_a ended (exclusive); sh_b before sh_a2
	oncall(9*time.Hour, escalation.ShiftPrimary, "bob")
	oncall(14*time.Hour, escalation.ShiftPrimary)
	oncall(3*time.Hour, escalation.ShiftBackup, "cat")
	oncall(24*time.Hour, escalation.ShiftBackup)
}

func testWebhooks(f *fixture) {
	d1 := escalation.Delivery{ID: "whd_1", EscalationID: "esc_1", Event: "escalation.created",
		Body: []byte(`{"x":"\u00e9"}`), NextAttempt: at(0), CreatedAt: at(0)}
	d2 := escalation.Delivery{ID: "whd_2", EscalationID: "esc_1", Event: "escalation.notified",
		Body: []byte(`{}`), NextAttempt: at(2 * time.Second), CreatedAt: at(time.Second)}
	d3 := escalation.Delivery{EscalationID: "esc_2", Event: "escalation.created", Body: []byte(`{}`), CreatedAt: at(time.Second)}
	for _, d := range []escalation.Delivery{d2, d1, d3, d1} { // d1 twice: no-op
		if err := f.s.EnqueueWebhook(f.ctx, d); err != nil {
			f.t.Fatalf("EnqueueWebhook: %v", err)
		}
	}
	dueIDs := func(now time.Time, limit int) []escalation.Delivery {
		f.t.Helper()
		ds, err := f.s.DueWebhooks(f.ctx, now, limit)
		if err != nil {
			f.t.Fatalf("DueWebhooks: %v", err)
		}
		return ds
	}
	got := dueIDs(at(time.Second), 10)
	// d1 due at 0; d3 (no NextAttempt) due at its CreatedAt, 1s.
	if len(got) != 2 || got[0].ID != "whd_1" || got[1].EscalationID != "esc_2" || got[1].ID == "" {
		f.t.Fatalf("DueWebhooks(+1s) = %+v, want whd_1 then esc_2's", got)
	}
	if g := got[0]; !bytes.Equal(g.Body, d1.Body) || g.Event != d1.Event || g.EscalationID != "esc_1" ||
		g.Attempts != 0 || !g.CreatedAt.Equal(at(0)) || !g.NextAttempt.Equal(at(0)) {
		f.t.Fatalf("stored delivery = %+v, body %s", g, g.Body)
	}
	d3id := got[1].ID
	// Claimed: not due again before the claim runs out.
	if again := dueIDs(at(2*time.Second), 10); len(again) != 1 || again[0].ID != "whd_2" {
		f.t.Fatalf("DueWebhooks(+2s) after a claim = %+v, want only whd_2", again)
	}
	if again := dueIDs(at(time.Second+escalation.WebhookClaim), 10); len(again) != 2 {
		f.t.Fatalf("DueWebhooks after the claim expired = %+v, want whd_1 and %s", again, d3id)
	}
	// Outcomes.
	if err := f.s.MarkWebhook(f.ctx, "whd_1", true, time.Time{}, 0); err != nil {
		f.t.Fatal(err)
	}
	if err := f.s.MarkWebhook(f.ctx, "whd_2", false, at(time.Hour), 3); err != nil {
		f.t.Fatal(err)
	}
	if err := f.s.MarkWebhook(f.ctx, d3id, false, time.Time{}, 7); err != nil { // abandoned
		f.t.Fatal(err)
	}
	if ds := dueIDs(at(time.Hour-1), 10); len(ds) != 0 {
		f.t.Fatalf("due before whd_2's next attempt: %+v", ds)
	}
	ds := dueIDs(at(1000*time.Hour), 10)
	if len(ds) != 1 || ds[0].ID != "whd_2" || ds[0].Attempts != 3 || !ds[0].NextAttempt.Equal(at(time.Hour)) {
		f.t.Fatalf("due much later = %+v, want only whd_2 with 3 attempts", ds)
	}
	// Limit, and order by next attempt.
	for i := range 5 {
		if err := f.s.EnqueueWebhook(f.ctx, escalation.Delivery{ID: fmt.Sprint("whd_o", i), EscalationID: "e", Event: "x",
			Body: []byte("{}"), NextAttempt: at(time.Duration(5-i) * time.Minute), CreatedAt: at(0)}); err != nil {
			f.t.Fatal(err)
		}
	}
	ds = dueIDs(at(2000*time.Hour), 3)
	var order []string
	for _, d := range ds {
		order = append(order, d.ID)
	}
	if !slices.Equal(order, []string{"whd_o4", "whd_o3", "whd_o2"}) {
		f.t.Fatalf("DueWebhooks(limit 3) = %v, want the three oldest due", order)
	}
}

func testWebhooksOutbox(f *fixture) {
	e := sample("esc_ob", "r_a", 1)
	e.Outbox = []escalation.Delivery{
		{ID: "whd_a", EscalationID: "esc_ob", Event: "escalation.created", Body: []byte(`{"n":1}`), NextAttempt: at(0), CreatedAt: at(0)},
	}
	f.create(e)
	if _, err := f.s.Update(f.ctx, "esc_ob", func(e *escalation.Escalation) error {
		e.Outbox = []escalation.Delivery{{ID: "whd_b", EscalationID: "esc_ob", Event: "escalation.notified", Body: []byte(`{"n":2}`), NextAttempt: at(time.Second), CreatedAt: at(time.Second)}}
		return nil
	}); err != nil {
		f.t.Fatal(err)
	}
	if g := f.get("esc_ob"); g.Outbox != nil {
		f.t.Fatalf("Get returned an outbox: %v", g.Outbox)
	}
	ds, err := f.s.DueWebhooks(f.ctx, at(time.Second), 10)
	if err != nil || len(ds) != 2 || ds[0].ID != "whd_a" || ds[1].ID != "whd_b" || string(ds[1].Body) != `{"n":2}` {
		f.t.Fatalf("DueWebhooks = %+v, %v; want whd_a, whd_b", ds, err)
	}
}

func testWebhooksConcurrent(f *fixture) {
	const n = 40
	for i := range n {
		if err := f.s.EnqueueWebhook(f.ctx, escalation.Delivery{ID: fmt.Sprintf("whd_%02d", i), EscalationID: "e", Event: "x",
			Body: []byte("{}"), NextAttempt: at(0), CreatedAt: at(0)}); err != nil {
			f.t.Fatal(err)
		}
	}
	var mu sync.Mutex
	claimed := map[string]int{}
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			ds, err := f.s.DueWebhooks(f.ctx, at(time.Second), 10)
			if err != nil {
				f.t.Errorf("DueWebhooks: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, d := range ds {
				claimed[d.ID]++
			}
		})
	}
	wg.Wait()
	if len(claimed) != n {
		f.t.Fatalf("6 senders claiming 10 each claimed %d distinct deliveries, want all %d", len(claimed), n)
	}
	for id, c := range claimed {
		if c != 1 {
			f.t.Fatalf("delivery %s claimed %d times", id, c)
		}
	}
}
