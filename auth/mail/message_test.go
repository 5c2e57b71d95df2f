package mail

import (
	"context"
	"errors"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"
)

func TestSendRefusesInvalidMessages(t *testing.T) {
	be := &backend{}
	ts := startServer(t, be, offerSTARTTLS, false)
	s := mustNew(t, ts.config(STARTTLS))
	cases := map[string]Message{
		"CRLF in To":             {To: "ana@example.org\r\nBcc: eve@evil.example", Subject: "x", Text: "x"},
		"LF in To":               {To: "ana@example.org\nBcc: eve@evil.example", Subject: "x", Text: "x"},
		"CR in To":               {To: "ana@example.org\rBcc: eve@evil.example", Subject: "x", Text: "x"},
		"CRLF in To name":        {To: "\"Ana\r\nBcc: eve@evil.example\" <ana@example.org>", Subject: "x", Text: "x"},
		"CRLF in Subject":        {To: "ana@example.org", Subject: "hi\r\nBcc: eve@evil.example", Text: "x"},
		"LF in Subject":          {To: "ana@example.org", Subject: "hi\nBcc: eve@evil.example", Text: "x"},
		"CR in Subject":          {To: "ana@example.org", Subject: "hi\rBcc: eve@evil.example", Text: "x"},
		"not an address":         {To: "not an address", Subject: "x", Text: "x"},
		"no domain":              {To: "ana", Subject: "x", Text: "x"},
		"quoted local part":      {To: "\"x> NOTIFY=NEVER\"@evil.example", Subject: "x", Text: "x"},
		"domain literal":         {To: "ana@[192.0.2.1]", Subject: "x", Text: "x"},
		"two addresses":          {To: "ana@example.org, eve@evil.example", Subject: "x", Text: "x"},
		"empty To":               {To: "", Subject: "x", Text: "x"},
		"address too long":       {To: strings.Repeat("a", 250) + "@example.org", Subject: "x", Text: "x"},
		"unbreakable subject":    {To: "ana@example.org", Subject: strings.Repeat("x", 1200), Text: "x"},
		"Text not UTF-8":         {To: "ana@example.org", Subject: "x", Text: "caf\xe9"},
		"Subject not UTF-8":      {To: "ana@example.org", Subject: "caf\xe9", Text: "x"},
		"SMTP injection in addr": {To: "<ana@example.org>\r\nRCPT TO:<eve@evil.example>", Subject: "x", Text: "x"},
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			err := s.Send(context.Background(), m)
			if !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("err = %v, want ErrInvalidMessage", err)
			}
			if strings.Contains(err.Error(), "evil") {
				t.Errorf("error echoes the input: %q", err)
			}
		})
	}
	if be.mailCount() != 0 || len(be.messages()) != 0 {
		t.Fatalf("server saw %d MAIL commands, %d messages; want none", be.mailCount(), len(be.messages()))
	}
}

func testSender(t *testing.T) *Sender {
	t.Helper()
	return mustNew(t, Config{Host: "mail.clinic.example", From: "Kindred Clinic <no-reply@clinic.example>"})
}

func TestComposeFoldsLongSubjects(t *testing.T) {
	s := testSender(t)
	for _, subject := range []string{
		strings.Repeat("Sign in to Kindred peer support ", 8),
		strings.Repeat("Connexion à Kindred — soutien entre pairs ✓ ", 6),
	} {
		env, err := s.compose(Message{To: "ana@example.org", Subject: subject, Text: "x"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		header, _, _ := strings.Cut(string(env.data), "\r\n\r\n")
		for _, line := range strings.Split(header, "\r\n") {
			if len(line) > foldWidth+10 { // an encoded-word may not split
				t.Errorf("header line of %d characters: %q", len(line), line)
			}
		}
		msg, err := mail.ReadMessage(strings.NewReader(string(env.data)))
		if err != nil {
			t.Fatal(err)
		}
		var dec mime.WordDecoder
		got, err := dec.DecodeHeader(msg.Header.Get("Subject"))
		if err != nil || strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(subject), " ") {
			t.Errorf("Subject round-trips to %q (%v), want %q", got, err, subject)
		}
	}
}

func TestComposeMessageIDsAreUnique(t *testing.T) {
	s := testSender(t)
	seen := map[string]bool{}
	for range 100 {
		env, err := s.compose(Message{To: "ana@example.org", Text: "x"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(strings.NewReader(string(env.data)))
		if err != nil {
			t.Fatal(err)
		}
		id := msg.Header.Get("Message-ID")
		if seen[id] || !strings.HasSuffix(id, "@clinic.example>") {
			t.Fatalf("Message-ID %q repeated or not at the From domain", id)
		}
		seen[id] = true
	}
}

func TestComposeLineEndings(t *testing.T) {
	s := testSender(t)
	text := "one\ntwo\r\nthree\rfour" + strings.Repeat(" long", 40)
	env, err := s.compose(Message{To: "ana@example.org", Subject: "x", Text: text}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	checkLines(t, env.data)
	if env.from != "no-reply@clinic.example" || env.to != "ana@example.org" || env.utf8 {
		t.Errorf("envelope = %+v", env)
	}
	if !strings.Contains(string(env.data), "From: \"Kindred Clinic\" <no-reply@clinic.example>\r\n") {
		t.Errorf("From header missing in\n%s", env.data)
	}
}
