package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// testCA is a certificate authority made for one test, which clients of
// the test trust instead of the system's.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string // its certificate, PEM
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	cert, key := makeCert(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "Kindred test CA"},
		IsCA:    true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, nil)
	file := filepath.Join(t.TempDir(), "ca.pem")
	writePEM(t, file, "CERTIFICATE", cert.Raw)
	return &testCA{cert: cert, key: key, file: file}
}

// makeCert makes a P-256 key and a certificate of it from tmpl, valid
// for a day, signed by ca (self-signed when ca is nil).
func makeCert(t *testing.T, tmpl *x509.Certificate, ca *testCA) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	parent, signer := tmpl, key
	if ca != nil {
		parent, signer = ca.cert, ca.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func writePEM(t *testing.T, file, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// issue writes a new server certificate for localhost, 127.0.0.1 and ::1,
// signed by ca, and its key to certFile and keyFile.
func (ca *testCA) issue(t *testing.T, certFile, keyFile string) *x509.Certificate {
	t.Helper()
	cert, key := makeCert(t, &x509.Certificate{
		Subject:  pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, certFile, "CERTIFICATE", cert.Raw)
	writePEM(t, keyFile, "PRIVATE KEY", keyDER)
	return cert
}

// tlsConfig trusts ca only.
func (ca *testCA) tlsConfig() *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	return &tls.Config{RootCAs: pool}
}

// client is an HTTP client that trusts ca only.
func (ca *testCA) client() *http.Client {
	return &http.Client{Transport: &http.Transport{TLSClientConfig: ca.tlsConfig()}, Timeout: 10 * time.Second}
}

// servedSerial is the serial number of the certificate that addr presents
// to a new connection.
func (ca *testCA) servedSerial(t *testing.T, addr string) string {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, ca.tlsConfig())
	if err != nil {
		t.Fatalf("TLS to %s: %v", addr, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// wsChat is a signed-in WebSocket session of a test.
type wsChat struct {
	t   *testing.T
	ctx context.Context
	ws  *websocket.Conn
}

func dialChat(t *testing.T, ctx context.Context, url string, client *http.Client, tok string) *wsChat {
	t.Helper()
	ws, _, err := websocket.Dial(ctx, strings.Replace(url, "http", "ws", 1)+"/ws", &websocket.DialOptions{HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	c := &wsChat{t: t, ctx: ctx, ws: ws}
	c.write(map[string]any{"type": "hello", "token": tok})
	c.until(`"type":"welcome"`)
	return c
}

func (c *wsChat) write(v any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	if err := c.ws.Write(c.ctx, websocket.MessageText, b); err != nil {
		c.t.Fatal(err)
	}
}

// until reads frames until one contains substr.
func (c *wsChat) until(substr string) {
	c.t.Helper()
	for {
		_, data, err := c.ws.Read(c.ctx)
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", substr, err)
		}
		if bytes.Contains(data, []byte(substr)) {
			return
		}
	}
}

// createRoomWith creates a room through the API at url, as tok.
func createRoomWith(t *testing.T, client *http.Client, url, tok string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", url+"/api/rooms", strings.NewReader(`{"name":"Evening group"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := client.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create room: %v %v", resp, err)
	}
	defer resp.Body.Close()
	var room struct{ ID string }
	json.NewDecoder(resp.Body).Decode(&room)
	return room.ID
}

// waitFor polls cond for up to a minute: a server starting on a loaded
// machine (initdb, PostgreSQL's recovery) may take tens of seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// With --tls-cert and --tls-key the node serves HTTPS and WSS only, with
// HSTS; the metrics listener too unless it is loopback-only. SIGHUP (a
// real signal) serves a new pair to new connections while a session
// opened before goes on; a broken pair is refused and the old one stays.
func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	certFile, keyFile := filepath.Join(dir, "node.crt"), filepath.Join(dir, "node.key")
	first := ca.issue(t, certFile, keyFile)
	data := filepath.Join(dir, "data")
	tok := mintToken(t, "--data", data, "--sub", "ann", "--name", "Ann", "--role", "specialist")
	metricsAddr := "0.0.0.0:" + portOf(t, freeAddr(t))
	debugAddr := freeAddr(t)
	var logs syncBuffer
	url, _ := serveProcessLogs(t, &logs, "info", "--data", data, "--tls-cert", certFile, "--tls-key", keyFile,
		"--metrics-addr", metricsAddr, "--debug-addr", debugAddr)
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("serve printed %s, want an https:// URL", url)
	}
	addr := strings.TrimPrefix(url, "https://")
	client := ca.client()

	checkTLSOnly(t, client, addr)
	metricsURL := "https://127.0.0.1:" + portOf(t, metricsAddr) + "/metrics"
	if resp, err := client.Get(metricsURL); err != nil || resp.StatusCode != 200 {
		t.Fatalf("metrics over TLS on a non-loopback address: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if st, _ := get(t, "http://"+debugAddr+"/debug/pprof/cmdline", ""); st != 200 {
		t.Fatalf("pprof on a loopback address, plain HTTP: %d", st)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	room := createRoomWith(t, client, url, tok)
	old := dialChat(t, ctx, url, client, tok)
	old.write(map[string]any{"type": "send", "conv": room, "id": "m1", "body": "over wss"})
	old.until(`"type":"ack"`)

	second := ca.issue(t, certFile, keyFile)
	hangUp(t)
	waitFor(t, "the new certificate", func() bool { return ca.servedSerial(t, addr) == second.SerialNumber.String() })
	old.write(map[string]any{"type": "send", "conv": room, "id": "m2", "body": "still open after the reload"})
	old.until(`"id":"m2"`)
	dialChat(t, ctx, url, client, tok) // signs in over the new certificate

	// A certificate that does not match the key in place is refused.
	ca.issue(t, certFile, filepath.Join(dir, "other.key"))
	hangUp(t)
	waitFor(t, "the failed reload in the log", func() bool { return strings.Contains(logs.String(), "reload failed") })
	if got := ca.servedSerial(t, addr); got != second.SerialNumber.String() || got == first.SerialNumber.String() {
		t.Fatalf("after a broken reload the node serves serial %s, want the second pair's %s", got, second.SerialNumber)
	}
	if strings.Contains(logs.String(), "PRIVATE KEY") {
		t.Fatalf("key material in the log:\n%s", logs.String())
	}
}

// checkTLSOnly checks that addr answers HTTPS with HSTS, from TLS 1.2 on,
// and refuses plain HTTP.
func checkTLSOnly(t *testing.T, client *http.Client, addr string) {
	t.Helper()
	resp, err := client.Get("https://" + addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /healthz over TLS: %v %v", resp, err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("Strict-Transport-Security: %q", got)
	}
	old := &tls.Config{RootCAs: client.Transport.(*http.Transport).TLSClientConfig.RootCAs, MaxVersion: tls.VersionTLS11}
	if conn, err := tls.Dial("tcp", addr, old); err == nil {
		conn.Close()
		t.Errorf("a TLS 1.1 handshake was accepted")
	}
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP on the TLS port: %d, want 400", resp.StatusCode)
		}
	}
}

// hangUp sends SIGHUP to this process, where serve is running.
func hangUp(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
}

func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// A half-given, unreadable or mismatched pair stops serve at start-up,
// naming the flag or file.
func TestServeRefusesBadTLSSettings(t *testing.T) {
	dir := t.TempDir()
	ca := newTestCA(t)
	certFile, keyFile := filepath.Join(dir, "node.crt"), filepath.Join(dir, "node.key")
	ca.issue(t, certFile, keyFile)
	ca.issue(t, filepath.Join(dir, "other.crt"), filepath.Join(dir, "other.key"))
	missing := filepath.Join(dir, "missing.key")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--tls-cert", certFile}, "--tls-cert and --tls-key go together"},
		{[]string{"--tls-key", keyFile}, "--tls-cert and --tls-key go together"},
		{[]string{"--tls-cert", certFile, "--tls-key", missing}, missing},
		{[]string{"--tls-cert", filepath.Join(dir, "other.crt"), "--tls-key", keyFile}, keyFile},
		{[]string{"--tls-cert", ca.file, "--tls-key", keyFile}, ca.file},
		{[]string{"--hsts-max-age", "-1s"}, "--hsts-max-age"},
	} {
		_, err := serveWithArgs(t, append([]string{"--data", filepath.Join(dir, "data")}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("serve %q: %v, want an error naming %s", tc.args, err, tc.want)
		}
	}
}

// Behind a proxy that terminates TLS, --hsts sends the header all the
// same; without it, a plain HTTP node sends none.
func TestServeHSTSBehindAProxy(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, ""},
		{[]string{"--hsts", "--hsts-max-age", "1h"}, "max-age=3600"},
	} {
		url, _ := serveProcess(t, append([]string{"--data", t.TempDir()}, tc.args...)...)
		resp, err := http.Get(url + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Strict-Transport-Security"); got != tc.want {
			t.Errorf("serve %q: Strict-Transport-Security %q, want %q", tc.args, got, tc.want)
		}
	}
}
