package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/hub"
	"github.com/kindred-health/kindred/chat/protocol"
	"github.com/kindred-health/kindred/chat/webpush"
)

// Escalation is the crisis path a node runs, built by NewEscalation (or by
// hand) and given to the server in Config.
type Escalation struct {
	// Store keeps escalations and the on-call rota.
	Store escalation.Store
	// Engine opens and advances escalations; it pages through Pager.
	Engine *escalation.Engine
	// Pager is the Engine's Notifier.
	Pager *Pager
	// Webhook, when set, posts every step to an external paging system.
	Webhook *escalation.WebhookSender
}

// EscalationOptions configure NewEscalation.
type EscalationOptions struct {
	Store    escalation.Store // required
	Users    chat.Store       // required: who is a supervisor or an admin
	Broker   chat.Broker      // required
	Presence chat.Presence    // required
	Policy   escalation.Policy
	NodeID   string
	Logger   *slog.Logger
	// WebhookURL, when set, is told about every escalation step, with
	// "timestamp.body" signed by WebhookSecret (HMAC-SHA256). It must be
	// https unless WebhookAllowHTTP (development); redirects are not
	// followed.
	WebhookURL       string
	WebhookSecret    string
	WebhookAllowHTTP bool
}

// NewEscalation builds the escalation machinery of one node: a Pager over
// the node's broker and presence, an Engine that pages through it, and
// the webhook sender when a URL is set.
func NewEscalation(o EscalationOptions) (*Escalation, error) {
	if o.Store == nil || o.Users == nil || o.Broker == nil || o.Presence == nil {
		return nil, errors.New("server: NewEscalation needs Store, Users, Broker and Presence")
	}
	if o.WebhookURL != "" {
		if err := escalation.CheckWebhookURL(o.WebhookURL, o.WebhookAllowHTTP); err != nil {
			return nil, err
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	p := NewPager(o.Users, o.Broker, o.Presence, o.Logger)
	eng, err := escalation.NewEngine(escalation.EngineConfig{
		Store: o.Store, Notifier: p, Policy: o.Policy, NodeID: o.NodeID,
		Logger: o.Logger, Admins: p.Admins, Webhooks: o.WebhookURL != "",
	})
	if err != nil {
		return nil, err
	}
	e := &Escalation{Store: o.Store, Engine: eng, Pager: p}
	if o.WebhookURL != "" {
		e.Webhook = &escalation.WebhookSender{URL: o.WebhookURL, Secret: []byte(o.WebhookSecret), AllowHTTP: o.WebhookAllowHTTP, Store: o.Store,
			Client: &http.Client{Timeout: 15 * time.Second}, Logger: o.Logger, NodeID: eng.NodeID()}
	}
	return e, nil
}

// pagesChannel carries escalation pages and queue news for one user. Only
// sessions whose current role may receive pages subscribe to it (the
// permission table's receive_pages), so a supervisor signed in elsewhere
// with a peer token never sees an escalation there.
func pagesChannel(user string) string { return "pages:" + user }

// pagerKey is the presence key under which a user's sessions that may
// receive pages are counted: a page reached someone only when such a
// session is connected, on any node.
func pagerKey(user string) string { return "pager:" + user }

// Pager implements escalation.Notifier over the broker: pages and queue
// news go to the recipients' pages channels on every node, and only to
// sessions whose role may receive them. The subject of an escalation is
// never sent it.
type Pager struct {
	users    chat.Store
	broker   chat.Broker
	presence chat.Presence
	log      *slog.Logger
	// local delivers on this node when the broker fails (set by the
	// server that runs the pager).
	local atomic.Pointer[hub.Hub]
	// notes follows each step into the subject's support note (the
	// server that runs the pager).
	notes atomic.Pointer[Server]
	// push, when set, tells each paged recipient's browsers by Web Push
	// (set by the server that runs the pager).
	push atomic.Pointer[webpush.Sender]
}

// NewPager returns a pager; the server it is given to attaches its hub.
func NewPager(users chat.Store, broker chat.Broker, presence chat.Presence, log *slog.Logger) *Pager {
	return &Pager{users: users, broker: broker, presence: presence, log: log}
}

func (p *Pager) attach(s *Server) {
	p.local.Store(s.hub)
	p.notes.Store(s)
}

func (p *Pager) attachPush(s *webpush.Sender) { p.push.Store(s) }

// pushPayload is all a Web Push notice says: that an escalation waits,
// which one and how severe. Never its text, its people or its room: the
// notice leaves the deployment through a push service.
type pushPayload struct {
	Type     string `json:"type"`
	ID       string `json:"id"`
	Severity string `json:"severity"`
}

// pushPage queues a Web Push notice of e for each of to, connected or
// not (a tab may be open on one device and closed on another). It only
// queues: the sender's workers do the network.
func (p *Pager) pushPage(e *escalation.Escalation, to []string) {
	s := p.push.Load()
	if s == nil || len(to) == 0 {
		return
	}
	payload, _ := json.Marshal(pushPayload{Type: "escalation", ID: e.ID, Severity: e.Severity.String()})
	for _, r := range to {
		s.Notify(r, payload)
	}
}

// Notify implements escalation.Notifier. A page goes to each recipient
// (never the subject) who has a session that may receive pages; those are
// the recipients reached. Every such supervisor's queue then gets the news,
// and the subject's support note follows the step.
func (p *Pager) Notify(ctx context.Context, e *escalation.Escalation, recipients []string, step escalation.Step) ([]string, error) {
	reached, err := p.notify(ctx, e, recipients, step)
	if s := p.notes.Load(); s != nil {
		s.supportStep(ctx, e, step, len(reached), err)
	}
	return reached, err
}

func (p *Pager) notify(ctx context.Context, e *escalation.Escalation, recipients []string, step escalation.Step) ([]string, error) {
	var reached []string
	if step.Kind == escalation.StepNotified || step.Kind == escalation.StepEscalated || step.Kind == escalation.StepHandedOff {
		to := without(recipients, e.Subject)
		p.pushPage(e, to)
		live, err := p.reachable(ctx, to)
		if err != nil {
			// Presence does not answer (Redis down): page everyone, so
			// that this node's own sessions get it at least, and report
			// the failure, so the engine tries again sooner and wider.
			p.pageAll(ctx, to, e, step)
			return nil, err
		}
		data := protocol.Encode(protocol.EscalationFrame{Type: protocol.TypeEscalation, Page: true, Step: step, Escalation: e})
		for _, r := range live {
			if err := p.send(ctx, r, data); err != nil {
				// A page that may not have arrived counts as failed, so
				// the engine tries again sooner.
				return reached, err
			}
			reached = append(reached, r)
		}
	}
	return reached, p.news(ctx, e, step)
}

// pageAll pages every one of to without knowing who is connected.
func (p *Pager) pageAll(ctx context.Context, to []string, e *escalation.Escalation, step escalation.Step) {
	data := protocol.Encode(protocol.EscalationFrame{Type: protocol.TypeEscalation, Page: true, Step: step, Escalation: e})
	for _, r := range to {
		_ = p.send(ctx, r, data)
	}
}

// news keeps every online supervisor's escalation queue current.
func (p *Pager) news(ctx context.Context, e *escalation.Escalation, step escalation.Step) error {
	sups, err := p.OnlineSupervisors(ctx)
	if err != nil {
		return err
	}
	data := protocol.Encode(protocol.EscalationFrame{Type: protocol.TypeEscalation, Step: step, Escalation: e})
	for _, u := range without(sups, e.Subject) {
		if err := p.send(ctx, u, data); err != nil {
			p.log.Warn("escalation news not published", "escalation", e.ID, "err", err)
		}
	}
	return nil
}

// send publishes to user's pages channel; when the broker fails, this
// node's sessions still get it.
func (p *Pager) send(ctx context.Context, user string, data []byte) error {
	pub := &chat.Publication{Channel: pagesChannel(user), Data: data}
	err := p.broker.Publish(ctx, pub)
	if err != nil {
		if h := p.local.Load(); h != nil {
			h.HandlePublication(pub)
		}
	}
	return err
}

// reachable keeps the users with a session that may receive pages.
func (p *Pager) reachable(ctx context.Context, users []string) ([]string, error) {
	if len(users) == 0 {
		return nil, nil
	}
	keys := make([]string, len(users))
	for i, u := range users {
		keys[i] = pagerKey(u)
	}
	online, err := p.presence.Online(ctx, keys)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(slices.Clone(users), func(u string) bool { return !online[pagerKey(u)] }), nil
}

// OnlineSupervisors implements escalation.Notifier: supervisors and admins
// with a session that may receive pages, on any node.
func (p *Pager) OnlineSupervisors(ctx context.Context) ([]string, error) {
	users, err := p.users.UsersByRole(ctx, string(auth.RoleSupervisor), string(auth.RoleAdmin))
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	return p.reachable(ctx, ids)
}

// Admins lists every admin, online or not: the engine's last tier.
func (p *Pager) Admins(ctx context.Context) ([]string, error) {
	users, err := p.users.UsersByRole(ctx, string(auth.RoleAdmin))
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	return ids, nil
}

func without(ids []string, drop string) []string {
	return slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == drop })
}
