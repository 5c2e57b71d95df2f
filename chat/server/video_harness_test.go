package server_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/signaling"
)

// videoLoopback keeps a test's ICE on 127.0.0.1, for the SFU and for the
// pion peers playing browsers.
func videoLoopback(se *webrtc.SettingEngine) {
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
}

// videoNode is an SFU on loopback for a test node, wired as cmd/kindred
// wires it: its OnEnded reaches the server built after it.
type videoNode struct {
	sfu *signaling.SFU
	srv atomic.Pointer[server.Server]
}

// withVideo makes the SFU (maxParticipants 0: the default); its set goes
// to newEnv, and wire takes the env once it runs.
func withVideo(t testing.TB, maxParticipants int) *videoNode {
	v := &videoNode{}
	sfu, err := signaling.New(signaling.Config{
		MaxParticipants: maxParticipants,
		Configure:       videoLoopback,
		OnEnded: func(s signaling.SessionInfo, reason string) {
			if p := v.srv.Load(); p != nil {
				p.VideoEnded(s, reason)
			}
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sfu.Close)
	v.sfu = sfu
	return v
}

func (v *videoNode) set(c *server.Config) { c.Video = v.sfu }
func (v *videoNode) wire(e *env)          { v.srv.Store(e.srv) }

func newVideoEnv(t testing.TB, mod ...func(*server.Config)) *env {
	t.Helper()
	v := withVideo(t, 0)
	e := newEnv(t, append(mod, v.set)...)
	v.wire(e)
	return e
}

// vframe is a decoded video frame (docs/protocol.md, "Video server
// frames").
type vframe struct {
	Type         string `json:"type"`
	Ref          string `json:"ref"`
	Session      string `json:"session"`
	Conv         string `json:"conv"`
	Host         any    `json:"host"` // video_session: the user id; video_participant: bool
	HostName     string `json:"host_name"`
	State        string `json:"state"`
	Reason       string `json:"reason"`
	User         string `json:"user"`
	Name         string `json:"name"`
	Audio        string `json:"audio"`
	Video        string `json:"video"`
	Left         bool   `json:"left"`
	Code         string `json:"code"`
	SDP          string `json:"sdp"`
	Participants []struct {
		User string `json:"user"`
		Host bool   `json:"host"`
	} `json:"participants"`
	Waiting []struct {
		User string `json:"user"`
		Name string `json:"name"`
	} `json:"waiting"`
	raw string
}

func decodeV(t testing.TB, f frame) vframe {
	t.Helper()
	var v vframe
	if err := json.Unmarshal([]byte(f.raw), &v); err != nil {
		t.Fatalf("frame %s: %v", f.raw, err)
	}
	v.raw = f.raw
	return v
}

// vreq sends a video frame with ref and returns its answer: video_ok or
// an error.
func (c *client) vreq(ref string, m map[string]any) vframe {
	c.t.Helper()
	m["ref"] = ref
	c.send(m)
	return decodeV(c.t, c.take(func(f frame) bool { return f.Ref == ref }))
}

// vok is vreq for a frame that must succeed.
func (c *client) vok(ref string, m map[string]any) vframe {
	c.t.Helper()
	v := c.vreq(ref, m)
	if v.Type != "video_ok" {
		c.t.Fatalf("%s %s refused: %s", m["type"], ref, v.raw)
	}
	return v
}

// vexpect waits for the next video frame of type typ (about session,
// when not empty) that match accepts (nil: any).
func (c *client) vexpect(typ, session string, match func(vframe) bool) vframe {
	c.t.Helper()
	f := c.take(func(f frame) bool {
		if f.Type != typ {
			return false
		}
		v := decodeV(c.t, f)
		return (session == "" || v.Session == session) && (match == nil || match(v))
	})
	return decodeV(c.t, f)
}

// vnone checks that none of the frames c has received so far, up to the
// answer of a ping sent now, is of type typ and contains all of subs.
func (c *client) vnone(typ string, subs ...string) {
	c.t.Helper()
	ref := "none-" + typ
	c.send(map[string]any{"type": "ping", "ref": ref})
	c.take(func(f frame) bool { return f.Ref == ref })
	for _, f := range c.backlog {
		if f.Type == typ && containsAll(f.raw, subs...) {
			c.t.Fatalf("unexpected %s: %s", typ, f.raw)
		}
	}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}

func contains(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}
