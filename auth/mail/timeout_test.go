package mail

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// slack is how much later than its deadline Send may return on a loaded
// machine under -race. Without cancellation Send would wait for go-smtp's
// own 5-minute command timeout, so the checks below can fail.
const slack = 5 * time.Second

func TestSendTimeoutSilentServer(t *testing.T) {
	for _, sec := range []Security{STARTTLS, ImplicitTLS} {
		t.Run(sec.String(), func(t *testing.T) {
			port, _ := silentListener(t)
			cfg := Config{
				Host: "127.0.0.1", Port: port, Security: sec,
				From: "no-reply@clinic.example", Timeout: 300 * time.Millisecond,
			}
			start := time.Now()
			err := mustNew(t, cfg).Send(context.Background(), Message{To: "ana@example.org", Text: signInText})
			elapsed := time.Since(start)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want context.DeadlineExceeded", err)
			}
			if elapsed > cfg.Timeout+slack {
				t.Fatalf("Send returned after %v, timeout %v", elapsed, cfg.Timeout)
			}
			if strings.Contains(err.Error(), "callback?token=") {
				t.Errorf("error text contains the body: %q", err)
			}
		})
	}
}

func TestSendContextCancelledWhileWaitingForEHLOReply(t *testing.T) {
	port, accepted := stallingListener(t, true)
	cfg := Config{Host: "127.0.0.1", Port: port, From: "no-reply@clinic.example", Timeout: 30 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-accepted
		cancel()
	}()
	start := time.Now()
	err := mustNew(t, cfg).Send(ctx, Message{To: "ana@example.org", Text: "x"})
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "mail: starttls: ") {
		t.Fatalf("err = %v, want a starttls error wrapping context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > slack {
		t.Fatalf("Send returned %v after the context was cancelled", elapsed)
	}
}

func TestSendContextCancelledDuringData(t *testing.T) {
	be := &backend{stalled: make(chan struct{}), release: make(chan struct{})}
	ts := startServer(t, be, offerSTARTTLS, false)
	cfg := ts.config(STARTTLS)
	cfg.Timeout = 30 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-be.stalled // the server has the whole message and will not answer
		cancel()
	}()
	start := time.Now()
	err := mustNew(t, cfg).Send(ctx, Message{To: "ana@example.org", Text: signInText})
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "mail: data: ") {
		t.Fatalf("err = %v, want a data error wrapping context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > slack {
		t.Fatalf("Send returned after %v", elapsed)
	}
}

func TestSendContextAlreadyCancelled(t *testing.T) {
	port, accepted := silentListener(t)
	cfg := Config{Host: "127.0.0.1", Port: port, From: "no-reply@clinic.example"}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := mustNew(t, cfg).Send(ctx, Message{To: "ana@example.org", Text: "x"})
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "mail: dial: ") {
		t.Fatalf("err = %v, want a dial error wrapping context.Canceled", err)
	}
	select {
	case <-accepted:
		t.Fatal("Send connected with a cancelled context")
	default:
	}
}

func TestSendDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there now
	cfg := Config{Host: "127.0.0.1", Port: port, From: "no-reply@clinic.example"}
	err = mustNew(t, cfg).Send(context.Background(), Message{To: "ana@example.org", Text: "x"})
	if err == nil || !strings.HasPrefix(err.Error(), "mail: dial: ") {
		t.Fatalf("err = %v, want a dial error", err)
	}
}
