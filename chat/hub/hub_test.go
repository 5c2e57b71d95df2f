package hub_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/broker/memory"
	"github.com/kindred-health/kindred/chat/hub"
)

type recorder struct {
	mu   sync.Mutex
	seqs []int64
	got  chan struct{}
}

func newRecorder() *recorder { return &recorder{got: make(chan struct{}, 1000)} }

func (r *recorder) Deliver(p *chat.Publication) {
	r.mu.Lock()
	r.seqs = append(r.seqs, p.Seq)
	r.mu.Unlock()
	r.got <- struct{}{}
}

func (r *recorder) wait(t *testing.T, n int) []int64 {
	t.Helper()
	for {
		r.mu.Lock()
		if len(r.seqs) >= n {
			out := append([]int64(nil), r.seqs...)
			r.mu.Unlock()
			return out
		}
		r.mu.Unlock()
		select {
		case <-r.got:
		case <-time.After(10 * time.Second):
			t.Fatalf("only %v delivered, want %d", r.seqs, n)
		}
	}
}

// store is a fake log: publications 1..n exist.
type store struct {
	mu    sync.Mutex
	n     int64
	calls int
	// purged: the retention purge removed the log up to here.
	purged int64
}

func (s *store) fill(_ context.Context, ch string, after, upto int64, limit int) ([]*chat.Publication, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	var out []*chat.Publication
	for seq := max(after, s.purged) + 1; seq <= s.n && len(out) < limit && (upto == 0 || seq <= upto); seq++ {
		out = append(out, pub(ch, seq))
	}
	return out, nil
}

func pub(ch string, seq int64) *chat.Publication {
	return &chat.Publication{Channel: ch, Seq: seq, Data: []byte(fmt.Sprint(seq))}
}

func newHub(t *testing.T, st *store) *hub.Hub {
	opts := hub.Options{ReorderWindow: 20 * time.Millisecond}
	if st != nil {
		opts.Fill = st.fill
	}
	h := hub.New(memory.NewBroker(), opts)
	t.Cleanup(h.Close)
	return h
}

func TestInOrderAndDuplicates(t *testing.T) {
	h := newHub(t, &store{})
	r := newRecorder()
	if err := h.Subscribe(context.Background(), "c", r); err != nil {
		t.Fatal(err)
	}
	for _, seq := range []int64{1, 2, 2, 3, 1, 4} {
		h.HandlePublication(pub("c", seq))
	}
	h.HandlePublication(&chat.Publication{Channel: "c"}) // ephemeral: always passed on
	h.HandlePublication(pub("other", 1))                 // not subscribed
	if got := fmt.Sprint(r.wait(t, 5)); got != "[1 2 3 4 0]" {
		t.Fatalf("delivered %s", got)
	}
}

// Publications that arrive out of order within the window are reordered
// without touching the store.
func TestReorderWithinWindow(t *testing.T) {
	st := &store{n: 5}
	h := newHub(t, st)
	r := newRecorder()
	h.Subscribe(context.Background(), "c", r)
	h.HandlePublication(pub("c", 1))
	h.HandlePublication(pub("c", 3))
	h.HandlePublication(pub("c", 5))
	h.HandlePublication(pub("c", 2))
	h.HandlePublication(pub("c", 4))
	if got := fmt.Sprint(r.wait(t, 5)); got != "[1 2 3 4 5]" {
		t.Fatalf("delivered %s", got)
	}
}

