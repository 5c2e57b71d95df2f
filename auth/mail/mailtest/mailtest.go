// Package mailtest is a real SMTP server for tests (go-smtp's server on
// 127.0.0.1, clear text, since the address is loopback): it keeps every
// message it accepts, for a test to read, say, the sign-in link in one.
package mailtest

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/kindred-health/kindred/auth/mail"
)

// Server is a running test SMTP server.
type Server struct {
	t    testing.TB
	port int
	got  chan []byte // raw RFC 5322 messages
}

// Message is one accepted message, its body decoded.
type Message struct {
	To, Subject, Body string
}

// Start runs a server until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, got: make(chan []byte, 64)}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return session{s}, nil }))
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.port = ln.Addr().(*net.TCPAddr).Port
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return s
}

// URL is the server as --smtp-url names it, sending as from.
func (s *Server) URL(from string) string {
	return fmt.Sprintf("smtp+insecure://127.0.0.1:%d?from=%s", s.port, url.QueryEscape(from))
}

// Sender is an auth/mail Sender for the server.
func (s *Server) Sender() *mail.Sender {
	s.t.Helper()
	m, err := mail.New(mail.Config{Host: "127.0.0.1", Port: s.port, Security: mail.None, From: "Kindred <no-reply@kindred.test>"})
	if err != nil {
		s.t.Fatal(err)
	}
	return m
}

// Next waits up to wait for the next message and decodes it; none is a
// test failure.
func (s *Server) Next(wait time.Duration) Message {
	s.t.Helper()
	select {
	case raw := <-s.got:
		m, err := netmail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			s.t.Fatal(err)
		}
		var body io.Reader = m.Body
		if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(m.Body)
		}
		text, err := io.ReadAll(body)
		if err != nil {
			s.t.Fatal(err)
		}
		subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		if err != nil {
			s.t.Fatal(err)
		}
		return Message{To: m.Header.Get("To"), Subject: subject, Body: string(text)}
	case <-time.After(wait):
		s.t.Fatalf("mailtest: no message within %v", wait)
		return Message{}
	}
}

// None reports whether no message is waiting now.
func (s *Server) None() bool { return len(s.got) == 0 }

type session struct{ s *Server }

func (session) Reset()                               {}
func (session) Logout() error                        { return nil }
func (session) Mail(string, *smtp.MailOptions) error { return nil }
func (session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (x session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err == nil {
		x.s.got <- data
	}
	return err
}
