package signaling

import (
	"strings"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// The codecs the SFU forwards: Opus, VP8 and H.264 constrained baseline
// (docs/decisions/0002, "Interceptors"). No RTX: retransmissions go on the
// original SSRC, answered from the shared packet cache.
var videoFeedback = []webrtc.RTCPFeedback{
	{Type: "goog-remb"},
	{Type: "ccm", Parameter: "fir"},
	{Type: "nack"},
	{Type: "nack", Parameter: "pli"},
}

func registerCodecs(m *webrtc.MediaEngine) error {
	codecs := []struct {
		p    webrtc.RTPCodecParameters
		kind webrtc.RTPCodecType
	}{
		{webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
		}}, webrtc.RTPCodecTypeAudio},
		{webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: videoFeedback,
		}}, webrtc.RTPCodecTypeVideo},
		{webrtc.RTPCodecParameters{PayloadType: 102, RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeH264, ClockRate: 90000, RTCPFeedback: videoFeedback,
			SDPFmtpLine: "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
		}}, webrtc.RTPCodecTypeVideo},
	}
	for _, c := range codecs {
		if err := m.RegisterCodec(c.p, c.kind); err != nil {
			return err
		}
	}
	return nil
}

// configureUplinkTWCC has the server send transport-wide congestion
// control feedback for what publishers send it, so each publisher's
// browser runs its own send-side estimate and adapts its uplink (and
// its simulcast layers). The header extension is offered only on what
// the server receives (recvonly): toward subscribers it forwards without
// it, so their browsers estimate on their side and send REMB, which
// simulcast.go reads, and the server runs no congestion controller per
// subscriber (docs/decisions/0002, "Interceptors").
func configureUplinkTWCC(m *webrtc.MediaEngine, reg *interceptor.Registry) error {
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		m.RegisterFeedback(webrtc.RTCPFeedback{Type: webrtc.TypeRTCPFBTransportCC}, kind)
		if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}, kind,
			webrtc.RTPTransceiverDirectionRecvonly); err != nil {
			return err
		}
	}
	gen, err := twcc.NewSenderInterceptor()
	if err != nil {
		return err
	}
	reg.Add(gen)
	return nil
}

// configureNackGenerator asks publishers to resend what the server lost.
// pion's NACK responder is not registered: subscribers' NACKs are answered
// from the one packet cache each incoming track keeps (forward.go), not
// from a buffer per outgoing stream.
func configureNackGenerator(m *webrtc.MediaEngine, reg *interceptor.Registry) error {
	gen, err := nack.NewGeneratorInterceptor()
	if err != nil {
		return err
	}
	reg.Add(gen)
	return nil
}

// withOpusDTX asks the client for Opus DTX in a description the server
// sends (usedtx=1 on each Opus fmtp line): a browser then sends a packet
// every 400 ms instead of 50 a second while its microphone hears silence,
// and in a group where one person speaks at a time most of the audio the
// SFU would forward to every subscriber is never sent. pion's answers
// echo the offer's Opus parameters, so the line is amended here; the
// parameter only concerns what the client sends.
func withOpusDTX(sdp string) string {
	lines := strings.SplitAfter(sdp, "\n")
	opus := map[string]bool{}
	for _, l := range lines {
		if rest, ok := strings.CutPrefix(l, "a=rtpmap:"); ok {
			if pt, codec, ok := strings.Cut(rest, " "); ok && strings.HasPrefix(strings.ToLower(codec), "opus/") {
				opus[pt] = true
			}
		}
	}
	for i, l := range lines {
		rest, ok := strings.CutPrefix(l, "a=fmtp:")
		if !ok {
			continue
		}
		if pt, params, ok := strings.Cut(rest, " "); ok && opus[pt] && !strings.Contains(params, "usedtx") {
			body := strings.TrimRight(l, "\r\n")
			lines[i] = body + ";usedtx=1" + l[len(body):]
		}
	}
	return strings.Join(lines, "")
}
