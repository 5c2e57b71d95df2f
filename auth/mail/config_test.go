package mail

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"
)

func TestNewValidates(t *testing.T) {
	const secret = "Hunter2Secret"
	ok := Config{Host: "mail.clinic.example", From: "no-reply@clinic.example"}
	cases := map[string]func(c *Config){
		"no host":                func(c *Config) { c.Host = "" },
		"host with port":         func(c *Config) { c.Host = "mail.clinic.example/x" },
		"bracketed host":         func(c *Config) { c.Host = "[::1]" },
		"negative port":          func(c *Config) { c.Port = -1 },
		"port too big":           func(c *Config) { c.Port = 65536 },
		"unknown security":       func(c *Config) { c.Security = Security(7) },
		"none to remote host":    func(c *Config) { c.Security = None },
		"none to remote IP":      func(c *Config) { c.Security, c.Host = None, "192.0.2.25" },
		"none with credentials":  func(c *Config) { c.Security, c.Host, c.Username, c.Password = None, "127.0.0.1", "u", secret },
		"password without user":  func(c *Config) { c.Password = secret },
		"user without password":  func(c *Config) { c.Username = "u" },
		"NUL in password":        func(c *Config) { c.Username, c.Password = "u", secret+"\x00" },
		"no from":                func(c *Config) { c.From = "" },
		"bad from":               func(c *Config) { c.From = "no-reply" },
		"from with line break":   func(c *Config) { c.From = "a@b.example\r\nBcc: x@y.example" },
		"quoted from local part": func(c *Config) { c.From = "\"no reply\"@clinic.example" },
		"non-ASCII from address": func(c *Config) { c.From = "zoë@clinic.example" },
		"helo with space":        func(c *Config) { c.HeloName = "a b" },
		"negative timeout":       func(c *Config) { c.Timeout = -time.Second },
	}
	for name, mutate := range cases {
		c := ok
		c.Username, c.Password = "u", secret
		if strings.Contains(name, "user") || strings.Contains(name, "none with") {
			c.Username, c.Password = "", ""
		}
		mutate(&c)
		_, err := New(c)
		if err == nil {
			t.Errorf("%s: New accepted %+v", name, c)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error %q contains the password", name, err)
		}
	}
}

func TestNewDefaults(t *testing.T) {
	roots := &tls.Config{ServerName: ""}
	s, err := New(Config{Host: "mail.clinic.example", From: "Kindred <no-reply@clinic.example>", TLSConfig: roots})
	if err != nil {
		t.Fatal(err)
	}
	if s.set.cfg.Port != 587 || s.set.cfg.Timeout != DefaultTimeout || s.set.addr != "mail.clinic.example:587" {
		t.Errorf("defaults = port %d, timeout %v, addr %q", s.set.cfg.Port, s.set.cfg.Timeout, s.set.addr)
	}
	if s.set.tls == roots || s.set.tls.ServerName != "mail.clinic.example" || s.set.tls.MinVersion != tls.VersionTLS12 {
		t.Errorf("TLS config not cloned with defaults: %+v", s.set.tls)
	}
	if roots.ServerName != "" {
		t.Error("New modified the caller's TLS config")
	}
	for _, host := range []string{"127.0.0.1", "127.1.2.3", "::1", "localhost", "LOCALHOST", "::ffff:127.0.0.1"} {
		if _, err := New(Config{Host: host, Security: None, From: "no-reply@clinic.example"}); err != nil {
			t.Errorf("None to %q: %v", host, err)
		}
	}
	for sec, port := range map[Security]int{STARTTLS: 587, ImplicitTLS: 465, None: 25} {
		if got := sec.defaultPort(); got != port {
			t.Errorf("%v default port = %d, want %d", sec, got, port)
		}
	}
}
