package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/kindred-health/kindred/signaling"
)

// Video media network settings (docs/deploy.md, "Video media: ports, NAT
// and TURN").
const (
	envTURNSecret = "KINDRED_TURN_SECRET"
	minTURNSecret = 16 // bytes; an HMAC key guessed offline from one credential must not be short

	// defaultVideoPort is the media port, UDP and ICE-TCP alike, so that a
	// firewall opens one number for both. 8443 is unprivileged and rarely
	// taken by anything but an HTTPS admin console; the TURN port keeps the
	// TURN standard 3478.
	defaultVideoPort = 8443
	defaultTURNPort  = 3478
)

// videoNetFlags are serve's settings for where video media flows.
type videoNetFlags struct {
	udpPort, tcpPort, turnPort *int
	listenIP, publicIPs        *string
	stun, turn, realm          *string
	ttl                        *time.Duration
	builtinTURN                *bool
}

// addVideoNetFlags declares the video network flags on fs; after fs.parse,
// networkConfig gives the signaling.NetworkConfig for
// signaling.ListenNetwork.
func addVideoNetFlags(fs *flagSet) videoNetFlags {
	fs.EnvOnly(envTURNSecret, fmt.Sprintf("shared secret of the time-limited TURN credentials (TURN REST: coturn's static-auth-secret),\n"+
		"used as is; at least %d bytes. Required with --video-turn; with --video-builtin-turn alone a random\n"+
		"one is made at start. The same on every node and in coturn.", minTURNSecret))
	return videoNetFlags{
		udpPort:  fs.Int("video-udp-port", defaultVideoPort, "the one UDP port all video media of this node uses (0: any free port)"),
		tcpPort:  fs.Int("video-tcp-port", defaultVideoPort, "TCP port for ICE over TCP, the fallback where UDP is blocked (-1: off, 0: any free port)"),
		listenIP: fs.String("video-listen-ip", "", "address the media ports listen on (empty: every local address)"),
		publicIPs: fs.String("video-public-ip", "", "comma-separated public addresses of a node behind 1:1 NAT (e.g. a cloud VM's elastic IP), "+
			"put in ICE candidates instead of the private ones; public/private pairs map each private address"),
		stun: fs.String("video-stun", "", "comma-separated stun: URLs handed to clients (none by default: a node with a public address needs none)"),
		turn: fs.String("video-turn", "", "comma-separated turn:/turns: URLs of a TURN server (coturn with use-auth-secret) handed to clients "+
			"with credentials from $"+envTURNSecret),
		ttl: fs.Duration("video-turn-ttl", signaling.DefaultTURNTTL, "lifetime of the TURN credentials given at join; keep it above the longest "+
			"session, since an ICE restart allocates a relay anew with them"),
		builtinTURN: fs.Bool("video-builtin-turn", false, "run a TURN server in this node (for a deployment without coturn); "+
			"it relays only to this node's media ports and needs --video-public-ip or --video-listen-ip"),
		turnPort: fs.Int("video-builtin-turn-port", defaultTURNPort, "UDP and TCP port of the built-in TURN server"),
		realm:    fs.String("video-builtin-turn-realm", signaling.DefaultTURNRealm, "realm of the built-in TURN server"),
	}
}

// networkConfig is what the flags and $KINDRED_TURN_SECRET say, checked
// as far as can be without listening.
func (f videoNetFlags) networkConfig() (signaling.NetworkConfig, error) {
	c := signaling.NetworkConfig{
		ListenIP:         *f.listenIP,
		UDPPort:          *f.udpPort,
		TCPPort:          *f.tcpPort,
		PublicIPs:        splitList(*f.publicIPs),
		STUN:             splitList(*f.stun),
		TURN:             splitList(*f.turn),
		TURNSecret:       os.Getenv(envTURNSecret),
		TURNTTL:          *f.ttl,
		BuiltinTURN:      *f.builtinTURN,
		BuiltinTURNPort:  *f.turnPort,
		BuiltinTURNRealm: *f.realm,
	}
	if c.TURNSecret != "" && len(c.TURNSecret) < minTURNSecret {
		return c, fmt.Errorf("%s must have at least %d bytes", envTURNSecret, minTURNSecret)
	}
	if len(c.TURN) > 0 && c.TURNSecret == "" {
		return c, fmt.Errorf("--video-turn needs %s (coturn's static-auth-secret) to issue credentials", envTURNSecret)
	}
	if c.TURNTTL <= 0 {
		return c, errors.New("--video-turn-ttl must be positive")
	}
	if p := c.BuiltinTURNPort; c.BuiltinTURN && p != 0 && (p == c.UDPPort || p == c.TCPPort) {
		return c, errors.New("--video-builtin-turn-port (UDP and TCP) must differ from --video-udp-port and --video-tcp-port")
	}
	return c, nil
}