// A publication that never arrives is read from the store, once for all
// subscribers, and the held ones follow in order.
func TestGapFilledFromStore(t *testing.T) {
	st := &store{n: 6}
	h := newHub(t, st)
	r1, r2 := newRecorder(), newRecorder()
	h.Subscribe(context.Background(), "c", r1)
	h.Subscribe(context.Background(), "c", r2)
	h.HandlePublication(pub("c", 1))
	h.HandlePublication(pub("c", 4)) // 2 and 3 are lost
	h.HandlePublication(pub("c", 5))
	for _, r := range []*recorder{r1, r2} {
		if got := fmt.Sprint(r.wait(t, 5)); got != "[1 2 3 4 5]" {
			t.Fatalf("delivered %s", got)
		}
	}
	h.HandlePublication(pub("c", 3)) // arrives late: dropped
	h.HandlePublication(pub("c", 6))
	if got := fmt.Sprint(r1.wait(t, 6)); got != "[1 2 3 4 5 6]" {
		t.Fatalf("delivered %s", got)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.calls != 1 {
		t.Fatalf("store read %d times, want once for both subscribers", st.calls)
	}
}

// A gap that the retention purge removed from the store (it holds no
// entry there any more) is passed over with what the store has: the
// fill does not wait for ever for entries that are gone.
func TestGapPurgedFromStore(t *testing.T) {
	st := &store{n: 5, purged: 3}
	h := newHub(t, st)
	r := newRecorder()
	h.Subscribe(context.Background(), "c", r)
	h.HandlePublication(pub("c", 1))
	h.HandlePublication(pub("c", 5)) // 2 to 4 lost, 2 and 3 purged since
	if got := fmt.Sprint(r.wait(t, 3)); got != "[1 4 5]" {
		t.Fatalf("delivered %s", got)
	}
}

// After a loss, whatever followed the last delivered publication is read
// from the store, even with no later publication to reveal the gap.
func TestLossReadsTheTail(t *testing.T) {
	st := &store{n: 1}
	h := newHub(t, st)
	r := newRecorder()
	h.Subscribe(context.Background(), "c", r)
	h.HandlePublication(pub("c", 1))
	st.mu.Lock()
	st.n = 1200 // 1199 publications lost, more than one page
	st.mu.Unlock()
	h.HandleLoss()
	seqs := r.wait(t, 1200)
	for i, s := range seqs {
		if s != int64(i+1) {
			t.Fatalf("position %d has seq %d", i, s)
		}
	}
}

// Without a filler the hub passes a gap on after the window, and
// subscribers that can catch up are asked to after a loss.
func TestNoFiller(t *testing.T) {
	h := newHub(t, nil)
	r := &resyncRecorder{recorder: newRecorder(), resync: make(chan string, 1)}
	h.Subscribe(context.Background(), "c", r)
	h.HandleLoss()
	if ch := <-r.resync; ch != "c" {
		t.Fatalf("resync %q", ch)
	}
	h.HandlePublication(pub("c", 1))
	h.HandlePublication(pub("c", 3))
	if got := fmt.Sprint(r.wait(t, 2)); got != "[1 3]" {
		t.Fatalf("delivered %s", got)
	}
}

type resyncRecorder struct {
	*recorder
	resync chan string
}

func (r *resyncRecorder) Resync(ch string) { r.resync <- ch }

func TestSubscribeUnsubscribe(t *testing.T) {
	b := memory.NewBroker()
	h := hub.New(b, hub.Options{})
	defer h.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go b.Run(ctx, h)
	r1, r2 := newRecorder(), newRecorder()
	h.Subscribe(ctx, "c", r1)
	h.Subscribe(ctx, "c", r2)
	if h.Subscribers("c") != 2 || h.Channels() != 1 {
		t.Fatalf("subscribers %d channels %d", h.Subscribers("c"), h.Channels())
	}
	h.Unsubscribe(ctx, "c", r1)
	h.Unsubscribe(ctx, "c", r1) // twice is harmless
	h.HandlePublication(pub("c", 1))
	r2.wait(t, 1)
	if len(r1.seqs) != 0 {
		t.Fatalf("unsubscribed subscriber got %v", r1.seqs)
	}
	h.Unsubscribe(ctx, "c", r2)
	if h.Channels() != 0 {
		t.Fatal("empty channel kept")
	}
}

// flakyBroker refuses the first subscribes, as Redis does while down.
type flakyBroker struct {
	memory.Broker
	mu       sync.Mutex
	failures int
	subs     int
}

func (b *flakyBroker) Subscribe(ctx context.Context, ch string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures > 0 {
		b.failures--
		return fmt.Errorf("redis unreachable")
	}
	b.subs++
	return nil
}

// While the broker cannot subscribe, a subscriber is still added (local
// publications reach it) and the hub retries; once subscribed it reads
// what was published meanwhile from the store.
func TestSubscribeRetriedWhileBrokerDown(t *testing.T) {
	b := &flakyBroker{failures: 2}
	st := &store{n: 1}
	h := hub.New(b, hub.Options{Fill: st.fill})
	defer h.Close()
	r := newRecorder()
	if err := h.Subscribe(context.Background(), "c", r); err != nil {
		t.Fatalf("subscribe with the broker down: %v", err)
	}
	h.HandlePublication(pub("c", 1)) // a local publication
	r.wait(t, 1)
	st.mu.Lock()
	st.n = 3 // published elsewhere while this node was not subscribed
	st.mu.Unlock()
	if got := fmt.Sprint(r.wait(t, 3)); got != "[1 2 3]" {
		t.Fatalf("delivered %s", got)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs != 1 {
		t.Fatalf("broker subscribed %d times, want 1", b.subs)
	}
}

// With the position known at subscription, the first publication after a
// gap waits for the gap to be read from the store.
func TestKnownPositionFillsBeforeFirstPublication(t *testing.T) {
	st := &store{n: 7}
	h := newHub(t, st)
	r := newRecorder()
	if err := h.SubscribeAt(context.Background(), "c", r, 3); err != nil {
		t.Fatal(err)
	}
	h.HandlePublication(pub("c", 7))
	if got := r.wait(t, 4); fmt.Sprint(got) != "[4 5 6 7]" {
		t.Fatalf("delivered %v, want [4 5 6 7]", got)
	}
}

// failingStore fails its first reads, as a database that is restarting.
type failingStore struct {
	store
	fails int
}

func (s *failingStore) fill(ctx context.Context, ch string, after, upto int64, limit int) ([]*chat.Publication, error) {
	s.mu.Lock()
	if s.fails > 0 {
		s.fails--
		s.mu.Unlock()
		return nil, fmt.Errorf("store down")
	}
	s.mu.Unlock()
	return s.store.fill(ctx, ch, after, upto, limit)
}

// While the store cannot close a gap the hub holds what comes after it and
// keeps trying; subscribers never see the gap.
func TestGapHeldWhileStoreFails(t *testing.T) {
	st := &failingStore{store: store{n: 6}, fails: 3}
	h := hub.New(memory.NewBroker(), hub.Options{ReorderWindow: 10 * time.Millisecond, Fill: st.fill})
	t.Cleanup(h.Close)
	r := newRecorder()
	if err := h.SubscribeAt(context.Background(), "c", r, 0); err != nil {
		t.Fatal(err)
	}
	h.HandlePublication(pub("c", 1))
	h.HandlePublication(pub("c", 5))
	h.HandlePublication(pub("c", 6))
	if got := r.wait(t, 6); fmt.Sprint(got) != "[1 2 3 4 5 6]" {
		t.Fatalf("delivered %v, want every sequence in order", got)
	}
}
