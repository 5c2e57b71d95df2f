package main

import (
	"io"
	"net/netip"
	"testing"
)

// --trusted-proxies takes addresses and prefixes, IPv4-mapped ones as IPv4.
func TestTrustedProxiesParse(t *testing.T) {
	c := connFlags{proxyHeader: "X-Forwarded-For", proxies: "10.0.0.5, 192.168.0.0/16,::ffff:172.16.0.0/108,fd00::/8"}
	if err := c.check(); err != nil {
		t.Fatal(err)
	}
	in := func(a string) bool {
		for _, p := range c.trusted {
			if p.Contains(netip.MustParseAddr(a)) {
				return true
			}
		}
		return false
	}
	for _, a := range []string{"10.0.0.5", "192.168.7.1", "172.16.200.1", "fd12::1"} {
		if !in(a) {
			t.Errorf("%s is not trusted", a)
		}
	}
	for _, a := range []string{"10.0.0.6", "172.32.0.1", "203.0.113.5", "2001:db8::1"} {
		if in(a) {
			t.Errorf("%s is trusted", a)
		}
	}
}

// The webhook must be https unless --webhook-allow-http says otherwise.
func TestWebhookURLMustBeHTTPS(t *testing.T) {
	t.Setenv(envWebhookSecret, "a secret of at least sixteen bytes")
	if _, err := parseServeFlags([]string{"--escalation-webhook-url", "http://pager.example/hook"}, io.Discard); err == nil {
		t.Fatal("a plain http webhook was accepted")
	}
	for _, args := range [][]string{
		{"--escalation-webhook-url", "https://pager.example/hook"},
		{"--escalation-webhook-url", "http://127.0.0.1:9/hook", "--webhook-allow-http"},
	} {
		if _, err := parseServeFlags(args, io.Discard); err != nil {
			t.Errorf("%q refused: %v", args, err)
		}
	}
}
