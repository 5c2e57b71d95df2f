package mail

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Message is one plain-text email to one recipient.
type Message struct {
	// To is the recipient, an RFC 5322 address such as "ana@example.org"
	// or "Ana <ana@example.org>". Quoted local parts ("a b"@example.org)
	// and domain literals (a@[192.0.2.1]) are refused. An address that is
	// not ASCII needs a server that offers SMTPUTF8.
	To string
	// Subject is one line of UTF-8 text; it is RFC 2047 encoded when it
	// is not ASCII and folded when long.
	Subject string
	// Text is the UTF-8 body. Line breaks may be "\n", "\r\n" or "\r";
	// they are sent as CRLF and the body always ends with one. It is sent
	// quoted-printable, so long lines (sign-in URLs) survive transport.
	Text string
}

// ErrInvalidMessage is wrapped by Send's errors for a Message that cannot
// be sent as given (bad or injected recipient, bad subject, body not
// UTF-8). Nothing was sent; retrying will not help. Callers can map it to
// "check the address" rather than "try again later".
var ErrInvalidMessage = errors.New("mail: invalid message")

const (
	maxAddressLen  = 254 // RFC 5321 path limit less the angle brackets
	foldWidth      = 78  // RFC 5322 recommended line length
	maxHeaderLine  = 998 // RFC 5322 hard line length limit, CRLF excluded
	minSecretToken = 12  // body fields at least this long are scrubbed from errors
)

// envelope is a composed message ready for the SMTP transaction.
type envelope struct {
	from, to string // envelope addresses (MAIL FROM, RCPT TO)
	utf8     bool   // the transaction needs SMTPUTF8
	data     []byte // the RFC 5322 message, CRLF line endings
}

// compose validates m and renders it as an RFC 5322 message from s's
// sender, dated now. Its errors wrap ErrInvalidMessage and never contain
// the body or the recipient.
func (s *Sender) compose(m Message, now time.Time) (*envelope, error) {
	to, err := parseRecipient(m.To)
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, invalid("Subject contains a line break")
	}
	if !utf8.ValidString(m.Subject) || !utf8.ValidString(m.Text) {
		return nil, invalid("Subject and Text must be valid UTF-8")
	}
	id, err := messageID(s.set.from.Address)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	headers := [][2]string{
		{"Date", now.UTC().Format(time.RFC1123Z)},
		{"From", s.set.from.String()},
		{"To", to.String()},
		{"Subject", mime.QEncoding.Encode("utf-8", m.Subject)},
		{"Message-ID", id},
		{"Auto-Submitted", "auto-generated"},
		{"MIME-Version", "1.0"},
		{"Content-Type", "text/plain; charset=utf-8"},
		{"Content-Transfer-Encoding", "quoted-printable"},
	}
	for _, h := range headers {
		if err := writeHeader(&b, h[0], h[1]); err != nil {
			return nil, err
		}
	}
	b.WriteString("\r\n")
	if err := writeBody(&b, m.Text); err != nil {
		return nil, err
	}
	return &envelope{
		from: s.set.from.Address,
		to:   to.Address,
		utf8: !isASCII(to.Address),
		data: b.Bytes(),
	}, nil
}

// parseRecipient validates the To address, refusing line breaks before
// net/mail can treat them as folding whitespace.
func parseRecipient(to string) (*mail.Address, error) {
	if strings.ContainsAny(to, "\r\n") {
		return nil, invalid("To contains a line break")
	}
	addr, err := mail.ParseAddress(to)
	if err != nil || !isDotAtomAddress(addr.Address) {
		return nil, invalid("To is not a valid email address")
	}
	if len(addr.Address) > maxAddressLen {
		return nil, invalid("To address is too long")
	}
	return addr, nil
}

// messageID returns a unique "<random@domain>" id at the sender's domain:
// 128 random bits from crypto/rand.
func messageID(fromAddress string) (string, error) {
	at := strings.LastIndexByte(fromAddress, '@')
	if at < 0 || at == len(fromAddress)-1 {
		return "", errors.New("mail: From address has no domain")
	}
	return "<" + rand.Text() + "@" + fromAddress[at+1:] + ">", nil
}

// writeHeader writes "Name: value" CRLF, folding before spaces so lines
// stay within 78 characters where the value allows. A value with a word
// too long for the 998-character limit is refused.
func writeHeader(b *bytes.Buffer, name, value string) error {
	b.WriteString(name)
	b.WriteByte(':')
	width := len(name) + 1
	for i, word := range strings.Split(value, " ") {
		if i > 0 && word != "" && width+1+len(word) > foldWidth {
			b.WriteString("\r\n")
			width = 0
		}
		b.WriteByte(' ')
		b.WriteString(word)
		width += 1 + len(word)
		if width > maxHeaderLine {
			return invalid(name + " is too long")
		}
	}
	b.WriteString("\r\n")
	return nil
}

// writeBody writes text quoted-printable with CRLF line breaks, ending
// with a line break.
func writeBody(b *bytes.Buffer, text string) error {
	qp := quotedprintable.NewWriter(b)
	if _, err := qp.Write([]byte(text)); err != nil {
		return fmt.Errorf("mail: encoding body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return fmt.Errorf("mail: encoding body: %w", err)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	return nil
}

// isDotAtomAddress reports whether addr is local@domain with both sides
// RFC 5322 dot-atoms (UTF-8 allowed, RFC 6532). Only such addresses are
// used verbatim in SMTP paths: a quoted local part such as
// "x> NOTIFY=NEVER"@example.org would otherwise smuggle parameters into
// RCPT TO. Quoted local parts and domain literals are refused.
func isDotAtomAddress(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	return at > 0 && isDotAtom(addr[:at]) && isDotAtom(addr[at+1:])
}

func isDotAtom(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if part == "" {
			return false
		}
		for _, r := range part {
			if !isAtext(r) {
				return false
			}
		}
	}
	return true
}

// isAtext reports whether r is RFC 5322 atext or a non-ASCII character.
func isAtext(r rune) bool {
	switch {
	case r >= utf8.RuneSelf:
		return r != utf8.RuneError
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return true
	}
	return strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", r)
}

// invalid returns an ErrInvalidMessage error explaining why.
func invalid(why string) error {
	return fmt.Errorf("%w: %s", ErrInvalidMessage, why)
}
