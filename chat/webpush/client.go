package webpush

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// errNotPublic refuses a connection to an address that is not a public
// one: an endpoint comes from a browser, and a push must not become a way
// to reach the deployment's own network.
var errNotPublic = errors.New("webpush: the push service's address is not public")

// newClient is the HTTP client of pushes: a timeout per request, no
// redirects followed (a push service answers, it does not send elsewhere),
// no proxy, and connections only to public addresses (and loopback ones
// when loopback is set, for tests).
func newClient(timeout time.Duration, loopback bool) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, Control: func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return errNotPublic
		}
		ip := ap.Addr().Unmap()
		if loopback && ip.IsLoopback() {
			return nil
		}
		if !ip.IsGlobalUnicast() || ip.IsPrivate() || ip.IsLoopback() || ip.IsLinkLocalUnicast() {
			return errNotPublic
		}
		return nil
	}}
	tr := &http.Transport{
		DialContext:         dialer.DialContext,
		ForceAttemptHTTP2:   true,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: timeout,
	}
	return &http.Client{
		Timeout:   timeout,
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// senderMetrics are a Sender's series; no label carries a user, an
// endpoint or a payload.
type senderMetrics struct {
	pushes  *prometheus.CounterVec
	retries prometheus.Counter
	dropped prometheus.Counter
}

func newSenderMetrics() senderMetrics {
	return senderMetrics{
		pushes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kindred_push_deliveries_total",
			Help: "Web Push deliveries to one subscription, by outcome: delivered, expired (404 or 410: removed), rejected (other 4xx), failed (429, 5xx or network, every attempt).",
		}, []string{"outcome"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kindred_push_retries_total", Help: "Web Push requests retried after 429, 5xx or a network error.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kindred_push_dropped_total", Help: "Web Push notifications dropped because the sender's queue was full.",
		}),
	}
}

func (m senderMetrics) outcome(o string) { m.pushes.WithLabelValues(o).Inc() }
