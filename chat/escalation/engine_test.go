package escalation_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/escalation/escalationtest"
)

var t0 = time.Date(2031, 5, 6, 12, 0, 0, 0, time.UTC)

// call is one Notify the engine made.
type call struct {
	esc      string
	kind     escalation.StepKind
	tier     int
	to       []string
	deadline time.Time
	detail   string
}

// recNotifier records notifications. block, when set, makes Notify for
// pages (notified/escalated) wait until it is closed, ignoring ctx, as a
// hung or killed node would; entered receives a value once such a Notify
// has started.
type recNotifier struct {
	mu      sync.Mutex
	calls   []call
	online  []string
	err     error
	block   chan struct{}
	entered chan struct{}
	ch      chan call
	// noSession are recipients with no session that may receive pages
	// (offline, or signed in with a role below supervisor).
	noSession []string
}

func (n *recNotifier) Notify(ctx context.Context, e *escalation.Escalation, to []string, step escalation.Step) ([]string, error) {
	n.mu.Lock()
	block, entered := n.block, n.entered
	n.mu.Unlock()
	page := step.Kind == escalation.StepNotified || step.Kind == escalation.StepEscalated
	if block != nil && page {
		if entered != nil {
			entered <- struct{}{}
		}
		<-block
	}
	c := call{esc: e.ID, kind: step.Kind, tier: e.Tier, to: to, deadline: e.AckDeadline, detail: step.Detail}
	n.mu.Lock()
	n.calls = append(n.calls, c)
	err, ch := n.err, n.ch
	reached := slices.DeleteFunc(slices.Clone(to), func(u string) bool { return slices.Contains(n.noSession, u) })
	n.mu.Unlock()
	if ch != nil {
		ch <- c
	}
	if err != nil {
		return nil, err
	}
	return reached, nil
}

func (n *recNotifier) OnlineSupervisors(context.Context) ([]string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.online), nil
}

func (n *recNotifier) setOnline(ids ...string) {
	n.mu.Lock()
	n.online = ids
	n.mu.Unlock()
}

func (n *recNotifier) got() []call {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.calls)
}

// pages returns the notified/escalated calls.
func (n *recNotifier) pages() []call {
	var out []call
	for _, c := range n.got() {
		if c.kind == escalation.StepNotified || c.kind == escalation.StepEscalated {
			out = append(out, c)
		}
	}
	return out
}

type harness struct {
	t     *testing.T
	store escalation.Store
	mem   *escalation.MemoryStore
	clock *escalationtest.FakeClock
	n     *recNotifier
	eng   *escalation.Engine
	ctx   context.Context
}

type option func(*escalation.EngineConfig)

func newHarness(t *testing.T, rota bool, opts ...option) *harness {
	t.Helper()
	h := &harness{t: t, mem: escalation.NewMemoryStore(), clock: escalationtest.NewFakeClock(t0),
		n: &recNotifier{online: []string{"s1", "s2"}}, ctx: t.Context()}
	h.store = h.mem
	if rota {
		h.shift("p1", escalation.ShiftPrimary)
		h.shift("b1", escalation.ShiftBackup)
	}
	h.eng = h.engine("n1", h.store, h.n, opts...)
	return h
}

func (h *harness) shift(sup string, tier escalation.ShiftTier) {
	h.t.Helper()
	if _, err := h.mem.PutShift(h.ctx, escalation.Shift{Supervisor: sup, Tier: tier, Start: t0.Add(-time.Hour), End: t0.Add(24 * time.Hour)}); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) engine(node string, s escalation.Store, n escalation.Notifier, opts ...option) *escalation.Engine {
	h.t.Helper()
	cfg := escalation.EngineConfig{
		Store: s, Notifier: n, NodeID: node, Clock: h.clock,
		Logger:   slog.New(slog.DiscardHandler),
		Admins:   func(context.Context) ([]string, error) { return []string{"a1"}, nil },
		Webhooks: true, LinkBase: "https://kindred.test/esc/",
	}
	for _, o := range opts {
		o(&cfg)
	}
	eng, err := escalation.NewEngine(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	return eng
}

// detectorEsc is what the server would open for a detector verdict.
func detectorEsc(seq int64, sev crisis.Severity) *escalation.Escalation {
	var history []chat.Event
	for i := int64(1); i < seq; i++ {
		history = append(history, chat.Event{Conv: "r_group", Seq: i, Kind: chat.EventMessage, Sender: "u_other",
			Body: fmt.Sprint("message ", i), Time: t0.Add(-time.Duration(seq-i) * time.Second)})
	}
	return &escalation.Escalation{
		Conv: "r_group", ConvKind: chat.KindRoom, ConvName: "Evening group",
		Subject: "u_sam", SubjectName: "Sam", Source: escalation.SourceDetector,
		Severity: sev, Categories: []crisis.Category{crisis.Suicide},
		Evidence: []crisis.Span{{Start: 0, End: 11, Text: "secret text", Rule: "r1"}},
		Message:  chat.Event{Conv: "r_group", Seq: seq, Kind: chat.EventMessage, Sender: "u_sam", Name: "Sam", Body: "secret text tonight", Time: t0},
		Context:  history,
	}
}

func (h *harness) open(e *escalation.Escalation) *escalation.Escalation {
	h.t.Helper()
	got, err := h.eng.Open(h.ctx, e)
	if err != nil {
		h.t.Fatalf("Open: %v", err)
	}
	return got
}

func (h *harness) get(id string) *escalation.Escalation {
	h.t.Helper()
	e, err := h.store.Get(h.ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return e
}

func (h *harness) runOnce(eng *escalation.Engine, want int) {
	h.t.Helper()
	n, err := eng.RunOnce(h.ctx)
	if err != nil {
		h.t.Fatalf("RunOnce: %v", err)
	}
	if n != want {
		h.t.Fatalf("RunOnce advanced %d escalations at +%v, want %d", n, h.clock.Now().Sub(t0), want)
	}
}

// webhooks returns the payloads of the deliveries due by at, and marks them
// sent as a WebhookSender would.
func (h *harness) webhooks(at time.Time) []escalation.WebhookPayload {
	h.t.Helper()
	ds, err := h.store.DueWebhooks(h.ctx, at, 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []escalation.WebhookPayload
	for _, d := range ds {
		var p escalation.WebhookPayload
		if err := json.Unmarshal(d.Body, &p); err != nil {
			h.t.Fatalf("webhook body %s: %v", d.Body, err)
		}
		if p.Delivery != d.ID || p.Event != d.Event || p.EscalationID != d.EscalationID {
			h.t.Fatalf("payload %+v does not match delivery %+v", p, d)
		}
		out = append(out, p)
		if err := h.store.MarkWebhook(h.ctx, d.ID, true, time.Time{}, 0); err != nil {
			h.t.Fatal(err)
		}
	}
	return out
}

func events(ps []escalation.WebhookPayload) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Event)
	}
	return out
}

