package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kindred-health/kindred/chat"
)

// BenchmarkSessionWrite is a session writer's cost per delivery: frames of
// a typical 300-byte event written to a real loopback WebSocket whose
// client reads and discards, one frame per write (a quiet room) and 16
// (a busy broadcast). cpu-ns/delivery is the process's CPU time, user and
// system, the client's reads included: steadier than ns/op on a shared
// machine.
func BenchmarkSessionWrite(b *testing.B) {
	for _, n := range []int{1, 16} {
		b.Run(fmt.Sprint("frames=", n), func(b *testing.B) { benchSessionWrite(b, n) })
	}
}

func benchSessionWrite(b *testing.B, perWrite int) {
	s := &Server{cfg: DefaultConfig(), metrics: newMetrics(), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	ready := make(chan *conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lh := &leanHijacker{ResponseWriter: w}
		ws, err := websocket.Accept(lh, r, nil)
		if err != nil {
			b.Error(err)
			close(ready)
			return
		}
		ready <- newBenchConn(s, ws, lh)
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl, _, err := websocket.Dial(ctx, strings.Replace(srv.URL, "http", "ws", 1), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.CloseNow()
	go func() {
		for {
			_, r, err := cl.Reader(context.Background())
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, r)
		}
	}()
	c := <-ready
	if c == nil {
		b.FailNow()
	}
	defer c.ws.CloseNow()
	p := &chat.Publication{Data: append([]byte(`{"type":"message","conv":"r_0123456789abcdef","seq":12345,"id":"m1","from":"u_42","ts":"2026-12-03T20:00:00Z","body":"`), bytes.Repeat([]byte("a"), 180)...)}
	p.Data = append(p.Data, `"}`...)
	q := make([]*chat.Publication, perWrite)
	for i := range q {
		q[i] = p
	}
	bp := writeBufs.Get().(*[]byte)
	cpu0 := cpuNanos()
	for b.Loop() {
		if err := c.writeFrames(q, bp); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuNanos()-cpu0)/float64(b.N*perWrite), "cpu-ns/delivery")
}

func cpuNanos() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func newBenchConn(s *Server, ws *websocket.Conn, lh *leanHijacker) *conn {
	return &conn{srv: s, ws: ws, sock: lh.sock}
}
