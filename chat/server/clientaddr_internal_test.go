package server

import (
	"net/http"
	"net/netip"
	"testing"
)

// The client address is the rightmost hop of the trusted header that is
// not a trusted proxy, and only when the peer is a trusted proxy.
func TestClientAddr(t *testing.T) {
	s := &Server{cfg: Config{TrustedProxyHeader: "X-Forwarded-For", TrustedProxies: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}}}
	cases := []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"no header from a proxy", "10.0.0.1:5000", nil, "10.0.0.1"},
		{"one hop", "10.0.0.1:5000", []string{"203.0.113.5"}, "203.0.113.5"},
		{"spoofed hops to the left are ignored", "10.0.0.1:5000", []string{"198.51.100.9, 203.0.113.5"}, "203.0.113.5"},
		{"trusted hops are skipped", "10.0.0.1:5000", []string{"203.0.113.5, 10.2.3.4"}, "203.0.113.5"},
		{"several header lines", "10.0.0.1:5000", []string{"198.51.100.9", "203.0.113.5, 10.2.3.4"}, "203.0.113.5"},
		{"every hop trusted", "10.0.0.1:5000", []string{"10.9.9.9, 10.2.3.4"}, "10.9.9.9"},
		{"garbage stops at the last trusted hop", "10.0.0.1:5000", []string{"203.0.113.5, nonsense, 10.2.3.4"}, "10.2.3.4"},
		{"hop with a port", "10.0.0.1:5000", []string{"203.0.113.5:41000"}, "203.0.113.5"},
		{"IPv6 hop", "[fd00::1]:443", []string{"[2001:db8::7]:443"}, "2001:db8::7"},
		{"mapped IPv4", "10.0.0.1:5000", []string{"::ffff:203.0.113.5"}, "203.0.113.5"},
		{"untrusted peer: header ignored", "203.0.113.99:5000", []string{"198.51.100.9"}, "203.0.113.99"},
		{"mapped IPv4 peer", "[::ffff:10.0.0.1]:5000", []string{"203.0.113.5"}, "203.0.113.5"},
	}
	for _, c := range cases {
		r := &http.Request{RemoteAddr: c.peer, Header: http.Header{}}
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := s.clientAddr(r); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
	// Without a configured header the socket address is the client's.
	plain := &Server{}
	r := &http.Request{RemoteAddr: "10.0.0.1:5000", Header: http.Header{"X-Forwarded-For": {"203.0.113.5"}}}
	if got := plain.clientAddr(r); got != "10.0.0.1" {
		t.Errorf("no trusted header configured: got %s, want the socket address", got)
	}
}
