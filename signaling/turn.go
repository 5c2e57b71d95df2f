package signaling

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pion/stun/v4"
	"github.com/pion/turn/v5"
)

// builtinTURN is the optional pion TURN server, for a deployment without
// coturn. It checks the same TURN REST credentials as coturn would, and it
// relays only to this node's own media addresses: it exists so that
// clients behind strict firewalls reach the SFU, not as an open relay into
// the node's network.
type builtinTURN struct {
	server *turn.Server
	udp    net.PacketConn
	tcp    net.Listener
	host   string // the relay IP, as clients dial it
}

type turnSetup struct {
	listenIP  string // "" = all interfaces
	port      int    // 0 = any free port (tests)
	relayIP   net.IP // advertised in XOR-RELAYED-ADDRESS and dialled by clients
	realm     string
	secret    string
	allowPeer func(net.IP) bool
	now       func() time.Time
	log       *slog.Logger
}

// startTURN listens on UDP and TCP and serves TURN until Close. A
// configured port is the same number for both; with port 0 each takes a
// free port of its own (a port free for UDP may be taken for TCP), and
// urls hands out the ports actually bound.
func startTURN(c turnSetup) (*builtinTURN, error) {
	fam, anyIP := "4", "0.0.0.0"
	if c.relayIP.To4() == nil {
		fam, anyIP = "6", "::"
	}
	addr := net.JoinHostPort(c.listenIP, strconv.Itoa(c.port))
	udp, err := net.ListenPacket("udp"+fam, addr)
	if err != nil {
		return nil, fmt.Errorf("built-in TURN: %w", err)
	}
	tcp, err := net.Listen("tcp"+fam, addr)
	if err != nil {
		udp.Close()
		return nil, fmt.Errorf("built-in TURN: %w", err)
	}
	bind := c.listenIP
	if bind == "" {
		bind = anyIP
	}
	perm := func(_ net.Addr, peer net.IP) bool { return c.allowPeer(peer) }
	quota := &turnQuota{live: map[string]int{}}
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm:         c.realm,
		AuthHandler:   turnAuth(c.secret, c.now),
		QuotaHandler:  quota.allow,
		EventHandler:  turn.EventHandler{OnAllocationCreated: quota.created, OnAllocationDeleted: quota.deleted},
		LoggerFactory: netLogFactory{c.log.With("part", "turn")},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn:            udp,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: c.relayIP, Address: bind},
			PermissionHandler:     perm,
		}},
		ListenerConfigs: []turn.ListenerConfig{{
			Listener:              tcp,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: c.relayIP, Address: bind},
			PermissionHandler:     perm,
		}},
	})
	if err != nil {
		udp.Close()
		tcp.Close()
		return nil, fmt.Errorf("built-in TURN: %w", err)
	}
	return &builtinTURN{server: srv, udp: udp, tcp: tcp, host: c.relayIP.String()}, nil
}

// urls are the built-in server's URLs as handed to clients: UDP first,
// TCP for networks that block UDP, each with the port its listener bound.
func (t *builtinTURN) urls() []string {
	udp := net.JoinHostPort(t.host, strconv.Itoa(t.udp.LocalAddr().(*net.UDPAddr).Port))
	tcp := net.JoinHostPort(t.host, strconv.Itoa(t.tcp.Addr().(*net.TCPAddr).Port))
	return []string{"turn:" + udp + "?transport=udp", "turn:" + tcp + "?transport=tcp"}
}

// Close stops the server and its listeners (turn.Server.Close closes the
// PacketConns and Listeners it was given) and the relays it allocated.
func (t *builtinTURN) Close() error { return t.server.Close() }

// turnAuth checks TURN REST credentials under secret. An expired username
// may not allocate; it may still refresh an allocation, add permissions and
// bind channels, which act only on an allocation already tied to the
// client's own address, so a call outlasting its credential keeps its
// relay while a leaked credential buys nothing new after its expiry.
func turnAuth(secret string, now func() time.Time) turn.AuthHandler {
	return func(ra *turn.RequestAttributes) (string, []byte, bool) {
		expires, ok := turnRESTExpiry(ra.Username)
		if !ok {
			return "", nil, false
		}
		if !now().Before(expires) && !turnOnExisting(ra.Method) {
			return "", nil, false
		}
		password := turnRESTPassword(secret, ra.Username)
		_, user, _ := strings.Cut(ra.Username, ":") // the quota counts people, not credentials
		return user, turn.GenerateAuthKey(ra.Username, ra.Realm, password), true
	}
}

// turnOnExisting reports whether a TURN method only acts on an existing
// allocation of the same 5-tuple.
func turnOnExisting(m stun.Method) bool {
	return m == stun.MethodRefresh || m == stun.MethodCreatePermission || m == stun.MethodChannelBind
}

// maxRelaysPerUser caps one person's live relays on the built-in server. A
// browser takes one per TURN URL and local interface, a few more across
// ICE restarts; the cap keeps one participant from exhausting the node's
// ports.
const maxRelaysPerUser = 16

// turnQuota counts live relays per user (the user part of the username,
// so joining again for a fresh credential does not reset it).
type turnQuota struct {
	mu   sync.Mutex
	live map[string]int
}

func (q *turnQuota) allow(user, _ string, _ net.Addr) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.live[user] < maxRelaysPerUser
}

func (q *turnQuota) created(_, _ net.Addr, _, user, _ string, _ net.Addr, _ int) {
	q.mu.Lock()
	q.live[user]++
	q.mu.Unlock()
}

func (q *turnQuota) deleted(_, _ net.Addr, _, user, _ string) {
	q.mu.Lock()
	if q.live[user]--; q.live[user] <= 0 {
		delete(q.live, user)
	}
	q.mu.Unlock()
}
