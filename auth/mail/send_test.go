package mail

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

const (
	testUser = "kindred@clinic.example"
	testPass = "s3cret p@ss:w/rd%é"
)

// signInText is a body like the real one: a long URL that must survive
// line-length limits, non-ASCII text, a lone dot line and trailing space.
var signInText = "Hello Zoë,\n\nSign in to Kindred (link valid 15 minutes, use it once):\n" +
	"https://kindred.clinic.example/auth/email/callback?token=" + strings.Repeat("Ab3-_x", 20) + "&next=%2Frooms\n" +
	"\n.\n..not a terminator\nMerci — à bientôt ✓ \n"

func mustNew(t *testing.T, c Config) *Sender {
	t.Helper()
	s, err := New(c)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// wantCRLF returns text as it should decode from the received body:
// CRLF line breaks and a final line break.
func wantCRLF(text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return strings.ReplaceAll(text, "\n", "\r\n")
}

func TestSendSTARTTLS(t *testing.T) {
	be := &backend{user: testUser, pass: testPass}
	ts := startServer(t, be, offerSTARTTLS, false)
	cfg := ts.config(STARTTLS)
	cfg.Username, cfg.Password, cfg.HeloName = testUser, testPass, "kindred.test"
	m := Message{To: "Ana Peer <ana@example.org>", Subject: "Your Kindred sign-in link — ✓ Zoë", Text: signInText}
	if err := mustNew(t, cfg).Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}

	auths := be.authAttempts()
	if len(auths) != 1 || !auths[0].OK || auths[0].User != testUser || auths[0].Pass != testPass {
		t.Fatalf("auth attempts = %+v, want one successful with the configured credentials", auths)
	}
	if !auths[0].TLS {
		t.Fatal("AUTH happened on a session that was not TLS")
	}
	msgs := be.messages()
	if len(msgs) != 1 {
		t.Fatalf("server got %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if got.From != "no-reply@clinic.example" || len(got.To) != 1 || got.To[0] != "ana@example.org" {
		t.Errorf("envelope = %q -> %q", got.From, got.To)
	}
	if !got.TLS || got.Helo != "kindred.test" {
		t.Errorf("session TLS = %v, EHLO name = %q; want true, kindred.test", got.TLS, got.Helo)
	}
	checkMessage(t, got.Data, m)
}

// checkMessage checks data is a correct RFC 5322 rendering of m sent by
// "Kindred <no-reply@clinic.example>".
func checkMessage(t *testing.T, data []byte, m Message) {
	t.Helper()
	checkLines(t, data)
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("ReadMessage: %v\n%s", err, data)
	}
	h := msg.Header
	checkAddressHeader(t, h, "From", "no-reply@clinic.example", "Kindred")
	wantTo, _ := mail.ParseAddress(m.To)
	checkAddressHeader(t, h, "To", wantTo.Address, wantTo.Name)
	var dec mime.WordDecoder
	if subj, err := dec.DecodeHeader(h.Get("Subject")); err != nil || subj != m.Subject {
		t.Errorf("Subject decodes to %q (%v), want %q", subj, err, m.Subject)
	}
	if d, err := h.Date(); err != nil || time.Since(d).Abs() > time.Hour {
		t.Errorf("Date %q: %v", h.Get("Date"), err)
	}
	if id := h.Get("Message-ID"); !regexp.MustCompile(`^<[A-Za-z0-9]{20,}@clinic\.example>$`).MatchString(id) {
		t.Errorf("Message-ID = %q", id)
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "text/plain" || !strings.EqualFold(params["charset"], "utf-8") {
		t.Errorf("Content-Type = %q", h.Get("Content-Type"))
	}
	if h.Get("MIME-Version") != "1.0" || h.Get("Content-Transfer-Encoding") != "quoted-printable" {
		t.Errorf("MIME-Version %q, Content-Transfer-Encoding %q", h.Get("MIME-Version"), h.Get("Content-Transfer-Encoding"))
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Fatalf("decoding body: %v", err)
	}
	if want := wantCRLF(m.Text); string(body) != want {
		t.Errorf("body decodes to\n%q\nwant\n%q", body, want)
	}
}

// checkLines checks every line ends in CRLF and that body lines keep to
// the quoted-printable limit of 76 characters.
func checkLines(t *testing.T, data []byte) {
	t.Helper()
	if !bytes.HasSuffix(data, []byte("\r\n")) {
		t.Error("message does not end with CRLF")
	}
	inBody := false
	for i, line := range strings.SplitAfter(string(data), "\n") {
		if line == "" {
			continue
		}
		if !strings.HasSuffix(line, "\r\n") || strings.Contains(strings.TrimSuffix(line, "\r\n"), "\r") {
			t.Fatalf("line %d is not CRLF-terminated: %q", i, line)
		}
		if inBody && len(line)-2 > 76 {
			t.Errorf("body line %d is %d characters long", i, len(line)-2)
		}
		if line == "\r\n" {
			inBody = true
		}
	}
}

func checkAddressHeader(t *testing.T, h mail.Header, key, addr, name string) {
	t.Helper()
	a, err := h.AddressList(key)
	if err != nil || len(a) != 1 || a[0].Address != addr || a[0].Name != name {
		t.Errorf("%s = %q parses to %v (%v), want %q <%s>", key, h.Get(key), a, err, name, addr)
	}
}

func TestSTARTTLSRequired(t *testing.T) {
	be := &backend{}
	ts := startServer(t, be, plainOnly, false)
	cfg := ts.config(STARTTLS)
	cfg.Username, cfg.Password = testUser, testPass
	err := mustNew(t, cfg).Send(context.Background(), Message{To: "ana@example.org", Subject: "x", Text: signInText})
	if err == nil || !strings.Contains(err.Error(), "mail: starttls:") {
		t.Fatalf("Send to a server without STARTTLS: err = %v, want a starttls error", err)
	}
	if n := be.mailCount(); n != 0 || len(be.messages()) != 0 || len(be.authAttempts()) != 0 {
		t.Fatalf("server saw %d MAIL, %d messages, %d AUTH; want nothing", n, len(be.messages()), len(be.authAttempts()))
	}
}

func TestSendImplicitTLS(t *testing.T) {
	be := &backend{user: testUser, pass: testPass}
	ts := startServer(t, be, implicitTLS, false)
	cfg := ts.config(ImplicitTLS)
	cfg.Username, cfg.Password = testUser, testPass
	m := Message{To: "ana@example.org", Subject: "Sign in", Text: signInText}
	if err := mustNew(t, cfg).Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if a := be.authAttempts(); len(a) != 1 || !a[0].OK || !a[0].TLS {
		t.Fatalf("auth attempts = %+v, want one successful over TLS", a)
	}
	msgs := be.messages()
	if len(msgs) != 1 || !msgs[0].TLS || msgs[0].Helo != "localhost" {
		t.Fatalf("messages = %+v, want one over TLS with EHLO localhost", msgs)
	}
	checkMessage(t, msgs[0].Data, m)
}

func TestImplicitTLSUntrustedCertificate(t *testing.T) {
	be := &backend{}
	ts := startServer(t, be, implicitTLS, false)
	cfg := ts.config(ImplicitTLS)
	cfg.TLSConfig = nil // system roots do not trust the test certificate
	err := mustNew(t, cfg).Send(context.Background(), Message{To: "ana@example.org", Text: "x"})
	if err == nil || !strings.Contains(err.Error(), "mail: tls:") {
		t.Fatalf("err = %v, want a tls error", err)
	}
	if len(be.messages()) != 0 {
		t.Fatal("a message was delivered over an unverified connection")
	}
}

func TestSendNoneToLoopbackRelay(t *testing.T) {
	be := &backend{}
	ts := startServer(t, be, plainOnly, false)
	cfg := ts.config(None)
	cfg.TLSConfig = nil
	m := Message{To: "ana@example.org", Subject: "Sign in", Text: signInText}
	if err := mustNew(t, cfg).Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := be.messages()
	if len(msgs) != 1 || msgs[0].TLS {
		t.Fatalf("messages = %+v, want one in clear text", msgs)
	}
	checkMessage(t, msgs[0].Data, m)
}

func TestSendWrongPassword(t *testing.T) {
	be := &backend{user: testUser, pass: testPass}
	ts := startServer(t, be, offerSTARTTLS, false)
	cfg := ts.config(STARTTLS)
	const wrong = "Wrong-Secret-Pa55word"
	cfg.Username, cfg.Password = testUser, wrong
	err := mustNew(t, cfg).Send(context.Background(), Message{To: "ana@example.org", Subject: "x", Text: signInText})
	if err == nil || !strings.HasPrefix(err.Error(), "mail: auth:") {
		t.Fatalf("err = %v, want an auth error", err)
	}
	var smtpErr *smtp.SMTPError
	if !errors.As(err, &smtpErr) || smtpErr.Code != 535 {
		t.Errorf("err = %v, want it to wrap the server's 535", err)
	}
	for _, secret := range []string{wrong, testPass, "callback?token="} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error text %q contains %q", err, secret)
		}
	}
	if a := be.authAttempts(); len(a) != 1 || a[0].OK || !a[0].TLS {
		t.Errorf("auth attempts = %+v, want one failed over TLS", a)
	}
	if len(be.messages()) != 0 || be.mailCount() != 0 {
		t.Fatal("a message was sent after failed authentication")
	}
}

