package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"github.com/jackc/pgx/v5"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// needBinary returns the path of a server program a test starts, skipping
// the test when it is missing, or failing it when CI=true.
func needBinary(t *testing.T, path string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is needed: %v", path, err)
		}
		t.Skipf("%s is missing (%v); with CI=true this fails", path, err)
	}
	return path
}

// startProcess starts cmd, killed and waited for when the test ends; its
// output is shown when the test fails.
func startProcess(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// Its own process group, killed whole: runuser's child and the
	// PostgreSQL backends go with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s:\n%s", cmd.Path, out.String())
		}
	})
}

// startTLSRedis starts a redis-server that listens with TLS only, with a
// certificate from ca, and returns its address.
func startTLSRedis(t *testing.T, ca *testCA) string {
	t.Helper()
	bin := needBinary(t, "/usr/bin/redis-server")
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "redis.crt"), filepath.Join(dir, "redis.key")
	ca.issue(t, certFile, keyFile)
	addr := freeAddr(t)
	startProcess(t, exec.Command(bin, "--port", "0", "--tls-port", portOf(t, addr),
		"--bind", "127.0.0.1", "--tls-cert-file", certFile, "--tls-key-file", keyFile,
		"--tls-ca-cert-file", ca.file, "--tls-auth-clients", "no",
		"--save", "", "--appendonly", "no", "--dir", dir, "--loglevel", "warning"))
	waitFor(t, "redis-server over TLS", func() bool {
		conn, err := tls.Dial("tcp", addr, ca.tlsConfig())
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	return addr
}

// Two nodes reach a Redis that speaks only TLS through rediss:// and
// --redis-tls-ca, and fan out between them through it; a node that does
// not trust Redis's certificate authority stays cut off from it.
func TestServeScaleOutOverTLSRedis(t *testing.T) {
	ca := newTestCA(t)
	addr := startTLSRedis(t, ca)
	args := append(clusterArgs(t), "--redis-url", "rediss://"+addr+"/0")
	urlA, urlB := checkFanOut(t, http.DefaultClient, append(args, "--redis-tls-ca", ca.file))
	for _, url := range []string{urlA, urlB} {
		waitFor(t, "a node connected to Redis", func() bool { return readiness(t, url) == "ready" })
	}
	untrusting, _ := serveProcess(t, append([]string{"--data", t.TempDir(), "--node-id", "c"}, args...)...)
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if st := readiness(t, untrusting); st != "degraded" {
			t.Fatalf("a node without --redis-tls-ca is %q, want degraded", st)
		}
	}
}

// readiness is the status that url's /readyz reports.
func readiness(t *testing.T, url string) string {
	t.Helper()
	_, body := get(t, url+"/readyz", "")
	var r struct{ Status string }
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("/readyz: %q: %v", body, err)
	}
	return r.Status
}

// pgBin is where Debian's PostgreSQL 15 server programs are.
const pgBin = "/usr/lib/postgresql/15/bin"

// asPostgres makes cmd run as the postgres user when the test runs as
// root, which PostgreSQL refuses to run as.
func asPostgres(name string, args ...string) *exec.Cmd {
	if os.Getuid() != 0 {
		return exec.Command(name, args...)
	}
	return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
}

// startTLSPostgres starts a throwaway PostgreSQL cluster that accepts
// only TLS connections, with a certificate from ca, and returns the URL
// of its postgres database with sslmode left to the caller.
func startTLSPostgres(t *testing.T, ca *testCA) string {
	t.Helper()
	initdb := needBinary(t, filepath.Join(pgBin, "initdb"))
	dir, err := os.MkdirTemp("", "kindred-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	certFile, keyFile := filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	ca.issue(t, certFile, keyFile)
	if os.Getuid() == 0 {
		owner, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs a postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(owner.Uid)
		gid, _ := strconv.Atoi(owner.Gid)
		for _, p := range []string{dir, certFile, keyFile} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := asPostgres(initdb, "-D", data, "-U", "postgres", "-A", "trust", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	// TLS or nothing: no plain "host" line.
	if err := os.WriteFile(filepath.Join(data, "pg_hba.conf"), []byte("local all all trust\nhostssl all all 127.0.0.1/32 trust\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	startProcess(t, asPostgres(filepath.Join(pgBin, "postgres"), "-D", data, "-p", portOf(t, addr), "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "ssl=on", "-c", "ssl_cert_file="+certFile, "-c", "ssl_key_file="+keyFile,
		"-c", "fsync=off"))
	url := "postgres://postgres@" + addr + "/postgres"
	waitFor(t, "PostgreSQL over TLS", func() bool {
		conn, err := pgx.Connect(t.Context(), url+"?sslmode=verify-full&sslrootcert="+ca.file)
		if err == nil {
			conn.Close(t.Context())
		}
		return err == nil
	})
	return url
}

// A node stores and serves through a PostgreSQL that accepts only TLS,
// checking its certificate (sslmode=verify-full, sslrootcert); without
// TLS it is refused at start-up.
func TestServeOverTLSPostgres(t *testing.T) {
	ca := newTestCA(t)
	dbURL := startTLSPostgres(t, ca)
	t.Setenv("KINDRED_JWT_SECRET", "a-shared-secret-for-every-node-0123456789")
	url, _ := serveProcess(t, "--data", t.TempDir(), "--database-url", dbURL+"?sslmode=verify-full&sslrootcert="+ca.file)
	ann := mintToken(t, "--sub", "ann", "--role", "specialist")
	room := createRoomWith(t, http.DefaultClient, url, ann)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := dialChat(t, ctx, url, http.DefaultClient, ann)
	c.write(map[string]any{"type": "send", "conv": room, "id": "m1", "body": "stored over TLS"})
	c.until(`"type":"ack"`)

	_, err := serveWithArgs(t, "--data", t.TempDir(), "--database-url", dbURL+"?sslmode=disable")
	if err == nil || !strings.Contains(err.Error(), "no encryption") {
		t.Fatalf("a node without TLS to PostgreSQL: %v", err)
	}
}