func kinds(e *escalation.Escalation) []escalation.StepKind {
	var out []escalation.StepKind
	for _, s := range e.Timeline {
		out = append(out, s.Kind)
	}
	return out
}

func last(e *escalation.Escalation) escalation.Step { return e.Timeline[len(e.Timeline)-1] }

func TestOpenNotifiesPrimary(t *testing.T) {
	h := newHarness(t, true)
	e := h.open(detectorEsc(42, crisis.Imminent))

	pages := h.n.pages()
	if len(pages) != 1 || pages[0].kind != escalation.StepNotified || !slices.Equal(pages[0].to, []string{"p1"}) || pages[0].tier != 0 {
		t.Fatalf("pages after Open = %+v, want one notified page to p1 at tier 0", pages)
	}
	if pages[0].deadline != t0.Add(60*time.Second) {
		t.Errorf("Notify saw deadline %v, want +60s", pages[0].deadline)
	}
	if e.Status != escalation.StatusOpen || e.Tier != 0 || !e.AckDeadline.Equal(t0.Add(60*time.Second)) || !e.CreatedAt.Equal(t0) {
		t.Fatalf("after Open: status %s, tier %d, deadline %v, created %v", e.Status, e.Tier, e.AckDeadline, e.CreatedAt)
	}
	if !slices.Equal(kinds(e), []escalation.StepKind{escalation.StepCreated, escalation.StepNotified}) {
		t.Fatalf("timeline %v", kinds(e))
	}
	if s := last(e); !slices.Equal(s.Recipients, []string{"p1"}) || !s.At.Equal(t0) || !strings.Contains(s.Detail, "tier 0") || !strings.Contains(s.Detail, "node n1") {
		t.Fatalf("notified step = %+v", s)
	}
	if len(e.Context) != escalation.MaxContext || e.Context[len(e.Context)-1].Seq != 41 {
		t.Fatalf("context: %d messages ending at seq %d; want the last %d before 42", len(e.Context), e.Context[len(e.Context)-1].Seq, escalation.MaxContext)
	}
	if e.LeaseOwner != "" {
		t.Fatalf("lease still held by %q after Open", e.LeaseOwner)
	}
	if got := events(h.webhooks(t0)); !slices.Equal(got, []string{"escalation.created", "escalation.notified"}) {
		t.Fatalf("webhooks after Open = %v", got)
	}
}

func TestNoAckEscalates(t *testing.T) {
	h := newHarness(t, true)
	e := h.open(detectorEsc(3, crisis.Imminent))
	h.webhooks(t0) // drain creation's

	h.clock.Advance(59 * time.Second)
	h.runOnce(h.eng, 0)
	if n := len(h.n.pages()); n != 1 {
		t.Fatalf("%d pages before the deadline, want 1", n)
	}

	type want struct {
		tier int
		to   []string
	}
	steps := []want{
		{1, []string{"p1", "b1", "s1", "s2"}},       // backup + everyone online (and the primary again)
		{2, []string{"p1", "b1", "s1", "s2", "a1"}}, // everyone again plus admins
		{3, []string{"p1", "b1", "s1", "s2", "a1"}}, // and again, every timeout, until someone acks
	}
	for i, w := range steps {
		h.clock.Advance(time.Second)
		if i > 0 {
			h.clock.Advance(59 * time.Second)
		}
		now := h.clock.Now()
		h.runOnce(h.eng, 1)
		pages := h.n.pages()
		p := pages[len(pages)-1]
		if len(pages) != i+2 || p.kind != escalation.StepEscalated || p.tier != w.tier || !slices.Equal(p.to, w.to) {
			t.Fatalf("step %d: pages %+v; want escalated tier %d to %v", i, pages, w.tier, w.to)
		}
		g := h.get(e.ID)
		if g.Tier != w.tier || !g.AckDeadline.Equal(now.Add(60*time.Second)) || g.Status != escalation.StatusOpen {
			t.Fatalf("step %d: tier %d, deadline +%v, status %s", i, g.Tier, g.AckDeadline.Sub(t0), g.Status)
		}
		if s := last(g); s.Kind != escalation.StepEscalated || !s.At.Equal(now) || !slices.Equal(s.Recipients, w.to) {
			t.Fatalf("step %d: timeline ends with %+v", i, s)
		}
		hooks := h.webhooks(now)
		if len(hooks) != 1 || hooks[0].Event != "escalation.escalated" || hooks[0].Tier != w.tier || hooks[0].Reached != len(w.to) ||
			hooks[0].AckDeadline == nil || !hooks[0].AckDeadline.Equal(now.Add(60*time.Second)) {
			t.Fatalf("step %d: webhooks %+v; want one escalated at tier %d", i, hooks, w.tier)
		}
		if hooks[0].URL != "https://kindred.test/esc/"+e.ID || hooks[0].Severity != crisis.Imminent || hooks[0].Subject != "u_sam" || hooks[0].Conv != "r_group" {
			t.Fatalf("step %d: payload %+v", i, hooks[0])
		}
	}
	// Running again at the same instant does nothing: the step is taken.
	h.runOnce(h.eng, 0)
}

