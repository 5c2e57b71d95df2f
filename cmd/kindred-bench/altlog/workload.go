package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/kindred-health/kindred/chat"
)

// workload is the shape of BenchmarkAppendScattered in chat/store/sqlite:
// the `rooms` load of kindred-bench as the committer sees it.
type workload struct {
	rooms, members, history, batch int

	ids   []string   // room ids, as the engine named them (seed fills it)
	users [][]string // members of each room
	body  string
	rng   *rand.Rand
	made  int
}

func defaultWorkload() *workload {
	return &workload{rooms: 2000, members: 10, history: 60, batch: 200,
		body: strings.Repeat("I hear you, and it gets better. ", 6), // ~200 bytes
		rng:  rand.New(rand.NewPCG(1, 2))}
}

// user is member m of room r.
func user(r, m int) string { return fmt.Sprintf("u%d_%d", r, m) }

// historyBatch is history event h of every room, one batch.
func (w *workload) historyBatch(h int) []chat.AppendItem {
	body := strings.Repeat("a line of history ", 10)
	items := make([]chat.AppendItem, len(w.ids))
	for r := range items {
		items[r] = chat.AppendItem{Event: chat.Event{Conv: w.ids[r], Kind: chat.EventMessage,
			Sender: w.users[r][h%w.members], ClientID: "h" + strconv.Itoa(h), Body: body}}
	}
	return items
}

// measured builds the n batches to measure before they are measured, so
// that making their client ids is not counted: each has w.batch messages
// in w.batch rooms spread over all of them, each from a random member,
// with a fresh client id.
func (w *workload) measured(n int) [][]chat.AppendItem {
	out := make([][]chat.AppendItem, n)
	for i := range out {
		items := make([]chat.AppendItem, w.batch)
		first := w.rng.IntN(w.rooms)
		for j := range items {
			r := (first + j*(w.rooms/w.batch)) % w.rooms
			w.made++
			items[j] = chat.AppendItem{Event: chat.Event{Conv: w.ids[r], Kind: chat.EventMessage,
				Sender: w.users[r][w.rng.IntN(w.members)], ClientID: "m" + strconv.Itoa(w.made), Body: w.body}}
		}
		out[i] = items
	}
	return out
}
