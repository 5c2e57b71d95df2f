package signin

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/auth/mail"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/store/sqlite"
)

// inbox is a Mailer that keeps what it is given (the SMTP path itself is
// tested in auth/mail and in smtp_test.go).
type inbox struct {
	msgs chan mail.Message
}

func (b *inbox) Send(_ context.Context, m mail.Message) error {
	b.msgs <- m
	return nil
}

// env is a sign-in handler over a real SQLite store, on an httptest
// server, with a clock the test moves.
type env struct {
	t       *testing.T
	st      *sqlite.Store
	h       *Handler
	srv     *httptest.Server
	mail    *inbox
	signer  *auth.Signer
	verify  *auth.Verifier
	mu      sync.Mutex
	now     time.Time
	audited []chat.AuditEntry
}

func newEnv(t *testing.T, mod func(*env, *Config)) *env {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	secret := []byte(strings.Repeat("s", 32))
	signer, err := auth.NewHMACSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	verify, err := auth.NewHMACVerifier(secret, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, st: st, signer: signer, verify: verify, now: time.Now(), mail: &inbox{msgs: make(chan mail.Message, 100)}}
	e.srv = httptest.NewServer(nil)
	t.Cleanup(e.srv.Close)
	cfg := Config{Store: st, Signer: signer, Mailer: e.mail, PublicURL: e.srv.URL, InsecureCookies: true,
		Now: e.clock, Audit: func(_ context.Context, a chat.AuditEntry) {
			e.mu.Lock()
			e.audited = append(e.audited, a)
			e.mu.Unlock()
		}}
	if mod != nil {
		mod(e, &cfg)
	}
	e.h, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.h.Close)
	e.srv.Config.Handler = e.h
	return e
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

// browser is a client with its own cookie jar, posting as the page does.
type browser struct {
	e   *env
	c   *http.Client
	hdr map[string]string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}, hdr: map[string]string{csrfHeader: "1"}}
}

// post sends body to path and decodes the answer into out (when given);
// it returns the status and the error code, if any.
func (b *browser) post(path string, body any, out any) (int, chat.Code) {
	b.e.t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", b.e.srv.URL+path, strings.NewReader(string(data)))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range b.hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var fail struct{ Error chat.Error }
	if json.Unmarshal(raw, &fail) == nil && fail.Error.Code != "" {
		return resp.StatusCode, fail.Error.Code
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			b.e.t.Fatalf("%s: %v in %s", path, err, raw)
		}
	}
	return resp.StatusCode, ""
}

func (b *browser) cookie() string {
	u, _ := url.Parse(b.e.srv.URL + "/auth/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == refreshCookieInsecure {
			return c.Value
		}
	}
	return ""
}

var linkRE = regexp.MustCompile(`/#link=([A-Za-z0-9_-]+)`)

// nextLink waits for the next email and returns its link's secret.
func (e *env) nextLink(to string) string {
	e.t.Helper()
	select {
	case m := <-e.mail.msgs:
		if m.To != to {
			e.t.Fatalf("mail to %q, want %q", m.To, to)
		}
		got := linkRE.FindStringSubmatch(m.Text)
		if got == nil || !strings.Contains(m.Text, e.srv.URL+"/#link=") {
			e.t.Fatalf("no link to %s in the mail", e.srv.URL)
		}
		return got[1]
	case <-time.After(10 * time.Second):
		e.t.Fatal("no mail within 10 s")
	}
	return ""
}

// noMail checks that nothing was sent: a marker request to an address
// that always gets a link is sent after, and must be the next mail.
func (e *env) noMail(b *browser) {
	e.t.Helper()
	marker := "marker-" + strings.ToLower(time.Now().Format("150405.000000000")) + "@example.org"
	if _, err := e.st.SaveAccount(e.t.Context(), chat.Account{User: chat.User{ID: "m" + marker[7:20], Name: "M", Role: "peer"}, Email: marker}, time.Time{}); err != nil {
		e.t.Fatal(err)
	}
	b.post("/auth/email", map[string]string{"email": marker}, nil)
	e.nextLink(marker)
}

func (e *env) account(id, email, role string) chat.Account {
	e.t.Helper()
	a, err := e.st.SaveAccount(e.t.Context(), chat.Account{User: chat.User{ID: id, Name: "Name " + id, Role: role},
		Email: email, Source: chat.SourceEmail}, time.Time{})
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
