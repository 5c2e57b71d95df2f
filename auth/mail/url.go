package mail

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
)

// The URL schemes ParseURL accepts.
const (
	schemeSTARTTLS    = "smtp"
	schemeImplicitTLS = "smtps"
	schemeNone        = "smtp+insecure"
)

// redactedPassword replaces the password in Config.Redacted.
const redactedPassword = "xxxxx"

// errBadURL is returned for any URL net/url cannot parse: its own errors
// quote the raw URL (and so the password), so they are never passed on.
var errBadURL = errors.New("mail: invalid SMTP URL; expected smtp://user:password@host:port?from=address " +
	"(percent-encode characters such as @ : / ? # % in the user name and password)")

// ParseURL parses an SMTP URL into a Config:
//
//	smtp://user:pass@host[:587]?from=...          STARTTLS required, default port 587
//	smtps://user:pass@host[:465]?from=...         implicit TLS, default port 465
//	smtp+insecure://127.0.0.1[:25]?from=...       clear text, loopback hosts only
//
// The user name and password are optional and percent-decoded. A user name
// without a password is accepted so that the password can be supplied
// separately (from an environment variable or file) before calling New,
// which requires it; a password without a user name is an error. The query takes "from" (required, an RFC 5322 address
// such as "Kindred <no-reply@clinic.example>", percent-encoded) and "helo"
// (optional EHLO name); any other parameter is an error. Port is always set
// in the result; Timeout and TLSConfig are left zero. Apart from the
// missing-password case above, the Config is validated as New would
// validate it. Errors never contain the password.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Host == "" || u.Fragment != "" {
		return Config{}, errBadURL
	}
	var c Config
	switch u.Scheme {
	case schemeSTARTTLS:
		c.Security = STARTTLS
	case schemeImplicitTLS:
		c.Security = ImplicitTLS
	case schemeNone:
		c.Security = None
	default:
		return Config{}, fmt.Errorf("mail: unknown SMTP URL scheme %q (want smtp, smtps or smtp+insecure)", u.Scheme)
	}
	if u.Path != "" && u.Path != "/" {
		return Config{}, errors.New("mail: SMTP URL must not have a path")
	}
	c.Host = u.Hostname()
	c.Port = c.Security.defaultPort()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Config{}, fmt.Errorf("mail: invalid SMTP port %q", p)
		}
		c.Port = n
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if err := c.parseQuery(u.RawQuery); err != nil {
		return Config{}, err
	}
	check := c
	if check.Username != "" && check.Password == "" {
		check.Password = redactedPassword // may come from elsewhere; New insists
	}
	if _, err := check.validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// parseQuery sets From and HeloName from the URL query.
func (c *Config) parseQuery(rawQuery string) error {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return errors.New("mail: invalid SMTP URL query; percent-encode the from address")
	}
	for k, vs := range q {
		if len(vs) != 1 {
			return fmt.Errorf("mail: SMTP URL parameter %q given more than once", k)
		}
		switch k {
		case "from":
			c.From = vs[0]
		case "helo":
			c.HeloName = vs[0]
		default:
			return fmt.Errorf("mail: unknown SMTP URL parameter %q (known: from, helo)", k)
		}
	}
	if c.From == "" {
		return errors.New("mail: SMTP URL needs a from parameter, e.g. ?from=no-reply%40clinic.example")
	}
	return nil
}

// Redacted returns c as an SMTP URL (the form ParseURL reads) with the
// password replaced by "xxxxx", for logs and --help output. A zero Port is
// shown as the default for Security; Timeout and TLSConfig are not shown.
func (c Config) Redacted() string {
	port := c.Port
	if port == 0 {
		port = c.Security.defaultPort()
	}
	u := url.URL{
		Scheme: c.Security.scheme(),
		Host:   net.JoinHostPort(c.Host, strconv.Itoa(port)),
	}
	switch {
	case c.Username != "" && c.Password != "":
		u.User = url.UserPassword(c.Username, redactedPassword)
	case c.Username != "":
		u.User = url.User(c.Username)
	case c.Password != "":
		u.User = url.UserPassword("", redactedPassword)
	}
	q := url.Values{}
	if c.From != "" {
		q.Set("from", c.From)
	}
	if c.HeloName != "" {
		q.Set("helo", c.HeloName)
	}
	u.RawQuery = q.Encode()
	return u.String()
}
