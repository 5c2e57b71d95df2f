package escalation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
)

// Notifier delivers notifications to supervisors. The chat server
// implements it (a frame to every session of each recipient, plus whatever
// push channel the deployment has).
type Notifier interface {
	// Notify tells recipients about escalation e. step says why:
	//   - StepNotified, StepEscalated: a page; the recipients must act
	//     (e.Tier and e.AckDeadline are the new values);
	//   - StepHandedOff: the single recipient was handed the escalation
	//     and must acknowledge it;
	//   - StepAcknowledged, StepResolved, StepNote (severity raised,
	//     flagged again): an update for people paged earlier, so that
	//     their alert can stop or change.
	// An error means the notification may not have reached everyone; the
	// engine records it and retries pages sooner. Notify gets a context
	// with a timeout (EngineConfig.NotifyTimeout) and must not keep e.
	Notify(ctx context.Context, e *Escalation, recipients []string, step Step) error
	// OnlineSupervisors returns the users with role supervisor or above
	// (admins included) who are connected now, on any node.
	OnlineSupervisors(ctx context.Context) ([]string, error)
}

// EngineConfig configures NewEngine. Store and Notifier are required.
type EngineConfig struct {
	Store    Store
	Notifier Notifier
	// Policy sets the acknowledgement timeouts; the zero Policy is
	// DefaultPolicy.
	Policy Policy
	// NodeID names this node in leases and timelines. It must differ
	// between nodes sharing a Store; the default is the host name plus a
	// random suffix.
	NodeID string
	// Clock defaults to SystemClock. Nodes sharing a Store must have
	// clocks in step to well within LeaseTTL (NTP does that).
	Clock  Clock
	Logger *slog.Logger // default slog.Default()
	// LeaseTTL is how long a node's claim on an escalation lasts without
	// renewal, hence how long a crashed node can delay one step. Default
	// 10s.
	LeaseTTL time.Duration
	// Tick is how often Run looks for due escalations, hence how late a
	// step may be. Default 1s.
	Tick time.Duration
	// NotifyTimeout bounds each Notify call. Default 10s.
	NotifyTimeout time.Duration
	// Admins lists the users paged from tier 2 on, online or not (the
	// last resort beyond the rota). Optional.
	Admins func(ctx context.Context) ([]string, error)
	// Webhooks makes the engine enqueue a webhook delivery at creation
	// and at each step; set it when a WebhookSender runs.
	Webhooks bool
	// LinkBase, when set, is prefixed to the escalation ID to give the
	// webhook's "url" (e.g. "https://kindred.example/supervise/#").
	LinkBase string
}

// Engine opens escalations, notifies supervisors, escalates unacknowledged
// ones tier by tier, and records supervisors' actions. It is safe for
// concurrent use; every node of a deployment runs one over the shared
// Store.
type Engine struct {
	store  Store
	notify Notifier
	policy Policy
	node   string
	clock  Clock
	log    *slog.Logger
	ttl    time.Duration
	tick   time.Duration
	ntime  time.Duration
	admins func(ctx context.Context) ([]string, error)
	hooks  bool
	link   string
}

// Engine defaults.
const (
	DefaultLeaseTTL      = 10 * time.Second
	DefaultTick          = time.Second
	DefaultNotifyTimeout = 10 * time.Second

	// dueBatch is how many due escalations one pass takes, and
	// maxParallel how many it advances at once: a slow Notify for one
	// crisis must not hold up another.
	dueBatch    = 64
	maxParallel = 16
)

// Text limits. Open repairs text rather than refusing it: an escalation
// must never be lost because a reason was too long or a name held a NUL.
const (
	MaxReasonLen  = 2000 // bytes
	MaxNoteLen    = 4000 // bytes
	MaxOutcomeLen = 2000 // bytes
	maxNameLen    = 200
	maxIDLen      = 200
)