func TestSeverityTimeouts(t *testing.T) {
	h := newHarness(t, true)
	// A flag without a severity counts as high: five minutes.
	flag := detectorEsc(7, crisis.None)
	flag.Source = escalation.SourceFlag
	flag.ReportedBy = "u_peer"
	e := h.open(flag)
	if e.Severity != crisis.High || !e.AckDeadline.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("flag without severity: %s, deadline +%v; want high, +5m", e.Severity, e.AckDeadline.Sub(t0))
	}
	// A concern says "concern": the policy has no concern timeout, so
	// it gets high's.
	c := h.open(&escalation.Escalation{Source: escalation.SourceConcern, Subject: "u_x", ReportedBy: "u_peer", Severity: crisis.Concern})
	if c.Severity != crisis.Concern || !c.AckDeadline.Equal(t0.Add(5*time.Minute)) || c.Message.Seq != 0 {
		t.Fatalf("concern: %s, deadline +%v", c.Severity, c.AckDeadline.Sub(t0))
	}
	// A policy may set its own.
	h2 := newHarness(t, true, func(c *escalation.EngineConfig) {
		c.Policy = escalation.Policy{AckTimeout: map[crisis.Severity]time.Duration{crisis.Concern: 20 * time.Minute}}
	})
	c2 := h2.open(&escalation.Escalation{Source: escalation.SourceConcern, Subject: "u_x", ReportedBy: "u_peer", Severity: crisis.Concern})
	if !c2.AckDeadline.Equal(t0.Add(20 * time.Minute)) {
		t.Fatalf("concern with a 20m policy: deadline +%v", c2.AckDeadline.Sub(t0))
	}
	if p := escalation.DefaultPolicy(); p.Timeout(crisis.Imminent) != time.Minute || p.Timeout(crisis.High) != 5*time.Minute || p.Timeout(crisis.Concern) != 5*time.Minute {
		t.Fatalf("default timeouts %v %v %v", p.Timeout(crisis.Imminent), p.Timeout(crisis.High), p.Timeout(crisis.Concern))
	}
}

func TestAckStopsEscalation(t *testing.T) {
	h := newHarness(t, true)
	e := h.open(detectorEsc(3, crisis.Imminent))
	h.clock.Advance(time.Minute)
	h.runOnce(h.eng, 1) // tier 1: p1, b1, s1, s2
	h.webhooks(h.clock.Now())

	h.clock.Advance(10 * time.Second)
	acked, err := h.eng.Ack(h.ctx, e.ID, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if acked.Status != escalation.StatusAcknowledged || acked.AssignedTo != "s1" || !acked.AckedAt.Equal(h.clock.Now()) || !acked.AckDeadline.IsZero() {
		t.Fatalf("after Ack: %+v", acked)
	}
	if s := last(acked); s.Kind != escalation.StepAcknowledged || s.Actor != "s1" {
		t.Fatalf("timeline ends with %+v", s)
	}
	// Everyone paged so far hears who has it.
	calls := h.n.got()
	if c := calls[len(calls)-1]; c.kind != escalation.StepAcknowledged || !slices.Equal(c.to, []string{"p1", "b1", "s2"}) {
		t.Fatalf("ack notification = %+v, want to p1, b1, s2", c)
	}
	if got := events(h.webhooks(h.clock.Now())); !slices.Equal(got, []string{"escalation.acknowledged"}) {
		t.Fatalf("webhooks after Ack = %v", got)
	}

	// No more pages, however long nobody resolves it.
	pages := len(h.n.pages())
	for range 10 {
		h.clock.Advance(5 * time.Minute)
		h.runOnce(h.eng, 0)
	}
	if n := len(h.n.pages()); n != pages {
		t.Fatalf("%d pages after Ack, want none", n-pages)
	}
	// Acknowledging again as s1 changes nothing; as someone else it is a
	// conflict.
	again, err := h.eng.Ack(h.ctx, e.ID, "s1")
	if err != nil || len(again.Timeline) != len(acked.Timeline) || !again.AckedAt.Equal(acked.AckedAt) {
		t.Fatalf("second Ack by s1 = %v; timeline %d steps, want %d", err, len(again.Timeline), len(acked.Timeline))
	}
	if _, err := h.eng.Ack(h.ctx, e.ID, "b1"); chat.ErrorCode(err) != chat.CodeConflict || !strings.Contains(err.Error(), "s1") {
		t.Fatalf("Ack by b1: %v, want a conflict naming s1", err)
	}
	if _, err := h.eng.Ack(h.ctx, "esc_nope", "s1"); chat.ErrorCode(err) != chat.CodeNotFound {
		t.Fatalf("Ack of an unknown escalation: %v", err)
	}
}

// TestAckWhileNotifying: a supervisor acknowledges while a node is sending
// the next page. The page is recorded (it went out) but does not reopen the
// escalation.
func TestAckWhileNotifying(t *testing.T) {
	h := newHarness(t, true)
	e := h.open(detectorEsc(3, crisis.Imminent))
	h.n.mu.Lock()
	h.n.block, h.n.entered = make(chan struct{}), make(chan struct{}, 1)
	h.n.mu.Unlock()
	h.clock.Advance(time.Minute)
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.eng.RunOnce(h.ctx)
	}()
	<-h.n.entered
	if _, err := h.eng.Ack(h.ctx, e.ID, "p1"); err != nil {
		t.Fatal(err)
	}
	close(h.n.block)
	<-done
	g := h.get(e.ID)
	if g.Status != escalation.StatusAcknowledged || !g.AckDeadline.IsZero() || g.AssignedTo != "p1" {
		t.Fatalf("after a page raced an Ack: status %s, deadline %v, assigned %q", g.Status, g.AckDeadline, g.AssignedTo)
	}
	want := []escalation.StepKind{escalation.StepCreated, escalation.StepNotified, escalation.StepAcknowledged, escalation.StepEscalated}
	if !slices.Equal(kinds(g), want) {
		t.Fatalf("timeline %v, want %v", kinds(g), want)
	}
}

