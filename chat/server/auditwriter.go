package server

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// Sizes of the audit writer: how many entries may wait, and how many go
// into one transaction.
const (
	auditQueueSize = 1024
	auditBatchSize = 64
	auditTimeout   = 5 * time.Second // a caller's wait for its entry, and one batch's write
)

// errAuditUnavailable refuses a staff read whose audit entry could not be
// recorded: a read that leaves no trace is not served.
var errAuditUnavailable = &chat.Error{Code: chat.CodeUnavailable, Temporary: true,
	Message: "the audit log cannot record this read now; try again"}

// auditWriter writes this node's audit entries, in batches of up to
// auditBatchSize in one transaction each (appends take turns on the
// chain's head, across nodes: batching makes one turn serve many). It
// runs on its own goroutine, never the committer's or a hub's.
//
// Nothing is dropped: a caller waits until its entry is stored (record
// returns then), or until its deadline, while the queue is full or the
// store slow; an entry queued before the deadline is still written.
// After stop, record writes straight to the store.
type auditWriter struct {
	store chat.Store
	log   *slog.Logger
	queue chan auditReq
	done  chan struct{}

	mu     sync.RWMutex // held (read) while sending to queue; stop closes it
	closed bool
}

type auditReq struct {
	e    chat.AuditEntry
	done chan error // buffered: the writer never waits for the caller
}

func newAuditWriter(store chat.Store, log *slog.Logger) *auditWriter {
	return &auditWriter{store: store, log: log, queue: make(chan auditReq, auditQueueSize), done: make(chan struct{})}
}

// run writes what is queued until stop, then what is left.
func (w *auditWriter) run() {
	defer close(w.done)
	for r := range w.queue {
		batch := []auditReq{r}
	fill:
		for len(batch) < auditBatchSize {
			select {
			case r, ok := <-w.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		w.write(batch)
	}
}

func (w *auditWriter) write(batch []auditReq) {
	es := make([]chat.AuditEntry, len(batch))
	for i, r := range batch {
		es[i] = r.e
	}
	ctx, cancel := context.WithTimeout(context.Background(), auditTimeout)
	err := w.store.AppendAudit(ctx, es...)
	cancel()
	if err != nil && len(batch) > 1 {
		// One entry the store refuses must not take the others with it.
		for _, r := range batch {
			w.write([]auditReq{r})
		}
		return
	}
	for _, r := range batch {
		if err != nil {
			w.log.Error("audit entry not stored", "action", r.e.Action, "actor", r.e.Actor, "room", r.e.Room, "target", r.e.Target, "err", err)
		}
		r.done <- err
	}
}

// record stores e, through the queue, and returns once it is stored or ctx
// ends.
func (w *auditWriter) record(ctx context.Context, e chat.AuditEntry) error {
	req := auditReq{e: e, done: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return w.store.AppendAudit(ctx, e)
	}
	select {
	case w.queue <- req:
		w.mu.RUnlock()
	case <-ctx.Done():
		w.mu.RUnlock()
		return errors.Join(errors.New("audit queue full"), ctx.Err())
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop writes what is queued and ends run.
func (w *auditWriter) stop() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	<-w.done
}
