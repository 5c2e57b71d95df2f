package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kindred-health/kindred/chat/store/storetestenv"
)

func TestServeHelpListsEveryFlagWithItsVariable(t *testing.T) {
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"serve", "--help"}, nil, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, flag := range []string{"addr", "data", "jwt-public-key", "jwt-jwks", "jwt-issuer", "jwt-audience", "allowed-origins",
		"max-frame-bytes", "max-message-bytes", "send-rate", "send-burst", "max-rooms", "queue-size", "log-level", "log-format", "shutdown-timeout",
		"database-url", "redis-url", "redis-prefix", "node-id", "presence-ttl", "crisis-lexicon", "crisis-lexicon-replace",
		"crisis-model", "escalation-webhook-url", "webhook-allow-http", "ack-timeout-imminent", "ack-timeout-high", "crisis-support-file", "commit-linger",
		"debug-addr", "demo", "idle-timeout", "supervisor-idle-timeout",
		"max-sessions-per-user", "max-conns-per-ip", "max-conns", "conn-rate-per-ip", "conn-burst-per-ip",
		"trusted-proxy-header", "trusted-proxies", "session-idle-timeout", "session-max-age", "max-token-age",
		"tls-cert", "tls-key", "hsts", "hsts-max-age", "redis-tls-ca", "encryption-key-file", "reseal-rate",
		"retain-messages", "retain-escalations", "purge-interval",
		"public-url", "oidc-issuer", "oidc-client-id", "oidc-client-secret-file", "oidc-redirect-url", "oidc-role-claim",
		"oidc-roles", "oidc-default-role", "oidc-name", "oidc-scopes", "smtp-url", "access-token-ttl", "browser-session-ttl",
		"signin-link-ttl", "insecure-cookies"} {
		if !strings.Contains(out.String(), "-"+flag) || !strings.Contains(out.String(), "$"+envName(flag)) {
			t.Errorf("serve --help does not list -%s with $%s", flag, envName(flag))
		}
	}
}

// Settings with no flag (secrets) are listed in the help too, with their
// minimum lengths, under their own heading.
func TestHelpListsEnvironmentOnlySettings(t *testing.T) {
	help := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := Run(context.Background(), append(args, "--help"), nil, &out, &out); err != nil {
			t.Fatal(err)
		}
		_, envOnly, ok := strings.Cut(out.String(), "Environment variables with no flag")
		if !ok {
			t.Fatalf("%q --help has no section for environment-only settings:\n%s", args, out.String())
		}
		return envOnly
	}
	// entry returns the help text of one variable (the lines after its name).
	entry := func(help, name string) string {
		m := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(name) + `\n((?:    \t.*\n?)+)`).FindStringSubmatch(help)
		if m == nil {
			return ""
		}
		return m[1]
	}
	serve := help("serve")
	for name, want := range map[string]string{
		"KINDRED_JWT_SECRET":                                 "at least 32 bytes",
		"KINDRED_ESCALATION_WEBHOOK_SECRET":                  "at least 16 bytes",
		"PGPASSWORD, PGSSLMODE, ... (libpq's PG* variables)": "--database-url",
		"KINDRED_ENCRYPTION_KEYS":                            "id:base64key",
		"KINDRED_OIDC_CLIENT_SECRET":                         "--oidc-client-secret-file",
		"KINDRED_SMTP_PASSWORD":                              "--smtp-url",
	} {
		if !strings.Contains(entry(serve, name), want) {
			t.Errorf("serve --help does not list %s with %q:\n%s", name, want, serve)
		}
	}
	if token := help("token"); !strings.Contains(token, "KINDRED_JWT_SECRET") || strings.Contains(token, "WEBHOOK") {
		t.Errorf("token --help should list KINDRED_JWT_SECRET only:\n%s", token)
	}
	if oncall := help("oncall", "list"); !strings.Contains(oncall, "PGPASSWORD") {
		t.Errorf("oncall --help should list the PG* variables:\n%s", oncall)
	}
}