// NewEngine returns an engine; it fails only when Store or Notifier is
// missing.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	if cfg.Store == nil || cfg.Notifier == nil {
		return nil, errors.New("escalation: NewEngine needs a Store and a Notifier")
	}
	e := &Engine{
		store:  cfg.Store,
		notify: cfg.Notifier,
		policy: cfg.Policy,
		node:   cfg.NodeID,
		clock:  cfg.Clock,
		log:    cfg.Logger,
		ttl:    cfg.LeaseTTL,
		tick:   cfg.Tick,
		ntime:  cfg.NotifyTimeout,
		admins: cfg.Admins,
		hooks:  cfg.Webhooks,
		link:   cfg.LinkBase,
	}
	if e.policy.AckTimeout == nil {
		e.policy.AckTimeout = DefaultPolicy().AckTimeout
	}
	if e.node == "" {
		host, _ := os.Hostname()
		e.node = NewID(host + "-")
	}
	if e.clock == nil {
		e.clock = SystemClock()
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.ttl <= 0 {
		e.ttl = DefaultLeaseTTL
	}
	if e.tick <= 0 {
		e.tick = DefaultTick
	}
	if e.ntime <= 0 {
		e.ntime = DefaultNotifyTimeout
	}
	return e, nil
}

// NodeID returns the name this engine uses in leases and timelines.
func (eng *Engine) NodeID() string { return eng.node }

// Open records a new escalation and notifies the first tier at once: the
// primary supervisor on call, or, when nobody is, the backup on call and
// every online supervisor. It returns once the escalation is durable and
// the first notification was attempted.
//
// In: Source, Subject, and for the detector and flag sources Conv and
// Message (Message.Seq identifies the message); ReportedBy for flags and
// concerns; optionally SubjectName, ConvKind, ConvName, Reason, Severity,
// Categories, Evidence, Context (the last MaxContext are kept). Flags and
// concerns without a severity count as high. Status, tier, times and the
// timeline are the engine's to set; an ID may be given to make retries of
// the same Open idempotent.
//
// A message escalates once: opening it again (another node, a retry, a
// second reporter) returns the existing escalation, raising its severity
// when the new report is more severe and noting a second reporter in the
// timeline.
//
// Open refuses (CodeInvalidField) only what makes an escalation
// meaningless: an unknown source, no subject, a flag without its message.
// An error from the Store means nothing was recorded; the caller must
// retry. Even then Open has already tried to tell every online supervisor.
func (eng *Engine) Open(ctx context.Context, in *Escalation) (*Escalation, error) {
	if in == nil {
		return nil, chat.Errorf(chat.CodeInvalidField, "no escalation")
	}
	// Once asked, Open finishes whatever the caller's context does: a
	// client that disconnects right after sending must not cancel the
	// record or the first page (nor leave the lease held until it
	// expires). It is still bounded, so a hung database cannot hang the
	// caller forever.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*eng.ntime+eng.ttl)
	defer cancel()
	now := eng.clock.Now()
	e := in.Clone()
	if err := prepare(e); err != nil {
		return nil, err
	}
	if e.ID == "" {
		e.ID = NewID("esc_")
	}
	e.Status = StatusOpen
	// Tier -1 and a deadline of now make the escalation due at once: if
	// this node dies before the first notification, any node's Run
	// sends it on its next tick.
	e.Tier = -1
	e.CreatedAt = now
	e.AckDeadline = now
	e.AckedAt, e.ResolvedAt = time.Time{}, time.Time{}
	e.AssignedTo, e.Outcome = "", ""
	e.LeaseOwner, e.LeaseUntil = "", time.Time{}
	actor := e.ReportedBy
	if actor == "" {
		actor = SystemActor
	}
	created := Step{At: now, Kind: StepCreated, Actor: actor,
		Detail: fmt.Sprintf("%s, %s, node %s", e.Source, e.Severity, eng.node)}
	e.Timeline = []Step{created}
	e.Outbox = eng.outbox(e, "escalation.created", now, 0)

	stored, isNew, err := eng.store.Create(ctx, e)
	if err != nil {
		eng.failOpen(ctx, e, err)
		return nil, fmt.Errorf("escalation: record: %w", err)
	}
	if !isNew {
		return eng.duplicate(ctx, stored, e, now)
	}
	eng.log.Info("escalation opened", "escalation", stored.ID, "severity", stored.Severity.String(),
		"source", string(stored.Source), "conv", stored.Conv)

	eng.drive(ctx, stored.ID)
	if cur, err := eng.store.Get(ctx, stored.ID); err == nil {
		return cur, nil
	}
	return stored, nil
}

