package mail

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Security is how the connection to the SMTP server is protected. The zero
// value is STARTTLS, so a Config that forgets to choose is still encrypted.
type Security int

const (
	// STARTTLS connects in clear text (port 587 by default) and upgrades
	// with the STARTTLS command before anything else is sent. A server
	// that does not offer STARTTLS is refused: nothing is sent to it.
	STARTTLS Security = iota
	// ImplicitTLS speaks TLS from the first byte (port 465 by default).
	ImplicitTLS
	// None sends in clear text (port 25 by default). It is accepted only
	// when Host is a loopback address or "localhost" (a local relay), the
	// dialled address must be loopback too, and no credentials may be
	// configured.
	None
)

// DefaultTimeout bounds one Send when Config.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// String returns "starttls", "implicit-tls" or "none".
func (s Security) String() string {
	switch s {
	case STARTTLS:
		return "starttls"
	case ImplicitTLS:
		return "implicit-tls"
	case None:
		return "none"
	}
	return "Security(" + strconv.Itoa(int(s)) + ")"
}

// scheme is the ParseURL scheme for s.
func (s Security) scheme() string {
	switch s {
	case STARTTLS:
		return schemeSTARTTLS
	case ImplicitTLS:
		return schemeImplicitTLS
	case None:
		return schemeNone
	}
	return "invalid"
}

// defaultPort is the port used when Config.Port is zero.
func (s Security) defaultPort() int {
	switch s {
	case ImplicitTLS:
		return 465
	case None:
		return 25
	}
	return 587
}

// Config says how to reach the clinic's SMTP server. Build it with
// ParseURL or literally; New validates it.
type Config struct {
	// Host is the server's host name or IP address (no brackets, no port).
	Host string
	// Port is the TCP port; zero means the default for Security
	// (587, 465 or 25).
	Port int
	// Security is how the connection is protected; see Security.
	Security Security
	// Username and Password, when Username is set, are sent with AUTH
	// PLAIN, only ever over TLS. Password must then be set too.
	Username, Password string
	// From is the RFC 5322 sender, e.g. "Kindred <no-reply@clinic.example>".
	// Its address must be ASCII; its domain also names Message-IDs.
	From string
	// HeloName is the name given in EHLO; empty means "localhost". With
	// STARTTLS it is used for the EHLO after the upgrade (the one the
	// server applies its policies to); go-smtp always introduces itself
	// as "localhost" before the upgrade.
	HeloName string
	// TLSConfig, when set, is cloned and used for TLS; ServerName defaults
	// to Host and MinVersion to TLS 1.2. Tests set RootCAs here.
	TLSConfig *tls.Config
	// Timeout bounds one Send, connection included; zero means
	// DefaultTimeout.
	Timeout time.Duration
}

// settings is a validated Config with defaults applied.
type settings struct {
	cfg  Config
	addr string        // host:port to dial
	from *mail.Address // parsed Config.From
	tls  *tls.Config   // never nil
}

// validate checks c and applies defaults. Its errors never contain the
// password.
func (c Config) validate() (settings, error) {
	if err := c.validateEndpoint(); err != nil {
		return settings{}, err
	}
	if err := c.validateCredentials(); err != nil {
		return settings{}, err
	}
	from, err := parseFrom(c.From)
	if err != nil {
		return settings{}, err
	}
	if strings.ContainsFunc(c.HeloName, isSpaceOrControl) || len(c.HeloName) > 255 {
		return settings{}, errors.New("mail: HeloName must be a host name without spaces or control characters")
	}
	if c.Timeout < 0 {
		return settings{}, errors.New("mail: Timeout must not be negative")
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Port == 0 {
		c.Port = c.Security.defaultPort()
	}
	var tc *tls.Config
	if c.TLSConfig != nil {
		tc = c.TLSConfig.Clone()
	} else {
		tc = &tls.Config{}
	}
	if tc.ServerName == "" {
		tc.ServerName = c.Host
	}
	if tc.MinVersion == 0 {
		tc.MinVersion = tls.VersionTLS12
	}
	return settings{
		cfg:  c,
		addr: net.JoinHostPort(c.Host, strconv.Itoa(c.Port)),
		from: from,
		tls:  tc,
	}, nil
}

// validateEndpoint checks Host, Port and Security.
func (c Config) validateEndpoint() error {
	if c.Host == "" {
		return errors.New("mail: SMTP host is required")
	}
	if strings.ContainsFunc(c.Host, isSpaceOrControl) || strings.ContainsAny(c.Host, "/@?#[]") {
		return fmt.Errorf("mail: invalid SMTP host %q", c.Host)
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("mail: invalid SMTP port %d", c.Port)
	}
	switch c.Security {
	case STARTTLS, ImplicitTLS:
	case None:
		if !isLoopbackHost(c.Host) {
			return fmt.Errorf("mail: unencrypted SMTP (smtp+insecure) is allowed only to a loopback relay such as 127.0.0.1 or localhost, not %q", c.Host)
		}
	default:
		return fmt.Errorf("mail: unknown Security %d", int(c.Security))
	}
	return nil
}

// validateCredentials checks Username and Password without ever
// mentioning the password's value.
func (c Config) validateCredentials() error {
	switch {
	case c.Username == "" && c.Password != "":
		return errors.New("mail: SMTP password given without a user name")
	case c.Username == "":
		return nil
	case c.Password == "":
		return errors.New("mail: SMTP user name given without a password")
	case c.Security == None:
		return errors.New("mail: SMTP credentials are sent only over TLS; use smtp:// (STARTTLS) or smtps:// instead of smtp+insecure://")
	case strings.ContainsRune(c.Username, 0) || strings.ContainsRune(c.Password, 0):
		return errors.New("mail: SMTP user name and password must not contain NUL characters")
	}
	return nil
}

// parseFrom parses the sender. Its address must be ASCII because it names
// the Message-ID domain and the envelope sender.
func parseFrom(from string) (*mail.Address, error) {
	if from == "" {
		return nil, errors.New("mail: From address is required (e.g. from=no-reply%40clinic.example in the SMTP URL)")
	}
	if strings.ContainsAny(from, "\r\n") {
		return nil, errors.New("mail: From address must not contain line breaks")
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: invalid From address %q: %v", from, err)
	}
	if !isASCII(addr.Address) || !isDotAtomAddress(addr.Address) {
		return nil, fmt.Errorf("mail: From address %q must be a plain ASCII address such as no-reply@clinic.example", from)
	}
	return addr, nil
}

// isLoopbackHost reports whether host is "localhost" or a loopback IP
// literal. The dialled address is checked again after connecting.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// isLoopbackAddr reports whether a connected address is loopback.
func isLoopbackAddr(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

func isSpaceOrControl(r rune) bool {
	return r <= ' ' || r == 0x7f
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