func TestHandOffResolveTimeline(t *testing.T) {
	h := newHarness(t, true)
	e := h.open(detectorEsc(5, crisis.Imminent))
	id := e.ID
	tick := func() { h.clock.Advance(time.Second) }
	must := func(e *escalation.Escalation, err error) *escalation.Escalation {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return e
	}

	tick()
	ackAt := h.clock.Now()
	must(h.eng.Ack(h.ctx, id, "p1"))
	tick()
	must(h.eng.AddNote(h.ctx, id, "p1", "  reaching out now  "))
	tick()
	must(h.eng.JoinedRoom(h.ctx, id, "p1"))
	tick()
	must(h.eng.OpenedDM(h.ctx, id, "p1", "d_p1sam"))
	tick()
	if _, err := h.eng.HandOff(h.ctx, id, "b1", "s2"); chat.ErrorCode(err) != chat.CodeConflict {
		t.Fatalf("HandOff by someone who does not have it: %v, want conflict", err)
	}
	if _, err := h.eng.HandOff(h.ctx, id, "p1", "u_sam"); chat.ErrorCode(err) != chat.CodeInvalidField {
		t.Fatalf("HandOff to the person at risk: %v, want invalid", err)
	}
	handAt := h.clock.Now()
	ho := must(h.eng.HandOff(h.ctx, id, "p1", "s2"))
	// Not complete until s2 acknowledges: open again, with a deadline.
	if ho.Status != escalation.StatusOpen || ho.AssignedTo != "s2" || !ho.AckDeadline.Equal(handAt.Add(time.Minute)) {
		t.Fatalf("after HandOff: %s, assigned %q, deadline +%v", ho.Status, ho.AssignedTo, ho.AckDeadline.Sub(t0))
	}
	calls := h.n.got()
	if c := calls[len(calls)-1]; c.kind != escalation.StepHandedOff || !slices.Equal(c.to, []string{"s2"}) {
		t.Fatalf("handoff notification = %+v", c)
	}
	// s2 does not acknowledge in time: the engine escalates, and s2 is
	// paged along with everyone else.
	h.clock.Advance(time.Minute)
	h.runOnce(h.eng, 1)
	pages := h.n.pages()
	if p := pages[len(pages)-1]; p.tier != 1 || !slices.Equal(p.to, []string{"p1", "s2", "b1", "s1"}) {
		t.Fatalf("page after an unaccepted handoff = %+v", p)
	}
	tick()
	must(h.eng.Ack(h.ctx, id, "s2"))
	tick()
	if _, err := h.eng.Resolve(h.ctx, id, "s2", "  "); chat.ErrorCode(err) != chat.CodeInvalidField {
		t.Fatalf("Resolve without an outcome: %v", err)
	}
	resAt := h.clock.Now()
	r := must(h.eng.Resolve(h.ctx, id, "s2", "safe; family with them; follow-up tomorrow"))
	if r.Status != escalation.StatusResolved || !r.ResolvedAt.Equal(resAt) || r.Outcome != "safe; family with them; follow-up tomorrow" ||
		!r.AckedAt.Equal(ackAt) || r.AssignedTo != "s2" || !r.AckDeadline.IsZero() {
		t.Fatalf("after Resolve: %+v", r)
	}
	calls = h.n.got()
	if c := calls[len(calls)-1]; c.kind != escalation.StepResolved || !slices.Equal(c.to, []string{"p1", "b1", "s1"}) {
		// Everyone paged or handed it, minus s2 who resolved it.
		t.Fatalf("resolve notification = %+v", c)
	}
	if _, err := h.eng.Resolve(h.ctx, id, "s2", "again"); chat.ErrorCode(err) != chat.CodeConflict {
		t.Fatalf("second Resolve: %v, want conflict", err)
	}
	if _, err := h.eng.Ack(h.ctx, id, "s1"); chat.ErrorCode(err) != chat.CodeConflict {
		t.Fatalf("Ack after Resolve: %v, want conflict", err)
	}
	if _, err := h.eng.HandOff(h.ctx, id, "s2", "s1"); chat.ErrorCode(err) != chat.CodeConflict {
		t.Fatalf("HandOff after Resolve: %v, want conflict", err)
	}
	tick()
	must(h.eng.AddNote(h.ctx, id, "s2", "called back, doing ok"))

	g := h.get(id)
	want := []struct {
		kind   escalation.StepKind
		actor  string
		detail string
	}{
		{escalation.StepCreated, escalation.SystemActor, ""},
		{escalation.StepNotified, escalation.SystemActor, ""},
		{escalation.StepAcknowledged, "p1", ""},
		{escalation.StepNote, "p1", "reaching out now"},
		{escalation.StepJoinedRoom, "p1", "r_group"},
		{escalation.StepOpenedDM, "p1", "d_p1sam"},
		{escalation.StepHandedOff, "p1", "to s2"},
		{escalation.StepEscalated, escalation.SystemActor, ""},
		{escalation.StepAcknowledged, "s2", ""},
		{escalation.StepResolved, "s2", "safe; family with them; follow-up tomorrow"},
		{escalation.StepNote, "s2", "called back, doing ok"},
	}
	if len(g.Timeline) != len(want) {
		t.Fatalf("timeline %v, want %d steps", kinds(g), len(want))
	}
	for i, w := range want {
		s := g.Timeline[i]
		if s.Kind != w.kind || s.Actor != w.actor || (w.detail != "" && s.Detail != w.detail) {
			t.Errorf("step %d = %+v, want %s by %s %q", i, s, w.kind, w.actor, w.detail)
		}
		if i > 0 && s.At.Before(g.Timeline[i-1].At) {
			t.Errorf("step %d at %v is before step %d", i, s.At, i-1)
		}
	}
	got := events(h.webhooks(h.clock.Now()))
	wantHooks := []string{"escalation.created", "escalation.notified", "escalation.acknowledged", "escalation.handed_off",
		"escalation.escalated", "escalation.acknowledged", "escalation.resolved"}
	if !slices.Equal(got, wantHooks) {
		t.Fatalf("webhooks %v, want %v", got, wantHooks)
	}
}

func TestNobodyOnCall(t *testing.T) {
	h := newHarness(t, false) // empty rota; s1 and s2 online
	e := h.open(detectorEsc(3, crisis.High))
	pages := h.n.pages()
	if len(pages) != 1 || pages[0].kind != escalation.StepNotified || pages[0].tier != 1 || !slices.Equal(pages[0].to, []string{"s1", "s2"}) {
		t.Fatalf("pages with nobody on call = %+v; want tier 1 to every online supervisor at once", pages)
	}
	if e.Tier != 1 || !strings.Contains(last(e).Detail, "nobody on call as primary") || !e.AckDeadline.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("after Open: tier %d, last step %+v, deadline +%v", e.Tier, last(e), e.AckDeadline.Sub(t0))
	}
}

