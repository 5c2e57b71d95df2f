package signaling

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"
)

// DefaultTURNTTL is how long a TURN credential handed to a joiner stays
// valid when NetworkConfig.TURNTTL is 0. The expiry is checked when a relay
// is allocated (coturn caches the key of an authenticated session, and the
// built-in server lets an allocation be refreshed past it), but a browser's
// ICE restart allocates anew with the credentials it was first given, so
// they must outlive the longest session (a support group runs one to two
// hours); six hours covers that with room, while a leaked credential is
// still dead the same day.
const DefaultTURNTTL = 6 * time.Hour

// DefaultTURNRealm is the built-in TURN server's realm when
// NetworkConfig.BuiltinTURNRealm is empty.
const DefaultTURNRealm = "kindred"

// NetworkConfig is where a node's media flows (docs/deploy.md, "Video
// media"). Media is never recorded or stored: these are only transports.
type NetworkConfig struct {
	ListenIP  string   // "" = all interfaces (one socket per address, so replies leave from the address asked)
	UDPPort   int      // one UDP port for every session's media; 0 = any free port (tests)
	TCPPort   int      // passive ICE-TCP, the fallback where UDP is blocked; 0 = any free port; -1 = off
	PublicIPs []string // NAT 1:1: candidates carry these (or "public/private" pairs) instead of local addresses

	STUN       []string      // stun: URLs handed to clients
	TURN       []string      // turn:/turns: URLs of an external TURN server (coturn with use-auth-secret)
	TURNSecret string        // shared secret of TURN REST credentials, external and built-in
	TURNTTL    time.Duration // credential lifetime; 0 = DefaultTURNTTL

	BuiltinTURN      bool   // run a pion TURN server on this node
	BuiltinTURNPort  int    // its UDP and TCP port; 0 = a free port for each (tests)
	BuiltinTURNRealm string // "" = DefaultTURNRealm
}

// Network holds a node's media listeners: the UDP mux every PeerConnection
// shares, the passive ICE-TCP mux and the optional TURN server. One per
// node, made before the SFU and closed after it.
type Network struct {
	cfg    NetworkConfig
	secret string
	now    func() time.Time

	udp      ice.UDPMux
	udpAddrs []net.Addr
	tcp      *ice.TCPMuxDefault // nil when ICE-TCP is off
	turn     *builtinTURN       // nil without the built-in server

	closeOnce sync.Once
	closeErr  error
}

// ListenNetwork checks cfg and opens its listeners. The caller owns the
// Network and must Close it.
func ListenNetwork(cfg NetworkConfig, log *slog.Logger) (*Network, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	n := &Network{cfg: cfg, secret: cfg.TURNSecret, now: time.Now}
	if n.cfg.TURNTTL == 0 {
		n.cfg.TURNTTL = DefaultTURNTTL
	}
	if n.cfg.BuiltinTURNRealm == "" {
		n.cfg.BuiltinTURNRealm = DefaultTURNRealm
	}
	if n.secret == "" && cfg.BuiltinTURN {
		// Only this node issues and checks its built-in server's
		// credentials, so a secret of its own is enough.
		n.secret = randomSecret()
	}
	if err := n.listen(log); err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

func (n *Network) listen(log *slog.Logger) error {
	logs := netLogFactory{log.With("part", "ice")}
	if err := n.listenUDP(logs); err != nil {
		return err
	}
	if n.cfg.TCPPort >= 0 {
		ln, err := net.Listen("tcp", net.JoinHostPort(n.cfg.ListenIP, strconv.Itoa(n.cfg.TCPPort)))
		if err != nil {
			return fmt.Errorf("video ICE-TCP port: %w", err)
		}
		n.tcp = ice.NewTCPMuxDefault(ice.TCPMuxParams{
			Listener:        ln,
			Logger:          logs.NewLogger("tcpmux"),
			ReadBufferSize:  64,      // packets queued per connection before the mux drops
			WriteBufferSize: 4 << 20, // pion's advice: a slow reader drops packets, never blocks a writer
		})
	}
	if !n.cfg.BuiltinTURN {
		return nil
	}
	relay, err := n.cfg.relayIP()
	if err != nil {
		return err
	}
	n.turn, err = startTURN(turnSetup{
		listenIP: n.cfg.ListenIP, port: n.cfg.BuiltinTURNPort, relayIP: relay,
		realm: n.cfg.BuiltinTURNRealm, secret: n.secret, allowPeer: n.ownIP(),
		now: func() time.Time { return n.now() }, log: log,
	})
	return err
}

// listenUDP opens the media port: one socket on ListenIP, or one per
// local address on the same port when ListenIP is empty. A single socket
// on 0.0.0.0 would answer from whatever address the kernel routes by,
// which need not be the address the browser sent to.
func (n *Network) listenUDP(logs netLogFactory) error {
	if n.cfg.ListenIP == "" {
		m, err := ice.NewMultiUDPMuxFromPort(n.cfg.UDPPort, ice.UDPMuxFromPortWithLogger(logs.NewLogger("udpmux")))
		if err != nil {
			return fmt.Errorf("video UDP port: %w", err)
		}
		n.udp, n.udpAddrs = m, m.GetListenAddresses()
		if len(n.udpAddrs) == 0 {
			return errors.New("video UDP port: no usable local address (set --video-listen-ip)")
		}
		return ambiguousNAT(n.udpAddrs, n.cfg.PublicIPs)
	}
	conn, err := net.ListenPacket("udp", net.JoinHostPort(n.cfg.ListenIP, strconv.Itoa(n.cfg.UDPPort)))
	if err != nil {
		return fmt.Errorf("video UDP port: %w", err)
	}
	m := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn, Logger: logs.NewLogger("udpmux")})
	n.udp, n.udpAddrs = m, []net.Addr{conn.LocalAddr()}
	return nil
}