func TestBadFlagsAreRefused(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--no-such-flag"},
		{"serve", "--log-format", "xml", "--data", t.TempDir()},
		{"serve", "--dm-policy", "everyone", "--data", t.TempDir()},
		{"serve", "--session-idle-timeout", "5s", "--data", t.TempDir()},
		{"serve", "--session-max-age", "-1h", "--data", t.TempDir()},
		{"serve", "--retain-messages", "ten days", "--data", t.TempDir()},
		{"serve", "--retain-escalations", "-5d", "--data", t.TempDir()},
		{"serve", "--purge-interval", "1s", "--data", t.TempDir()},
		{"serve", "--max-conns-per-ip", "-1", "--data", t.TempDir()},
		{"serve", "--trusted-proxy-header", "X-Forwarded-For", "--data", t.TempDir()}, // from anyone
		{"serve", "--trusted-proxies", "10.0.0.0/8", "--data", t.TempDir()},           // no header
		{"serve", "--trusted-proxy-header", "X-Forwarded-For", "--trusted-proxies", "10.0.0.0/33", "--data", t.TempDir()},
		{"serve", "--smtp-url", "smtp://mail.example.org?from=k@example.org", "--data", t.TempDir()},                               // no --public-url
		{"serve", "--oidc-issuer", "https://login.example.org", "--public-url", "https://chat.example.org", "--data", t.TempDir()}, // no client id
		{"serve", "--oidc-issuer", "https://login.example.org", "--oidc-client-id", "k", "--public-url", "https://chat.example.org",
			"--oidc-roles", "staff", "--data", t.TempDir()},
		{"serve", "--oidc-issuer", "https://login.example.org", "--oidc-client-id", "k", "--public-url", "https://chat.example.org",
			"--oidc-default-role", "wizard", "--data", t.TempDir()},
		{"serve", "--access-token-ttl", "0s", "--data", t.TempDir()},
		{"token", "--role", "wizard", "--sub", "x", "--data", t.TempDir()},
		{"token", "--data", t.TempDir()}, // no --sub
		{"frobnicate"},
	} {
		if err := Run(context.Background(), args, nil, io.Discard, io.Discard); err == nil {
			t.Errorf("%q was accepted", args)
		}
	}
	t.Setenv("KINDRED_MAX_ROOMS", "many")
	if err := Run(context.Background(), []string{"serve", "--data", t.TempDir()}, nil, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "KINDRED_MAX_ROOMS") {
		t.Errorf("a bad environment value was not reported: %v", err)
	}
}

// serveProcess runs `kindred serve` in-process on a free port and returns
// its base URL and a function that stops it (as SIGTERM would) and waits.
func serveProcess(t *testing.T, args ...string) (string, func()) {
	t.Helper()
	return serveProcessLogs(t, io.Discard, "warn", args...)
}

// serveProcessLogs is serveProcess writing the node's logs of level and
// above to logs.
func serveProcessLogs(t *testing.T, logs io.Writer, level string, args ...string) (string, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", level, "--video-udp-port", "0", "--video-tcp-port", "0"}, args...), nil, pw, logs)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	re := regexp.MustCompile(`https?://\S+`)
	var url string
	for lines.Scan() {
		if m := re.FindString(lines.Text()); m != "" {
			url = m
			break
		}
	}
	if url == "" {
		cancel()
		t.Fatalf("serve did not print its address: %v", <-done)
	}
	go io.Copy(io.Discard, pr)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve returned %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return url, stop
}

func mintToken(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := Run(context.Background(), append([]string{"token"}, args...), nil, &out, &errOut); err != nil {
		t.Fatalf("token: %v %s", err, errOut.String())
	}
	return strings.TrimSpace(out.String())
}

