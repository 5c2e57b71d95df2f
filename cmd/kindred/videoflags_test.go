package main

import (
	"io"
	"slices"
	"testing"
	"time"

	"github.com/kindred-health/kindred/signaling"
)

func parseVideoFlags(t *testing.T, args ...string) (signaling.NetworkConfig, error) {
	t.Helper()
	fs := newFlagSet("serve", "", io.Discard)
	f := addVideoNetFlags(fs)
	if err := fs.parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return f.networkConfig()
}

func TestVideoFlagsDefaults(t *testing.T) {
	t.Setenv(envTURNSecret, "")
	c, err := parseVideoFlags(t)
	if err != nil {
		t.Fatal(err)
	}
	want := signaling.NetworkConfig{UDPPort: 8443, TCPPort: 8443, TURNTTL: signaling.DefaultTURNTTL,
		BuiltinTURNPort: 3478, BuiltinTURNRealm: "kindred"}
	if c.ListenIP != "" || c.UDPPort != want.UDPPort || c.TCPPort != want.TCPPort || c.TURNTTL != want.TURNTTL ||
		c.BuiltinTURN || c.BuiltinTURNPort != want.BuiltinTURNPort || c.BuiltinTURNRealm != want.BuiltinTURNRealm ||
		c.PublicIPs != nil || c.STUN != nil || c.TURN != nil || c.TURNSecret != "" {
		t.Fatalf("defaults %+v", c)
	}
}

func TestVideoFlagsSet(t *testing.T) {
	t.Setenv(envTURNSecret, "0123456789abcdef")
	t.Setenv("KINDRED_VIDEO_UDP_PORT", "40000")
	c, err := parseVideoFlags(t, "--video-public-ip", "203.0.113.7, 2001:db8::7", "--video-stun", "stun:a:3478",
		"--video-turn", "turn:t:3478?transport=udp,turns:t:5349", "--video-turn-ttl", "2h", "--video-tcp-port", "-1",
		"--video-builtin-turn", "--video-builtin-turn-port", "3479", "--video-listen-ip", "10.0.0.5")
	if err != nil {
		t.Fatal(err)
	}
	if c.UDPPort != 40000 || c.TCPPort != -1 || c.ListenIP != "10.0.0.5" || c.TURNTTL != 2*time.Hour ||
		!c.BuiltinTURN || c.BuiltinTURNPort != 3479 || c.TURNSecret != "0123456789abcdef" {
		t.Fatalf("got %+v", c)
	}
	if !slices.Equal(c.PublicIPs, []string{"203.0.113.7", "2001:db8::7"}) || !slices.Equal(c.STUN, []string{"stun:a:3478"}) ||
		!slices.Equal(c.TURN, []string{"turn:t:3478?transport=udp", "turns:t:5349"}) {
		t.Fatalf("lists %q %q %q", c.PublicIPs, c.STUN, c.TURN)
	}
}

func TestVideoFlagsRefused(t *testing.T) {
	for secret, args := range map[string][]string{
		"":                 {"--video-turn", "turn:t:3478"},
		"short":            {},
		"0123456789abcdef": {"--video-turn-ttl", "0s"},
		"0123456789abcdeF": {"--video-builtin-turn", "--video-builtin-turn-port", "8443"},
	} {
		t.Setenv(envTURNSecret, secret)
		if c, err := parseVideoFlags(t, args...); err == nil {
			t.Errorf("secret %q, %q: accepted %+v", secret, args, c)
		}
	}
}
