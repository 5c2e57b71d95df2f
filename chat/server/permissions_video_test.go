package server_test

import (
	"testing"

	"github.com/pion/webrtc/v4"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/signaling"
)

// videoCases are the video frames' cases. Session frames go to live
// sessions the fixture starts straight on the SFU, hosted by the founder:
// one in the main room without a waiting room (callers allowed join_video
// go in), one in rooms["video-wait"] with one, where subj waits to be
// admitted or denied by callers allowed host_video. A caller the table
// allows is put in the session first, so that the frame is valid; a
// refused caller gets no setup, as the table refuses before anything.
func (fx *permFixture) videoCases(t *testing.T) map[string]*permCase {
	sdp := permOfferSDP(t)
	main := func(t *testing.T, u *permUser, typ string, extra map[string]any) map[string]any {
		s := fx.videoSession(t, fx.main, false)
		if typ != "video_join" && auth.Permit(u.ident, u.room, auth.ActJoinVideo) == nil {
			fx.inVideo(t, u, s)
		}
		m := map[string]any{"type": typ, "session": s}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	joinCase := func(typ string, extra func(u *permUser) map[string]any) *permCase {
		return &permCase{answer: "video_ok", frame: func(t *testing.T, u *permUser) map[string]any {
			return main(t, u, typ, extra(u))
		}}
	}
	none := func(*permUser) map[string]any { return nil }
	hostCase := func(typ string, waiter bool) *permCase {
		return &permCase{answer: "video_ok", frame: func(t *testing.T, u *permUser) map[string]any {
			if waiter {
				// A fresh session: one that admitted subj before lets
				// them straight back in.
				fx.endLive(t, fx.rooms["video-wait"])
			}
			s := fx.videoSession(t, fx.rooms["video-wait"], true)
			if auth.Permit(u.ident, u.room, auth.ActHostVideo) == nil {
				fx.inVideo(t, u, s)
				if waiter {
					fx.guestWaits(t, s)
				}
			}
			return map[string]any{"type": typ, "session": s, "user": "subj"}
		}}
	}
	cases := map[string]*permCase{
		"video_start": {answer: "video_ok", frame: func(t *testing.T, _ *permUser) map[string]any {
			fx.endLive(t, fx.rooms["video-start"])
			return map[string]any{"type": "video_start", "conv": fx.rooms["video-start"]}
		}},
		"video_join":  joinCase("video_join", none),
		"video_leave": joinCase("video_leave", none),
		"video_offer": joinCase("video_offer", func(*permUser) map[string]any {
			return map[string]any{"sdp": sdp, "labels": map[string]string{"0": "audio", "1": "camera"}}
		}),
		"video_control": joinCase("video_control", func(u *permUser) map[string]any {
			return map[string]any{"user": u.ident.UserID, "action": "mute"}
		}),
		"video_candidate": joinCase("video_candidate", func(*permUser) map[string]any {
			return map[string]any{"candidate": "candidate:1 1 udp 2130706431 127.0.0.1 9 typ host", "sdp_mid": "0", "sdp_mline_index": 0}
		}),
		"video_admit": hostCase("video_admit", true),
		"video_deny":  hostCase("video_deny", true),
		"video_end":   hostCase("video_end", false),
	}
	cases["video_candidate"].answer = "" // answered only when refused
	// A valid answer needs an offer of the server's, which comes only
	// with others' media; refused for the session's state, it has passed
	// the table.
	cases["video_answer"] = joinCase("video_answer", func(*permUser) map[string]any { return map[string]any{"sdp": sdp} })
	cases["video_answer"].passed = []chat.Code{"video_bad_sdp"}
	return cases
}

// videoSession is the session live in room, started by the founder when
// there is none.
func (fx *permFixture) videoSession(t *testing.T, room string, waitingRoom bool) string {
	if info, ok := fx.video.sfu.Live(room); ok {
		return info.ID
	}
	info, err := fx.video.sfu.Start(room, signaling.Person{User: "founder", Name: "Founder"}, waitingRoom)
	if err != nil {
		t.Fatalf("fixture: start a session in %s: %v", room, err)
	}
	return info.ID
}

// endLive ends the session live in room, if any, as its host.
func (fx *permFixture) endLive(t *testing.T, room string) {
	info, ok := fx.video.sfu.Live(room)
	if !ok {
		return
	}
	if _, err := fx.video.sfu.Join(info.ID, signaling.Person{User: "founder", Name: "Founder"}, true, func(signaling.Event) {}); err != nil {
		t.Fatalf("fixture: join %s: %v", info.ID, err)
	}
	if err := fx.video.sfu.End(info.ID, "founder"); err != nil {
		t.Fatalf("fixture: end %s: %v", info.ID, err)
	}
}

// inVideo joins u's session to session s, which must let it straight in.
func (fx *permFixture) inVideo(t *testing.T, u *permUser, s string) {
	defer permUse(u.ws, t)()
	ref := fx.ref("vin")
	u.ws.send(map[string]any{"type": "video_join", "session": s, "ref": ref})
	if f := u.ws.take(func(f frame) bool { return f.Ref == ref }); f.Type != "video_ok" {
		t.Fatalf("fixture: %s joins %s: %s", u.ident.UserID, s, f.raw)
	}
}

// guestWaits puts subj in session s's waiting room (again).
func (fx *permFixture) guestWaits(t *testing.T, s string) {
	defer permUse(fx.vguest, t)()
	ref := fx.ref("vwait")
	fx.vguest.send(map[string]any{"type": "video_join", "session": s, "ref": ref})
	if f := fx.vguest.take(func(f frame) bool { return f.Ref == ref }); f.Type != "video_ok" {
		t.Fatalf("fixture: subj waits in %s: %s", s, f.raw)
	}
}

// permOfferSDP is a browser-like offer (audio and video) made by pion.
func permOfferSDP(t *testing.T) string {
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := pc.AddTransceiverFromKind(k); err != nil {
			t.Fatal(err)
		}
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return offer.SDP
}