// failOpen is the last resort when the escalation cannot be recorded (the
// database is down): tell every online supervisor anyway, since presence
// does not depend on the database, and make the failure loud.
func (eng *Engine) failOpen(ctx context.Context, e *Escalation, cause error) {
	eng.log.Error("escalation NOT RECORDED: store failed; notifying online supervisors directly",
		"escalation", e.ID, "severity", e.Severity.String(), "conv", e.Conv, "err", cause)
	// A fresh deadline: the store may have failed by using up Open's.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), eng.ntime)
	defer cancel()
	online, err := eng.online(ctx)
	if err != nil {
		eng.log.Error("escalation: online supervisors unavailable", "escalation", e.ID, "err", err)
	}
	online = without(online, e.Subject)
	if len(online) == 0 {
		eng.log.Error("escalation NOT RECORDED and NO SUPERVISOR REACHABLE", "escalation", e.ID)
		return
	}
	now := eng.clock.Now()
	v := e.Clone()
	v.Tier = 1
	step := Step{At: now, Kind: StepNotified, Actor: SystemActor, Recipients: online,
		Detail: "NOT RECORDED: the escalation store failed; node " + eng.node}
	v.Timeline = append(v.Timeline, step)
	if err := eng.call(ctx, v, online, step); err != nil {
		eng.log.Error("escalation: notify failed", "escalation", e.ID, "err", err)
	}
}

// duplicate handles an Open for a message that already escalated: a more
// severe report raises the severity (and brings the next step forward), a
// new reporter is noted; anything else (a retry, another node's detector)
// changes nothing.
func (eng *Engine) duplicate(ctx context.Context, old, in *Escalation, now time.Time) (*Escalation, error) {
	if !newsIn(old, in) {
		return old, nil
	}
	var step Step
	cur, err := eng.store.Update(ctx, old.ID, func(e *Escalation) error {
		if !newsIn(e, in) {
			return errNothingNew
		}
		actor := in.ReportedBy
		if actor == "" {
			actor = SystemActor
		}
		step = Step{At: now, Kind: StepNote, Actor: actor}
		raised := in.Severity > e.Severity && e.Status != StatusResolved
		switch {
		case raised:
			step.Detail = fmt.Sprintf("severity raised from %s to %s (%s)", e.Severity, in.Severity, in.Source)
			e.Severity = in.Severity
			for _, c := range in.Categories {
				if !slices.Contains(e.Categories, c) {
					e.Categories = append(e.Categories, c)
				}
			}
			if e.Status == StatusOpen {
				if d := now.Add(eng.policy.Timeout(e.Severity)); d.Before(e.AckDeadline) {
					e.AckDeadline = d
				}
			}
			e.Outbox = eng.outbox(e, "escalation.severity_raised", now, 0)
		case e.Status == StatusResolved:
			step.Detail = fmt.Sprintf("flagged again after resolution (%s, %s)", in.Source, in.Severity)
		default:
			step.Detail = fmt.Sprintf("also flagged (%s, %s)", in.Source, in.Severity)
		}
		e.Timeline = append(e.Timeline, step)
		return nil
	})
	if errors.Is(err, errNothingNew) {
		return eng.store.Get(ctx, old.ID)
	}
	if err != nil {
		// The escalation exists and is being handled; failing to add
		// the note must not fail the caller's flag.
		eng.log.Error("escalation: recording a repeated report failed", "escalation", old.ID, "err", err)
		return old, nil
	}
	// Tell the people involved so far: the assignee, or everyone paged
	// while nobody has it.
	to := cur.Recipients()
	if cur.AssignedTo != "" && cur.Status != StatusOpen {
		to = []string{cur.AssignedTo}
	}
	eng.tell(ctx, cur, without(to, cur.Subject), step)
	return cur, nil
}

var errNothingNew = errors.New("escalation: nothing new")

// newsIn reports whether report in adds something to escalation e: a higher
// severity while it is not resolved, or a person flagging it who has not
// reported it before.
func newsIn(e, in *Escalation) bool {
	if in.Severity > e.Severity && e.Status != StatusResolved {
		return true
	}
	if in.Source != SourceFlag || in.ReportedBy == "" || in.ReportedBy == e.ReportedBy {
		return false
	}
	for _, s := range e.Timeline {
		if (s.Kind == StepNote || s.Kind == StepCreated) && s.Actor == in.ReportedBy {
			return false
		}
	}
	return true
}

