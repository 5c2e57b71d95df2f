package static_test

import (
	"encoding/binary"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/pion/webrtc/v4"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/signaling"
)

// cuttableConn is the SFU's UDP socket with a switch that drops
// packets by whose they are. A browser is known by the ICE username
// fragment in its STUN checks (RFC 8445: USERNAME is "theirs:ours"), and
// each address by the fragment last checked from it; fragments are
// numbered in the order they first appear. cutFirst drops the first
// fragment's packets: that browser's network dead on the sockets it had,
// while an ICE restart (a new fragment) gets through. keepSecond drops
// everything but the second fragment's: dead on any socket.
type cuttableConn struct {
	net.PacketConn
	mu     sync.Mutex
	mode   int               // cutFirst or keepSecond; 0: pass everything
	owner  map[string]string // address -> ICE username fragment
	ufrags []string          // in order of appearance
}

const (
	cutFirst   = 1
	keepSecond = 2
)

// stunUser returns the USERNAME attribute of a STUN message, or "".
func stunUser(b []byte) string {
	if len(b) < 20 || b[0]&0xc0 != 0 || binary.BigEndian.Uint32(b[4:8]) != 0x2112A442 {
		return ""
	}
	for a := b[20:]; len(a) >= 4; {
		typ, n := binary.BigEndian.Uint16(a[0:2]), int(binary.BigEndian.Uint16(a[2:4]))
		if len(a) < 4+n {
			return ""
		}
		if typ == 0x0006 {
			return string(a[4 : 4+n])
		}
		a = a[4+((n+3)&^3):]
	}
	return ""
}

func (c *cuttableConn) drop(addr net.Addr, read []byte) bool {
	a := addr.String()
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ufrag, ok := strings.Cut(stunUser(read), ":"); ok {
		c.owner[a] = ufrag
		if !slices.Contains(c.ufrags, ufrag) {
			c.ufrags = append(c.ufrags, ufrag)
		}
	}
	u := c.owner[a]
	switch {
	case c.mode == cutFirst:
		return len(c.ufrags) > 0 && u == c.ufrags[0]
	case c.mode == keepSecond:
		return len(c.ufrags) < 2 || u != c.ufrags[1]
	}
	return false
}

func (c *cuttableConn) set(mode int) {
	c.mu.Lock()
	c.mode = mode
	c.mu.Unlock()
}

func (c *cuttableConn) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(b)
		if err != nil || !c.drop(addr, b[:n]) {
			return n, addr, err
		}
	}
}

func (c *cuttableConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if c.drop(addr, nil) {
		return len(b), nil
	}
	return c.PacketConn.WriteTo(b, addr)
}

// said is what the page announced to screen readers, oldest first.
const said = `[...document.querySelectorAll('#announcer p')].map((p) => p.textContent)`

// A participant whose media path dies is told the connection is poor,
// then that the video is reconnecting, and an ICE restart brings it back
// (the browser gathers on new sockets). When nothing gets through for
// longer, the page joins the session afresh, and plays again once the
// network is back. The WebSocket stays up throughout.
func TestVideoMediaPathLostReconnects(t *testing.T) {
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conn := &cuttableConn{PacketConn: udp, owner: map[string]string{}}
	mux := webrtc.NewICEUDPMux(nil, conn)
	sfu, err := signaling.New(signaling.Config{Logger: quietLogger(), Configure: func(se *webrtc.SettingEngine) {
		loopbackICE(se)
		se.SetICEUDPMux(mux)
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sfu.Close()
		_ = mux.Close() // and the socket
	})
	n := startNode(t, 0, func(c *server.Config) { c.Video = sfu })
	annTok := n.user("ann", "Ann", auth.RoleSpecialist)
	bobTok := n.user("bob", "Bob", auth.RolePeer)
	room := n.createRoom(annTok, "Evening video circle", "")
	n.join(bobTok, room.ID)

	b := newMediaBrowser(t, true)
	ann := b.page("ann", 1280, 800)
	bob := b.page("bob", 1280, 800)
	ann.signIn(n, annTok)
	ann.openConversation(room.ID)
	// Ann connects alone first: hers is the first ICE fragment, Bob's the
	// second.
	ann.click("#video-start")
	ann.waitJS("start dialog", `document.getElementById('video-start-dialog').open`)
	ann.do(chromedp.Click(chromedp.ID("video-start-waiting")))
	ann.click("#video-start-ok")
	ann.waitJS("Ann's media connected", `!document.getElementById('video-stage').hidden && document.getElementById('video-status').textContent === ''`)

	bob.signIn(n, bobTok)
	bob.openConversation(room.ID)
	bob.click("#video-join")
	bob.seesVideoOf("ann")
	ann.seesVideoOf("bob")

	// Ann's sockets go dead: poor, reconnecting, then an ICE restart.
	conn.set(cutFirst)
	ann.waitJS("poor connection", `document.getElementById('video-status').textContent === 'Poor connection: the video may freeze or lag.'`)
	ann.waitJS("reconnecting", `document.getElementById('video-status').textContent === 'The connection was lost. Reconnecting the video…'`)
	ann.waitJS("connected again", `document.getElementById('video-status').textContent === ''`)
	bob.seesVideoOf("ann")
	ann.seesVideoOf("bob")
	if eval[bool](bob, said+`.includes('Ann left the video session.')`) {
		t.Error("an ICE restart was enough, yet Ann left and joined again")
	}

	// Nothing of Ann's gets through at all: the restart fails, and after
	// a while her page joins afresh (Bob hears her leave and come back).
	conn.set(keepSecond)
	ann.waitJS("reconnecting", `document.getElementById('video-status').textContent === 'The connection was lost. Reconnecting the video…'`)
	bob.waitJS("Ann left and joined again", `(() => {
		const s = `+said+`;
		const left = s.indexOf('Ann left the video session.');
		return left >= 0 && s.indexOf('Ann joined the video session.', left) > left;
	})()`)
	conn.set(0)
	bob.seesVideoOf("ann")
	ann.seesVideoOf("bob")
	ann.waitJS("connected again", `document.getElementById('video-status').textContent === '' && document.getElementById('conn-status').dataset.state === 'connected'`)
}
