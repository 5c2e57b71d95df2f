package signaling

import (
	"encoding/hex"
	"strings"

	"github.com/pion/ice/v4"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Limits on what a client may send in negotiation (issue 12, point 7).
// They are checked before pion sees the input, so that a bad or hostile
// description is refused with a documented code and the participant's
// PeerConnection, and the session, go on as before.
const (
	// MaxSDPBytes bounds an offer or answer. A client's first offer is
	// small (Chromium 156 with a microphone and a simulcast camera: 5 KB),
	// but its later offers carry a receive section for every track of
	// everyone else, each listing all the codecs the browser decodes
	// (about 5 KB per video section and 1.3 KB per audio one). Measured
	// with Chromium 156 in a session of DefaultMaxParticipants: 78 KB
	// when a participant starts sharing its screen while the others
	// send cameras, 145 KB when everyone shares a screen with audio
	// (testdata/chromium156-full-offer.sdp). The 64 KiB first proposed
	// would refuse both; 256 KiB leaves room for browsers' codec lists
	// to grow.
	MaxSDPBytes = 256 << 10
	// MaxCandidateBytes bounds one ICE candidate line; real ones are
	// under 250 bytes.
	MaxCandidateBytes = 1024
	// MaxSendTracks is how many tracks a participant may send: audio,
	// camera, screen and screen audio.
	MaxSendTracks = 4
	// MaxRIDs is how many simulcast layers a video section may carry.
	MaxRIDs = 3

	// maxSDPMidBytes bounds a candidate's sdpMid; browsers use "0", "1",
	// ... or at most a braced UUID.
	maxSDPMidBytes = 64
	// maxSectionSSRCs bounds the a=ssrc lines of one section: one SSRC
	// per simulcast layer, a retransmission SSRC for each, and one for
	// FEC. pion makes a receiver per SSRC it is told of.
	maxSectionSSRCs = 2*MaxRIDs + 1
)

// The refusals of checkOffer and checkCandidate. Each is a distinct value
// so that callers may compare with ==; the wire carries only Code, and
// every message says what to fix without repeating the client's input.
var (
	// ErrBadSDP: the description is empty or does not parse.
	ErrBadSDP = &Error{"video_bad_sdp", "the session description does not parse; send the browser's description unchanged"}
	// ErrSDPTooLarge: the description is over MaxSDPBytes.
	ErrSDPTooLarge = &Error{"video_bad_sdp", "the session description is larger than 256 KiB"}
	// ErrSDPType: neither an offer nor an answer.
	ErrSDPType = &Error{"video_bad_sdp", "only an offer or an answer is accepted"}
	// ErrDataChannel: an application (data channel) section; the server
	// offers no data channels.
	ErrDataChannel = &Error{"video_bad_sdp", "data channels are not supported; create no RTCDataChannel on this connection"}
	// ErrMediaKind: a section that is neither audio nor video.
	ErrMediaKind = &Error{"video_bad_sdp", "only audio and video sections are accepted"}

	// ErrTooManyTracks: more than MaxSendTracks sending sections.
	ErrTooManyTracks = &Error{"video_too_many_tracks", "at most 4 tracks may be sent: microphone, camera, screen and screen audio"}
	// ErrTooManySections: more sections than a full session needs.
	ErrTooManySections = &Error{"video_too_many_tracks", "the session description has more media sections than the session can use"}
	// ErrTooManyRIDs: more than MaxRIDs simulcast layers in a section,
	// or more SSRCs than those layers need.
	ErrTooManyRIDs = &Error{"video_too_many_tracks", "at most 3 simulcast layers may be sent per video track"}

	// ErrUnsupportedCodec: a sending section offers no codec the server
	// forwards.
	ErrUnsupportedCodec = &Error{"video_unsupported_codec", "a track is sent with no codec the server forwards: enable Opus for audio and VP8 or H.264 constrained baseline (packetization-mode=1) for video"}

	// ErrBadCandidate: the candidate does not parse as an ICE candidate.
	ErrBadCandidate = &Error{"video_bad_candidate", "the ICE candidate does not parse; send the browser's candidate unchanged"}
	// ErrCandidateTooLarge: the candidate is over MaxCandidateBytes.
	ErrCandidateTooLarge = &Error{"video_bad_candidate", "the ICE candidate is longer than 1024 bytes"}
	// ErrBadSDPMid: the sdpMid is too long, empty or not an SDP token, or
	// both sdpMid and sdpMLineIndex are missing.
	ErrBadSDPMid = &Error{"video_bad_candidate", "the candidate needs an sdpMid (an SDP token of at most 64 bytes) or an sdpMLineIndex"}
	// ErrBadMLineIndex: sdpMLineIndex names no media section.
	ErrBadMLineIndex = &Error{"video_bad_candidate", "the candidate's sdpMLineIndex names no media section"}
)

// checkOffer checks a session description from a client: an offer, or an
// answer to the server's offer, kind saying which. maxParticipants is the
// session's limit (0: DefaultMaxParticipants); it bounds the sections,
// since the client's description also carries a receive section for each
// track of every other participant. It returns the parsed description.
//
// Only the sections the client sends in must offer a codec we forward:
// receive sections list whatever the browser can decode, and pion picks
// from them.
func checkOffer(raw string, kind webrtc.SDPType, maxParticipants int) (*sdp.SessionDescription, error) {
	if kind != webrtc.SDPTypeOffer && kind != webrtc.SDPTypeAnswer {
		return nil, ErrSDPType
	}
	if len(raw) > MaxSDPBytes {
		return nil, ErrSDPTooLarge
	}
	if raw == "" {
		return nil, ErrBadSDP
	}
	desc := new(sdp.SessionDescription)
	if err := desc.UnmarshalString(raw); err != nil {
		// pion's message quotes the input: not passed on.
		return nil, ErrBadSDP
	}
	if maxParticipants <= 0 {
		maxParticipants = DefaultMaxParticipants
	}
	if len(desc.MediaDescriptions) > maxParticipants*MaxSendTracks+MaxSendTracks {
		return nil, ErrTooManySections
	}
	sessionDir := direction(desc.Attributes, "sendrecv")
	sending := 0
	for _, m := range desc.MediaDescriptions {
		sends, err := checkSection(m, sessionDir)
		if err != nil {
			return nil, err
		}
		if sends {
			sending++
		}
	}
	if sending > MaxSendTracks {
		return nil, ErrTooManyTracks
	}
	return desc, nil
}

// checkSection checks one media section and reports whether the client
// sends media in it.
func checkSection(m *sdp.MediaDescription, sessionDir string) (sends bool, err error) {
	switch m.MediaName.Media {
	case "audio", "video":
	case "application":
		return false, ErrDataChannel
	default:
		return false, ErrMediaKind
	}
	if !layersWithin(m.Attributes) {
		return false, ErrTooManyRIDs
	}
	if _, bundleOnly := m.Attribute("bundle-only"); m.MediaName.Port.Value == 0 && !bundleOnly {
		// Rejected or stopped: nothing flows. A zero port with
		// a=bundle-only (RFC 8843, max-bundle) is live, as pion takes it.
		return false, nil
	}
	switch direction(m.Attributes, sessionDir) {
	case "sendrecv", "sendonly":
	default:
		return false, nil
	}
	if !forwardable(m) {
		return false, ErrUnsupportedCodec
	}
	return true, nil
}

// direction returns the section's direction attribute, or dflt (the
// session's, itself sendrecv by default per RFC 4566).
func direction(attrs []sdp.Attribute, dflt string) string {
	for _, a := range attrs {
		switch a.Key {
		case "sendrecv", "sendonly", "recvonly", "inactive":
			return a.Key
		}
	}
	return dflt
}

// layersWithin reports whether the section asks for at most MaxRIDs
// simulcast layers in each direction, counted both as a=rid lines ("q
// send") and as the streams of a=simulcast (RFC 8853: "send 1;2,3 recv
// 4": ';' separates streams and ',' alternatives of one, counted too
// since each names a RID), and at most maxSectionSSRCs distinct SSRCs.
// Directions are counted apart: pion's answer to an offer that receives
// simulcast repeats the offer's "recv" RIDs beside its own "send" ones.
func layersWithin(attrs []sdp.Attribute) bool {
	var rids, simulcast [2]int // send, recv
	var ssrcs [maxSectionSSRCs]string
	nssrc := 0
	for _, a := range attrs {
		switch a.Key {
		case "rid":
			_, dir, _ := strings.Cut(a.Value, " ")
			rids[ridDirection(dir)]++
		case "simulcast":
			d := 0
			for _, f := range strings.Fields(a.Value) {
				switch f {
				case "send", "recv":
					d = ridDirection(f)
				default:
					simulcast[d] += 1 + strings.Count(f, ";") + strings.Count(f, ",")
				}
			}
		case "ssrc":
			id, _, _ := strings.Cut(a.Value, " ")
			if !contains(ssrcs[:nssrc], id) {
				if nssrc == len(ssrcs) {
					return false
				}
				ssrcs[nssrc] = id
				nssrc++
			}
		}
	}
	return max(rids[0], rids[1], simulcast[0], simulcast[1]) <= MaxRIDs
}

// ridDirection is 1 for "recv" (and what follows it), else 0.
func ridDirection(dir string) int {
	if strings.HasPrefix(dir, "recv") {
		return 1
	}
	return 0
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// forwardable reports whether the section offers a codec the SFU
// forwards (registerCodecs, media.go): Opus for audio; VP8, or H.264
// baseline in packetization mode 1, for video.
// TestCheckOfferMatchesMediaEngine keeps this in step with the server's
// MediaEngine.
func forwardable(m *sdp.MediaDescription) bool {
	offered := make(map[string]bool, len(m.MediaName.Formats))
	for _, f := range m.MediaName.Formats {
		offered[f] = true
	}
	for _, a := range m.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		pt, name, clock, ok := parseRTPMap(a.Value)
		if !ok || !offered[pt] {
			continue
		}
		switch {
		case m.MediaName.Media == "audio" && strings.EqualFold(name, "opus") && clock == "48000":
			return true
		case m.MediaName.Media == "video" && strings.EqualFold(name, "VP8") && clock == "90000":
			return true
		case m.MediaName.Media == "video" && strings.EqualFold(name, "H264") && clock == "90000":
			if baselineH264(fmtpOf(m.Attributes, pt)) {
				return true
			}
		}
	}
	return false
}

// parseRTPMap splits "96 VP8/90000" or "111 opus/48000/2".
func parseRTPMap(v string) (pt, name, clock string, ok bool) {
	pt, rest, ok := strings.Cut(v, " ")
	if !ok {
		return "", "", "", false
	}
	name, rest, ok = strings.Cut(strings.TrimSpace(rest), "/")
	if !ok {
		return "", "", "", false
	}
	clock, _, _ = strings.Cut(rest, "/")
	return pt, name, clock, true
}

// fmtpOf returns the parameters of payload type pt's a=fmtp line.
func fmtpOf(attrs []sdp.Attribute, pt string) string {
	for _, a := range attrs {
		if a.Key != "fmtp" {
			continue
		}
		if p, params, ok := strings.Cut(a.Value, " "); ok && p == pt {
			return params
		}
	}
	return ""
}

// baselineH264 reports whether H.264 fmtp parameters ask for
// packetization-mode 1 and profile-level-id 42e0xx (constrained baseline,
// as registerCodecs registers it) or 4200xx (baseline, which browsers
// offer beside it and encode as constrained baseline), at any level.
// pion would also take other profiles and mode 0 by the codec name alone,
// but subscribers are told they get 42e01f in mode 1, and a Main or High
// profile stream may not decode on their hardware decoders.
func baselineH264(params string) bool {
	mode, profile := "", ""
	for p := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "packetization-mode":
			mode = v
		case "profile-level-id":
			profile = v
		}
	}
	if mode != "1" || len(profile) != 6 {
		return false
	}
	b, err := hex.DecodeString(profile[:4])
	return err == nil && b[0] == 0x42 && (b[1] == 0xe0 || b[1] == 0x00)
}