// TestSubjectNeverPaged: the person at risk is a supervisor who is the
// primary on call; they are not paged about themselves, so the engine
// goes to the next tier.
func TestSubjectNeverPaged(t *testing.T) {
	h := newHarness(t, false)
	h.shift("u_sam", escalation.ShiftPrimary)
	h.n.setOnline("u_sam", "s1")
	e := h.open(detectorEsc(3, crisis.Imminent))
	if p := h.n.pages(); len(p) != 1 || p[0].tier != 1 || !slices.Equal(p[0].to, []string{"s1"}) {
		t.Fatalf("pages = %+v; want tier 1 to s1 only", p)
	}
	if _, err := h.eng.HandOff(h.ctx, e.ID, "s1", "u_sam"); chat.ErrorCode(err) != chat.CodeInvalidField {
		t.Fatalf("HandOff to the subject: %v", err)
	}
}

func TestNobodyReachable(t *testing.T) {
	h := newHarness(t, false, func(c *escalation.EngineConfig) { c.Admins = nil })
	h.n.setOnline()
	e := h.open(detectorEsc(3, crisis.Imminent))

	if c := h.n.got(); len(c) != 0 {
		t.Fatalf("Notify called with nobody to notify: %+v", c)
	}
	// Recorded, said plainly, webhook fired, and retried soon rather than
	// after the full timeout.
	s := last(e)
	if e.Status != escalation.StatusOpen || s.Kind != escalation.StepNotified || len(s.Recipients) != 0 ||
		!strings.Contains(s.Detail, "NO SUPERVISOR REACHABLE") || !strings.Contains(s.Detail, "webhook sent") {
		t.Fatalf("after Open with nobody reachable: %s, step %+v", e.Status, s)
	}
	if !e.AckDeadline.Equal(t0.Add(escalation.DefaultUnreachedRetry)) {
		t.Fatalf("deadline +%v, want the %v retry", e.AckDeadline.Sub(t0), escalation.DefaultUnreachedRetry)
	}
	hooks := h.webhooks(t0)
	if len(hooks) != 2 || hooks[1].Event != "escalation.notified" || hooks[1].Reached != 0 {
		t.Fatalf("webhooks = %+v; want a notified event with reached 0", hooks)
	}
	// A supervisor comes online; the retry reaches them.
	h.n.setOnline("s9")
	h.clock.Advance(escalation.DefaultUnreachedRetry)
	h.runOnce(h.eng, 1)
	if p := h.n.pages(); len(p) != 1 || !slices.Equal(p[0].to, []string{"s9"}) || p[0].kind != escalation.StepEscalated {
		t.Fatalf("pages after s9 came online = %+v", p)
	}
	if g := h.get(e.ID); !g.AckDeadline.Equal(h.clock.Now().Add(time.Minute)) {
		t.Fatalf("deadline after reaching s9: +%v, want the normal timeout", g.AckDeadline.Sub(t0))
	}
}

func TestNotifyFailureRetriesSoon(t *testing.T) {
	h := newHarness(t, true)
	h.n.err = errors.New("push gateway down")
	e := h.open(detectorEsc(3, crisis.High))
	s := last(e)
	if !strings.Contains(s.Detail, "notify failed: push gateway down") || !e.AckDeadline.Equal(t0.Add(escalation.DefaultUnreachedRetry)) {
		t.Fatalf("after a failed Notify: step %+v, deadline +%v", s, e.AckDeadline.Sub(t0))
	}
}

// panicNotifier's bugs must not take the escalation path down.
type panicNotifier struct{}

func (panicNotifier) Notify(context.Context, *escalation.Escalation, []string, escalation.Step) ([]string, error) {
	panic("boom")
}
func (panicNotifier) OnlineSupervisors(context.Context) ([]string, error) { panic("boom") }

func TestNotifierPanics(t *testing.T) {
	h := newHarness(t, true)
	eng := h.engine("n1", h.store, panicNotifier{})
	e, err := eng.Open(h.ctx, detectorEsc(3, crisis.Imminent))
	if err != nil {
		t.Fatal(err)
	}
	if s := last(e); !strings.Contains(s.Detail, "panicked") || !e.AckDeadline.Equal(t0.Add(escalation.DefaultUnreachedRetry)) {
		t.Fatalf("after a panicking Notify: %+v", s)
	}
}

func TestOpenValidates(t *testing.T) {
	h := newHarness(t, true)
	bad := map[string]*escalation.Escalation{
		"no source":         {Subject: "u", Severity: crisis.High},
		"no subject":        {Source: escalation.SourceConcern, ReportedBy: "u", Severity: crisis.High},
		"flag, no message":  {Source: escalation.SourceFlag, Subject: "u", ReportedBy: "r", Conv: "r_x"},
		"flag, no reporter": {Source: escalation.SourceFlag, Subject: "u", Conv: "r_x", Message: chat.Event{Seq: 1}},
		"detector, none":    {Source: escalation.SourceDetector, Subject: "u", Conv: "r_x", Message: chat.Event{Seq: 1}},
		"other conv":        {Source: escalation.SourceDetector, Subject: "u", Conv: "r_x", Severity: crisis.High, Message: chat.Event{Conv: "r_y", Seq: 1}},
	}
	for name, e := range bad {
		if _, err := h.eng.Open(h.ctx, e); chat.ErrorCode(err) != chat.CodeInvalidField {
			t.Errorf("%s: Open = %v, want invalid_field", name, err)
		}
	}
	if n := len(h.n.got()); n != 0 {
		t.Fatalf("refused Opens notified %d times", n)
	}
	// Text is repaired, never a reason to drop an escalation.
	e := detectorEsc(3, crisis.Severity(9))
	e.Reason = strings.Repeat("x", escalation.MaxReasonLen+10) + "\x00"
	e.SubjectName = "S\x00am\xff"
	in := e.Clone()
	got := h.open(e)
	if got.Severity != crisis.Imminent || len(got.Reason) != escalation.MaxReasonLen || got.SubjectName != "Sam\uFFFD" {
		t.Fatalf("repaired: severity %s, reason %d bytes, name %q", got.Severity, len(got.Reason), got.SubjectName)
	}
	if e.SubjectName != in.SubjectName || e.ID != "" {
		t.Fatal("Open changed the caller's escalation")
	}
}

