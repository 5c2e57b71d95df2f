package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"

	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/signaling"
)

// TestSmokeVideo runs the video tool briefly against an in-process node
// with an SFU on loopback: one session of three, each publishing and
// subscribing. It checks the tool saw media flow and reported it, not how
// fast (no timing asserts). The SFU's OnEnded is left unset: the tool
// never reads video_session frames.
func TestSmokeVideo(t *testing.T) {
	sfu, err := signaling.New(signaling.Config{
		Configure: func(se *webrtc.SettingEngine) {
			se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
			se.SetIncludeLoopbackCandidate(true)
			se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
			se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sfu.Close)
	url, data := startNode(t, func(c *server.Config) { c.Video = sfu })

	jsonPath := filepath.Join(t.TempDir(), "video.json")
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := []string{"video", "--url", url, "--data", data, "--sessions", "1", "--people", "3",
		"--warmup", "1s", "--duration", "3s", "--json", jsonPath}
	if err := run(ctx, args, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep videoReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, b)
	}
	defer func() {
		if t.Failed() || testing.Verbose() {
			t.Logf("table:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
	}()
	if p := rep.Participants; p.Target != 3 || p.Connected != 3 || len(p.Failures) > 0 || len(rep.Errors) > 0 {
		t.Errorf("participants %+v, errors %v; want 3 connected and no errors", p, rep.Errors)
	}
	// Each of 3 receives the other 2: 6 video and 6 audio tracks.
	if f := rep.Forwarded; f.VideoAny != 6 || f.VideoExpected != 6 || f.VideoTracks <= 0 || f.AudioAny != 6 || f.VideoPacketRatio <= 0 {
		t.Errorf("forwarded %+v; want all 6 video and 6 audio tracks receiving", f)
	}
	if j := rep.Join; j.Participants != 2 || j.FirstVideo.Count != 2 || j.PerTrack.Count != 3 || j.Missing != 0 {
		t.Errorf("join %+v; want the 2nd and 3rd joiners measured on the 3 tracks before them", j)
	}
	if pk := rep.Packets; pk.VideoSent == 0 || pk.VideoReceived == 0 || pk.AudioReceived == 0 || pk.Keyframes == 0 {
		t.Errorf("packets %+v", pk)
	}
	if s := rep.Server; !s.Scraped || s.RSSDuringBytes == 0 {
		t.Errorf("server metrics not scraped: %+v", s)
	}
	for _, want := range []string{"video tracks", "CPU per video track-second", "join → first remote video", "RSS before / during"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("table lacks %q", want)
		}
	}
}