// The embedded default needs nothing but a data directory: the secret is
// generated once and kept, so tokens minted before a restart stay valid,
// and history survives the restart. Stopping closes sessions with 1001.
func TestServeEmbeddedDefault(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	tok := mintToken(t, "--data", data, "--sub", "ann", "--name", "Ann", "--role", "specialist")
	if fi, err := os.Stat(filepath.Join(data, "jwt-secret")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("generated secret: %v %v", fi, err)
	}
	url, stop := serveProcess(t, "--data", data)
	for _, path := range []string{"/healthz", "/readyz", "/"} {
		resp, err := http.Get(url + path)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}
	// No metrics on the public port unless asked for (--metrics-addr,
	// --metrics-token-file; TestServeMetrics).
	if resp, err := http.Get(url + "/metrics"); err != nil || resp.StatusCode != 404 {
		t.Fatalf("GET /metrics on the public port: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	req, _ := http.NewRequest("POST", url+"/api/rooms", strings.NewReader(`{"name":"Evening group"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create room: %v %v", resp, err)
	}
	var room struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&room)
	resp.Body.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, strings.Replace(url, "http", "ws", 1)+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	write := func(v any) {
		b, _ := json.Marshal(v)
		if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	readUntil := func(typ string) {
		for {
			_, data, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("waiting for %s: %v", typ, err)
			}
			if bytes.Contains(data, []byte(`"type":"`+typ+`"`)) {
				return
			}
		}
	}
	write(map[string]any{"type": "hello", "token": tok})
	readUntil("welcome")
	write(map[string]any{"type": "send", "conv": room.ID, "id": "m1", "body": "kept across restarts"})
	readUntil("ack")

	stop()
	for err == nil { // frames queued before the close may come first
		_, _, err = ws.Read(ctx)
	}
	if code := websocket.CloseStatus(err); code != websocket.StatusGoingAway {
		t.Fatalf("session closed with %v (%v), want 1001", code, err)
	}

	url, _ = serveProcess(t, "--data", data)
	req, _ = http.NewRequest("GET", url+"/api/conversations/"+room.ID+"/messages", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("history after restart: %v %v", resp, err)
	}
	var page struct{ Messages []struct{ Body string } }
	json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if len(page.Messages) != 1 || page.Messages[0].Body != "kept across restarts" {
		t.Fatalf("history after restart: %+v", page)
	}
}

