package server_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/broker/memory"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/chat/store/sqlite"
	"github.com/kindred-health/kindred/chat/webpush"
)

// env is one node on the embedded default (SQLite in a temp dir, memory
// broker) behind a real HTTP server on a loopback port.
type env struct {
	t      testing.TB
	srv    *server.Server
	http   *httptest.Server
	store  chat.Store
	signer *auth.Signer
	dbPath string
	secret []byte
	cfg    server.Config
	// escalations runs the escalation engine on the node's store, with
	// escOpts.
	escalations bool
	escOpts     server.EscalationOptions
	// escWrap, when set, wraps the escalation store (to inject faults).
	escWrap func(escalation.Store) escalation.Store
	// push, when set, builds the node's Web Push sender on its store.
	push func(webpush.Store) *webpush.Sender
	// brokerWrap, when set, wraps the node's broker (to inject faults).
	brokerWrap func(chat.Broker) chat.Broker
}

var testSecret = []byte("0123456789abcdef0123456789abcdef-test-secret")

func newEnv(t testing.TB, mod ...func(*server.Config)) *env {
	t.Helper()
	e := &env{t: t, dbPath: filepath.Join(t.TempDir(), "kindred.db"), secret: testSecret}
	for _, m := range mod {
		m(&e.cfg)
	}
	e.start()
	t.Cleanup(e.stop)
	return e
}

