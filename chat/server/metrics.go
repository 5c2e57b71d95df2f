package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the node's Prometheus series. Labels hold codes and kinds,
// never content or user identifiers.
type metrics struct {
	registry       *prometheus.Registry
	connections    prometheus.Gauge
	messagesIn     prometheus.Counter
	messagesStored prometheus.Counter
	deliveries     prometheus.Counter
	writes         prometheus.Counter
	rejected       *prometheus.CounterVec
	slowClosed     prometheus.Counter
	storeAppend    prometheus.Histogram
	commitBatch    prometheus.Histogram
	recoveries     prometheus.Counter
	crisis         *prometheus.CounterVec
}

func newMetrics() *metrics {
	r := prometheus.NewRegistry()
	m := &metrics{
		registry: r,
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kindred_connections", Help: "Open WebSocket connections that completed hello.",
		}),
		messagesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kindred_messages_received_total", Help: "Send, edit and delete frames accepted for storage.",
		}),
		messagesStored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kindred_messages_stored_total", Help: "Events committed to the store and published (duplicates excluded).",
		}),
		deliveries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kindred_frames_sent_total", Help: "Server frames written to clients.",
		}),
		writes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kindred_socket_writes_total", Help: "WebSocket messages written; one write may carry many frames.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kindred_frames_rejected_total", Help: "Error frames sent to clients (refused frames, failed hellos, failed commits), by error code.",
		}, []string{"code"}),
		slowClosed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kindred_queue_overflow_closes_total", Help: "Connections closed because their outbound queue overflowed (slow consumers).",
		}),
		storeAppend: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kindred_store_append_seconds", Help: "Time to commit one batch of events.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		commitBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "kindred_commit_batch_size", Help: "Events per store commit.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10),
		}),
		crisis: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kindred_crisis_messages_total", Help: "Messages the crisis detector scored high or imminent, by severity.",
		}, []string{"severity"}),
		recoveries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kindred_catchups_total", Help: "Catch-ups from the store: one per conversation a session starts following (hello with resume, join, new DM).",
		}),
	}
	r.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.connections, m.messagesIn, m.messagesStored, m.deliveries, m.writes,
		m.rejected, m.slowClosed, m.storeAppend, m.commitBatch, m.recoveries, m.crisis,
	)
	return m
}
