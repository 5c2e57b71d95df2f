package signaling

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// For every codec Chromium offers for its microphone and camera, an offer
// sending with that codec alone: checkOffer accepts exactly Opus, VP8 and
// H.264 baseline in mode 1; the server's own PeerConnection (newAPI,
// registerCodecs) negotiates each of those; and any other codec it
// negotiates is an H.264 profile or mode it takes by name alone. So a
// codec added to or dropped from registerCodecs fails here until
// forwardable follows.
func TestCheckOfferMatchesMediaEngine(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "chromium156-first-offer.sdp"))
	if err != nil {
		t.Fatal(err)
	}
	var base sdp.SessionDescription
	if err := base.UnmarshalString(string(raw)); err != nil {
		t.Fatal(err)
	}
	api, err := newAPI(nil, slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	var accepted []string
	for _, m := range base.MediaDescriptions {
		mline := "m=" + m.MediaName.Media + " 9 UDP/TLS/RTP/SAVPF " + strings.Join(m.MediaName.Formats, " ") + "\r\n"
		if !strings.Contains(string(raw), mline) {
			t.Fatalf("no line %q", mline)
		}
		mid, _ := m.Attribute("mid")
		for _, pt := range m.MediaName.Formats {
			name, _, _ := strings.Cut(rtpmapOf(m, pt), "/")
			switch strings.ToLower(name) {
			case "rtx", "red", "ulpfec", "flexfec-03", "cn", "telephone-event":
				continue // not a media codec on its own
			}
			codec := name + " " + fmtpOf(m.Attributes, pt)
			only := strings.Replace(string(raw), mline, "m="+m.MediaName.Media+" 9 UDP/TLS/RTP/SAVPF "+pt+"\r\n", 1)
			_, err := checkOffer(only, webrtc.SDPTypeOffer, 0)
			negotiated := serverReceives(t, api, only, mid)
			switch {
			case err == nil && !negotiated:
				t.Errorf("%s: accepted, but the server does not negotiate it", codec)
			case err != nil && negotiated && name != "H264":
				t.Errorf("%s: the server negotiates it, but checkOffer refuses it: %v", codec, err)
			case err == nil:
				accepted = append(accepted, codec)
			}
		}
	}
	want := []string{
		"opus minptime=10;useinbandfec=1",
		"VP8 ",
		"H264 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f",
		"H264 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
	}
	if strings.Join(accepted, "|") != strings.Join(want, "|") {
		t.Errorf("accepted %q\nwant %q", accepted, want)
	}
}

func rtpmapOf(m *sdp.MediaDescription, pt string) string {
	for _, a := range m.Attributes {
		if p, v, ok := strings.Cut(a.Value, " "); a.Key == "rtpmap" && ok && p == pt {
			return v
		}
	}
	return ""
}

// serverReceives reports whether a server PeerConnection answering offer
// accepts the section mid with a codec.
func serverReceives(t *testing.T, api *webrtc.API, offer, mid string) bool {
	t.Helper()
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pc.Close() }()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return false
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return false
	}
	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(answer.SDP); err != nil {
		t.Fatal(err)
	}
	for _, m := range desc.MediaDescriptions {
		if v, _ := m.Attribute("mid"); v == mid {
			return m.MediaName.Port.Value != 0 && direction(m.Attributes, "sendrecv") == "recvonly"
		}
	}
	return false
}
