package server

import (
	"context"
	"sync"
	"sync/atomic"
)

// crisisQueue takes the slow part of a crisis message off the committer:
// recording its escalation (a database write, and the first page) before
// the sender is acked. Each conversation with a crisis message in flight
// gets a FIFO of its committed writes, in commit order: the crisis message
// and whatever of the same conversation was committed after it. A worker
// drains one conversation's FIFO at a time, so the conversation's events
// are still published in sequence order, and a slow escalation delays
// only its own conversation, never another's ack or delivery. Later
// writes in that conversation are acked at once (an ack never waits for
// someone else's escalation) and published after the crisis message.
//
// Workers are owned by the server: started with it, bounded in number
// (Config.CrisisWorkers), and stopped by Shutdown after the committer,
// once every queued write has been answered.
type crisisQueue struct {
	srv     *Server
	workers int

	// busy counts conversations with a FIFO; the committer's hot path
	// reads it without the lock and finds it 0 almost always.
	busy  atomic.Int64
	mu    sync.Mutex
	convs map[string][]*commitReq // FIFO per conversation in flight
	ready []string                // conversations waiting for a worker
	wake  chan struct{}           // a conversation became ready
	quit  chan struct{}           // closed by stop
	wg    sync.WaitGroup
}

func newCrisisQueue(s *Server, workers int) *crisisQueue {
	return &crisisQueue{
		srv: s, workers: workers,
		convs: make(map[string][]*commitReq),
		wake:  make(chan struct{}, workers),
		quit:  make(chan struct{}),
	}
}

func (q *crisisQueue) start() {
	for range q.workers {
		q.wg.Go(q.work)
	}
}

// stop lets the workers drain every FIFO, then ends them. The committer
// must have stopped: nothing is added after stop.
func (q *crisisQueue) stop() {
	close(q.quit)
	q.wg.Wait()
}

// holds reports whether conv has writes waiting behind a crisis message;
// the committer then queues the conversation's later writes here too.
func (q *crisisQueue) holds(conv string) bool {
	if q.busy.Load() == 0 {
		return false
	}
	q.mu.Lock()
	_, ok := q.convs[conv]
	q.mu.Unlock()
	return ok
}

// add queues a committed write behind its conversation's FIFO, starting
// one when needed. It never blocks (it runs on the committer).
func (q *crisisQueue) add(r *commitReq) {
	conv := r.item.Event.Conv
	q.mu.Lock()
	fifo, ok := q.convs[conv]
	q.convs[conv] = append(fifo, r)
	if !ok {
		q.busy.Add(1)
		q.ready = append(q.ready, conv)
	}
	q.mu.Unlock()
	if !ok {
		select {
		case q.wake <- struct{}{}:
		default: // every worker has a wake-up pending already
		}
	}
}

// work drains ready conversations until stop, then drains what is left.
func (q *crisisQueue) work() {
	for {
		if conv, ok := q.next(); ok {
			q.drain(conv)
			continue
		}
		select {
		case <-q.wake:
		case <-q.quit:
			if conv, ok := q.next(); ok {
				q.drain(conv)
				continue
			}
			return
		}
	}
}

func (q *crisisQueue) next() (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.ready) == 0 {
		return "", false
	}
	conv := q.ready[0]
	q.ready = q.ready[1:]
	return conv, true
}

// drain answers conv's writes in order until its FIFO is empty, then
// hands the conversation back to the committer.
func (q *crisisQueue) drain(conv string) {
	ctx := context.WithoutCancel(q.srv.ctx)
	for {
		q.mu.Lock()
		batch := q.convs[conv]
		if len(batch) == 0 {
			delete(q.convs, conv)
			q.busy.Add(-1)
			q.mu.Unlock()
			return
		}
		q.convs[conv] = nil
		q.mu.Unlock()
		for _, r := range batch {
			if r.crisis != nil {
				q.srv.escalateThenFinish(ctx, r)
			} else {
				q.srv.finish(ctx, r, nil)
			}
		}
	}
}