// prepare validates and repairs an escalation given to Open.
func prepare(e *Escalation) error {
	if !e.Source.Valid() {
		return chat.Errorf(chat.CodeInvalidField, "escalation source must be detector, flag or concern")
	}
	e.Subject = clean(e.Subject, maxIDLen)
	if e.Subject == "" {
		return chat.Errorf(chat.CodeInvalidField, "an escalation needs the user at risk (subject)")
	}
	e.Severity = min(e.Severity, crisis.Imminent)
	if e.Severity <= crisis.None {
		if e.Source == SourceDetector {
			return chat.Errorf(chat.CodeInvalidField, "a detector escalation needs a severity")
		}
		// A person who flags without saying how bad it is gets the
		// benefit of the doubt.
		e.Severity = crisis.High
	}
	e.ReportedBy = clean(e.ReportedBy, maxIDLen)
	if e.Source != SourceDetector && e.ReportedBy == "" {
		return chat.Errorf(chat.CodeInvalidField, "a flag or concern needs its reporter")
	}
	e.Conv = clean(e.Conv, maxIDLen)
	if e.Source.perMessage() {
		if e.Conv == "" || (e.Message.Seq <= 0 && !e.Held()) {
			return chat.Errorf(chat.CodeInvalidField, "a flagged message needs its conversation and sequence number")
		}
		if e.Message.Conv != "" && e.Message.Conv != e.Conv {
			return chat.Errorf(chat.CodeInvalidField, "the flagged message belongs to another conversation")
		}
	}
	if e.Message.Seq > 0 && e.Message.Conv == "" {
		e.Message.Conv = e.Conv
	}
	e.ConvName = clean(e.ConvName, maxNameLen)
	e.SubjectName = clean(e.SubjectName, maxNameLen)
	e.Reason = clean(e.Reason, MaxReasonLen)
	e.ConvKind = chat.ConversationKind(clean(string(e.ConvKind), maxNameLen))
	var cats []crisis.Category
	for _, c := range e.Categories {
		if c = crisis.Category(clean(string(c), maxNameLen)); c != "" && !slices.Contains(cats, c) {
			cats = append(cats, c)
		}
	}
	e.Categories = cats
	for i := range e.Evidence {
		e.Evidence[i].Text = clean(e.Evidence[i].Text, MaxReasonLen)
		e.Evidence[i].Rule = clean(e.Evidence[i].Rule, maxNameLen)
	}
	cleanEvent(&e.Message)
	if len(e.Context) > MaxContext {
		e.Context = e.Context[len(e.Context)-MaxContext:]
	}
	for i := range e.Context {
		cleanEvent(&e.Context[i])
	}
	e.Outbox = nil
	return nil
}

func cleanEvent(ev *chat.Event) {
	ev.Conv = clean(ev.Conv, maxIDLen)
	ev.Sender = clean(ev.Sender, maxIDLen)
	ev.Name = clean(ev.Name, maxNameLen)
	ev.ClientID = clean(ev.ClientID, maxIDLen)
	ev.Body = clean(ev.Body, 64<<10)
}

// clean makes s storable everywhere (valid UTF-8, no NUL) and at most max
// bytes, cut on a character boundary.
func clean(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "")
	}
	return s
}

// Run advances due escalations every Tick until ctx ends, then returns
// ctx.Err(). Every node runs it; leases make sure each step is taken by one.
func (eng *Engine) Run(ctx context.Context) error {
	for {
		if _, err := eng.RunOnce(ctx); err != nil && ctx.Err() == nil {
			eng.log.Error("escalation: looking for due escalations failed", "err", err)
		}
		t := eng.clock.NewTimer(eng.tick)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		}
	}
}