// Configure sets se up for a PeerConnection of this node: media through
// the shared UDP port and the passive TCP mux only, public addresses in
// candidates, no mDNS (a server's address is no secret, and browsers
// cannot resolve our .local names anyway).
func (n *Network) Configure(se *webrtc.SettingEngine) {
	se.SetICEUDPMux(n.udp)
	types := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	if n.tcp != nil {
		se.SetICETCPMux(n.tcp)
		types = append(types, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
	}
	se.SetNetworkTypes(types)
	// The node only accepts TCP: dialling out to browsers' TCP candidates
	// would mostly fail (they are behind NAT) and costs a socket each.
	se.DisableActiveTCP(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if ip := net.ParseIP(n.cfg.ListenIP); ip != nil && ip.IsLoopback() {
		se.SetIncludeLoopbackCandidate(true) // the operator chose loopback (a test, or a local proxy)
	}
	if len(n.cfg.PublicIPs) > 0 {
		// Replace, not append: the private address is of no use to a
		// browser outside and would only cost it failed checks. The error
		// is only for a SettingEngine that already has NAT 1:1 IPs.
		_ = se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        n.cfg.PublicIPs,
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		})
	}
}

// ICEServers is what a joiner is handed: the STUN servers, the external
// TURN servers and the built-in one, with TURN REST credentials for user
// valid for TURNTTL from now.
func (n *Network) ICEServers(user string) []ICEServer {
	var out []ICEServer
	if len(n.cfg.STUN) > 0 {
		out = append(out, ICEServer{URLs: append([]string(nil), n.cfg.STUN...)})
	}
	if len(n.cfg.TURN) == 0 && n.turn == nil {
		return out
	}
	name, cred := turnRESTCredential(n.secret, user, n.now().Add(n.cfg.TURNTTL))
	if len(n.cfg.TURN) > 0 {
		out = append(out, ICEServer{URLs: append([]string(nil), n.cfg.TURN...), Username: name, Credential: cred})
	}
	if n.turn != nil {
		out = append(out, ICEServer{URLs: n.turn.urls(), Username: name, Credential: cred})
	}
	return out
}

// UDPAddr is the media socket's address (the first one when ListenIP is
// empty; with UDPPort 0 each address then has its own port).
func (n *Network) UDPAddr() net.Addr { return n.udpAddrs[0] }

// TCPAddr is the ICE-TCP listener's address, nil when ICE-TCP is off.
func (n *Network) TCPAddr() net.Addr {
	if n.tcp == nil {
		return nil
	}
	return n.tcp.LocalAddr()
}

// TURNAddr is the built-in TURN server's UDP address, nil without it.
func (n *Network) TURNAddr() net.Addr {
	if n.turn == nil {
		return nil
	}
	return n.turn.udp.LocalAddr()
}

// TURNTCPAddr is the built-in TURN server's TCP address, nil without it.
// It has TURNAddr's port unless BuiltinTURNPort is 0.
func (n *Network) TURNTCPAddr() net.Addr {
	if n.turn == nil {
		return nil
	}
	return n.turn.tcp.Addr()
}

