package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Sender delivers Messages through one SMTP server. It holds no
// connection: each Send dials, delivers and quits, which suits the low
// volume of sign-in mail and never leaves a stale session behind. A Sender
// is immutable and safe for concurrent use.
type Sender struct {
	set settings
}

// New validates c (see Config) and returns a Sender for it. It does not
// contact the server. Its errors never contain the password.
func New(c Config) (*Sender, error) {
	set, err := c.validate()
	if err != nil {
		return nil, err
	}
	return &Sender{set: set}, nil
}

// Send delivers m: it validates and composes the message (refusing line
// breaks in To or Subject and an invalid To with an error wrapping
// ErrInvalidMessage, before any network traffic), then connects, secures
// the connection as Config.Security says, authenticates when a user name is
// configured and runs one SMTP transaction.
//
// The whole attempt is bounded by ctx and by Config.Timeout, whichever ends
// first; when either ends the connection is closed and Send returns an
// error wrapping ctx's error. Send returns nil once the server has accepted
// the message (its reply to the final "."), even if QUIT then fails.
// Errors name the step that failed (dial, tls, starttls, hello, auth, mail from,
// rcpt, data) and never contain the password, the body or the recipient.
func (s *Sender) Send(ctx context.Context, m Message) error {
	env, err := s.compose(m, time.Now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.set.cfg.Timeout)
	defer cancel()

	raw, err := s.dial(ctx)
	if err != nil {
		return s.finish(ctx, err, env, m.Text)
	}
	defer raw.Close()
	// Closing the socket is the one way to interrupt go-smtp whatever it is
	// doing (its own deadlines are reset after every command).
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()

	c, err := s.open(ctx, raw)
	if err == nil {
		err = s.authenticate(c)
	}
	if err == nil {
		err = transact(c, env)
	}
	if err != nil {
		return s.finish(ctx, err, env, m.Text)
	}
	_ = c.Quit() // the message is accepted; a failed QUIT changes nothing
	return nil
}

// dial opens the TCP connection. For Security None the connected address
// must be loopback, whatever the host name resolved to.
func (s *Sender) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.set.addr)
	if err != nil {
		return nil, stepError("dial", err)
	}
	if s.set.cfg.Security == None && !isLoopbackAddr(conn.RemoteAddr()) {
		conn.Close()
		return nil, stepError("dial", errors.New("refusing unencrypted SMTP to a non-loopback address"))
	}
	return conn, nil
}

// open starts the SMTP session on raw: TLS handshake or STARTTLS as
// configured, then EHLO with HeloName. With TLS configured it checks the
// session really is encrypted before returning.
func (s *Sender) open(ctx context.Context, raw net.Conn) (*smtp.Client, error) {
	var c *smtp.Client
	switch s.set.cfg.Security {
	case ImplicitTLS:
		tc := tls.Client(raw, s.set.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, stepError("tls", err)
		}
		c = smtp.NewClient(tc)
	case STARTTLS:
		// Reads the greeting, sends EHLO and refuses a server that does
		// not offer STARTTLS ("server doesn't support STARTTLS").
		var err error
		if c, err = smtp.NewClientStartTLS(raw, s.set.tls); err != nil {
			return nil, stepError("starttls", err)
		}
	default:
		c = smtp.NewClient(raw)
	}
	// go-smtp's own deadlines are a backstop only: ctx (closing the socket)
	// ends the attempt first, so the error says why.
	c.CommandTimeout = s.set.cfg.Timeout + time.Second
	c.SubmissionTimeout = s.set.cfg.Timeout + time.Second
	name := s.set.cfg.HeloName
	if name == "" {
		name = "localhost"
	}
	if err := c.Hello(name); err != nil {
		return nil, stepError("hello", err)
	}
	if _, ok := c.TLSConnectionState(); !ok && s.set.cfg.Security != None {
		return nil, stepError("tls", errors.New("session is not encrypted"))
	}
	return c, nil
}

// authenticate sends AUTH PLAIN when a user name is configured, refusing
// to do so on a connection without TLS.
func (s *Sender) authenticate(c *smtp.Client) error {
	cfg := s.set.cfg
	if cfg.Username == "" {
		return nil
	}
	if _, ok := c.TLSConnectionState(); !ok {
		return stepError("auth", errors.New("refusing to send credentials without TLS"))
	}
	if !c.SupportsAuth(sasl.Plain) {
		return stepError("auth", errors.New("server does not offer AUTH PLAIN"))
	}
	if err := c.Auth(sasl.NewPlainClient("", cfg.Username, cfg.Password)); err != nil {
		return stepError("auth", err)
	}
	return nil
}

// transact runs MAIL, RCPT and DATA for env.
func transact(c *smtp.Client, env *envelope) error {
	var opts *smtp.MailOptions
	if env.utf8 {
		opts = &smtp.MailOptions{UTF8: true}
	}
	if err := c.Mail(env.from, opts); err != nil {
		return stepError("mail from", err)
	}
	if err := c.Rcpt(env.to, nil); err != nil {
		return stepError("rcpt", err)
	}
	w, err := c.Data()
	if err != nil {
		return stepError("data", err)
	}
	if _, err := w.Write(env.data); err != nil {
		return stepError("data", err)
	}
	if err := w.Close(); err != nil {
		return stepError("data", err)
	}
	return nil
}