func TestOpenIdempotent(t *testing.T) {
	h := newHarness(t, true)
	first := h.open(detectorEsc(8, crisis.High))
	// Another node's detector, or a retry: same escalation, no new page.
	again := h.open(detectorEsc(8, crisis.High))
	if again.ID != first.ID || len(h.n.pages()) != 1 || len(again.Timeline) != len(first.Timeline) {
		t.Fatalf("second Open: %s (first %s), %d pages, timeline %v", again.ID, first.ID, len(h.n.pages()), kinds(again))
	}
	// A peer flags the same message as imminent: severity goes up and the
	// next step comes sooner; the people paged hear about it.
	h.clock.Advance(10 * time.Second)
	flag := detectorEsc(8, crisis.Imminent)
	flag.Source, flag.ReportedBy, flag.Categories = escalation.SourceFlag, "u_peer", []crisis.Category{crisis.Overdose}
	raised := h.open(flag)
	if raised.ID != first.ID || raised.Severity != crisis.Imminent || !raised.AckDeadline.Equal(h.clock.Now().Add(time.Minute)) ||
		!slices.Equal(raised.Categories, []crisis.Category{crisis.Suicide, crisis.Overdose}) {
		t.Fatalf("after a more severe flag: %s, deadline +%v, categories %v", raised.Severity, raised.AckDeadline.Sub(t0), raised.Categories)
	}
	if s := last(raised); s.Kind != escalation.StepNote || s.Actor != "u_peer" || !strings.Contains(s.Detail, "raised from high to imminent") {
		t.Fatalf("timeline ends with %+v", s)
	}
	calls := h.n.got()
	if c := calls[len(calls)-1]; c.kind != escalation.StepNote || !slices.Equal(c.to, []string{"p1"}) {
		t.Fatalf("raise notification = %+v", c)
	}
	// The same peer flagging again changes nothing.
	n := len(raised.Timeline)
	if g := h.open(flag); len(g.Timeline) != n {
		t.Fatalf("repeated flag added steps: %v", kinds(g))
	}
	// An ID given by the caller makes retries of a concern idempotent.
	c := &escalation.Escalation{ID: "esc_client1", Source: escalation.SourceConcern, Subject: "u_x", ReportedBy: "u_peer"}
	c1, c2 := h.open(c), h.open(c)
	if c1.ID != "esc_client1" || c2.ID != c1.ID || len(c2.Timeline) != len(c1.Timeline) {
		t.Fatalf("concern retried with its ID: %s/%s, %d/%d steps", c1.ID, c2.ID, len(c1.Timeline), len(c2.Timeline))
	}
}

// faultStore wraps a Store to simulate a dead node (every call fails), a
// stalled lease renewal, or a database that refuses writes.
type faultStore struct {
	escalation.Store
	dead       atomic.Bool
	stall      atomic.Pointer[chan struct{}] // TryLease waits on it
	updates    chan error                    // receives every Update's result
	failCreate error
}

var errDead = errors.New("node is dead")

func (f *faultStore) TryLease(ctx context.Context, id, node string, now time.Time, ttl time.Duration) (bool, error) {
	if f.dead.Load() {
		return false, errDead
	}
	if ch := f.stall.Load(); ch != nil {
		<-*ch
	}
	return f.Store.TryLease(ctx, id, node, now, ttl)
}

func (f *faultStore) Update(ctx context.Context, id string, fn func(*escalation.Escalation) error) (*escalation.Escalation, error) {
	if f.dead.Load() {
		return nil, errDead
	}
	e, err := f.Store.Update(ctx, id, fn)
	if f.updates != nil {
		f.updates <- err
	}
	return e, err
}

func (f *faultStore) ReleaseLease(ctx context.Context, id, node string) error {
	if f.dead.Load() {
		return errDead
	}
	return f.Store.ReleaseLease(ctx, id, node)
}

func (f *faultStore) Get(ctx context.Context, id string) (*escalation.Escalation, error) {
	if f.dead.Load() {
		return nil, errDead
	}
	return f.Store.Get(ctx, id)
}

func (f *faultStore) Create(ctx context.Context, e *escalation.Escalation) (*escalation.Escalation, bool, error) {
	if f.failCreate != nil {
		return nil, false, f.failCreate
	}
	return f.Store.Create(ctx, e)
}

func TestStoreDownStillNotifies(t *testing.T) {
	h := newHarness(t, true)
	fs := &faultStore{Store: h.mem, failCreate: errors.New("database unreachable")}
	eng := h.engine("n1", fs, h.n)
	if _, err := eng.Open(h.ctx, detectorEsc(3, crisis.Imminent)); err == nil {
		t.Fatal("Open succeeded without a store")
	}
	eng.Wait() // the last-resort page runs beside Open's error
	p := h.n.pages()
	if len(p) != 1 || !slices.Equal(p[0].to, []string{"s1", "s2"}) || !strings.Contains(p[0].detail, "NOT RECORDED") {
		t.Fatalf("pages with the store down = %+v; want every online supervisor told it is not recorded", p)
	}
}