// Settings come from KINDRED_* variables when no flag is given.
func TestEnvironmentConfiguresServe(t *testing.T) {
	data := t.TempDir()
	t.Setenv("KINDRED_DATA", data)
	url, _ := serveProcess(t)
	resp, err := http.Get(url + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, err := os.Stat(filepath.Join(data, "kindred.db")); err != nil {
		t.Fatalf("KINDRED_DATA not used: %v", err)
	}
}

// Scale-out: two serve processes share PostgreSQL and Redis; a message
// sent to one reaches a client of the other.
func TestServeScaleOut(t *testing.T) {
	checkFanOut(t, http.DefaultClient, clusterArgs(t))
}

// checkFanOut starts two nodes with args and checks that a message sent
// on one reaches a client of the other, through client. It returns the
// nodes' URLs.
func checkFanOut(t *testing.T, client *http.Client, args []string) (urlA, urlB string) {
	t.Helper()
	urlA, _ = serveProcess(t, append([]string{"--data", t.TempDir(), "--node-id", "a"}, args...)...)
	urlB, _ = serveProcess(t, append([]string{"--data", t.TempDir(), "--node-id", "b"}, args...)...)
	ann := mintToken(t, "--sub", "ann", "--role", "specialist")
	bob := mintToken(t, "--sub", "bob", "--role", "peer")
	room := createRoomWith(t, client, urlA, ann)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b := dialChat(t, ctx, urlB, client, bob)
	b.write(map[string]any{"type": "join", "conv": room, "ref": "j"})
	b.until(`"ref":"j"`)
	a := dialChat(t, ctx, urlA, client, ann)
	a.write(map[string]any{"type": "send", "conv": room, "id": "x", "body": "from node a"})
	b.until(`"body":"from node a"`)
	return urlA, urlB
}

// clusterArgs sets a shared KINDRED_JWT_SECRET and returns the flags of
// a node on a fresh PostgreSQL schema and Redis with a prefix of its own.
func clusterArgs(t *testing.T) []string {
	t.Helper()
	dbURL := storetestenv.PostgresURL(t)
	schema := storetestenv.FreshSchema(t, dbURL)
	redisURL := os.Getenv("KINDRED_TEST_REDIS_URL")
	if redisURL == "" {
		redisURL = "redis://127.0.0.1:6379/0"
	}
	sep := "?"
	if strings.Contains(dbURL, "?") {
		sep = "&"
	}
	t.Setenv("KINDRED_JWT_SECRET", "a-shared-secret-for-every-node-0123456789")
	return []string{"--database-url", dbURL + sep + "search_path=" + schema, "--redis-url", redisURL,
		"--redis-prefix", fmt.Sprintf("ktcmd%d:", time.Now().UnixNano())}
}

func TestScaleOutNeedsASharedKey(t *testing.T) {
	t.Setenv("KINDRED_JWT_SECRET", "")
	err := Run(context.Background(), []string{"serve", "--data", t.TempDir(), "--database-url", "postgres://nowhere/db"}, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "same key") {
		t.Fatalf("serve with --database-url and a per-node secret: %v", err)
	}
}

// crisis-check scores each line of standard input and writes one JSON
// verdict per line; an operator lexicon is merged on top of the default.
func TestCrisisCheck(t *testing.T) {
	in := strings.NewReader("I have the pills and I'm taking them tonight\nthis traffic is killing me\n\nI feel like a zorblax today\n")
	var out, errOut bytes.Buffer
	lex := filepath.Join(t.TempDir(), "extra.txt")
	os.WriteFile(lex, []byte("signal zorblax self_harm high = zorblax\n"), 0o600)
	if err := Run(context.Background(), []string{"crisis-check", "--crisis-lexicon", lex}, in, &out, &errOut); err != nil {
		t.Fatalf("crisis-check: %v %s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d output lines for 4 input lines: %q", len(lines), out.String())
	}
	want := []string{"imminent", "none", "none", "high"}
	for i, line := range lines {
		var v struct {
			Severity   string
			Categories []string
			Evidence   []struct{ Start, End int }
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("line %d is not JSON: %q", i, line)
		}
		if v.Severity != want[i] {
			t.Errorf("line %d: severity %s, want %s (%s)", i, v.Severity, want[i], line)
		}
	}
	for _, args := range [][]string{
		{"crisis-check", "--crisis-lexicon", filepath.Join(t.TempDir(), "missing.txt")},
		{"crisis-check", "--crisis-lexicon-replace"},
		{"crisis-check", "--nope"},
	} {
		if err := Run(context.Background(), args, strings.NewReader("hi\n"), io.Discard, io.Discard); err == nil {
			t.Errorf("%q was accepted", args)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.txt")
	os.WriteFile(bad, []byte("signal = = =\n"), 0o600)
	err := Run(context.Background(), []string{"crisis-check", "--crisis-lexicon", bad}, strings.NewReader("hi\n"), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("a broken lexicon should be reported with its line: %v", err)
	}
}

// The embedded model reads beside the rules unless --crisis-model=false:
// with rules that know nothing of suicide (a replacement lexicon), only
// the model can raise this message, and it says so in the evidence.
func TestCrisisCheckModel(t *testing.T) {
	lex := filepath.Join(t.TempDir(), "tiny.txt")
	os.WriteFile(lex, []byte("signal zorblax self_harm high = zorblax\n"), 0o600)
	check := func(extra ...string) (sev string, rules []string) {
		t.Helper()
		var out, errOut bytes.Buffer
		in := strings.NewReader("i am going to kill myself tonight, i have saved up the pills and wrote my goodbye letters\n")
		args := append([]string{"crisis-check", "--crisis-lexicon", lex, "--crisis-lexicon-replace"}, extra...)
		if err := Run(context.Background(), args, in, &out, &errOut); err != nil {
			t.Fatalf("crisis-check %q: %v %s", extra, err, errOut.String())
		}
		var v struct {
			Severity string
			Evidence []struct{ Rule string }
		}
		if err := json.Unmarshal(out.Bytes(), &v); err != nil {
			t.Fatalf("not JSON: %q", out.String())
		}
		for _, e := range v.Evidence {
			rules = append(rules, e.Rule)
		}
		return v.Severity, rules
	}
	if sev, rules := check(); (sev != "high" && sev != "imminent") || !slices.Equal(rules, []string{"model"}) {
		t.Errorf("with the model: %s %q, want high or imminent raised by \"model\"", sev, rules)
	}
	if sev, rules := check("--crisis-model=false"); sev != "none" || len(rules) != 0 {
		t.Errorf("--crisis-model=false: %s %q, want none from the rules alone", sev, rules)
	}
}

// kindred oncall manages the rota in the embedded store that serve uses.
func TestOncallCommands(t *testing.T) {
	data := t.TempDir()
	// Morgan signs in once, as a supervisor, and so becomes known.
	url, stop := serveProcess(t, "--data", data)
	req, _ := http.NewRequest("GET", url+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+mintToken(t, "--data", data, "--sub", "morgan", "--role", "supervisor"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("sign in: %v %v", resp, err)
	}
	stop()
	run := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := Run(context.Background(), append([]string{"oncall"}, args...), nil, &out, &errOut); err != nil {
			t.Fatalf("oncall %q: %v %s", args, err, errOut.String())
		}
		return out.String()
	}
	added := run("add", "--data", data, "--supervisor", "morgan", "--tier", "backup", "--start", "now", "--end", "8h")
	id := strings.Fields(strings.TrimPrefix(added, "added shift "))[0]
	id = strings.TrimSuffix(id, ":")
	if list := run("list", "--data", data); !strings.Contains(list, "morgan") || !strings.Contains(list, "backup") || !strings.Contains(list, id) {
		t.Fatalf("list after add:\n%s", list)
	}
	run("remove", "--data", data, "--id", id)
	if list := run("list", "--data", data); strings.Contains(list, "morgan") {
		t.Fatalf("list after remove:\n%s", list)
	}
	for _, args := range [][]string{
		{"oncall"},
		{"oncall", "add", "--data", data, "--supervisor", "x", "--tier", "tertiary"},
		{"oncall", "add", "--data", data, "--supervisor", "x", "--start", "8h", "--end", "now"},
		{"oncall", "remove", "--data", data},
		{"oncall", "add", "--data", data, "--supervisor", "stranger"},
	} {
		if err := Run(context.Background(), args, nil, io.Discard, io.Discard); err == nil {
			t.Errorf("%q was accepted", args)
		}
	}
}

func TestServeRefusesBadCrisisSettings(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--data", t.TempDir(), "--crisis-lexicon", filepath.Join(t.TempDir(), "missing")},
		{"serve", "--data", t.TempDir(), "--escalation-webhook-url", "http://127.0.0.1:1/hook"}, // no secret
		{"serve", "--data", t.TempDir(), "--crisis-support-file", filepath.Join(t.TempDir(), "missing.json")},
		{"serve", "--data", t.TempDir(), "--crisis-support-file", badSupportFile(t)},
	} {
		if err := Run(context.Background(), args, nil, io.Discard, io.Discard); err == nil {
			t.Errorf("%q was accepted", args)
		}
	}
}

// badSupportFile is a crisis support file whose tap-to-call number is not
// a phone number.
func badSupportFile(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "support.json")
	body := `{"text":"You are not alone.","resources":[{"name":"Lifeline","contact":"Call 988","call":"call-988"}]}`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// syncBuffer is a bytes.Buffer that serve may write while a test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serveFirstRun runs serve on a free port and returns its base URL and
// what it printed up to the end of the first-run hint.
func serveFirstRun(t *testing.T, args ...string) (url, printed string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "warn", "--video-udp-port", "0", "--video-tcp-port", "0"}, args...), nil, &out, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "--role <role>") {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("serve stopped (%v) before its first-run hint:\n%s", err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no first-run hint:\n%s", out.String())
		}
	}
	printed = out.String()
	return regexp.MustCompile(`http://\S+`).FindString(printed), printed
}

