package signaling

import (
	"net"
	"testing"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"
)

// turnClient is a pion TURN client of n's built-in server over UDP.
func turnClient(t *testing.T, n *Network, username, password string) *turn.Client {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c, err := turn.NewClient(&turn.ClientConfig{
		TURNServerAddr: n.TURNAddr().String(), STUNServerAddr: n.TURNAddr().String(),
		Username: username, Password: password, Realm: DefaultTURNRealm,
		Conn: conn, RTO: 200 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBuiltinTURNCredentials(t *testing.T) {
	n := listenTest(t, NetworkConfig{TURNSecret: "right secret", BuiltinTURN: true, TCPPort: -1})

	servers := n.ICEServers("u1")
	c := turnClient(t, n, servers[0].Username, servers[0].Credential)
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("a credential ICEServers issued was refused: %v", err)
	}
	defer relay.Close()
	if ip := relay.LocalAddr().(*net.UDPAddr).IP; !ip.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("relay on %v, want the relay IP 127.0.0.1", ip)
	}
	// The server relays only toward this node's media addresses.
	if err := c.CreatePermission(n.UDPAddr()); err != nil {
		t.Errorf("permission to the node's media port refused: %v", err)
	}
	if err := c.CreatePermission(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 9}); err == nil {
		t.Error("permission to another address granted: an open relay")
	}

	user, cred := turnRESTCredential("right secret", "u1", time.Now().Add(-time.Minute))
	if _, err := turnClient(t, n, user, cred).Allocate(); err == nil {
		t.Error("an expired credential allocated a relay")
	}
	user, cred = turnRESTCredential("wrong secret", "u1", time.Now().Add(time.Hour))
	if _, err := turnClient(t, n, user, cred).Allocate(); err == nil {
		t.Error("a credential under another secret allocated a relay")
	}
}

func TestBuiltinTURNOverTCP(t *testing.T) {
	n := listenTest(t, NetworkConfig{BuiltinTURN: true, TCPPort: -1}) // secret of its own
	tcp, err := net.Dial("tcp4", n.TURNTCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer tcp.Close()
	s := n.ICEServers("u1")[0]
	c, err := turn.NewClient(&turn.ClientConfig{
		TURNServerAddr: n.TURNTCPAddr().String(), STUNServerAddr: n.TURNTCPAddr().String(),
		Username: s.Username, Password: s.Credential, Realm: DefaultTURNRealm,
		Conn: turn.NewSTUNConn(tcp),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("allocate over TCP: %v", err)
	}
	relay.Close()
}

func TestTURNAuthExpiredMayOnlyKeepAnAllocation(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	auth := turnAuth("s", func() time.Time { return now })
	expired, _ := turnRESTCredential("s", "u1", now.Add(-time.Second))
	for _, m := range []stun.Method{stun.MethodAllocate, stun.MethodConnect, stun.MethodConnectionBind} {
		if _, _, ok := auth(&turn.RequestAttributes{Username: expired, Realm: "r", Method: m}); ok {
			t.Errorf("%v with an expired credential accepted", m)
		}
	}
	for _, m := range []stun.Method{stun.MethodRefresh, stun.MethodCreatePermission, stun.MethodChannelBind} {
		_, key, ok := auth(&turn.RequestAttributes{Username: expired, Realm: "r", Method: m})
		want := turn.GenerateAuthKey(expired, "r", turnRESTPassword("s", expired))
		if !ok || string(key) != string(want) {
			t.Errorf("%v on an existing allocation refused after expiry", m)
		}
	}
	for _, bad := range []string{"", "u1", "-5:u1", " 1800000100:u1", "1800000100x:u1"} {
		if _, _, ok := auth(&turn.RequestAttributes{Username: bad, Realm: "r", Method: stun.MethodAllocate}); ok {
			t.Errorf("username %q accepted", bad)
		}
	}
}

func TestRelayOnlyClientReachesTheNode(t *testing.T) {
	n := listenTest(t, NetworkConfig{TURNSecret: "shared", BuiltinTURN: true, TCPPort: -1})
	var servers []webrtc.ICEServer
	for _, s := range n.ICEServers("u1") {
		servers = append(servers, webrtc.ICEServer{URLs: s.URLs[:1], Username: s.Username, Credential: s.Credential})
	}
	client := clientPeer(t, webrtc.Configuration{ICEServers: servers, ICETransportPolicy: webrtc.ICETransportPolicyRelay},
		webrtc.NetworkTypeUDP4)
	server := serverPeer(t, n)
	pair := exchange(t, client, server)
	if pair.Remote.Typ != webrtc.ICECandidateTypeRelay {
		t.Errorf("server talks to a %s candidate, want the client's relay", pair.Remote.Typ)
	}
	if int(pair.Local.Port) != port(n.UDPAddr()) {
		t.Errorf("server's local candidate %s, want the mux port %d", pair.Local, port(n.UDPAddr()))
	}
}

func TestBuiltinTURNQuotaPerUser(t *testing.T) {
	n := listenTest(t, NetworkConfig{BuiltinTURN: true, TCPPort: -1})
	for i := range maxRelaysPerUser {
		s := n.ICEServers("u1")[0] // a fresh credential each time: the quota is per person
		if _, err := turnClient(t, n, s.Username, s.Credential).Allocate(); err != nil {
			t.Fatalf("relay %d of u1 refused: %v", i+1, err)
		}
	}
	s := n.ICEServers("u1")[0]
	if _, err := turnClient(t, n, s.Username, s.Credential).Allocate(); err == nil {
		t.Fatalf("relay %d of u1 allocated, over the quota", maxRelaysPerUser+1)
	}
	s = n.ICEServers("u2")[0]
	if _, err := turnClient(t, n, s.Username, s.Credential).Allocate(); err != nil {
		t.Fatalf("u2 refused for u1's relays: %v", err)
	}
}
