package main

import (
	"fmt"
	"net/netip"

	"github.com/kindred-health/kindred/chat/server"
)

// connFlags are serve's connection limits (docs/deploy.md#connection-limits).
type connFlags struct {
	maxSessions, maxConns, maxPerIP, burstPerIP int
	ratePerIP                                   float64
	proxyHeader, proxies                        string
	trusted                                     []netip.Prefix
}

func addConnFlags(fs *flagSet) *connFlags {
	c := &connFlags{}
	fs.IntVar(&c.maxSessions, "max-sessions-per-user", 10, "signed-in WebSocket sessions one user may have open (on all nodes sharing --redis-url); one more is refused at hello with too_many_sessions and close 4029 (0: no limit)")
	fs.IntVar(&c.maxPerIP, "max-conns-per-ip", 200, "WebSocket connections open from one client address; more are refused with 429 too_many_connections (0: no limit). Behind a proxy, see --trusted-proxy-header")
	fs.IntVar(&c.maxConns, "max-conns", 20000, "WebSocket connections open on this node; more are refused with 503 server_busy (0: no limit)")
	fs.Float64Var(&c.ratePerIP, "conn-rate-per-ip", 5, "new WebSocket connections per second from one client address (token bucket refill); more are refused with 429 rate_limited (0: no limit)")
	fs.IntVar(&c.burstPerIP, "conn-burst-per-ip", 30, "new WebSocket connections from one client address in a burst")
	fs.StringVar(&c.proxyHeader, "trusted-proxy-header", "", "header carrying the client's address, e.g. X-Forwarded-For, believed only from --trusted-proxies (the rightmost hop that is not one of them); empty: the socket's address")
	fs.StringVar(&c.proxies, "trusted-proxies", "", "comma-separated addresses or CIDR prefixes of the proxies in front of the node, e.g. 10.0.0.0/8; needed with --trusted-proxy-header")
	return c
}

func (c *connFlags) check() error {
	if c.maxSessions < 0 || c.maxConns < 0 || c.maxPerIP < 0 || c.ratePerIP < 0 || c.burstPerIP < 0 {
		return fmt.Errorf("--max-sessions-per-user, --max-conns, --max-conns-per-ip, --conn-rate-per-ip and --conn-burst-per-ip may not be negative")
	}
	for _, p := range splitList(c.proxies) {
		prefix, err := parsePrefix(p)
		if err != nil {
			return fmt.Errorf("--trusted-proxies: %q is not an address or CIDR prefix", p)
		}
		c.trusted = append(c.trusted, prefix)
	}
	if (c.proxyHeader == "") != (len(c.trusted) == 0) {
		return fmt.Errorf("--trusted-proxy-header and --trusted-proxies go together: a header believed from anyone lets every client pick its address")
	}
	return nil
}

// parsePrefix parses "10.0.0.0/8" or a single address ("10.0.0.5").
func parsePrefix(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Addr().Is4In6() {
		return netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0)), nil
	}
	return p.Masked(), nil
}

// apply sets cfg's connection limits.
func (c *connFlags) apply(cfg *server.Config) {
	cfg.MaxSessionsPerUser, cfg.MaxConns, cfg.MaxConnsPerAddr = c.maxSessions, c.maxConns, c.maxPerIP
	cfg.ConnRatePerAddr, cfg.ConnBurstPerAddr = c.ratePerIP, c.burstPerIP
	cfg.TrustedProxyHeader, cfg.TrustedProxies = c.proxyHeader, c.trusted
}
