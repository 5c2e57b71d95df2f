package webpush

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a Sender. Store, Keys and Subject are required.
type Options struct {
	Store   Store
	Keys    *Keys
	Subject string // mailto: or https: (RFC 8292 §2.1)
	// Workers is how many pushes are in flight at once (default 4).
	Workers int
	// Queue is how many notifications wait for a worker; past it new ones
	// are dropped and counted (default 256).
	Queue int
	// TTL is how long a push service keeps a push for a browser that is
	// offline (default 30 minutes).
	TTL time.Duration
	// Attempts bounds the tries of one push that a push service answers
	// with 429 or 5xx, or that fails on the network (default 3).
	Attempts int
	// Timeout bounds each request to a push service (default 10 s).
	Timeout time.Duration
	// LoopbackHTTP lets subscriptions name a plain-http endpoint on a
	// loopback address, and lets pushes connect to loopback addresses:
	// for tests, whose push service is local. Without it endpoints must
	// be https and pushes connect only to public addresses.
	LoopbackHTTP bool
	Logger       *slog.Logger
}

// Sender delivers notifications to every subscription of a user, off its
// callers' goroutines: Notify only queues. Start it once; Stop drains the
// queue.
type Sender struct {
	o       Options
	client  *http.Client
	metrics senderMetrics
	log     *slog.Logger

	jobs chan job
	quit chan struct{} // closed by Stop: pending retries give up
	mu   sync.RWMutex  // guards closing jobs against Notify
	shut bool
	wg   sync.WaitGroup
}

type job struct {
	user    string
	payload []byte
}

// NewSender checks o and fills its defaults.
func NewSender(o Options) (*Sender, error) {
	if o.Store == nil || o.Keys == nil {
		return nil, errors.New("webpush: a Sender needs a Store and Keys")
	}
	if err := CheckSubject(o.Subject); err != nil {
		return nil, errors.New("webpush: " + err.Error())
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Workers, 4)
	def(&o.Queue, 256)
	def(&o.Attempts, 3)
	if o.TTL <= 0 {
		o.TTL = 30 * time.Minute
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Sender{
		o: o, log: o.Logger, client: newClient(o.Timeout, o.LoopbackHTTP), metrics: newSenderMetrics(),
		jobs: make(chan job, o.Queue), quit: make(chan struct{}),
	}, nil
}

// PublicKey is the VAPID public key browsers subscribe with.
func (s *Sender) PublicKey() string { return s.o.Keys.PublicKey() }

// MaxPerUser is how many subscriptions (browsers) a user keeps.
const MaxPerUser = 10

// Subscribe checks sub and records it for sub.User (at most MaxPerUser
// per user, the oldest beyond that removed).
func (s *Sender) Subscribe(ctx context.Context, sub Subscription) error {
	if err := Check(sub, s.o.LoopbackHTTP); err != nil {
		return err
	}
	return s.o.Store.PutPushSubscription(ctx, sub, MaxPerUser)
}

// Unsubscribe removes user's subscription to endpoint.
func (s *Sender) Unsubscribe(ctx context.Context, user, endpoint string) (bool, error) {
	return s.o.Store.DeletePushSubscription(ctx, user, endpoint)
}

// Start runs the workers.
func (s *Sender) Start() {
	for range s.o.Workers {
		s.wg.Go(s.work)
	}
}

// Stop refuses new notifications, sends those queued (each once: retries
// no longer wait) and returns when the workers are done.
func (s *Sender) Stop() {
	s.mu.Lock()
	if !s.shut {
		s.shut = true
		close(s.quit)
		close(s.jobs)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Notify queues payload for every subscription of user and returns at
// once; false means it was dropped (the queue is full, or the sender
// stopped). payload must not be changed afterwards.
func (s *Sender) Notify(user string, payload []byte) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.shut {
		return false
	}
	select {
	case s.jobs <- job{user: user, payload: payload}:
		return true
	default:
		s.metrics.dropped.Inc()
		s.log.Warn("web push dropped: queue full")
		return false
	}
}

func (s *Sender) work() {
	for j := range s.jobs {
		s.deliver(j)
	}
}

// deliver pushes j to each of its user's subscriptions in turn.
func (s *Sender) deliver(j job) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(s.o.Attempts+1)*(s.o.Timeout+maxRetryWait))
	defer cancel()
	subs, err := s.o.Store.PushSubscriptions(ctx, j.user)
	if err != nil {
		s.metrics.outcome(outcomeFailed)
		s.log.Error("web push: subscriptions not read", "err", err)
		return
	}
	for _, sub := range subs {
		s.metrics.outcome(s.push(ctx, sub, j.payload))
	}
}

