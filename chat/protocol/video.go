package protocol

import "time"

// Video client frame types (docs/protocol.md, "Video sessions").
const (
	TypeVideoStart     = "video_start"
	TypeVideoJoin      = "video_join"
	TypeVideoLeave     = "video_leave"
	TypeVideoOffer     = "video_offer"
	TypeVideoAnswer    = "video_answer"
	TypeVideoCandidate = "video_candidate"
	TypeVideoAdmit     = "video_admit"
	TypeVideoDeny      = "video_deny"
	TypeVideoControl   = "video_control"
	TypeVideoEnd       = "video_end"
)

// Video server frame types. video_offer, video_answer and video_candidate
// are the same strings as the client's.
const (
	TypeVideoOK          = "video_ok"
	TypeVideoSession     = "video_session"
	TypeVideoJoined      = "video_joined"
	TypeVideoWaiting     = "video_waiting"
	TypeVideoWaitingList = "video_waiting_list"
	TypeVideoDenied      = "video_denied"
	TypeVideoRemoved     = "video_removed"
	TypeVideoParticipant = "video_participant"
	TypeVideoSpeaking    = "video_speaking"
	TypeVideoEnded       = "video_ended"
)

// Video session states in VideoSession.
const (
	VideoLive  = "live"
	VideoEnded = "ended"
)

// VideoOK answers a video frame that was carried out: Session is the
// session it concerns (for video_start, the new one).
type VideoOK struct {
	Type    string `json:"type"`
	Ref     string `json:"ref,omitempty"`
	Session string `json:"session"`
}

// VideoSession tells every member of a conversation that a video session
// there is live, or has ended (Reason says why).
type VideoSession struct {
	Type        string     `json:"type"`
	Session     string     `json:"session"`
	Conv        string     `json:"conv"`
	Host        string     `json:"host"`
	HostName    string     `json:"host_name,omitempty"`
	State       string     `json:"state"`
	WaitingRoom bool       `json:"waiting_room,omitempty"`
	Started     *time.Time `json:"started,omitempty"`
	Reason      string     `json:"reason,omitempty"`
}

// VideoParticipant is what everyone in a session sees of a participant.
// Stream is the msid stream id of their forwarded tracks; Audio, Video
// and Screen are "on", "off" or "off_by_host".
type VideoParticipant struct {
	User   string `json:"user"`
	Name   string `json:"name"`
	Stream string `json:"stream,omitempty"`
	Host   bool   `json:"host,omitempty"`
	Audio  string `json:"audio"`
	Video  string `json:"video"`
	Screen string `json:"screen"`
}

// ICEServer is a STUN or TURN server for the client's RTCPeerConnection.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// VideoWaiter is someone in a session's waiting room.
type VideoWaiter struct {
	User  string    `json:"user"`
	Name  string    `json:"name"`
	Since time.Time `json:"since"`
}

// VideoJoined: the recipient is in the session and sends its offer now.
type VideoJoined struct {
	Type         string             `json:"type"`
	Session      string             `json:"session"`
	Participants []VideoParticipant `json:"participants"`
	ICEServers   []ICEServer        `json:"ice_servers"`
}

// VideoSessionNote is a frame about one session and nothing else
// (video_waiting), or with a reason (video_denied, video_removed,
// video_ended) or a user (video_speaking).
type VideoSessionNote struct {
	Type    string `json:"type"`
	Session string `json:"session"`
	Reason  string `json:"reason,omitempty"`
	User    string `json:"user,omitempty"`
}

// VideoWaitingList is the whole waiting room, sent to hosts on every
// change.
type VideoWaitingList struct {
	Type    string        `json:"type"`
	Session string        `json:"session"`
	Waiting []VideoWaiter `json:"waiting"`
}

// VideoParticipantFrame says a participant joined, changed (a microphone,
// camera or screen state) or, with Left, is gone.
type VideoParticipantFrame struct {
	Type    string `json:"type"`
	Session string `json:"session"`
	VideoParticipant
	Left bool `json:"left,omitempty"`
}

// VideoSDP is the server's offer (renegotiation) or its answer to the
// client's offer.
type VideoSDP struct {
	Type    string `json:"type"`
	Session string `json:"session"`
	SDP     string `json:"sdp"`
}

// VideoCandidate is one of the server's ICE candidates; an empty
// Candidate ends the server's gathering.
type VideoCandidate struct {
	Type          string  `json:"type"`
	Session       string  `json:"session"`
	Candidate     string  `json:"candidate"`
	SDPMid        *string `json:"sdp_mid,omitempty"`
	SDPMLineIndex *uint16 `json:"sdp_mline_index,omitempty"`
}
