package mail

import (
	"strings"
	"testing"
)

const fromQ = "from=no-reply%40clinic.example"

func TestParseURL(t *testing.T) {
	cases := []struct {
		raw  string
		want Config
	}{
		{"smtp://user:pass@mail.clinic.example?" + fromQ,
			Config{Host: "mail.clinic.example", Port: 587, Security: STARTTLS, Username: "user", Password: "pass", From: "no-reply@clinic.example"}},
		{"smtp://mail.clinic.example:2525/?" + fromQ,
			Config{Host: "mail.clinic.example", Port: 2525, Security: STARTTLS, From: "no-reply@clinic.example"}},
		{"smtps://user:pass@mail.clinic.example?" + fromQ,
			Config{Host: "mail.clinic.example", Port: 465, Security: ImplicitTLS, Username: "user", Password: "pass", From: "no-reply@clinic.example"}},
		{"SMTPS://user:pass@mail.clinic.example:4650?" + fromQ + "&helo=kindred.clinic.example",
			Config{Host: "mail.clinic.example", Port: 4650, Security: ImplicitTLS, Username: "user", Password: "pass", From: "no-reply@clinic.example", HeloName: "kindred.clinic.example"}},
		{"smtp+insecure://127.0.0.1?" + fromQ,
			Config{Host: "127.0.0.1", Port: 25, Security: None, From: "no-reply@clinic.example"}},
		{"smtp+insecure://localhost:2525?" + fromQ,
			Config{Host: "localhost", Port: 2525, Security: None, From: "no-reply@clinic.example"}},
		{"smtp+insecure://[::1]:25?" + fromQ,
			Config{Host: "::1", Port: 25, Security: None, From: "no-reply@clinic.example"}},
		{"smtp://kindred%40clinic.example:p%40ss%3Aw%2Frd%25%20%C3%A9@[2001:db8::25]?from=Kindred%20%3Cno-reply%40clinic.example%3E",
			Config{Host: "2001:db8::25", Port: 587, Security: STARTTLS, Username: "kindred@clinic.example", Password: "p@ss:w/rd% é", From: "Kindred <no-reply@clinic.example>"}},
		{"smtp://user@mail.clinic.example?" + fromQ, // password supplied later
			Config{Host: "mail.clinic.example", Port: 587, Security: STARTTLS, Username: "user", From: "no-reply@clinic.example"}},
	}
	for _, c := range cases {
		got, err := ParseURL(c.raw)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", c.raw, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseURL(%q) =\n%+v\nwant\n%+v", c.raw, got, c.want)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	const secret = "Hunter2Secret"
	cases := map[string]string{
		"smtp://user:" + secret + "@mail.clinic.example":                          "from",
		"smtp://user:" + secret + "@mail.clinic.example?from=":                    "from",
		"smtp://user:" + secret + "@mail.clinic.example?from=not%20an%20addr":     "From address",
		"http://user:" + secret + "@mail.clinic.example?" + fromQ:                 "scheme",
		"smtp+insecure://mail.clinic.example?" + fromQ:                            "loopback",
		"smtp+insecure://10.0.0.25:25?" + fromQ:                                   "loopback",
		"smtp+insecure://user:" + secret + "@127.0.0.1?" + fromQ:                  "TLS",
		"smtp://user:" + secret + "@mail.clinic.example:0?" + fromQ:               "port",
		"smtp://user:" + secret + "@mail.clinic.example:70000?" + fromQ:           "port",
		"smtp://user:" + secret + "@mail.clinic.example:abc?" + fromQ:             "invalid SMTP URL",
		"smtp://user:" + secret + "%zz@mail.clinic.example?" + fromQ:              "invalid SMTP URL",
		"smtp://user:" + secret + "#x@mail.clinic.example?" + fromQ:               "invalid SMTP URL",
		"smtp://user:" + secret + "@?" + fromQ:                                    "invalid SMTP URL",
		"smtp:user:" + secret + "@mail.clinic.example":                            "invalid SMTP URL",
		"smtp://:" + secret + "@mail.clinic.example?" + fromQ:                     "without a user name",
		"smtp://user:" + secret + "@mail.clinic.example/inbox?" + fromQ:           "path",
		"smtp://user:" + secret + "@mail.clinic.example?" + fromQ + "&tls=no":     "unknown SMTP URL parameter",
		"smtp://user:" + secret + "@mail.clinic.example?" + fromQ + "&" + fromQ:   "more than once",
		"smtp://user:" + secret + "@mail.clinic.example?" + fromQ + "&helo=a%20b": "HeloName",
		"": "invalid SMTP URL",
	}
	for raw, want := range cases {
		_, err := ParseURL(raw)
		if err == nil {
			t.Errorf("ParseURL(%q) succeeded, want an error mentioning %q", raw, want)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ParseURL(%q) = %q, want it to mention %q", raw, err, want)
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "%zz") {
			t.Errorf("ParseURL(%q) error %q echoes the password", raw, err)
		}
	}
}

func TestRedacted(t *testing.T) {
	for _, raw := range []string{
		"smtp://kindred%40clinic.example:p%40ss%3Aw%2Frd@mail.clinic.example?from=Kindred%20%3Cno-reply%40clinic.example%3E",
		"smtps://user:Hunter2Secret@mail.clinic.example:4650?" + fromQ + "&helo=kindred.example",
		"smtp+insecure://[::1]?" + fromQ,
	} {
		c, err := ParseURL(raw)
		if err != nil {
			t.Fatal(err)
		}
		red := c.Redacted()
		if c.Password != "" && (strings.Contains(red, c.Password) || strings.Contains(red, "Hunter2") || strings.Contains(red, "p%40ss")) {
			t.Errorf("Redacted() = %q shows the password", red)
		}
		back, err := ParseURL(red)
		if err != nil {
			t.Fatalf("ParseURL(Redacted()) = %v for %q", err, red)
		}
		want := c
		if want.Password != "" {
			want.Password = redactedPassword
		}
		if back != want {
			t.Errorf("ParseURL(%q) =\n%+v\nwant\n%+v", red, back, want)
		}
	}
	if got := (Config{Host: "127.0.0.1", Security: None}).Redacted(); got != "smtp+insecure://127.0.0.1:25" {
		t.Errorf("Redacted() = %q", got)
	}
}

func TestParseURLPasswordSuppliedSeparately(t *testing.T) {
	c, err := ParseURL("smtp://user@mail.clinic.example?" + fromQ)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(c); err == nil || !strings.Contains(err.Error(), "without a password") {
		t.Fatalf("New without the password: err = %v", err)
	}
	c.Password = "from-the-environment"
	if _, err := New(c); err != nil {
		t.Fatalf("New with the password: %v", err)
	}
	if red := c.Redacted(); strings.Contains(red, "from-the-environment") || !strings.Contains(red, "user:xxxxx@") {
		t.Errorf("Redacted() = %q", red)
	}
}