// The outcomes of one push, the values of the metric's label.
const (
	outcomeDelivered = "delivered" // 201 (or another 2xx)
	outcomeExpired   = "expired"   // 404 or 410: the subscription is removed
	outcomeRejected  = "rejected"  // any other answer but 429 and 5xx: not retried
	outcomeFailed    = "failed"    // 429, 5xx or network errors on every attempt
)

// maxRetryWait caps the wait before a retry, whatever Retry-After says.
const maxRetryWait = 30 * time.Second

// push sends payload to sub, retrying 429, 5xx and network failures up to
// Attempts times.
func (s *Sender) push(ctx context.Context, sub Subscription, payload []byte) string {
	host := endpointHost(sub.Endpoint)
	uaPublic, err1 := decodeKey(sub.P256DH)
	auth, err2 := decodeKey(sub.Auth)
	body, err := Encrypt(uaPublic, auth, payload)
	if err = errors.Join(err1, err2, err); err != nil {
		s.log.Error("web push not encrypted", "push_service", host, "err", err)
		return outcomeRejected
	}
	for attempt := 1; ; attempt++ {
		status, retryAfter, err := s.post(ctx, sub.Endpoint, body)
		switch {
		case err == nil && status >= 200 && status < 300:
			return outcomeDelivered
		case status == http.StatusNotFound || status == http.StatusGone:
			if _, err := s.o.Store.DeletePushSubscription(ctx, sub.User, sub.Endpoint); err != nil {
				s.log.Error("web push: expired subscription not removed", "push_service", host, "err", err)
			}
			s.log.Info("web push subscription expired and removed", "push_service", host, "status", status)
			return outcomeExpired
		case err == nil && status != http.StatusTooManyRequests && status < 500:
			s.log.Warn("web push refused", "push_service", host, "status", status)
			return outcomeRejected
		}
		if attempt >= s.o.Attempts || !s.wait(ctx, backoff(attempt, retryAfter)) {
			s.log.Warn("web push failed", "push_service", host, "status", status, "attempts", attempt, "err", err)
			return outcomeFailed
		}
		s.metrics.retries.Inc()
	}
}

// post sends one push request (RFC 8030 §5) and returns the status and
// what Retry-After asks for.
func (s *Sender) post(ctx context.Context, endpoint string, body []byte) (int, time.Duration, error) {
	vapid, err := s.o.Keys.Authorization(endpoint, s.o.Subject, time.Now())
	if err != nil {
		return 0, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	h := req.Header
	h.Set("Authorization", vapid)
	h.Set("TTL", strconv.Itoa(int(s.o.TTL/time.Second)))
	h.Set("Urgency", "high")
	h.Set("Content-Encoding", "aes128gcm")
	h.Set("Content-Type", "application/octet-stream")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	var after time.Duration
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
		after = time.Duration(secs) * time.Second
	}
	return resp.StatusCode, after, nil
}

// backoff is the wait before retry number attempt: what the push service
// asked for, or 1 s, 2 s, 4 s, ..., never more than maxRetryWait.
func backoff(attempt int, retryAfter time.Duration) time.Duration {
	d := retryAfter
	if d <= 0 {
		d = time.Second << (attempt - 1)
	}
	return min(d, maxRetryWait)
}

// wait sleeps d unless the sender stops or ctx ends first.
func (s *Sender) wait(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.quit:
		return false
	case <-ctx.Done():
		return false
	}
}

// endpointHost names a push service in logs: the endpoint's host, never
// its path (which identifies the browser).
func endpointHost(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	return u.Host
}

// Collectors are the sender's Prometheus series, to register with the
// node's.
func (s *Sender) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.metrics.pushes, s.metrics.retries, s.metrics.dropped}
}
