package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddr is the address a request comes from, which the connection
// limits count by: the socket's peer, unless that peer is one of
// Config.TrustedProxies and Config.TrustedProxyHeader is set. Then it is
// the rightmost address in that header (every line of it, in order) that
// is not a trusted proxy: the hops to its left were written by the client
// or by proxies nobody vouches for, so a client cannot choose its address
// by sending the header itself. A hop that is not an IP address ends the
// walk at the last trusted one. ClientAddr is the same for the sign-in
// routes.
func (s *Server) ClientAddr(r *http.Request) string { return s.clientAddr(r) }

func (s *Server) clientAddr(r *http.Request) string {
	peer := socketAddr(r.RemoteAddr)
	if !peer.IsValid() {
		return r.RemoteAddr
	}
	if s.cfg.TrustedProxyHeader == "" || !s.trusted(peer) {
		return peer.String()
	}
	client := peer
	lines := r.Header.Values(s.cfg.TrustedProxyHeader)
	for i := len(lines) - 1; i >= 0; i-- {
		hops := strings.Split(lines[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			a := hopAddr(hops[j])
			if !a.IsValid() {
				return client.String()
			}
			client = a
			if !s.trusted(a) {
				return a.String()
			}
		}
	}
	return client.String()
}

// trusted reports whether a is one of the configured proxies.
func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// socketAddr is the IP of a "host:port" peer address (invalid when it is
// not one), IPv4-mapped IPv6 addresses as IPv4.
func socketAddr(hostport string) netip.Addr {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

// hopAddr parses one hop of a forwarding header: an IP, optionally with a
// port ("192.0.2.1:5000", "[2001:db8::1]:443").
func hopAddr(h string) netip.Addr {
	h = strings.TrimSpace(h)
	if a, err := netip.ParseAddr(h); err == nil {
		return a.Unmap().WithZone("")
	}
	if ap, err := netip.ParseAddrPort(h); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	return netip.Addr{}
}
