package oidc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// scrubbed keeps the kind (and a context error) but never a secret.
func TestScrubbed(t *testing.T) {
	cause := fmt.Errorf("fetch: %w (token eyJhbGc.payload.sig, code c0de-123)", context.DeadlineExceeded)
	err := scrubbed(ErrExchange, cause, "eyJhbGc.payload.sig", "c0de-123", "")
	for _, secret := range []string{"eyJhbGc.payload.sig", "c0de-123"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q contains %q", err, secret)
		}
	}
	if !errors.Is(err, ErrExchange) || !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		t.Errorf("error %q lost its kinds", err)
	}
	if !strings.HasPrefix(err.Error(), ErrExchange.Error()+": fetch: ") {
		t.Errorf("error text = %q", err)
	}
}

func TestClean(t *testing.T) {
	if got := clean("a\r\nb\x00c"); got != "a  b c" {
		t.Errorf("clean = %q", got)
	}
	long := clean(strings.Repeat("é", 400))
	if len(long) > maxParam+len("…") || !strings.HasSuffix(long, "…") || !strings.HasPrefix(long, "éé") {
		t.Errorf("clean(long) = %d bytes %q", len(long), long)
	}
	for _, r := range strings.TrimSuffix(long, "…") {
		if r != 'é' {
			t.Fatalf("clean(long) cut a character: %q", long)
		}
	}
}
