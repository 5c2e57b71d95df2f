package escalation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/kindred-health/kindred/chat/crisis"
)

// WebhookPayload is the JSON body of every webhook delivery.
//
// It deliberately carries no message text, evidence, reason, notes or
// names: the webhook leaves the clinic's systems (a paging service, a chat
// integration, an incident tool), and what a person in crisis wrote is
// health information that must stay where access is controlled and
// audited. The receiver gets what it needs to page someone loudly and a
// link back into Kindred, where a signed-in supervisor sees the rest.
type WebhookPayload struct {
	// Delivery is the delivery ID (also in X-Kindred-Delivery): the
	// sender delivers at least once, so receivers deduplicate on it.
	Delivery     string            `json:"delivery"`
	Event        string            `json:"event"`
	EscalationID string            `json:"escalation_id"`
	Status       Status            `json:"status"`
	Severity     crisis.Severity   `json:"severity"`
	Categories   []crisis.Category `json:"categories"`
	Source       Source            `json:"source"`
	Conv         string            `json:"conv,omitempty"`
	Subject      string            `json:"subject"`
	Tier         int               `json:"tier"`
	// AckDeadline is when the next escalation step is due (open only).
	AckDeadline *time.Time `json:"ack_deadline,omitempty"`
	// Reached is how many supervisors this step notified; 0 on a
	// notified or escalated event means nobody could be reached, which a
	// pager should treat as its loudest alert.
	Reached    int       `json:"reached"`
	AssignedTo string    `json:"assigned_to,omitempty"`
	At         time.Time `json:"at"`
	// URL points at the escalation in Kindred's supervisor UI.
	URL string `json:"url,omitempty"`
}

// outbox returns the webhook delivery for an event of e, or nil when
// webhooks are off.
func (eng *Engine) outbox(e *Escalation, event string, now time.Time, reached int) []Delivery {
	if !eng.hooks {
		return nil
	}
	d := Delivery{ID: NewID("whd_"), EscalationID: e.ID, Event: event, NextAttempt: now, CreatedAt: now}
	p := WebhookPayload{
		Delivery:     d.ID,
		Event:        event,
		EscalationID: e.ID,
		Status:       e.Status,
		Severity:     e.Severity,
		Categories:   e.Categories,
		Source:       e.Source,
		Conv:         e.Conv,
		Subject:      e.Subject,
		Tier:         max(e.Tier, 0),
		Reached:      reached,
		AssignedTo:   e.AssignedTo,
		At:           now.UTC(),
	}
	if p.Categories == nil {
		p.Categories = []crisis.Category{}
	}
	if e.Status == StatusOpen && !e.AckDeadline.IsZero() {
		t := e.AckDeadline.UTC()
		p.AckDeadline = &t
	}
	if eng.link != "" {
		p.URL = eng.link + e.ID
	}
	body, err := json.Marshal(p)
	if err != nil {
		// Only an invalid severity can fail; send what is certain
		// rather than nothing.
		eng.log.Error("escalation: webhook body", "escalation", e.ID, "err", err)
		body = fmt.Appendf(nil, `{"delivery":%q,"event":%q,"escalation_id":%q}`, d.ID, event, e.ID)
	}
	d.Body = body
	return []Delivery{d}
}

// Webhook backoff: the n-th failed attempt (n >= 1) waits BackoffBase <<
// (n-1), capped at BackoffMax: 1s, 2s, 4s, ... 5 min, 5 min, ...
const (
	BackoffBase = time.Second
	BackoffMax  = 5 * time.Minute
)

// Backoff returns the wait after the n-th consecutive failure.
func Backoff(n int) time.Duration {
	d := BackoffBase
	for i := 1; i < n && d < BackoffMax; i++ {
		d *= 2
	}
	return min(d, BackoffMax)
}

// WebhookSender delivers the webhook outbox. Every node may run one over the
// shared Store: DueWebhooks claims deliveries, so each is POSTed by one
// sender at a time. Delivery is at least once (a sender that dies after the
// POST but before recording it lets another sender retry), hence the
// delivery ID for receivers to deduplicate on.
type WebhookSender struct {
	// URL receives a POST per delivery.
	URL string
	// Secret keys the HMAC signature. Required: an unsigned crisis
	// alert could be forged by anyone who learns the URL.
	Secret []byte
	// AllowHTTP lets URL be plain http (development only): otherwise it
	// must be https, since the body and its signature cross networks.
	AllowHTTP bool
	// Client defaults to a client with a 10s timeout.
	Client *http.Client
	Store  Store
	Clock  Clock        // default SystemClock
	Logger *slog.Logger // default slog.Default()
	// Interval is how often Run polls the outbox. Default 1s.
	Interval time.Duration
	// MaxAge abandons a delivery still failing this long after it was
	// created: an alert from yesterday is noise, not help. Default 24h.
	MaxAge time.Duration
	// NodeID names this node in timeline steps.
	NodeID string
}

// Run delivers due webhooks every Interval until ctx ends, then returns
// ctx.Err().
func (w *WebhookSender) Run(ctx context.Context) error {
	if err := w.check(); err != nil {
		return err
	}
	for {
		if _, err := w.RunOnce(ctx); err != nil && ctx.Err() == nil {
			w.logger().Error("escalation: webhook outbox failed", "err", err)
		}
		t := w.clock().NewTimer(w.interval())
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C():
		}
	}
}

func (w *WebhookSender) check() error {
	if w.URL == "" || len(w.Secret) == 0 || w.Store == nil {
		return errors.New("escalation: WebhookSender needs a URL, a Secret and a Store")
	}
	return CheckWebhookURL(w.URL, w.AllowHTTP)
}

