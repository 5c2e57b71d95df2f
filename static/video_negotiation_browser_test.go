package static_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"
)

// Perfect negotiation's collision, made to happen: call.js (the polite
// side) and a second RTCPeerConnection in the page playing the SFU (the
// impolite side, as signaling/peer.go is). After a first exchange (the
// client's offer, as in a session), both add a track at once (a shared
// screen; someone else's camera), and the "server" holds its offer until
// the client's own offer is out. The server ignores the client's offer;
// the client rolls its offer back, answers the server's, and offers
// again; in the end both are stable and each has all the other's tracks.
// Real browser peer connections on both ends; only the wire between them
// is a function call.
func TestVideoNegotiationCollisionRollsBack(t *testing.T) {
	n := startNode(t, 0, nil)
	p := newMediaBrowser(t, true).page("glare", 800, 600)
	p.do(chromedp.Navigate(n.url + "/"))
	type result struct {
		Ignored, ServerTracks, ClientTracks int
		Client, Server, ICE                 string
		Failed                              bool
	}
	ctx, cancel := context.WithTimeout(p.ctx, waitFor)
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[result](`(async () => {
		const { Call } = await import('/js/video/call.js');
		const server = new RTCPeerConnection();
		let call = null;
		let making = false;
		let ignored = 0;
		let serverTracks = 0;
		let clientTracks = 0;
		let failed = false;
		const until = async (cond) => { for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 25)); return cond(); };
		server.ontrack = () => { serverTracks += 1; };
		server.onicecandidate = (e) => call.handle({ type: 'video_candidate', candidate: e.candidate ? e.candidate.candidate : '', sdp_mid: e.candidate ? e.candidate.sdpMid : undefined, sdp_mline_index: e.candidate ? e.candidate.sdpMLineIndex : undefined });
		let hold = false;
		server.onnegotiationneeded = async () => {
			making = true;
			await server.setLocalDescription();
			// Hold the offer until the client's crosses it.
			if (hold) await until(() => call.pc.signalingState === 'have-local-offer');
			making = false;
			call.handle({ type: 'video_offer', sdp: server.localDescription.sdp });
		};
		const serverGets = async (f) => {
			if (f.type === 'video_offer') {
				if (making || server.signalingState !== 'stable') { ignored += 1; return; } // impolite
				await server.setRemoteDescription({ type: 'offer', sdp: f.sdp });
				await server.setLocalDescription();
				call.handle({ type: 'video_answer', sdp: server.localDescription.sdp });
			} else if (f.type === 'video_answer') {
				await server.setRemoteDescription({ type: 'answer', sdp: f.sdp });
			} else if (f.type === 'video_candidate' && f.candidate) {
				await server.addIceCandidate({ candidate: f.candidate, sdpMid: f.sdp_mid, sdpMLineIndex: f.sdp_mline_index }).catch(() => {});
			}
		};
		call = new Call({
			session: 'v_test', iceServers: [],
			send: (f) => { serverGets(f); return true; },
			request: (f) => serverGets(f).then(() => ({ type: 'video_ok' })),
			onTrack: () => { clientTracks += 1; },
			onState: () => {}, onRejoin: () => {}, onFailed: () => { failed = true; },
		});
		const mine = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
		const screen = await navigator.mediaDevices.getUserMedia({ video: true });
		const theirs = await navigator.mediaDevices.getUserMedia({ video: true });
		call.addTrack(mine.getAudioTracks()[0], 'audio', mine);
		call.addTrack(mine.getVideoTracks()[0], 'camera', mine);
		await until(() => serverTracks === 2 && call.pc.signalingState === 'stable' && call.state === 'connected');
		hold = true;
		call.addTrack(screen.getVideoTracks()[0], 'screen', screen);
		server.addTrack(theirs.getVideoTracks()[0], theirs);
		await until(() => serverTracks === 3 && clientTracks === 1 && call.pc.signalingState === 'stable' && server.signalingState === 'stable');
		const out = { Ignored: ignored, ServerTracks: serverTracks, ClientTracks: clientTracks, Client: call.pc.signalingState, Server: server.signalingState, ICE: call.state, Failed: failed };
		call.close();
		server.close();
		for (const tr of [...mine.getTracks(), ...screen.getTracks(), ...theirs.getTracks()]) tr.stop();
		return out;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	want := result{Ignored: 1, ServerTracks: 3, ClientTracks: 1, Client: "stable", Server: "stable", ICE: "connected"}
	if got != want {
		t.Errorf("after a collision\n got %+v\nwant %+v", got, want)
	}
}