// checkCandidate checks an ICE candidate from a client. sections is the
// number of media sections of the negotiated description, or negative
// when unknown (then sdpMLineIndex is not checked). An empty candidate
// (end of candidates) is allowed.
func checkCandidate(c Candidate, sections int) error {
	if len(c.Candidate) > MaxCandidateBytes {
		return ErrCandidateTooLarge
	}
	if c.SDPMid != nil && !sdpToken(*c.SDPMid) && !(c.Candidate == "" && *c.SDPMid == "") {
		return ErrBadSDPMid
	}
	if c.SDPMLineIndex != nil && sections >= 0 && int(*c.SDPMLineIndex) >= sections {
		return ErrBadMLineIndex
	}
	if c.Candidate == "" {
		return nil
	}
	if c.SDPMid == nil && c.SDPMLineIndex == nil {
		return ErrBadSDPMid
	}
	if _, err := ice.UnmarshalCandidate(strings.TrimPrefix(c.Candidate, "candidate:")); err != nil {
		return ErrBadCandidate
	}
	return nil
}

// sdpToken reports whether s is an SDP token (RFC 4566 token-char) of at
// most maxSDPMidBytes, as a media section's mid must be (RFC 5888).
func sdpToken(s string) bool {
	if s == "" || len(s) > maxSDPMidBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]`, c) >= 0 {
			return false
		}
	}
	return true
}
