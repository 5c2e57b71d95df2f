package mail

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestFinishScrubsSecrets(t *testing.T) {
	s := mustNew(t, Config{Host: "mail.clinic.example", Username: "u", Password: "Hunter2Secret", From: "no-reply@clinic.example"})
	link := "https://kindred.clinic.example/auth/email/callback?token=AbCdEf0123456789"
	echo := errors.New("550 denied for Hunter2Secret sending " + link + " to ana@example.org")
	err := s.finish(context.Background(), stepError("data", echo), &envelope{to: "ana@example.org"}, "Sign in:\n"+link+"\n")
	for _, secret := range []string{"Hunter2Secret", "token=", "ana@example.org"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%q contains %q", err, secret)
		}
	}
	if !strings.HasPrefix(err.Error(), "mail: data: 550 denied") || !errors.Is(err, echo) {
		t.Errorf("err = %q, want the step, the reason and the wrapped error", err)
	}
}

func TestFinishReportsTheContext(t *testing.T) {
	s := mustNew(t, Config{Host: "mail.clinic.example", From: "no-reply@clinic.example"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.finish(ctx, stepError("hello", io.ErrClosedPipe), &envelope{}, "")
	if err.Error() != "mail: hello: context canceled" || !errors.Is(err, context.Canceled) || !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("err = %q", err)
	}
}