// hintedTokenArgs returns the arguments of the kindred token command the
// first-run hint suggests, with the placeholders filled in.
func hintedTokenArgs(t *testing.T, printed string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^ +kindred token (.*)--sub <user id> --name <name> --role <role>$`).FindStringSubmatch(printed)
	if m == nil {
		t.Fatalf("no kindred token command in the hint:\n%s", printed)
	}
	return append(strings.Fields(m[1]), "--sub", "sue", "--name", "Sue", "--role", "supervisor")
}

func signInWith(t *testing.T, url, tok string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url+"/api/me", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("the node refuses a token minted as its hint says: %s", resp.Status)
	}
}

// On the embedded default the first-run hint mints with the node's data
// directory, and a token minted that way is accepted.
func TestFirstRunHintEmbedded(t *testing.T) {
	t.Setenv("KINDRED_JWT_SECRET", "")
	data := filepath.Join(t.TempDir(), "data")
	url, printed := serveFirstRun(t, "--data", data)
	args := hintedTokenArgs(t, printed)
	if !slices.Contains(args, "--data") || !slices.Contains(args, data) || strings.Contains(printed, "KINDRED_JWT_SECRET") {
		t.Fatalf("the embedded hint should mint with --data %s:\n%s", data, printed)
	}
	signInWith(t, url, mintToken(t, args...))
}

// In cluster mode (--database-url) the secret is KINDRED_JWT_SECRET, shared
// by every node; the hint must say to mint with it, not with a --data
// directory (whose freshly generated secret the nodes refuse), and a token
// minted as it says is accepted. The data directory then holds nothing but
// the first-run marker and the first-run link (no secret of its own).
func TestFirstRunHintInClusterMode(t *testing.T) {
	dbURL := storetestenv.PostgresURL(t)
	schema := storetestenv.FreshSchema(t, dbURL)
	sep := "?"
	if strings.Contains(dbURL, "?") {
		sep = "&"
	}
	t.Setenv("KINDRED_JWT_SECRET", "a-shared-secret-for-every-node-0123456789")
	data := t.TempDir()
	url, printed := serveFirstRun(t, "--data", data, "--database-url", dbURL+sep+"search_path="+schema)
	for _, want := range []string{"KINDRED_JWT_SECRET", "every node", "at least 32 bytes", "First run"} {
		if !strings.Contains(printed, want) {
			t.Errorf("the cluster hint does not say %q:\n%s", want, printed)
		}
	}
	args := hintedTokenArgs(t, printed)
	if slices.Contains(args, "--data") {
		t.Fatalf("the cluster hint mints with a data directory:\n%s", printed)
	}
	signInWith(t, url, mintToken(t, args...))

	entries, err := os.ReadDir(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != firstRunMarker && e.Name() != adminLinkFile {
			t.Errorf("a cluster node wrote %s to its data directory", e.Name())
		}
	}
}

func TestMintHint(t *testing.T) {
	str := func(s string) *string { return &s }
	keys := keyFlags{data: str("/srv/kindred data"), publicKey: str(""), jwks: str(""), issuer: str(""), audience: str("")}
	t.Setenv("KINDRED_JWT_SECRET", "")
	if h := keys.mintHint("bin/kindred", false); !strings.Contains(h, "bin/kindred token --data '/srv/kindred data' --sub") {
		t.Errorf("embedded hint: %s", h)
	}
	t.Setenv("KINDRED_JWT_SECRET", "a-shared-secret-for-every-node-0123456789")
	*keys.issuer = "https://idp.example"
	h := keys.mintHint("go run ./cmd/kindred", true)
	for _, want := range []string{"KINDRED_JWT_SECRET", "every node", "at least 32 bytes", "go run ./cmd/kindred token --jwt-issuer https://idp.example --sub"} {
		if !strings.Contains(h, want) {
			t.Errorf("cluster hint lacks %q: %s", want, h)
		}
	}
	if strings.Contains(h, "--data") {
		t.Errorf("cluster hint mints with --data: %s", h)
	}
}

func TestInvokedAs(t *testing.T) {
	for arg0, want := range map[string]string{
		"/tmp/go-build3348586916/b001/exe/kindred":                                                            "go run ./cmd/kindred",
		"/root/.cache/go-build/cb/cb8a6dfa00a79c990406cca389a51a695c8cb9127044fbe820f0444a5a77c0d6-d/kindred": "go run ./cmd/kindred",
		"/elsewhere/cache/cb/cb8a6dfa00a79c990406cca389a51a695c8cb9127044fbe820f0444a5a77c0d6-d/kindred":      "go run ./cmd/kindred",
		"bin/kindred":            "bin/kindred",
		"kindred":                "kindred",
		"/usr/local/bin/kindred": "/usr/local/bin/kindred",
		"/opt/my tools/kindred":  "'/opt/my tools/kindred'",
	} {
		if got := invokedAs(arg0); got != want {
			t.Errorf("invokedAs(%q) = %q, want %q", arg0, got, want)
		}
	}
}

// --dm-policy reaches the server: by default two peers who share no room
// cannot start a DM; with anyone they can.
func TestServeDMPolicy(t *testing.T) {
	for _, c := range []struct {
		args []string
		want int
	}{{nil, http.StatusForbidden}, {[]string{"--dm-policy", "anyone"}, http.StatusOK}} {
		data := filepath.Join(t.TempDir(), "data")
		pat := mintToken(t, "--data", data, "--sub", "pat", "--name", "Pat", "--role", "peer")
		bob := mintToken(t, "--data", data, "--sub", "bob", "--name", "Bob", "--role", "peer")
		url, stop := serveProcess(t, append([]string{"--data", data}, c.args...)...)
		call := func(method, path, tok, body string) int {
			req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		call("GET", "/api/me", bob, "") // known to the server
		if st := call("POST", "/api/dms", pat, `{"user":"bob"}`); st != c.want {
			t.Errorf("serve %v: a DM between peers who share no room: %d, want %d", c.args, st, c.want)
		}
		stop()
	}
}
