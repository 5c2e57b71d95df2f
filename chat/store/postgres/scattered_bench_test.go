package postgres

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/kindred-health/kindred/chat"
)

// BenchmarkAppendScattered is Append shaped like the rooms workload on two
// nodes: each batch holds 200 messages in 200 different conversations out
// of 2,000, as a busy committer's batches do, instead of one conversation
// (BenchmarkAppend), which hides the per-conversation work (locks, the
// last_seq bumps, membership lookups).
func BenchmarkAppendScattered(b *testing.B) {
	const rooms, batch = 2000, 200
	s := freshStore(b)
	ctx := context.Background()
	owner := "owner"
	if err := s.UpsertUser(ctx, chat.User{ID: owner, Name: "Owner"}); err != nil {
		b.Fatal(err)
	}
	ids := make([]string, rooms)
	senders := make([]string, rooms)
	for i := range ids {
		senders[i] = "u" + strconv.Itoa(i)
		if err := s.UpsertUser(ctx, chat.User{ID: senders[i], Name: "User"}); err != nil {
			b.Fatal(err)
		}
		c, err := s.CreateRoom(ctx, chat.Conversation{Name: "room " + strconv.Itoa(i), CreatedBy: owner})
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Join(ctx, c.ID, senders[i], 0); err != nil {
			b.Fatal(err)
		}
		ids[i] = c.ID
	}
	body := strings.Repeat("I hear you, and it gets better. ", 6) // ~200 bytes, the bench tool's size

	items := make([]chat.AppendItem, batch)
	next := 0
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; b.Loop(); n++ {
		for j := range items {
			r := (next + j*(rooms/batch)) % rooms // 200 distinct rooms
			items[j] = chat.AppendItem{Event: chat.Event{
				Conv: ids[r], Kind: chat.EventMessage, Sender: senders[r],
				ClientID: "c" + strconv.Itoa(n) + "_" + strconv.Itoa(j), Body: body,
			}}
		}
		next++
		if err := s.Append(ctx, items); err != nil {
			b.Fatal(err)
		}
		for j := range items {
			if items[j].Err != nil || items[j].Duplicate {
				b.Fatalf("item %d refused: %+v", j, items[j])
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/msg")
}