// RunOnce takes one pass of Run: it advances every escalation due now whose
// lease it wins, and reports how many it advanced. Tests call it directly.
func (eng *Engine) RunOnce(ctx context.Context) (int, error) {
	total := 0
	// More than a batch due at once (after an outage): keep going, but
	// not forever, so the caller's tick loop stays responsive.
	for range 16 {
		due, err := eng.store.Due(ctx, eng.clock.Now(), dueBatch)
		if err != nil {
			return total, err
		}
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			sem = make(chan struct{}, maxParallel)
		)
		for _, e := range due {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if eng.drive(ctx, e.ID) {
					mu.Lock()
					total++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(due) < dueBatch || ctx.Err() != nil {
			break
		}
	}
	return total, ctx.Err()
}

// errLeaseLost aborts a step whose lease another node took over.
var errLeaseLost = errors.New("escalation: lease lost to another node")

// drive takes the lease on escalation id, advances it if it is still due,
// and releases the lease. It reports whether it recorded a step.
func (eng *Engine) drive(ctx context.Context, id string) bool {
	now := eng.clock.Now()
	ok, err := eng.store.TryLease(ctx, id, eng.node, now, eng.ttl)
	if err != nil {
		eng.log.Error("escalation: lease failed", "escalation", id, "err", err)
		return false
	}
	if !ok {
		return false // another node drives it
	}
	stepCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { eng.renew(stepCtx, id, done, cancel) })
	defer func() {
		close(done)
		wg.Wait()
		cancel()
		// Release even when ctx ended, so the next node need not wait
		// for the lease to expire.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), eng.ttl)
		defer rcancel()
		if err := eng.store.ReleaseLease(rctx, id, eng.node); err != nil {
			eng.log.Warn("escalation: releasing lease failed (it will expire)", "escalation", id, "err", err)
		}
	}()

	// Read again under the lease: between Due and TryLease another node
	// may have taken this very step, or a supervisor acknowledged.
	e, err := eng.store.Get(stepCtx, id)
	if err != nil {
		eng.log.Error("escalation: read failed", "escalation", id, "err", err)
		return false
	}
	if e.Status != StatusOpen || e.AckDeadline.IsZero() || e.AckDeadline.After(now) {
		return false
	}
	if err := eng.advance(stepCtx, e); err != nil {
		if errors.Is(err, errLeaseLost) {
			eng.log.Warn("escalation: step abandoned, another node took over", "escalation", id)
		} else {
			eng.log.Error("escalation: recording a step failed (it will be retried)", "escalation", id, "err", err)
		}
		return false
	}
	return true
}