// Close stops the muxes and the TURN server, freeing their ports. Call it
// after the SFU has closed its PeerConnections. It is idempotent.
func (n *Network) Close() error {
	n.closeOnce.Do(func() {
		var errs []error
		if n.turn != nil {
			errs = append(errs, n.turn.Close())
		}
		if n.tcp != nil {
			errs = append(errs, n.tcp.Close())
		}
		if n.udp != nil {
			errs = append(errs, n.udp.Close())
		}
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// relayIP is the address the built-in TURN server advertises for relays:
// the first IPv4 public address, else the first public one, else ListenIP.
func (c NetworkConfig) relayIP() (net.IP, error) {
	var first net.IP
	for _, p := range c.PublicIPs {
		ip := net.ParseIP(publicPart(p))
		if ip.To4() != nil {
			return ip, nil
		}
		if first == nil {
			first = ip
		}
	}
	if first != nil {
		return first, nil
	}
	if ip := net.ParseIP(c.ListenIP); ip != nil && !ip.IsUnspecified() {
		return ip, nil
	}
	return nil, errors.New("the built-in TURN server needs --video-public-ip or --video-listen-ip: the address it gives clients for their relays")
}

// ownIP reports whether an address is one of this node's media addresses:
// the only peers the built-in TURN server relays to.
func (n *Network) ownIP() func(net.IP) bool {
	own := map[string]bool{}
	for _, a := range n.udpAddrs {
		own[a.(*net.UDPAddr).IP.String()] = true
	}
	for _, p := range n.cfg.PublicIPs {
		own[net.ParseIP(publicPart(p)).String()] = true
	}
	if ip := net.ParseIP(n.cfg.ListenIP); ip != nil {
		own[ip.String()] = true
	}
	return func(ip net.IP) bool { return own[ip.String()] }
}

// ambiguousNAT refuses a public IP without its private address when the
// node listens on several addresses of that family (a cloud VM with a
// Docker bridge, say). pion then advertises the public address once, for
// the first local address only, and media that the NAT forwards to
// another would find no session there.
func ambiguousNAT(local []net.Addr, public []string) error {
	count := map[bool]int{} // by "is IPv4"
	for _, a := range local {
		count[a.(*net.UDPAddr).IP.To4() != nil]++
	}
	for _, p := range public {
		if strings.Contains(p, "/") {
			continue
		}
		if v4 := net.ParseIP(p).To4() != nil; count[v4] > 1 {
			return fmt.Errorf("video public IP %s: this node has %d local addresses of its family; "+
				"set --video-listen-ip to the one the NAT forwards to, or write public/private", p, count[v4])
		}
	}
	return nil
}

// publicPart is the public address of a PublicIPs entry ("public" or
// "public/private").
func publicPart(s string) string {
	pub, _, _ := strings.Cut(s, "/")
	return pub
}

func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawStdEncoding.EncodeToString(b)
}

// check refuses settings that could only fail later, at a browser.
func (c NetworkConfig) check() error {
	if c.ListenIP != "" && net.ParseIP(c.ListenIP) == nil {
		return fmt.Errorf("video listen IP %q is not an IP address", c.ListenIP)
	}
	if c.UDPPort < 0 || c.UDPPort > 65535 || c.TCPPort < -1 || c.TCPPort > 65535 ||
		c.BuiltinTURNPort < 0 || c.BuiltinTURNPort > 65535 {
		return errors.New("video ports must be 0-65535 (the ICE-TCP port may be -1: off)")
	}
	if c.TURNTTL < 0 {
		return errors.New("TURN credential lifetime must not be negative")
	}
	if len(c.TURN) > 0 && c.TURNSecret == "" {
		return errors.New("TURN servers need the shared secret ($KINDRED_TURN_SECRET) to issue credentials")
	}
	if err := checkPublicIPs(c.PublicIPs); err != nil {
		return err
	}
	if _, err := c.relayIP(); c.BuiltinTURN && err != nil {
		return err
	}
	for _, u := range c.STUN {
		if err := checkICEURL(u, "stun:", "stuns:"); err != nil {
			return err
		}
	}
	for _, u := range c.TURN {
		if err := checkICEURL(u, "turn:", "turns:"); err != nil {
			return err
		}
	}
	return nil
}

func checkPublicIPs(ips []string) error {
	for _, p := range ips {
		pub, priv, pair := strings.Cut(p, "/")
		if net.ParseIP(pub) == nil || (pair && net.ParseIP(priv) == nil) {
			return fmt.Errorf("video public IP %q is not an IP address (or public/private pair)", p)
		}
	}
	return nil
}

func checkICEURL(u string, schemes ...string) error {
	ok := false
	for _, s := range schemes {
		ok = ok || strings.HasPrefix(u, s)
	}
	if _, err := stun.ParseURI(u); err != nil || !ok {
		return fmt.Errorf("ICE server URL %q: want %s", u, strings.Join(schemes, " or "))
	}
	return nil
}
