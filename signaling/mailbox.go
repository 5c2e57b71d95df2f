package signaling

import "sync"

// mailbox is a peer's queue of work for its owner goroutine. post never
// blocks (the call posts with its lock held), and the queue is bounded by
// what a participant can cause: a few operations per track and per
// signaling frame, which chat/server rate-limits.
type mailbox struct {
	mu     sync.Mutex
	ops    []func()
	wake   chan struct{} // one token when ops is non-empty
	closed bool
}

func (m *mailbox) init() { m.wake = make(chan struct{}, 1) }

// post queues f; false once the mailbox is closed.
func (m *mailbox) post(f func()) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	m.ops = append(m.ops, f)
	select {
	case m.wake <- struct{}{}:
	default:
	}
	return true
}

// take returns the queued work and empties the queue.
func (m *mailbox) take() []func() {
	m.mu.Lock()
	defer m.mu.Unlock()
	ops := m.ops
	m.ops = nil
	return ops
}

// close refuses further posts and runs onClose once.
func (m *mailbox) close(onClose func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		onClose()
	}
}