// renew keeps the lease alive while a step runs (Notify may be slow). If a
// renewal fails the step is cancelled: another node may be taking over,
// and fencing would refuse this node's write anyway.
func (eng *Engine) renew(ctx context.Context, id string, done <-chan struct{}, cancel context.CancelFunc) {
	for {
		t := eng.clock.NewTimer(eng.ttl / 3)
		select {
		case <-done:
			t.Stop()
			return
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		ok, err := eng.store.TryLease(ctx, id, eng.node, eng.clock.Now(), eng.ttl)
		if err != nil || !ok {
			eng.log.Warn("escalation: lease renewal failed; abandoning the step", "escalation", id, "err", err)
			cancel()
			return
		}
	}
}

// plan is who a step notifies.
type plan struct {
	tier       int
	recipients []string
	what       string   // who they are, for the timeline
	problems   []string // lookups that failed or came back empty
}

// recipients works out who tier t notifies at now. Lookup failures do not
// stop the step: a failed presence lookup must not keep the page from the
// on-call list, so they are noted and the step goes on with whoever is
// known.
func (eng *Engine) recipients(ctx context.Context, e *Escalation, t int, now time.Time) plan {
	p := plan{tier: t}
	lookup := func(what string, fn func() ([]string, error)) []string {
		ids, err := fn()
		if err != nil {
			eng.log.Error("escalation: recipient lookup failed", "escalation", e.ID, "lookup", what, "err", err)
			p.problems = append(p.problems, what+" lookup failed")
		}
		return without(ids, e.Subject) // never page the person at risk about themselves
	}
	primary := lookup("on-call primary", func() ([]string, error) { return eng.store.OnCall(ctx, now, ShiftPrimary) })
	// A handed-off escalation stays with its new supervisor until
	// someone acknowledges it.
	var assignee []string
	if e.AssignedTo != "" && e.AssignedTo != e.Subject {
		assignee = []string{e.AssignedTo}
	}
	if p.tier == 0 {
		if len(primary) > 0 {
			p.recipients = appendUnique(appendUnique(nil, primary...), assignee...)
			p.what = "tier 0: primary on call"
			return p
		}
		p.problems = append(p.problems, "nobody on call as primary")
		p.tier = 1
	}
	backup := lookup("on-call backup", func() ([]string, error) { return eng.store.OnCall(ctx, now, ShiftBackup) })
	online := lookup("online supervisors", func() ([]string, error) { return eng.online(ctx) })
	// The primary is paged again at every tier: not acknowledging may
	// mean they missed the first page, and a repeat costs nothing.
	p.recipients = appendUnique(appendUnique(appendUnique(appendUnique(nil, primary...), assignee...), backup...), online...)
	p.what = fmt.Sprintf("tier %d: primary and backup on call, online supervisors", p.tier)
	if p.tier >= 2 {
		p.what += ", admins"
		if eng.admins != nil {
			p.recipients = appendUnique(p.recipients, lookup("admins", func() ([]string, error) { return eng.admins(ctx) })...)
		}
	}
	return p
}

// online asks the Notifier for online supervisors, recovering from a panic
// in it: a bug there must not take the escalation path down with it.
func (eng *Engine) online(ctx context.Context) (ids []string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("escalation: OnlineSupervisors panicked: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, eng.ntime)
	defer cancel()
	return eng.notify.OnlineSupervisors(ctx)
}

// advance takes the next escalation step of e, which is open and due and
// whose lease this node holds: notify the next tier, then record the step
// (only if the lease is still ours) with its webhook and the next deadline.
//
// Notification comes before the record on purpose: if the node dies in
// between, the step is taken again by the next node (a repeated page),
// whereas recording first and dying would skip a page.
func (eng *Engine) advance(ctx context.Context, e *Escalation) error {
	now := eng.clock.Now()
	p := eng.recipients(ctx, e, max(e.Tier+1, 0), now)
	kind := StepEscalated
	if e.Tier < 0 {
		kind = StepNotified
	}
	timeout := eng.policy.Timeout(e.Severity)
	step := Step{At: now, Kind: kind, Actor: SystemActor, Recipients: p.recipients}

	view := e.Clone()
	view.Tier = p.tier
	view.AckDeadline = now.Add(timeout)
	var notifyErr error
	if len(p.recipients) > 0 {
		step.Detail = p.what
		notifyErr = eng.call(ctx, view, p.recipients, step)
	}
	reached := len(p.recipients) > 0 && notifyErr == nil
	deadline := now.Add(timeout)
	var detail []string
	if len(p.recipients) == 0 {
		// Said plainly in the timeline and the logs: this is the case
		// the whole package exists to make visible.
		msg := "NO SUPERVISOR REACHABLE at tier " + fmt.Sprint(p.tier)
		if eng.hooks {
			msg += "; webhook sent"
		} else {
			msg += "; no webhook configured"
		}
		detail = append(detail, msg)
		eng.log.Error("escalation: NO SUPERVISOR REACHABLE", "escalation", e.ID, "tier", p.tier,
			"severity", e.Severity.String(), "webhook", eng.hooks)
	} else {
		detail = append(detail, p.what)
	}
	if len(p.problems) > 0 {
		detail = append(detail, strings.Join(p.problems, ", "))
	}
	if notifyErr != nil {
		detail = append(detail, "notify failed: "+clean(notifyErr.Error(), 200))
		eng.log.Error("escalation: notify failed", "escalation", e.ID, "tier", p.tier, "err", notifyErr)
	}
	if !reached {
		deadline = now.Add(eng.policy.retry(e.Severity))
		detail = append(detail, "retry in "+deadline.Sub(now).String())
	}
	step.Detail = strings.Join(append(detail, "node "+eng.node), "; ")

	_, err := eng.store.Update(ctx, e.ID, func(cur *Escalation) error {
		// Fencing: if our lease expired and another node took the
		// escalation over, that node owns this step.
		if cur.LeaseOwner != eng.node {
			return errLeaseLost
		}
		cur.Timeline = append(cur.Timeline, step)
		// A supervisor may have acknowledged while we were notifying:
		// the page went out and is recorded, but it must not reopen the
		// escalation.
		if cur.Status == StatusOpen {
			cur.Tier = max(cur.Tier, p.tier)
			cur.AckDeadline = deadline
		}
		cur.Outbox = eng.outbox(cur, "escalation."+string(kind), now, len(p.recipients))
		return nil
	})
	if err == nil {
		eng.log.Info("escalation step", "escalation", e.ID, "kind", string(kind), "tier", p.tier,
			"recipients", len(p.recipients), "next", deadline)
	}
	return err
}

// call runs Notifier.Notify with a timeout, recovering from a panic in it.
func (eng *Engine) call(ctx context.Context, e *Escalation, to []string, step Step) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("escalation: Notify panicked: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, eng.ntime)
	defer cancel()
	return eng.notify.Notify(ctx, e.Clone(), slices.Clone(to), step)
}

// tell sends an informational notification after a recorded change. It is
// best effort: the change is recorded either way, and a failure is logged.
//
// It is called even with nobody to tell in particular: the Notifier also
// keeps every supervisor's queue current.
func (eng *Engine) tell(ctx context.Context, e *Escalation, to []string, step Step) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), eng.ntime)
	defer cancel()
	if err := eng.call(ctx, e, to, step); err != nil {
		eng.log.Warn("escalation: update notification failed", "escalation", e.ID, "step", string(step.Kind), "err", err)
	}
}

