package signin

import (
	"context"
	"sync"
	"time"
)

// linkJob is one link request, decided and sent off the request's path.
type linkJob struct {
	email, invite string
}

// mailQueue is the worker that decides and sends sign-in links: one
// goroutine owned by the Handler, stopped by Close. A full queue drops the
// request (the caller has already been answered; the person asks again).
type mailQueue struct {
	jobs   chan linkJob
	cancel context.CancelFunc
	done   sync.WaitGroup
}

const mailQueueSize = 256

// sendTimeout bounds one link's decision and sending.
const sendTimeout = 30 * time.Second

func (h *Handler) startMail() {
	ctx, cancel := context.WithCancel(context.Background())
	h.mail = &mailQueue{jobs: make(chan linkJob, mailQueueSize), cancel: cancel}
	h.mail.done.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case job := <-h.mail.jobs:
				jctx, cancel := context.WithTimeout(ctx, sendTimeout)
				h.sendLink(jctx, job)
				cancel()
			}
		}
	})
}

func (q *mailQueue) enqueue(job linkJob) {
	select {
	case q.jobs <- job:
	default:
	}
}

// Close stops the mail worker, abandoning links not yet sent, and waits
// for it.
func (h *Handler) Close() {
	if h.mail != nil {
		h.mail.cancel()
		h.mail.done.Wait()
	}
}
