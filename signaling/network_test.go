package signaling

import (
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
)

// Every test here stays on loopback: the node listens on 127.0.0.1 and the
// client peers gather loopback candidates only.

const arrive = 15 * time.Second // generous: did it arrive at all

func listenTest(t *testing.T, cfg NetworkConfig) *Network {
	t.Helper()
	if cfg.ListenIP == "" {
		cfg.ListenIP = "127.0.0.1"
	}
	n, err := ListenNetwork(cfg, nil)
	if err != nil {
		t.Fatalf("ListenNetwork: %v", err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// serverPeer is a PeerConnection of the node, set up by n.Configure as the
// SFU will set up its own.
func serverPeer(t *testing.T, n *Network) *webrtc.PeerConnection {
	t.Helper()
	var se webrtc.SettingEngine
	n.Configure(&se)
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// clientPeer is a browser stand-in restricted to loopback and to types.
func clientPeer(t *testing.T, cfg webrtc.Configuration, types ...webrtc.NetworkType) *webrtc.PeerConnection {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes(types)
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

// negotiate has client offer a data channel to server (non-trickle) and
// returns the channel the server receives messages on.
func negotiate(t *testing.T, client, server *webrtc.PeerConnection) (*webrtc.DataChannel, <-chan string) {
	t.Helper()
	got := make(chan string, 4)
	server.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnMessage(func(m webrtc.DataChannelMessage) { got <- string(m.Data) })
	})
	dc, err := client.CreateDataChannel("probe", nil)
	if err != nil {
		t.Fatal(err)
	}
	offer, err := client.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(client)
	if err := client.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	<-done
	if err := server.SetRemoteDescription(*client.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	answer, err := server.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done = webrtc.GatheringCompletePromise(server)
	if err := server.SetLocalDescription(answer); err != nil {
		t.Fatal(err)
	}
	<-done
	if err := client.SetRemoteDescription(*server.LocalDescription()); err != nil {
		t.Fatal(err)
	}
	return dc, got
}

// exchange connects client to server and checks that a message crosses,
// then returns the server's selected candidate pair.
func exchange(t *testing.T, client, server *webrtc.PeerConnection) *webrtc.ICECandidatePair {
	t.Helper()
	dc, got := negotiate(t, client, server)
	opened := make(chan struct{})
	dc.OnOpen(func() { close(opened) })
	select {
	case <-opened:
	case <-time.After(arrive):
		t.Fatalf("data channel never opened (client ICE %s)", client.ICEConnectionState())
	}
	if err := dc.SendText("hello"); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m != "hello" {
			t.Fatalf("server got %q", m)
		}
	case <-time.After(arrive):
		t.Fatal("message never arrived")
	}
	pair, err := server.SCTP().Transport().ICETransport().GetSelectedCandidatePair()
	if err != nil || pair == nil {
		t.Fatalf("no selected pair: %v", err)
	}
	return pair
}

func port(a net.Addr) int {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.Port
	case *net.TCPAddr:
		return a.Port
	}
	return -1
}

func TestNetworkPeersShareTheUDPPort(t *testing.T) {
	n := listenTest(t, NetworkConfig{TCPPort: -1})
	for i := range 3 {
		server := serverPeer(t, n)
		pair := exchange(t, clientPeer(t, webrtc.Configuration{}, webrtc.NetworkTypeUDP4), server)
		if pair.Local.Protocol != webrtc.ICEProtocolUDP || int(pair.Local.Port) != port(n.UDPAddr()) {
			t.Fatalf("peer %d: server's local candidate %s, want UDP port %d", i, pair.Local, port(n.UDPAddr()))
		}
		for _, c := range candidates(server) {
			if !strings.Contains(c, " "+portString(n.UDPAddr())+" typ host") {
				t.Errorf("peer %d: candidate off the mux port: %s", i, c)
			}
		}
	}
}

func TestNetworkICETCPFallback(t *testing.T) {
	n := listenTest(t, NetworkConfig{})
	server := serverPeer(t, n)
	pair := exchange(t, clientPeer(t, webrtc.Configuration{}, webrtc.NetworkTypeTCP4), server)
	if pair.Local.Protocol != webrtc.ICEProtocolTCP || int(pair.Local.Port) != port(n.TCPAddr()) {
		t.Fatalf("server's local candidate %s, want TCP port %d", pair.Local, port(n.TCPAddr()))
	}
	if pair.Local.TCPType != "passive" {
		t.Fatalf("server's TCP candidate is %q, want passive", pair.Local.TCPType)
	}
}

func TestNetworkNAT1To1(t *testing.T) {
	const public = "203.0.113.7" // TEST-NET-3: only read in the SDP, never dialled
	n := listenTest(t, NetworkConfig{PublicIPs: []string{public}})
	server := serverPeer(t, n)
	client := clientPeer(t, webrtc.Configuration{}, webrtc.NetworkTypeUDP4, webrtc.NetworkTypeTCP4)
	negotiate(t, client, server)
	got := candidates(server)
	if len(got) == 0 {
		t.Fatal("server gathered no candidate")
	}
	udp, tcp := false, false
	for _, c := range got {
		if !strings.Contains(c, " "+public+" ") || strings.Contains(c, "127.0.0.1") {
			t.Errorf("candidate without the public IP instead of the local one: %s", c)
		}
		udp = udp || strings.Contains(c, " udp ") && strings.Contains(c, " "+portString(n.UDPAddr())+" ")
		tcp = tcp || strings.Contains(c, " tcp ") && strings.Contains(c, " "+portString(n.TCPAddr())+" ")
	}
	if !udp || !tcp {
		t.Errorf("want the public IP on both the UDP and the TCP port, got %q", got)
	}
}

// fixedPorts returns three ports below the kernel's ephemeral range
// (32768 up on Linux), free for UDP and TCP now. Ports picked with port 0
// come from that range, where another test's outgoing connection may be
// given one of them between a Close and the listen again, and the test
// would fail for the wrong reason.
func fixedPorts(t *testing.T) (udp, tcp, turn int) {
	t.Helper()
	var got []int
	for p := 20000 + rand.IntN(10000); len(got) < 3 && p < 32000; p++ {
		u, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", p))
		u.Close()
		if err != nil {
			continue
		}
		l.Close()
		got = append(got, p)
	}
	if len(got) < 3 {
		t.Fatal("no free ports below the ephemeral range")
	}
	return got[0], got[1], got[2]
}

func TestNetworkCloseReleasesPorts(t *testing.T) {
	udp, tcp, turn := fixedPorts(t)
	n, err := ListenNetwork(NetworkConfig{ListenIP: "127.0.0.1", UDPPort: udp, TCPPort: tcp,
		BuiltinTURN: true, BuiltinTURNPort: turn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if port(n.TURNAddr()) != turn || port(n.TURNTCPAddr()) != turn {
		t.Errorf("built-in TURN on UDP %v and TCP %v, want port %d for both", n.TURNAddr(), n.TURNTCPAddr(), turn)
	}
	server := serverPeer(t, n)
	exchange(t, clientPeer(t, webrtc.Configuration{}, webrtc.NetworkTypeUDP4), server)
	server.Close()
	again := NetworkConfig{
		ListenIP: "127.0.0.1", UDPPort: port(n.UDPAddr()), TCPPort: port(n.TCPAddr()),
		BuiltinTURN: true, BuiltinTURNPort: port(n.TURNAddr()),
	}
	if err := n.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	n2, err := ListenNetwork(again, nil)
	if err != nil {
		t.Fatalf("listen again on the same ports: %v", err)
	}
	n2.Close()
}

func TestNetworkAllInterfaces(t *testing.T) {
	// Only listens (one socket per local address); no packet is sent.
	n, err := ListenNetwork(NetworkConfig{TCPPort: -1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if port(n.UDPAddr()) <= 0 {
		t.Fatalf("UDPAddr %v", n.UDPAddr())
	}
}

func TestAmbiguousNAT(t *testing.T) {
	addrs := func(ips ...string) []net.Addr {
		var out []net.Addr
		for _, ip := range ips {
			out = append(out, &net.UDPAddr{IP: net.ParseIP(ip), Port: 8443})
		}
		return out
	}
	if err := ambiguousNAT(addrs("10.0.0.5", "172.17.0.1"), []string{"203.0.113.7"}); err == nil {
		t.Error("a public IP for two private IPv4 addresses accepted")
	}
	for _, ok := range []struct {
		local  []net.Addr
		public []string
	}{
		{addrs("10.0.0.5", "172.17.0.1"), []string{"203.0.113.7/10.0.0.5"}},
		{addrs("10.0.0.5", "fd00::2"), []string{"203.0.113.7", "2001:db8::7"}},
		{addrs("10.0.0.5", "172.17.0.1"), nil},
	} {
		if err := ambiguousNAT(ok.local, ok.public); err != nil {
			t.Errorf("%v with %q: %v", ok.local, ok.public, err)
		}
	}
}

func TestNetworkConfigRefused(t *testing.T) {
	for name, cfg := range map[string]NetworkConfig{
		"listen IP":          {ListenIP: "localhost"},
		"UDP port":           {ListenIP: "127.0.0.1", UDPPort: 70000},
		"TCP port":           {ListenIP: "127.0.0.1", TCPPort: -2},
		"TTL":                {ListenIP: "127.0.0.1", TURNTTL: -time.Second},
		"public IP":          {ListenIP: "127.0.0.1", PublicIPs: []string{"example.org"}},
		"public pair":        {ListenIP: "127.0.0.1", PublicIPs: []string{"203.0.113.7/nope"}},
		"stun scheme":        {ListenIP: "127.0.0.1", STUN: []string{"turn:turn.example.org"}},
		"turn scheme":        {ListenIP: "127.0.0.1", TURN: []string{"stun:stun.example.org"}, TURNSecret: "s"},
		"turn no secret":     {ListenIP: "127.0.0.1", TURN: []string{"turn:turn.example.org"}},
		"builtin no address": {BuiltinTURN: true, TCPPort: -1},
	} {
		if n, err := ListenNetwork(cfg, nil); err == nil {
			n.Close()
			t.Errorf("%s: %+v accepted", name, cfg)
		}
	}
}

func TestNetworkICEServers(t *testing.T) {
	n := listenTest(t, NetworkConfig{
		STUN:       []string{"stun:stun.example.org:3478"},
		TURN:       []string{"turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"},
		TURNSecret: "shared", TURNTTL: time.Hour, BuiltinTURN: true,
	})
	now := time.Unix(1_800_000_000, 0)
	n.now = func() time.Time { return now }
	got := n.ICEServers("u1")
	if len(got) != 3 {
		t.Fatalf("got %d ICE servers, want STUN, external TURN, built-in TURN: %+v", len(got), got)
	}
	if !slices.Equal(got[0].URLs, []string{"stun:stun.example.org:3478"}) || got[0].Username != "" {
		t.Errorf("STUN entry %+v", got[0])
	}
	wantUser := "1800003600:u1"
	for _, s := range got[1:] {
		if s.Username != wantUser || s.Credential != turnRESTPassword("shared", wantUser) {
			t.Errorf("TURN entry %+v, want username %s and its HMAC", s, wantUser)
		}
	}
	want := []string{"turn:127.0.0.1:" + portString(n.TURNAddr()) + "?transport=udp", "turn:127.0.0.1:" + portString(n.TURNTCPAddr()) + "?transport=tcp"}
	if !slices.Equal(got[2].URLs, want) {
		t.Errorf("built-in URLs %q, want %q", got[2].URLs, want)
	}
	if none := listenTest(t, NetworkConfig{}).ICEServers("u1"); len(none) != 0 {
		t.Errorf("no servers configured, got %+v", none)
	}
}

// candidates are the a=candidate lines of pc's local description.
func candidates(pc *webrtc.PeerConnection) []string {
	var out []string
	for _, l := range strings.Split(pc.LocalDescription().SDP, "\n") {
		if strings.HasPrefix(l, "a=candidate:") {
			out = append(out, strings.TrimSpace(l))
		}
	}
	return out
}

func portString(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

// The SFU set up by a Network: joiners are handed its ICE servers, and two
// participants read each other's packets through the shared UDP port.
func TestSFUOverNetwork(t *testing.T) {
	n := listenTest(t, NetworkConfig{BuiltinTURN: true})
	s := newTestSFU(t, Config{Configure: n.Configure, ICEServers: n.ICEServers})
	info, err := s.Start("conv1", Person{User: "h", Name: "Host"}, false)
	if err != nil {
		t.Fatal(err)
	}
	clients := map[string]*testClient{}
	for _, u := range []string{"h", "a"} {
		c, _ := join(t, s, info.ID, u, u == "h")
		joined := c.waitEvent(EvJoined, arrive)
		if len(joined.ICEServers) != 1 || !strings.HasSuffix(joined.ICEServers[0].Username, ":"+u) {
			t.Fatalf("%s joined with ICE servers %+v, want the built-in TURN with its credential", u, joined.ICEServers)
		}
		c.start()
		clients[u] = c
	}
	ids := streamIDs(t, s, info.ID)
	for rx, tx := range map[string]string{"h": "a", "a": "h"} {
		eventually(t, arrive, rx+" reads "+tx+"'s camera", func() bool {
			got, body := clients[rx].count(ids[tx], LabelCamera)
			return got >= 5 && body == tx
		})
		pair, err := clients[rx].pc.GetSenders()[0].Transport().ICETransport().GetSelectedCandidatePair()
		if err != nil || pair == nil || int(pair.Remote.Port) != port(n.UDPAddr()) {
			t.Errorf("%s reaches the SFU at %v (%v), want the mux port %d", rx, pair, err, port(n.UDPAddr()))
		}
	}
}
