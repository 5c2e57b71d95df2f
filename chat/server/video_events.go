package server

import (
	"time"

	"github.com/kindred-health/kindred/chat/protocol"
	"github.com/kindred-health/kindred/signaling"
)

// videoEventFrame encodes an SFU event as its server frame: each event
// type is "video_" and the type (docs/protocol.md, "Video server
// frames"). An event chat/server does not know is not sent.
func videoEventFrame(ev signaling.Event) ([]byte, bool) {
	typ := "video_" + ev.Type
	var v any
	switch ev.Type {
	case signaling.EvJoined:
		v = protocol.VideoJoined{Type: typ, Session: ev.Session,
			Participants: videoParticipants(ev.Participants), ICEServers: iceServers(ev.ICEServers)}
	case signaling.EvWaitingList:
		w := make([]protocol.VideoWaiter, len(ev.Waiting))
		for i, x := range ev.Waiting {
			w[i] = protocol.VideoWaiter{User: x.User, Name: x.Name, Since: x.Since}
		}
		v = protocol.VideoWaitingList{Type: typ, Session: ev.Session, Waiting: w}
	case signaling.EvWaiting, signaling.EvDenied, signaling.EvRemoved, signaling.EvEnded, signaling.EvSpeaking:
		v = protocol.VideoSessionNote{Type: typ, Session: ev.Session, Reason: ev.Reason, User: ev.User}
	case signaling.EvParticipant:
		if ev.Participant == nil {
			return nil, false
		}
		v = protocol.VideoParticipantFrame{Type: typ, Session: ev.Session, VideoParticipant: videoParticipant(*ev.Participant), Left: ev.Left}
	case signaling.EvOffer, signaling.EvAnswer:
		v = protocol.VideoSDP{Type: typ, Session: ev.Session, SDP: ev.SDP}
	case signaling.EvCandidate:
		f := protocol.VideoCandidate{Type: typ, Session: ev.Session}
		if c := ev.Candidate; c != nil {
			f.Candidate, f.SDPMid, f.SDPMLineIndex = c.Candidate, c.SDPMid, c.SDPMLineIndex
		}
		v = f
	default:
		return nil, false
	}
	return protocol.Encode(v), true
}

func videoParticipant(p signaling.ParticipantInfo) protocol.VideoParticipant {
	return protocol.VideoParticipant{User: p.User, Name: p.Name, Stream: p.Stream, Host: p.Host,
		Audio: p.Audio, Video: p.Video, Screen: p.Screen}
}

func videoParticipants(ps []signaling.ParticipantInfo) []protocol.VideoParticipant {
	out := make([]protocol.VideoParticipant, len(ps))
	for i, p := range ps {
		out[i] = videoParticipant(p)
	}
	return out
}

func iceServers(ss []signaling.ICEServer) []protocol.ICEServer {
	out := make([]protocol.ICEServer, len(ss))
	for i, s := range ss {
		out[i] = protocol.ICEServer{URLs: s.URLs, Username: s.Username, Credential: s.Credential}
	}
	return out
}

// videoSessionFrame is the news of a session for its conversation's
// members: live, or ended with reason.
func videoSessionFrame(info signaling.SessionInfo, state, reason string) protocol.VideoSession {
	f := protocol.VideoSession{Type: protocol.TypeVideoSession, Session: info.ID, Conv: info.Conversation,
		Host: info.Host, HostName: info.HostName, State: state, WaitingRoom: info.WaitingRoom, Reason: reason}
	if !info.Started.IsZero() {
		started := info.Started.UTC().Truncate(time.Millisecond)
		f.Started = &started
	}
	return f
}