func TestTwoEnginesOneStore(t *testing.T) {
	h := newHarness(t, true)
	n2 := &recNotifier{online: []string{"s1", "s2"}}
	e2 := h.engine("n2", h.store, n2)
	const n = 12
	var ids []string
	for i := range n {
		eng := h.eng
		if i%2 == 1 {
			eng = e2
		}
		e, err := eng.Open(h.ctx, detectorEsc(int64(10+i), crisis.Imminent))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	for round := 1; round <= 3; round++ {
		h.clock.Advance(time.Minute)
		var wg sync.WaitGroup
		var advanced atomic.Int64
		for _, eng := range []*escalation.Engine{h.eng, e2} {
			wg.Go(func() {
				k, err := eng.RunOnce(h.ctx)
				if err != nil {
					t.Error(err)
				}
				advanced.Add(int64(k))
			})
		}
		wg.Wait()
		if advanced.Load() != n {
			t.Fatalf("round %d: %d steps taken by two engines, want exactly %d", round, advanced.Load(), n)
		}
		for _, id := range ids {
			g := h.get(id)
			steps := 0
			for _, s := range g.Timeline {
				if s.Kind == escalation.StepEscalated {
					steps++
				}
			}
			if g.Tier != round || steps != round {
				t.Fatalf("round %d: %s at tier %d with %d escalated steps", round, id, g.Tier, steps)
			}
		}
	}
	// Each escalation was paged once per step, by one node or the other.
	perEsc := map[string]int{}
	for _, c := range append(h.n.pages(), n2.pages()...) {
		perEsc[c.esc]++
	}
	for _, id := range ids {
		if perEsc[id] != 4 {
			t.Errorf("%s paged %d times, want 4 (open + 3 steps)", id, perEsc[id])
		}
	}
}

// TestTakeoverAfterCrash: node A dies while sending a page. Node B cannot
// take the step while A's lease lives, and takes it once the lease expires.
func TestTakeoverAfterCrash(t *testing.T) {
	h := newHarness(t, true)
	fa := &faultStore{Store: h.mem}
	na := &recNotifier{online: []string{"s1"}, block: make(chan struct{}), entered: make(chan struct{}, 1)}
	a := h.engine("node-a", fa, na)
	nb := &recNotifier{online: []string{"s1"}}
	b := h.engine("node-b", h.mem, nb)

	e := h.open(detectorEsc(3, crisis.Imminent)) // via n1; tier 0 paged
	h.clock.Advance(time.Minute)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.RunOnce(h.ctx)
	}()
	<-na.entered // A holds the lease and is mid-page
	fa.dead.Store(true)

	h.runOnce(b, 0) // the lease is live: B must not touch it
	h.clock.Advance(escalation.DefaultLeaseTTL - time.Nanosecond)
	h.runOnce(b, 0)
	h.clock.Advance(time.Nanosecond)
	h.runOnce(b, 1)
	if p := nb.pages(); len(p) != 1 || p[0].tier != 1 {
		t.Fatalf("B's pages = %+v; want the tier 1 page", p)
	}
	close(na.block)
	<-done
	g := h.get(e.ID)
	var esc []escalation.Step
	for _, s := range g.Timeline {
		if s.Kind == escalation.StepEscalated {
			esc = append(esc, s)
		}
	}
	if len(esc) != 1 || !strings.Contains(esc[0].Detail, "node node-b") || g.Tier != 1 {
		t.Fatalf("escalated steps %+v, tier %d; want one, by node-b", esc, g.Tier)
	}
	if !g.AckDeadline.Equal(h.clock.Now().Add(time.Minute)) || g.LeaseOwner != "" {
		t.Fatalf("deadline +%v, lease %q", g.AckDeadline.Sub(t0), g.LeaseOwner)
	}
}

// TestFencing: node A's lease renewal stalls (a slow database call) while
// A is paging; B takes over after the lease expires. When A finally gets
// to record its step, the store refuses it: the step belongs to B.
func TestFencing(t *testing.T) {
	h := newHarness(t, true)
	fa := &faultStore{Store: h.mem, updates: make(chan error, 10)}
	na := &recNotifier{online: []string{"s1"}, block: make(chan struct{}), entered: make(chan struct{}, 1)}
	a := h.engine("node-a", fa, na)
	nb := &recNotifier{online: []string{"s1"}}
	b := h.engine("node-b", h.mem, nb)

	e := h.open(detectorEsc(3, crisis.Imminent))
	h.clock.Advance(time.Minute)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.RunOnce(h.ctx)
	}()
	<-na.entered
	stall := make(chan struct{})
	fa.stall.Store(&stall)
	h.clock.Advance(escalation.DefaultLeaseTTL) // A's renewal fires and stalls
	h.runOnce(b, 1)

	close(na.block) // A's page returns; A tries to record it
	if err := <-fa.updates; err == nil || !strings.Contains(err.Error(), "lease") {
		t.Fatalf("A's late Update: %v, want refused for a lost lease", err)
	}
	close(stall)
	<-done
	g := h.get(e.ID)
	n := 0
	for _, s := range g.Timeline {
		if s.Kind == escalation.StepEscalated {
			n++
			if !strings.Contains(s.Detail, "node-b") {
				t.Fatalf("escalated step by the wrong node: %+v", s)
			}
		}
	}
	if n != 1 {
		t.Fatalf("%d escalated steps, want 1: %v", n, kinds(g))
	}
}

// TestRun drives the real loop with the fake clock.
func TestRun(t *testing.T) {
	h := newHarness(t, true)
	h.n.ch = make(chan call, 10)
	e := h.open(detectorEsc(3, crisis.Imminent))
	<-h.n.ch // tier 0

	ctx, cancel := context.WithCancel(h.ctx)
	res := make(chan error, 1)
	go func() { res <- h.eng.Run(ctx) }()
	h.clock.WaitForTimers(t, 1) // Run is waiting for its next tick
	h.clock.Advance(time.Minute)
	c := <-h.n.ch
	if c.esc != e.ID || c.kind != escalation.StepEscalated || c.tier != 1 {
		t.Fatalf("Run paged %+v", c)
	}
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}

func TestNewEngineNeedsStoreAndNotifier(t *testing.T) {
	if _, err := escalation.NewEngine(escalation.EngineConfig{}); err == nil {
		t.Fatal("NewEngine without Store and Notifier succeeded")
	}
	eng, err := escalation.NewEngine(escalation.EngineConfig{Store: escalation.NewMemoryStore(), Notifier: &recNotifier{}})
	if err != nil || eng.NodeID() == "" {
		t.Fatalf("NewEngine with defaults = %v, node %q", err, eng.NodeID())
	}
}

