//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

var linkRE = regexp.MustCompile(`http://\S+/#token=([A-Za-z0-9_.-]+)`)

// On first run the administrator's sign-in link is written to a 0600 file
// in the data directory and its path logged; the link itself reaches
// neither the log nor standard output when that is a pipe (a container's
// or journal's log), and is shown on standard output when it is a
// terminal. Either way the link signs in.
func TestFirstRunLinkFile(t *testing.T) {
	t.Setenv("KINDRED_JWT_SECRET", "")
	for _, tc := range []struct {
		name string
		open func(t *testing.T) (read, write *os.File)
		tty  bool
	}{
		{"stdout a pipe", func(t *testing.T) (*os.File, *os.File) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			return r, w
		}, false},
		{"stdout a terminal", openPty, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			r, w := tc.open(t)
			url, stdout, logs := serveFirstRunOn(t, r, w, "--data", data)
			path := filepath.Join(data, adminLinkFile)
			fi, err := os.Stat(path)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("link file: %v, %v (want mode 0600)", fi, err)
			}
			content, _ := os.ReadFile(path)
			m := linkRE.FindStringSubmatch(string(content))
			if m == nil {
				t.Fatalf("no sign-in link in the file:\n%s", content)
			}
			signInWith(t, url, m[1])
			if !strings.Contains(logs, path) || strings.Contains(logs, m[1]) || strings.Contains(logs, "#token=") {
				t.Errorf("the log should name %s and never hold the link:\n%s", path, logs)
			}
			shown := strings.Contains(stdout, "#token="+m[1])
			if shown != tc.tty || !strings.Contains(stdout, path) {
				t.Errorf("link on standard output: %t, want %t (and the file's path):\n%s", shown, tc.tty, stdout)
			}
			if !tc.tty && strings.Contains(stdout, m[1]) {
				t.Errorf("the token reached a pipe:\n%s", stdout)
			}
		})
	}
}

// serveFirstRunOn runs serve with standard output w (whose other end is r)
// until it has printed its first-run hint, and returns its URL, what it
// printed and what it logged (at info).
func serveFirstRunOn(t *testing.T, r, w *os.File, args ...string) (url, stdout, logs string) {
	t.Helper()
	var out, errOut syncBuffer
	go io.Copy(&out, r)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "info", "--video-udp-port", "0", "--video-tcp-port", "0"}, args...), nil, w, &errOut)
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve returned %v", err)
		}
		w.Close()
		r.Close()
	})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "--role <role>") {
		if time.Now().After(deadline) {
			t.Fatalf("no first-run hint:\n%s\n%s", out.String(), errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	url = regexp.MustCompile(`http://[0-9.:]+`).FindString(out.String())
	return url, out.String(), errOut.String()
}

// openPty opens a pseudo-terminal and returns its master and its slave
// (a terminal, as an interactive standard output is).
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminal: %v", err)
	}
	var n uint32
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("TIOCGPTN: %v", e)
	}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("TIOCSPTLCK: %v", e)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("pty slave: %v", err)
	}
	return m, s
}
