package mail

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// This file is a real SMTP server (go-smtp's server package) for the
// tests: it listens on 127.0.0.1:0 and records what reaches it.

// received is one message the test server accepted.
type received struct {
	From string
	To   []string
	Data []byte
	TLS  bool   // the session was encrypted when DATA ended
	Helo string // the EHLO name in force for the transaction
}

// authAttempt is one AUTH PLAIN exchange the test server saw.
type authAttempt struct {
	User, Pass string
	TLS        bool // the session was encrypted when AUTH happened
	OK         bool
}

// backend records messages and AUTH attempts. When user is set it offers
// AUTH PLAIN (only over TLS, go-smtp's default) and requires it for MAIL.
type backend struct {
	user, pass string
	// stalled, when set, is closed when DATA has been read; the session
	// then never answers the final "." (until release is closed).
	stalled, release chan struct{}
	// rejectRcpt makes RCPT fail with a reply quoting the address, as
	// Postfix does ("<ana@example.org>: Recipient address rejected").
	rejectRcpt bool

	mu    sync.Mutex
	msgs  []received
	auths []authAttempt
	mails int // MAIL commands accepted
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{be: b, conn: c}, nil
}

func (b *backend) messages() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.msgs...)
}

func (b *backend) authAttempts() []authAttempt {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]authAttempt(nil), b.auths...)
}

func (b *backend) mailCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.mails
}

// session is one SMTP session of the test server.
type session struct {
	be     *backend
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string {
	if s.be.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || s.be.user == "" {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		_, isTLS := s.conn.TLSConnectionState()
		ok := identity == "" && user == s.be.user && pass == s.be.pass
		s.be.mu.Lock()
		s.be.auths = append(s.be.auths, authAttempt{User: user, Pass: pass, TLS: isTLS, OK: ok})
		s.be.mu.Unlock()
		if !ok {
			return smtp.ErrAuthFailed
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.be.user != "" && !s.authed {
		return smtp.ErrAuthRequired
	}
	s.be.mu.Lock()
	s.be.mails++
	s.be.mu.Unlock()
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.be.rejectRcpt {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
			Message: "<" + to + ">: Recipient address rejected: User unknown"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.be.stalled != nil {
		close(s.be.stalled)
		<-s.be.release
		return &smtp.SMTPError{Code: 451, Message: "released"}
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.be.mu.Lock()
	defer s.be.mu.Unlock()
	s.be.msgs = append(s.be.msgs, received{
		From: s.from, To: s.to, Data: data, TLS: isTLS, Helo: s.conn.Hostname(),
	})
	return nil
}

func (s *session) Reset() {
	s.from, s.to = "", nil
}

func (s *session) Logout() error { return nil }

// tlsMode is how the test server offers TLS.
type tlsMode int

const (
	plainOnly     tlsMode = iota // no TLS at all, no STARTTLS offered
	offerSTARTTLS                // clear-text listener offering STARTTLS
	implicitTLS                  // TLS listener
)

// testServer is a running test SMTP server.
type testServer struct {
	be    *backend
	port  int
	roots *x509.CertPool // trusts the server's self-signed certificate
}

// startServer starts a go-smtp server with be on 127.0.0.1:0, stopped
// when the test ends.
func startServer(t *testing.T, be *backend, mode tlsMode, smtpUTF8 bool) *testServer {
	t.Helper()
	cert, roots := selfSigned(t)
	srv := smtp.NewServer(be)
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.EnableSMTPUTF8 = smtpUTF8
	tlsConfig := &tls.Config{Certificates: []tls.Certificate{cert}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch mode {
	case offerSTARTTLS:
		srv.TLSConfig = tlsConfig
	case implicitTLS:
		ln = tls.NewListener(ln, tlsConfig)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		if be.release != nil {
			close(be.release)
		}
		srv.Close()
		<-done
	})
	return &testServer{be: be, port: ln.Addr().(*net.TCPAddr).Port, roots: roots}
}

// config returns a Config for this server with the test root trusted.
func (ts *testServer) config(sec Security) Config {
	return Config{
		Host:      "127.0.0.1",
		Port:      ts.port,
		Security:  sec,
		From:      "Kindred <no-reply@clinic.example>",
		TLSConfig: &tls.Config{RootCAs: ts.roots},
		Timeout:   30 * time.Second,
	}
}

// selfSigned makes an ECDSA P-256 certificate for 127.0.0.1, ::1 and
// localhost, valid for an hour, and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kindred mail test"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}

// silentListener accepts connections on 127.0.0.1:0 and never writes to
// them. accepted receives once per accepted connection.
func silentListener(t *testing.T) (port int, accepted <-chan struct{}) {
	return stallingListener(t, false)
}

// stallingListener is silentListener, except that with greet it sends an
// SMTP greeting and reads the client's first line (EHLO) before signalling
// accepted; it then never answers. So when accepted fires the client has
// finished dialling and is waiting for a reply.
func stallingListener(t *testing.T, greet bool) (port int, accepted <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	acc := make(chan struct{}, 16)
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			if greet {
				if _, err := io.WriteString(c, "220 localhost ESMTP\r\n"); err != nil {
					continue
				}
				if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
					continue
				}
			}
			select {
			case acc <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().(*net.TCPAddr).Port, acc
}