// TestLeaseRenewedWhileDriving: a page that takes far longer than the
// lease (a slow push gateway) keeps its lease by renewal, so no other node
// takes the same step meanwhile.
func TestLeaseRenewedWhileDriving(t *testing.T) {
	h := newHarness(t, true)
	na := &recNotifier{online: []string{"s1"}, block: make(chan struct{}), entered: make(chan struct{}, 1)}
	a := h.engine("node-a", h.mem, na)
	nb := &recNotifier{online: []string{"s1"}}
	b := h.engine("node-b", h.mem, nb)

	e := h.open(detectorEsc(3, crisis.Imminent))
	h.clock.Advance(time.Minute)
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.RunOnce(h.ctx)
	}()
	<-na.entered
	for range 7 { // 7 renewal periods: well past two lease lifetimes
		h.clock.WaitForTimers(t, 1) // the renewer is waiting
		h.clock.Advance(escalation.DefaultLeaseTTL / 3)
	}
	h.clock.WaitForTimers(t, 1) // and has renewed after the last period
	h.runOnce(b, 0)
	close(na.block)
	<-done
	g := h.get(e.ID)
	if s := last(g); s.Kind != escalation.StepEscalated || !strings.Contains(s.Detail, "node node-a") || g.Tier != 1 {
		t.Fatalf("timeline ends with %+v (tier %d); want node-a's escalation", s, g.Tier)
	}
	if len(nb.got()) != 0 {
		t.Fatalf("node-b paged while node-a held the lease: %+v", nb.got())
	}
}

// TestPageReachingNoSessionGoesToNextTierAtOnce: the primary on call has
// no session that may receive pages (signed in as a peer, say), so tier 0
// does not count as paged and tier 1 is paged in the same step.
func TestPageReachingNoSessionGoesToNextTierAtOnce(t *testing.T) {
	h := newHarness(t, false)
	h.shift("u_rota", escalation.ShiftPrimary)
	h.shift("s2", escalation.ShiftBackup)
	h.n.setOnline("s2")
	h.n.noSession = []string{"u_rota"}
	e := h.open(detectorEsc(3, crisis.Imminent))
	p := h.n.pages()
	if len(p) != 2 || p[0].tier != 0 || !slices.Equal(p[0].to, []string{"u_rota"}) || p[1].tier != 1 || !slices.Contains(p[1].to, "s2") {
		t.Fatalf("pages = %+v; want tier 0 to u_rota, then tier 1 (with s2) at once", p)
	}
	if e.Tier != 1 || !e.AckDeadline.Equal(t0.Add(time.Minute)) {
		t.Fatalf("tier %d, deadline +%v; want tier 1 with the normal timeout", e.Tier, e.AckDeadline.Sub(t0))
	}
	steps := e.Timeline[len(e.Timeline)-2:]
	if steps[0].Kind != escalation.StepNotified || !strings.Contains(steps[0].Detail, "none of them has a session") ||
		steps[1].Kind != escalation.StepEscalated {
		t.Fatalf("timeline = %+v", steps)
	}
}

// TestOpenKeepsCallersDeadline: Open does not outlive the deadline its
// caller gave, even though it ignores the caller's cancellation.
func TestOpenKeepsCallersDeadline(t *testing.T) {
	h := newHarness(t, true)
	slow := &slowCreateStore{Store: h.mem}
	eng := h.engine("n1", slow, h.n)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := eng.Open(ctx, detectorEsc(3, crisis.Imminent))
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("Open with a store that hangs: err %v after %v; want an error at the caller's deadline", err, time.Since(start))
	}
	eng.Wait()
}

// slowCreateStore's Create hangs until its context ends.
type slowCreateStore struct{ escalation.Store }

func (s *slowCreateStore) Create(ctx context.Context, e *escalation.Escalation) (*escalation.Escalation, bool, error) {
	<-ctx.Done()
	return nil, false, ctx.Err()
}

// gatedLeases holds the first TryLease until gate is closed, after
// telling waiting that it has been asked.
type gatedLeases struct {
	escalation.Store
	once    sync.Once
	waiting chan struct{}
	gate    chan struct{}
}

func (g *gatedLeases) TryLease(ctx context.Context, id, node string, now time.Time, ttl time.Duration) (bool, error) {
	first := false
	g.once.Do(func() { first = true })
	if first {
		close(g.waiting)
		<-g.gate
	}
	return g.Store.TryLease(ctx, id, node, now, ttl)
}

// TestOpenAndTickPageOnce: a node's Run finds a new escalation due (no
// lease on it yet) while Open on the same node is about to take the lease
// and send the first page. A lease lets its holder take it again (that is
// how it is renewed), so it cannot keep one node's own goroutines apart:
// whichever comes second must see that the escalation is already being
// driven here and leave it, not page the same tier twice.
func TestOpenAndTickPageOnce(t *testing.T) {
	h := newHarness(t, true)
	h.n.block, h.n.entered = make(chan struct{}), make(chan struct{}, 2)
	g := &gatedLeases{Store: h.store, waiting: make(chan struct{}), gate: make(chan struct{})}
	eng := h.engine("n1", g, h.n)
	opened := make(chan *escalation.Escalation, 1)
	go func() {
		e, err := eng.Open(h.ctx, detectorEsc(7, crisis.Imminent))
		if err != nil {
			t.Error(err)
		}
		opened <- e
	}()
	<-g.waiting // recorded and due; Open is about to take the lease
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		eng.RunOnce(h.ctx)
	}()
	tickPaged := false
	select {
	case <-h.n.entered: // the tick holds the lease and sends the first page
		tickPaged = true
	case <-ticked: // the tick left it to Open
	}
	close(g.gate) // Open asks for the lease now
	var e *escalation.Escalation
	select {
	case e = <-opened:
	case <-h.n.entered:
		if tickPaged {
			t.Error("Open paged the tier the tick was paging")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Open neither returned nor paged")
	}
	close(h.n.block)
	<-ticked
	if e == nil {
		e = <-opened
	}
	if p := h.n.pages(); len(p) != 1 {
		t.Fatalf("%d pages, want 1: %+v", len(p), p)
	}
	if want := []escalation.StepKind{escalation.StepCreated, escalation.StepNotified}; !slices.Equal(kinds(h.get(e.ID)), want) {
		t.Fatalf("timeline %v, want %v", kinds(h.get(e.ID)), want)
	}
}