func (e *env) start() {
	t := e.t
	t.Helper()
	st, err := sqlite.Open(context.Background(), e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewHMACVerifier(e.secret, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.signer, err = auth.NewHMACSigner(e.secret)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.cfg
	cfg.Store, cfg.Broker, cfg.Presence, cfg.Verifier = st, memory.NewBroker(), memory.NewPresence(), v
	if e.brokerWrap != nil {
		cfg.Broker = e.brokerWrap(cfg.Broker)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if e.escalations {
		var es escalation.Store = st.Escalations()
		if e.escWrap != nil {
			es = e.escWrap(es)
		}
		withEscalation(t, &cfg, es, e.escOpts)
	}
	if e.push != nil {
		cfg.Push = e.push(st)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.srv, e.store = srv, st
	e.http = httptest.NewServer(srv.Handler())
}

func (e *env) stop() {
	if e.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.http.CloseClientConnections()
	if err := e.srv.Shutdown(ctx); err != nil {
		e.t.Errorf("shutdown: %v", err)
	}
	e.http.Close()
	e.store.Close()
	e.srv = nil
}

// restart stops the node and starts a new one on the same database.
func (e *env) restart() {
	e.stop()
	e.start()
}

// newEscalatingEnv is newEnv with the crisis escalation engine on the
// node's own SQLite store.
func newEscalatingEnv(t testing.TB, mod ...func(*server.Config)) *env {
	t.Helper()
	return newEscalatingEnvWith(t, server.EscalationOptions{}, mod...)
}

// newEscalatingEnvWith is newEscalatingEnv with escalation options (policy,
// webhook, node name).
func newEscalatingEnvWith(t testing.TB, o server.EscalationOptions, mod ...func(*server.Config)) *env {
	t.Helper()
	e := &env{t: t, dbPath: filepath.Join(t.TempDir(), "kindred.db"), secret: testSecret, escalations: true, escOpts: o}
	for _, m := range mod {
		m(&e.cfg)
	}
	e.start()
	t.Cleanup(e.stop)
	return e
}

func (e *env) token(sub string, role auth.Role) string {
	tok, err := e.signer.Mint(sub, strings.ToUpper(sub[:1])+sub[1:], role, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// api calls the HTTP API and decodes the JSON answer into out (if not nil).
func (e *env) api(method, path, token string, body any, out any) int {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.http.URL+path, r)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

func (e *env) createRoom(token, name string) chat.Conversation {
	e.t.Helper()
	var c chat.Conversation
	if st := e.api("POST", "/api/rooms", token, map[string]string{"name": name}, &c); st != http.StatusCreated {
		e.t.Fatalf("create room: status %d", st)
	}
	return c
}

// frame is a decoded server frame, with the raw JSON kept.
type frame struct {
	Type         string            `json:"type"`
	Ref          string            `json:"ref"`
	ID           string            `json:"id"`
	Conv         string            `json:"conv"`
	Seq          int64             `json:"seq"`
	Target       int64             `json:"target"`
	From         string            `json:"from"`
	Body         string            `json:"body"`
	Duplicate    bool              `json:"duplicate"`
	Code         chat.Code         `json:"code"`
	Message      string            `json:"message"`
	Temporary    bool              `json:"temporary"`
	RetryAfterMS int64             `json:"retry_after_ms"`
	User         json.RawMessage   `json:"user"`
	Online       bool              `json:"online"`
	Conversation chat.Conversation `json:"conversation"`
	Members      []chat.Member     `json:"members"`
	raw          string
}

// client is a real WebSocket client speaking docs/protocol.md.
type client struct {
	t      testing.TB
	ws     *websocket.Conn
	frames chan frame
	done   chan struct{}
	mu     sync.Mutex
	err    error
	// last is the highest sequence taken per conversation, for resume.
	last    map[string]int64
	backlog []frame
	// stopped, while set, makes the reader stop taking data from the
	// socket, so that the server sees a client that does not read.
	stopped bool
	pauseMu sync.Mutex
	resume  chan struct{}
}

func (e *env) dial(token string, resume map[string]int64) *client {
	e.t.Helper()
	c := e.dialRaw(nil)
	c.hello(token, resume)
	return c
}

func (e *env) dialRaw(opts *websocket.DialOptions) *client {
	e.t.Helper()
	return dialURL(e.t, e.http.URL, opts)
}

// dialURL opens a WebSocket to the node at base (http://host:port).
func dialURL(t testing.TB, base string, opts *websocket.DialOptions) *client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, strings.Replace(base, "http", "ws", 1)+"/ws", opts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	ws.SetReadLimit(-1)
	c := &client{t: t, ws: ws, frames: make(chan frame, 100000), done: make(chan struct{}), last: map[string]int64{}, resume: make(chan struct{})}
	go c.readLoop()
	t.Cleanup(func() { c.ws.CloseNow() })
	return c
}

// hello signs a raw client in and waits for the welcome.
func (c *client) hello(token string, resume map[string]int64) {
	c.t.Helper()
	c.send(map[string]any{"type": "hello", "token": token, "resume": resume})
	c.expect("welcome")
}

func (c *client) readLoop() {
	defer close(c.done)
	for {
		c.pauseMu.Lock()
		stopped := c.stopped
		c.pauseMu.Unlock()
		if stopped {
			<-c.resume
		}
		_, data, err := c.ws.Read(context.Background())
		if err != nil {
			c.mu.Lock()
			c.err = err
			c.mu.Unlock()
			return
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			var f frame
			if err := json.Unmarshal(line, &f); err != nil {
				c.mu.Lock()
				c.err = fmt.Errorf("bad server frame %q: %v", line, err)
				c.mu.Unlock()
				return
			}
			f.raw = string(line)
			c.frames <- f
		}
	}
}

func (c *client) send(v any) {
	c.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(b)
}

func (c *client) sendRaw(b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

const waitTimeout = 10 * time.Second

// read returns the next frame from the socket, failing the test if none
// comes in time. The timeout only bounds a hung test; no assertion
// depends on timing.
func (c *client) read() frame {
	c.t.Helper()
	select {
	case f := <-c.frames:
		return f
	case <-c.done:
		select {
		case f := <-c.frames:
			return f
		default:
		}
		c.t.Fatalf("connection ended while waiting (%v); unread: %s", c.closeErr(), c.backlogTail())
	case <-time.After(waitTimeout):
		c.t.Fatalf("no matching frame within %v; unread: %s", waitTimeout, c.backlogTail())
	}
	return frame{}
}

// take returns the first frame, in arrival order, that match accepts.
// Frames passed over stay in the backlog for later calls, so helpers never
// lose an event another helper is waiting for.
func (c *client) take(match func(frame) bool) frame {
	c.t.Helper()
	for i, f := range c.backlog {
		if match(f) {
			c.backlog = append(c.backlog[:i:i], c.backlog[i+1:]...)
			return c.note(f)
		}
	}
	for {
		f := c.read()
		if match(f) {
			return c.note(f)
		}
		c.backlog = append(c.backlog, f)
	}
}

func (c *client) note(f frame) frame {
	if isEvent(f) {
		c.last[f.Conv] = max(c.last[f.Conv], f.Seq)
	}
	return f
}

func isEvent(f frame) bool {
	return f.Seq > 0 && f.Conv != "" && (f.Type == "message" || f.Type == "edit" || f.Type == "delete" || f.Type == "hide")
}

func (c *client) backlogTail() string {
	var b strings.Builder
	for _, f := range c.backlog[max(0, len(c.backlog)-5):] {
		b.WriteString(f.raw)
		b.WriteString(" ")
	}
	return b.String()
}

// next returns the next frame not yet taken.
func (c *client) next() frame {
	c.t.Helper()
	return c.take(func(frame) bool { return true })
}

// expect returns the next frame of type typ.
func (c *client) expect(typ string) frame {
	c.t.Helper()
	return c.take(func(f frame) bool { return f.Type == typ })
}

// expectEvent returns the next log event (message, edit, delete) of conv.
func (c *client) expectEvent(conv string) frame {
	c.t.Helper()
	return c.take(func(f frame) bool { return isEvent(f) && f.Conv == conv })
}

// stopReading makes the reader stop after the frame it is reading now.
func (c *client) stopReading() {
	c.pauseMu.Lock()
	c.stopped = true
	c.pauseMu.Unlock()
}

func (c *client) startReading() {
	c.pauseMu.Lock()
	c.stopped = false
	c.pauseMu.Unlock()
	close(c.resume)
}

func (c *client) closeErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// waitClosed waits for the server to close the connection and returns the
// close code.
func (c *client) waitClosed() websocket.StatusCode {
	c.t.Helper()
	// A client that stopped reading may have megabytes to drain first.
	deadline := time.After(6 * waitTimeout)
	for {
		select {
		case <-c.frames:
		case <-c.done:
			return websocket.CloseStatus(c.closeErr())
		case <-deadline:
			c.t.Fatal("connection was not closed")
		}
	}
}

// sendMsg sends a message and waits for its ack.
func (c *client) sendMsg(conv, id, body string) frame {
	c.t.Helper()
	c.send(map[string]any{"type": "send", "conv": conv, "id": id, "body": body})
	f := c.take(func(f frame) bool { return (f.Type == "ack" || f.Type == "error") && f.ID == id })
	if f.Type == "error" {
		c.t.Fatalf("send %s refused: %s", id, f.raw)
	}
	return f
}

// join joins a room over the WebSocket and waits until caught up on it.
func (c *client) join(conv string) {
	c.t.Helper()
	c.send(map[string]any{"type": "join", "conv": conv, "ref": "j-" + conv})
	f := c.take(func(f frame) bool { return f.Ref == "j-"+conv })
	if f.Type != "conversation" {
		c.t.Fatalf("join refused: %s", f.raw)
	}
	c.expectSynced(conv)
}

func (c *client) expectSynced(conv string) frame {
	c.t.Helper()
	return c.take(func(f frame) bool { return f.Type == "synced" && f.Conv == conv })
}

// scrape reads the node's metrics from its MetricsHandler (not on the
// public handler unless a metrics token is set).
func scrape(e *env) string {
	rec := httptest.NewRecorder()
	e.srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// metric reads one unlabelled series from the node's /metrics.
func metric(t testing.TB, e *env, name string) float64 {
	t.Helper()
	for _, line := range strings.Split(scrape(e), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	t.Fatalf("metric %s not found", name)
	return 0
}

// resign signs claims with secret (HS256) without the library's checks,
// to build tokens the signer refuses to make (already expired).
func resign(t testing.TB, secret []byte, claims map[string]any) string {
	t.Helper()
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	c, _ := json.Marshal(claims)
	unsigned := h + "." + base64.RawURLEncoding.EncodeToString(c)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(unsigned))
	return unsigned + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// tryTake is take for a connection that is about to end: it returns false
// once the connection has ended and nothing matching is left.
func (c *client) tryTake(match func(frame) bool) (frame, bool) {
	c.t.Helper()
	for i, f := range c.backlog {
		if match(f) {
			c.backlog = append(c.backlog[:i:i], c.backlog[i+1:]...)
			return c.note(f), true
		}
	}
	for {
		select {
		case f := <-c.frames:
			if match(f) {
				return c.note(f), true
			}
			c.backlog = append(c.backlog, f)
		case <-c.done:
			select {
			case f := <-c.frames:
				c.frames <- f // put back and loop to drain in order
				continue
			default:
			}
			return frame{}, false
		case <-time.After(waitTimeout):
			c.t.Fatalf("connection neither delivered nor ended within %v", waitTimeout)
		}
	}
}

func httpGet(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// withEscalation gives cfg the crisis path on st, as cmd/kindred wires it:
// the pager over cfg's broker and presence, the engine, the webhook sender.
func withEscalation(t testing.TB, cfg *server.Config, st escalation.Store, o server.EscalationOptions) {
	t.Helper()
	o.Store, o.Users, o.Broker, o.Presence = st, cfg.Store, cfg.Broker, cfg.Presence
	if o.Logger == nil {
		o.Logger = cfg.Logger
	}
	esc, err := server.NewEscalation(o)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Escalation = esc
}
