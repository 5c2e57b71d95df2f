//go:build unix

package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/storetest"
)

// Shape of BenchmarkAppendScattered: the `rooms` workload of kindred-bench
// (1,900 rooms of 10 members, each message in a room of its own within a
// commit). A batch is 200 messages in 200 different rooms out of 2,000,
// each room already holding scatterHistory events, as a node does after a
// few minutes of that load.
const (
	scatterRooms   = 2000
	scatterMembers = 10
	scatterHistory = 60
	scatterBatch   = 200
)

// BenchmarkAppendScattered measures Append as the committer calls it under
// the rooms workload: sealed bodies, a batch spread over as many
// conversations as it has messages, tables of realistic size, and WAL
// checkpoints counted where they fall, under a context that can be
// canceled like the server's. ns/msg is the figure to compare.
func BenchmarkAppendScattered(b *testing.B) {
	// A context that can end, as the committer's does: the driver treats
	// one that cannot differently (it watches a cancellable one).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := openTest(b, filepath.Join(b.TempDir(), "scatter.db"), WithKeys(storetest.Keys(b, "k1")))
	rooms, members := seedScattered(b, s)
	body := strings.Repeat("I hear you, and it gets better. ", 6) // ~200 bytes, the bench's --size
	rng := rand.New(rand.NewPCG(1, 2))
	items := make([]chat.AppendItem, scatterBatch)
	ids := make([]string, 0, scatterBatch)
	made := 0
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ids = ids[:0]
		first := rng.IntN(scatterRooms)
		for j := range items {
			r := (first + j*(scatterRooms/scatterBatch)) % scatterRooms
			made++
			ids = append(ids, "m"+strconv.Itoa(made))
			items[j] = chat.AppendItem{Event: chat.Event{Conv: rooms[r], Kind: chat.EventMessage,
				Sender: members[r][rng.IntN(scatterMembers)], ClientID: ids[j], Body: body}}
		}
		b.StartTimer()
		if err := s.Append(ctx, items); err != nil {
			b.Fatal(err)
		}
		if items[0].Err != nil || items[0].Duplicate {
			b.Fatalf("item refused: %+v", items[0])
		}
	}
	b.StopTimer()
	if n := float64(b.N * scatterBatch); n > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/msg")
		b.ReportMetric(float64(cpuTime()-cpu0)/n, "cpu-ns/msg")
	}
}

// cpuTime is the CPU time (user and system) the process has used, in
// nanoseconds: the figure the server's cost is judged by, since a commit
// mostly waits for its fsync. The per-iteration setup is in it too, and
// is small next to an Append.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// seedScattered creates the rooms, their members and their history, with
// fsync off while it does (it is setup, not what is measured).
func seedScattered(b *testing.B, s *Store) (rooms []string, members [][]string) {
	b.Helper()
	ctx := context.Background()
	if _, err := s.w.ExecContext(ctx, "PRAGMA synchronous = OFF"); err != nil {
		b.Fatal(err)
	}
	defer func() {
		if _, err := s.w.ExecContext(ctx, "PRAGMA synchronous = FULL"); err != nil {
			b.Fatal(err)
		}
	}()
	rooms = make([]string, scatterRooms)
	members = make([][]string, scatterRooms)
	for r := range rooms {
		owner := fmt.Sprintf("u%d_0", r)
		c, err := s.CreateRoom(ctx, chat.Conversation{Name: "room " + strconv.Itoa(r), CreatedBy: owner})
		if err != nil {
			b.Fatal(err)
		}
		rooms[r] = c.ID
		members[r] = []string{owner}
		for m := 1; m < scatterMembers; m++ {
			u := fmt.Sprintf("u%d_%d", r, m)
			if err := s.Join(ctx, c.ID, u, 0); err != nil {
				b.Fatal(err)
			}
			members[r] = append(members[r], u)
		}
	}
	body := strings.Repeat("a line of history ", 10)
	items := make([]chat.AppendItem, scatterRooms)
	for h := range scatterHistory {
		for r := range items {
			items[r] = chat.AppendItem{Event: chat.Event{Conv: rooms[r], Kind: chat.EventMessage,
				Sender: members[r][h%scatterMembers], ClientID: "h" + strconv.Itoa(h), Body: body}}
		}
		if err := s.Append(ctx, items); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	return rooms, members
}