// Ack records that supervisor has the escalation: it stops escalating, and
// everyone paged so far is told who has it. Acknowledging again as the
// same supervisor changes nothing; an escalation acknowledged by someone
// else, or resolved, is refused with CodeConflict.
func (eng *Engine) Ack(ctx context.Context, id, supervisor string) (*Escalation, error) {
	if supervisor == "" {
		return nil, chat.Errorf(chat.CodeInvalidField, "who acknowledges?")
	}
	now := eng.clock.Now()
	var step Step
	var changed bool
	e, err := eng.store.Update(ctx, id, func(e *Escalation) error {
		switch e.Status {
		case StatusResolved:
			return chat.Errorf(chat.CodeConflict, "escalation %s is already resolved", e.ID)
		case StatusAcknowledged:
			if e.AssignedTo == supervisor {
				return nil
			}
			return chat.Errorf(chat.CodeConflict, "escalation %s is already acknowledged by %s", e.ID, e.AssignedTo)
		}
		changed = true
		step = Step{At: now, Kind: StepAcknowledged, Actor: supervisor, Detail: fmt.Sprintf("at tier %d", max(e.Tier, 0))}
		e.Status = StatusAcknowledged
		e.AssignedTo = supervisor
		if e.AckedAt.IsZero() {
			e.AckedAt = now
		}
		e.AckDeadline = time.Time{}
		e.Timeline = append(e.Timeline, step)
		e.Outbox = eng.outbox(e, "escalation.acknowledged", now, 0)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if changed {
		eng.log.Info("escalation acknowledged", "escalation", id, "by", supervisor)
		eng.tell(ctx, e, without(e.Recipients(), supervisor), step)
	}
	return e, nil
}

// AddNote appends a supervisor's note to the timeline (any status, so
// follow-up after resolution is recorded too).
func (eng *Engine) AddNote(ctx context.Context, id, supervisor, text string) (*Escalation, error) {
	text = strings.TrimSpace(text)
	if supervisor == "" || text == "" {
		return nil, chat.Errorf(chat.CodeInvalidField, "a note needs its author and text")
	}
	if len(text) > MaxNoteLen || !storable(text) {
		return nil, chat.Errorf(chat.CodeInvalidField, "a note must be at most %d bytes of valid text", MaxNoteLen)
	}
	return eng.record(ctx, id, Step{Kind: StepNote, Actor: supervisor, Detail: text})
}

// JoinedRoom records that supervisor joined the escalation's conversation.
// It does not acknowledge: that stays an explicit act (Ack), so the
// engine's promise "we keep escalating until a person acknowledges" has
// exactly one meaning.
func (eng *Engine) JoinedRoom(ctx context.Context, id, supervisor string) (*Escalation, error) {
	if supervisor == "" {
		return nil, chat.Errorf(chat.CodeInvalidField, "who joined?")
	}
	return eng.record(ctx, id, Step{Kind: StepJoinedRoom, Actor: supervisor})
}

// OpenedDM records that supervisor opened the one-on-one conversation dm
// with the person at risk. Like JoinedRoom it does not acknowledge.
func (eng *Engine) OpenedDM(ctx context.Context, id, supervisor, dm string) (*Escalation, error) {
	if supervisor == "" {
		return nil, chat.Errorf(chat.CodeInvalidField, "who opened the conversation?")
	}
	return eng.record(ctx, id, Step{Kind: StepOpenedDM, Actor: supervisor, Detail: clean(dm, maxIDLen)})
}

// record appends a step that changes nothing else.
func (eng *Engine) record(ctx context.Context, id string, step Step) (*Escalation, error) {
	step.At = eng.clock.Now()
	e, err := eng.store.Update(ctx, id, func(e *Escalation) error {
		if step.Kind == StepJoinedRoom {
			step.Detail = e.Conv
		}
		e.Timeline = append(e.Timeline, step)
		return nil
	})
	if err == nil {
		eng.tell(ctx, e, nil, step)
	}
	return e, err
}

// HandOff passes the escalation from supervisor from to supervisor to.
// A handoff is not complete until to acknowledges: the escalation becomes
// open again (assigned to to), to is notified at once, and if nobody
// acknowledges by the deadline the engine escalates as usual. An open
// escalation keeps its earlier deadline, so a handoff never delays a page.
// Refused with CodeConflict when the escalation is resolved or assigned to
// someone other than from.
func (eng *Engine) HandOff(ctx context.Context, id, from, to string) (*Escalation, error) {
	to = clean(to, maxIDLen)
	if from == "" || to == "" || from == to {
		return nil, chat.Errorf(chat.CodeInvalidField, "a handoff needs two different supervisors")
	}
	now := eng.clock.Now()
	var step Step
	e, err := eng.store.Update(ctx, id, func(e *Escalation) error {
		if e.Status == StatusResolved {
			return chat.Errorf(chat.CodeConflict, "escalation %s is already resolved", e.ID)
		}
		if e.AssignedTo != "" && e.AssignedTo != from {
			return chat.Errorf(chat.CodeConflict, "escalation %s is assigned to %s", e.ID, e.AssignedTo)
		}
		if to == e.Subject {
			return chat.Errorf(chat.CodeInvalidField, "cannot hand an escalation to the person at risk")
		}
		deadline := now.Add(eng.policy.Timeout(e.Severity))
		if e.Status == StatusOpen && !e.AckDeadline.IsZero() && e.AckDeadline.Before(deadline) {
			deadline = e.AckDeadline
		}
		step = Step{At: now, Kind: StepHandedOff, Actor: from, Detail: "to " + to, Recipients: []string{to}}
		e.Status = StatusOpen
		e.AssignedTo = to
		e.AckDeadline = deadline
		e.Tier = max(e.Tier, 0)
		e.Timeline = append(e.Timeline, step)
		e.Outbox = eng.outbox(e, "escalation.handed_off", now, 1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	eng.log.Info("escalation handed off", "escalation", id, "from", from, "to", to)
	eng.tell(ctx, e, []string{to}, step)
	return e, nil
}

// Resolve closes the escalation with outcome (what happened, written by the
// supervisor). Resolving an unacknowledged escalation also counts as its
// acknowledgement. Everyone paged so far is told. Refused with
// CodeConflict when it is already resolved.
func (eng *Engine) Resolve(ctx context.Context, id, supervisor, outcome string) (*Escalation, error) {
	outcome = strings.TrimSpace(outcome)
	if supervisor == "" || outcome == "" {
		return nil, chat.Errorf(chat.CodeInvalidField, "a resolution needs its supervisor and outcome")
	}
	if len(outcome) > MaxOutcomeLen || !storable(outcome) {
		return nil, chat.Errorf(chat.CodeInvalidField, "the outcome must be at most %d bytes of valid text", MaxOutcomeLen)
	}
	now := eng.clock.Now()
	var step Step
	e, err := eng.store.Update(ctx, id, func(e *Escalation) error {
		if e.Status == StatusResolved {
			return chat.Errorf(chat.CodeConflict, "escalation %s is already resolved", e.ID)
		}
		step = Step{At: now, Kind: StepResolved, Actor: supervisor, Detail: outcome}
		e.Status = StatusResolved
		e.Outcome = outcome
		e.ResolvedAt = now
		if e.AckedAt.IsZero() {
			e.AckedAt = now
		}
		if e.AssignedTo == "" {
			e.AssignedTo = supervisor
		}
		e.AckDeadline = time.Time{}
		e.Timeline = append(e.Timeline, step)
		e.Outbox = eng.outbox(e, "escalation.resolved", now, 0)
		return nil
	})
	if err != nil {
		return nil, err
	}
	eng.log.Info("escalation resolved", "escalation", id, "by", supervisor)
	eng.tell(ctx, e, without(e.Recipients(), supervisor), step)
	return e, nil
}

// Get returns one escalation, or ErrNotFound.
func (eng *Engine) Get(ctx context.Context, id string) (*Escalation, error) {
	return eng.store.Get(ctx, id)
}

// List returns escalations matching f, most severe and oldest first.
func (eng *Engine) List(ctx context.Context, f Filter) ([]*Escalation, error) {
	return eng.store.List(ctx, f)
}

// without returns ids minus drop, as a new slice.
func without(ids []string, drop string) []string {
	var out []string
	for _, id := range ids {
		if id != drop && id != "" {
			out = appendUnique(out, id)
		}
	}
	return out
}