func (w *WebhookSender) clock() Clock {
	if w.Clock == nil {
		return SystemClock()
	}
	return w.Clock
}

func (w *WebhookSender) logger() *slog.Logger {
	if w.Logger == nil {
		return slog.Default()
	}
	return w.Logger
}

func (w *WebhookSender) interval() time.Duration {
	if w.Interval <= 0 {
		return time.Second
	}
	return w.Interval
}

var defaultWebhookClient = &http.Client{Timeout: 10 * time.Second}

// webhookBatch bounds one pass; the POSTs of a batch run in parallel so all
// of them finish well within WebhookClaim even when the receiver is slow.
const webhookBatch = 16

// RunOnce claims the deliveries due now, POSTs them (in parallel) and
// records each outcome; it reports how many were sent. Tests call it
// directly.
func (w *WebhookSender) RunOnce(ctx context.Context) (int, error) {
	if err := w.check(); err != nil {
		return 0, err
	}
	due, err := w.Store.DueWebhooks(ctx, w.clock().Now(), webhookBatch)
	if err != nil {
		return 0, err
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		sent int
		errs []error
	)
	for _, d := range due {
		wg.Go(func() {
			ok, err := w.deliver(ctx, d)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				sent++
			}
			if err != nil {
				errs = append(errs, err)
			}
		})
	}
	wg.Wait()
	return sent, errors.Join(errs...)
}

// deliver POSTs one delivery and records the outcome in the outbox and in
// the escalation's timeline.
func (w *WebhookSender) deliver(ctx context.Context, d Delivery) (bool, error) {
	status, postErr := w.post(ctx, d)
	now := w.clock().Now()
	node := ""
	if w.NodeID != "" {
		node = "; node " + w.NodeID
	}
	if postErr == nil {
		if err := w.Store.MarkWebhook(ctx, d.ID, true, time.Time{}, d.Attempts); err != nil {
			// Not recorded: another sender will post it again after
			// the claim, which receivers deduplicate.
			return true, fmt.Errorf("escalation: webhook %s sent but not recorded: %w", d.ID, err)
		}
		w.step(ctx, d, Step{At: now, Kind: StepWebhookSent, Actor: SystemActor,
			Detail: fmt.Sprintf("%s %s, HTTP %d, attempt %d%s", d.ID, d.Event, status, d.Attempts+1, node)})
		return true, nil
	}
	attempts := d.Attempts + 1
	next := now.Add(Backoff(attempts))
	maxAge := w.MaxAge
	if maxAge <= 0 {
		maxAge = 24 * time.Hour
	}
	abandon := !d.CreatedAt.IsZero() && next.Sub(d.CreatedAt) > maxAge
	if abandon {
		next = time.Time{}
	}
	w.logger().Warn("escalation: webhook failed", "delivery", d.ID, "escalation", d.EscalationID,
		"attempt", attempts, "err", postErr, "abandoned", abandon)
	if err := w.Store.MarkWebhook(ctx, d.ID, false, next, attempts); err != nil {
		return false, fmt.Errorf("escalation: webhook %s: recording failure: %w", d.ID, err)
	}
	// Record failures on attempts 1, 2, 4, 8, ... and when giving up: a
	// receiver down for hours must not bury the timeline under hundreds
	// of identical steps, yet the timeline must show that it is failing.
	if abandon || attempts&(attempts-1) == 0 {
		what := "retry in " + Backoff(attempts).String()
		if abandon {
			what = "abandoned"
		}
		w.step(ctx, d, Step{At: now, Kind: StepWebhookFail, Actor: SystemActor,
			Detail: fmt.Sprintf("%s %s, attempt %d: %s; %s%s", d.ID, d.Event, attempts, clean(postErr.Error(), 200), what, node)})
	}
	return false, nil
}

// step appends a webhook step to the escalation's timeline, best effort.
func (w *WebhookSender) step(ctx context.Context, d Delivery, s Step) {
	if d.EscalationID == "" {
		return
	}
	_, err := w.Store.Update(ctx, d.EscalationID, func(e *Escalation) error {
		e.Timeline = append(e.Timeline, s)
		return nil
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		w.logger().Warn("escalation: recording a webhook step failed", "delivery", d.ID, "err", err)
	}
}

// post sends d, signed with the time of this attempt; any status but 2xx
// is a failure, a redirect included: it is not followed, so the signed
// body goes nowhere but URL.
func (w *WebhookSender) post(ctx context.Context, d Delivery) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(d.Body))
	if err != nil {
		return 0, err
	}
	ts := strconv.FormatInt(w.clock().Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Kindred-Webhook/1")
	req.Header.Set(TimestampHeader, ts)
	req.Header.Set(SignatureHeader, Sign(w.Secret, ts, d.Body))
	req.Header.Set(DeliveryHeader, d.ID)
	req.Header.Set(EventHeader, d.Event)
	c := *defaultWebhookClient
	if w.Client != nil {
		c = *w.Client
	}
	c.CheckRedirect = refuseRedirect
	resp, err := c.Do(req)
	if err != nil {
		// The URL may hold a token; keep it out of logs and timelines.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return 0, err
	}
	defer resp.Body.Close()
	// Drain a little so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		// Location is not named: it may hold a token too.
		return resp.StatusCode, fmt.Errorf("HTTP %d: a redirect, not followed", resp.StatusCode)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// refuseRedirect makes the client return a redirect as the response.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
