package storetest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/kindred-health/kindred/chat"
)

// BenchmarkAppend measures Store.Append with batches of 1 and 64 messages
// spread over 8 senders in one room: the first is a lone message per
// commit, the second what the hub's write batching achieves under load.
// open is called once per batch size and owns the Store's lifetime.
//
// Besides ns/op and allocs/op (per Append call) it reports msgs/s and
// ns/msg. Client ids are made outside the timed region, in blocks, so the
// allocation counts are the store's own.
func BenchmarkAppend(b *testing.B, open func(tb testing.TB) chat.Store) {
	for _, size := range []int{1, 64} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			benchmarkAppend(b, open(b), size)
		})
	}
}

func benchmarkAppend(b *testing.B, s chat.Store, size int) {
	ctx := context.Background()
	prefix := fmt.Sprintf("bench_%s_%d_", runID, counter.Add(1))
	const senders = 8
	users := make([]string, senders)
	for i := range users {
		users[i] = prefix + "u" + strconv.Itoa(i)
		if err := s.UpsertUser(ctx, chat.User{ID: users[i], Name: "User " + strconv.Itoa(i)}); err != nil {
			b.Fatal(err)
		}
	}
	room, err := s.CreateRoom(ctx, chat.Conversation{Name: "bench", CreatedBy: users[0]})
	if err != nil {
		b.Fatal(err)
	}
	for _, u := range users[1:] {
		if err := s.Join(ctx, room.ID, u, 0); err != nil {
			b.Fatal(err)
		}
	}
	body := strings.Repeat("I hear you, and it gets better. ", 4) // ~130 bytes, a typical chat line

	var ids []string
	next, made := 0, 0
	clientID := func() string {
		if next == len(ids) {
			b.StopTimer()
			ids = ids[:0]
			for range 4096 {
				ids = append(ids, prefix+"c"+strconv.Itoa(made))
				made++
			}
			next = 0
			b.StartTimer()
		}
		next++
		return ids[next-1]
	}

	items := make([]chat.AppendItem, size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range items {
			items[j] = chat.AppendItem{Event: chat.Event{
				Conv: room.ID, Kind: chat.EventMessage, Sender: users[j%senders],
				ClientID: clientID(), Body: body,
			}}
		}
		if err := s.Append(ctx, items); err != nil {
			b.Fatal(err)
		}
		if items[0].Err != nil || items[0].Duplicate {
			b.Fatalf("item refused: %+v", items[0])
		}
	}
	b.StopTimer()
	msgs := float64(b.N * size)
	if sec := b.Elapsed().Seconds(); sec > 0 {
		b.ReportMetric(msgs/sec, "msgs/s")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/msgs, "ns/msg")
	}
}

// BenchmarkOps measures the calls other than Append that the server makes
// on every connection or request: reads of a conversation and of a
// membership, a user's conversation list, a page of history, opening an
// existing DM, refreshing a user, and a Join/Leave pair. open is called
// once and owns the Store's lifetime.
func BenchmarkOps(b *testing.B, open func(tb testing.TB) chat.Store) {
	s := open(b)
	ctx := context.Background()
	prefix := fmt.Sprintf("bops_%s_%d_", runID, counter.Add(1))
	users := make([]string, 8)
	for i := range users {
		users[i] = prefix + "u" + strconv.Itoa(i)
		if err := s.UpsertUser(ctx, chat.User{ID: users[i], Name: "User " + strconv.Itoa(i)}); err != nil {
			b.Fatal(err)
		}
	}
	var room chat.Conversation
	for i := range 5 {
		r, err := s.CreateRoom(ctx, chat.Conversation{Name: "room " + strconv.Itoa(i), CreatedBy: users[0]})
		if err != nil {
			b.Fatal(err)
		}
		room = r
	}
	for _, u := range users[1:] {
		if err := s.Join(ctx, room.ID, u, 0); err != nil {
			b.Fatal(err)
		}
		if _, err := s.OpenDM(ctx, users[0], u); err != nil {
			b.Fatal(err)
		}
	}
	var page []chat.AppendItem
	for i := range 100 {
		page = append(page, chat.AppendItem{Event: chat.Event{Conv: room.ID, Kind: chat.EventMessage,
			Sender: users[i%len(users)], ClientID: prefix + "h" + strconv.Itoa(i), Body: "a line of history"}})
	}
	if err := s.Append(ctx, page); err != nil {
		b.Fatal(err)
	}
	run := func(name string, op func() error) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := op(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	run("Conversation", func() error { _, err := s.Conversation(ctx, room.ID); return err })
	run("IsMember", func() error { _, err := s.IsMember(ctx, room.ID, users[3]); return err })
	run("UserConversations", func() error { _, err := s.UserConversations(ctx, users[0]); return err })
	run("History50", func() error { _, err := s.History(ctx, room.ID, 0, 0, 50); return err })
	run("OpenDM", func() error { _, err := s.OpenDM(ctx, users[1], users[0]); return err })
	run("UpsertUser", func() error { return s.UpsertUser(ctx, chat.User{ID: users[2], Name: "User 2"}) })
	run("JoinLeave", func() error {
		if err := s.Join(ctx, room.ID, prefix+"visitor", 10); err != nil {
			return err
		}
		return s.Leave(ctx, room.ID, prefix+"visitor")
	})
}
