package escalation

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"time"
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
	// For pages it returns the recipients reached: those with at least
	// one session whose current role may receive pages. A tier none of
	// whose recipients was reached does not count as paged: the engine
	// pages the next tier at once. An error means the notification may
	// not have reached everyone; the engine records it and retries pages
	// sooner. Notify gets a context with a timeout
	// (EngineConfig.NotifyTimeout) and must not keep e.
	Notify(ctx context.Context, e *Escalation, recipients []string, step Step) (reached []string, err error)
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
	bg     sync.WaitGroup // last-resort pages started by Open

	// The escalations this node is driving now. A lease keeps nodes
	// apart, but its holder may take it again (that is how it is
	// renewed), so Open's first step and a tick that found the
	// escalation due before Open leased it would both page the same tier.
	mu      sync.Mutex
	driving map[string]struct{}
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
		driving: make(map[string]struct{}),
		store:   cfg.Store,
		notify:  cfg.Notifier,
		policy:  cfg.Policy,
		node:    cfg.NodeID,
		clock:   cfg.Clock,
		log:     cfg.Logger,
		ttl:     cfg.LeaseTTL,
		tick:    cfg.Tick,
		ntime:   cfg.NotifyTimeout,
		admins:  cfg.Admins,
		hooks:   cfg.Webhooks,
		link:    cfg.LinkBase,
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
	if !eng.claim(id) {
		return false // this node is driving it already
	}
	defer eng.unclaim(id)
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

// claim marks id as driven by this node, unless it is already.
func (eng *Engine) claim(id string) bool {
	eng.mu.Lock()
	defer eng.mu.Unlock()
	if _, busy := eng.driving[id]; busy {
		return false
	}
	eng.driving[id] = struct{}{}
	return true
}

func (eng *Engine) unclaim(id string) {
	eng.mu.Lock()
	delete(eng.driving, id)
	eng.mu.Unlock()
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
