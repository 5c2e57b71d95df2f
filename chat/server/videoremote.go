package server

import (
	"github.com/kindred-health/kindred/chat/protocol"
	"github.com/kindred-health/kindred/signaling"
)

// videoOps is what a connection asks of the node hosting a session: the
// local SFU, or remoteVideo, which relays to the hosting node. Join is
// apart (its Sender cannot cross the network), and so is leaving (on behalf
// of one place: conn.leavePlace).
type videoOps interface {
	Admit(session, by, user string) error
	AdmitAll(session, by string) error
	Deny(session, by, user string) error
	Control(session, by, user, action string) error
	End(session, by string) error
	Offer(session, user, sdp string, labels map[string]string) error
	Answer(session, user, sdp string) error
	Candidate(session, user string, c signaling.Candidate) error
	SetHost(session, user string, host bool) error
}

var _ videoOps = (*signaling.SFU)(nil)

// remoteVideo relays a connection's requests to node, which hosts the
// session.
type remoteVideo struct {
	r    *videoRelay
	node string
	conn string
}

func (v remoteVideo) do(m relayMsg) error {
	m.Conn = v.conn
	_, err := v.r.call(v.node, &m)
	return err
}

// leave relays a leave on behalf of the place gen: the hosting node acts
// on it only while that place is the user's (videoKey).
func (v remoteVideo) leave(session string, gen uint64, user string) error {
	return v.do(relayMsg{Op: protocol.TypeVideoLeave, Session: session, Gen: gen, User: user})
}

func (v remoteVideo) Admit(session, by, user string) error {
	return v.do(relayMsg{Op: protocol.TypeVideoAdmit, Session: session, User: by, Target: user})
}

func (v remoteVideo) AdmitAll(session, by string) error {
	return v.do(relayMsg{Op: protocol.TypeVideoAdmit, Session: session, User: by, All: true})
}

func (v remoteVideo) Deny(session, by, user string) error {
	return v.do(relayMsg{Op: protocol.TypeVideoDeny, Session: session, User: by, Target: user})
}

func (v remoteVideo) Control(session, by, user, action string) error {
	return v.do(relayMsg{Op: protocol.TypeVideoControl, Session: session, User: by, Target: user, Action: action})
}

func (v remoteVideo) End(session, by string) error {
	return v.do(relayMsg{Op: protocol.TypeVideoEnd, Session: session, User: by})
}

func (v remoteVideo) Offer(session, user, sdp string, labels map[string]string) error {
	return v.do(relayMsg{Op: protocol.TypeVideoOffer, Session: session, User: user, SDP: sdp, Labels: labels})
}

func (v remoteVideo) Answer(session, user, sdp string) error {
	return v.do(relayMsg{Op: protocol.TypeVideoAnswer, Session: session, User: user, SDP: sdp})
}

func (v remoteVideo) Candidate(session, user string, c signaling.Candidate) error {
	return v.do(relayMsg{Op: protocol.TypeVideoCandidate, Session: session, User: user, Cand: &c})
}

// opSetHost is the relay's name for SetHost (no frame of its own).
const opSetHost = "set_host"

func (v remoteVideo) SetHost(session, user string, host bool) error {
	return v.do(relayMsg{Op: opSetHost, Session: session, User: user, Host: host})
}

// join relays a join; the SFU's events for the person come back to this
// node addressed to the connection. When the answer does not come in time
// the join may still have been carried out (the answer lost or late): a
// leave for that place follows, unanswered, so that the hosting node does
// not keep a participant nobody here speaks for.
func (v remoteVideo) join(session string, gen uint64, p signaling.Person, host bool) error {
	err := v.do(relayMsg{Op: protocol.TypeVideoJoin, Session: session, Gen: gen, User: p.User, Name: p.Name, Host: host})
	if err == errVideoNodeGone {
		v.r.notify(v.node, &relayMsg{Op: protocol.TypeVideoLeave, Conn: v.conn, Session: session, Gen: gen, User: p.User})
	}
	return err
}

// serve carries out a request from another node on this node's SFU and
// answers it. The origin checked the permission table against the
// person's role at the time of the frame; the SFU checks the session's
// own rules (host, participant, waiting) as for anyone.
func (r *videoRelay) serve(m *relayMsg) {
	sfu := r.s.video
	var err error
	if sfu == nil {
		r.send(m.From, &relayMsg{Kind: relayRes, ID: m.ID, Err: errVideoUnavailable})
		return
	}
	switch m.Op {
	case protocol.TypeVideoJoin:
		p := signaling.Person{User: m.User, Name: m.Name, Conn: videoKey(m.From, m.Conn, m.Gen)}
		_, err = sfu.Join(m.Session, p, m.Host, r.remoteSender(m.From, m.Conn, m.Gen))
	case protocol.TypeVideoLeave:
		err = sfu.LeaveFrom(m.Session, m.User, videoKey(m.From, m.Conn, m.Gen))
	case protocol.TypeVideoAdmit:
		if m.All {
			err = sfu.AdmitAll(m.Session, m.User)
		} else {
			err = sfu.Admit(m.Session, m.User, m.Target)
		}
	case protocol.TypeVideoDeny:
		err = sfu.Deny(m.Session, m.User, m.Target)
	case protocol.TypeVideoControl:
		err = sfu.Control(m.Session, m.User, m.Target, m.Action)
	case protocol.TypeVideoEnd:
		err = sfu.End(m.Session, m.User)
	case protocol.TypeVideoOffer:
		err = sfu.Offer(m.Session, m.User, m.SDP, m.Labels)
	case protocol.TypeVideoAnswer:
		err = sfu.Answer(m.Session, m.User, m.SDP)
	case opSetHost:
		err = sfu.SetHost(m.Session, m.User, m.Host)
	case protocol.TypeVideoCandidate:
		if m.Cand != nil {
			err = sfu.Candidate(m.Session, m.User, *m.Cand)
		}
	default:
		return
	}
	res := &relayMsg{Kind: relayRes, ID: m.ID}
	if err != nil {
		res.Err = videoError(err)
	}
	r.send(m.From, res)
}

// remoteSender is the SFU's way to a connection on node: each event is
// encoded here and relayed.
func (r *videoRelay) remoteSender(node, conn string, gen uint64) signaling.Sender {
	return func(ev signaling.Event) {
		data, ok := videoEventFrame(ev)
		if !ok {
			return
		}
		r.send(node, &relayMsg{Kind: relayEv, Conn: conn, Gen: gen, Session: ev.Session, Ev: ev.Type, Frame: data})
	}
}