func TestSendSMTPUTF8Recipient(t *testing.T) {
	m := Message{To: "zoë@exämple.org", Subject: "Sign in", Text: signInText}
	t.Run("offered", func(t *testing.T) {
		be := &backend{}
		ts := startServer(t, be, offerSTARTTLS, true)
		if err := mustNew(t, ts.config(STARTTLS)).Send(context.Background(), m); err != nil {
			t.Fatalf("Send: %v", err)
		}
		msgs := be.messages()
		if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != m.To {
			t.Fatalf("messages = %+v, want one to %q", msgs, m.To)
		}
		checkMessage(t, msgs[0].Data, m)
	})
	t.Run("not offered", func(t *testing.T) {
		be := &backend{}
		ts := startServer(t, be, offerSTARTTLS, false)
		err := mustNew(t, ts.config(STARTTLS)).Send(context.Background(), m)
		if err == nil || !strings.Contains(err.Error(), "SMTPUTF8") || strings.Contains(err.Error(), m.To) {
			t.Fatalf("err = %v, want an SMTPUTF8 error without the address", err)
		}
		if len(be.messages()) != 0 {
			t.Fatal("message delivered")
		}
	})
}

func TestSendRecipientRejected(t *testing.T) {
	be := &backend{rejectRcpt: true}
	ts := startServer(t, be, offerSTARTTLS, false)
	err := mustNew(t, ts.config(STARTTLS)).Send(context.Background(), Message{To: "ana@example.org", Subject: "x", Text: signInText})
	if err == nil || !strings.HasPrefix(err.Error(), "mail: rcpt: ") {
		t.Fatalf("err = %v, want an rcpt error", err)
	}
	var smtpErr *smtp.SMTPError
	if !errors.As(err, &smtpErr) || smtpErr.Code != 550 {
		t.Errorf("err = %v, want it to wrap the server's 550", err)
	}
	if strings.Contains(err.Error(), "ana@example.org") {
		t.Errorf("error text %q contains the recipient", err)
	}
	if errors.Is(err, ErrInvalidMessage) || len(be.messages()) != 0 {
		t.Error("rejected recipient: wrong error class or message stored")
	}
}
