// Package protocol is Kindred's WebSocket wire format: the frames a client
// sends, the frames the server sends, and how both are encoded. It is the Go
// side of docs/protocol.md; a change here is a change there.
//
// Client to server: one JSON object per WebSocket text message.
// Server to client: one or more JSON objects per WebSocket text message,
// separated by "\n", so that a busy connection can flush many frames in one
// write. JSON never contains a raw newline, so splitting on "\n" is safe.
package protocol

import (
	"encoding/json"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/escalation"
)

// Client frame types.
const (
	TypeHello   = "hello"
	TypeSend    = "send"
	TypeEdit    = "edit"
	TypeDelete  = "delete"
	TypeTyping  = "typing"
	TypeJoin    = "join"
	TypeLeave   = "leave"
	TypeOpenDM  = "open_dm"
	TypePing    = "ping"
	TypeMembers = "members"
	TypeFlag    = "flag"
	TypeConcern = "concern"
	TypeReport  = "report"

	TypeDismissSupport = "dismiss_support"
	// TypeReauth carries a fresh token for the same user and role, so a
	// session outlives its short-lived access token (auth/signin).
	TypeReauth = "reauth"
)

// Server frame types.
const (
	TypeWelcome      = "welcome"
	TypeAck          = "ack"
	TypeMessage      = "message"
	TypeEditEvent    = "edit"
	TypeDeleteEvent  = "delete"
	TypeHideEvent    = "hide"
	TypeTypingEvent  = "typing"
	TypePresence     = "presence"
	TypeMember       = "member"
	TypeConversation = "conversation"
	TypeLeft         = "left"
	TypeSynced       = "synced"
	TypeError        = "error"
	TypePong         = "pong"
	TypeMemberList   = "member_list"
	TypeSupport      = "support"
	TypeSupportGone  = "support_dismissed"
	TypeFlagged      = "flagged"
	TypeEscalation   = "escalation"
	TypeRoomAlert    = "room_alert"
	TypePins         = "pins"
	TypePending      = "pending"
	TypePendingDone  = "pending_done"
	TypeRejected     = "rejected"
	TypeReported     = "reported"
	TypeReportNews   = "report_news"
	TypeReauthed     = "reauthed"
)

// ClientFrame is every field any client frame may carry; Type says which
// ones matter. One flat struct keeps decoding to a single pass.
type ClientFrame struct {
	Type string `json:"type"`
	// Ref is an optional client-chosen id echoed in the ack or error that
	// answers this frame.
	Ref string `json:"ref,omitempty"`

	// hello, reauth
	Token  string           `json:"token,omitempty"`
	Resume map[string]int64 `json:"resume,omitempty"`

	// send, edit, delete, typing, join, leave, members
	Conv string `json:"conv,omitempty"`
	// ID is the client's own message id; sends are idempotent on it.
	ID   string `json:"id,omitempty"`
	Body string `json:"body,omitempty"`
	// Seq is the message an edit or delete applies to.
	Seq int64 `json:"seq,omitempty"`

	// open_dm, concern, report
	User string `json:"user,omitempty"`

	// dismiss_support: the support note to dismiss.
	Note string `json:"note,omitempty"`

	// flag, concern, report: why, in the reporter's words (for
	// supervisors; a report's for the room's moderators).
	Reason string `json:"reason,omitempty"`
	// report: what kind of problem (chat.ReportCategory).
	Category string `json:"category,omitempty"`

	// Video frames (video.go). Conv names the conversation of a
	// video_start; the others name a Session.
	Session     string `json:"session,omitempty"`
	WaitingRoom bool   `json:"waiting_room,omitempty"`
	// video_offer, video_answer: the session description; Labels maps
	// an offer's media ids to "audio", "camera" or "screen".
	SDP    string            `json:"sdp,omitempty"`
	Labels map[string]string `json:"labels,omitempty"`
	// video_candidate, as the browser's RTCIceCandidateInit; an empty
	// Candidate ends gathering.
	Candidate     string  `json:"candidate,omitempty"`
	SDPMid        *string `json:"sdp_mid,omitempty"`
	SDPMLineIndex *uint16 `json:"sdp_mline_index,omitempty"`
	// video_admit: everyone waiting instead of User.
	All bool `json:"all,omitempty"`
	// video_control: mute, unmute, stop_camera, start_camera or remove.
	Action string `json:"action,omitempty"`
}

// Reset clears f for reuse by the next decode.
func (f *ClientFrame) Reset() { *f = ClientFrame{} }

// DecodeClientFrame decodes one client frame into f, which it clears
// first. Any JSON object is a frame (unknown fields are ignored); what its
// type needs is checked by the server. An error means the frame is not a
// JSON object with fields of the right types (bad_json).
func DecodeClientFrame(data []byte, f *ClientFrame) error {
	f.Reset()
	return json.Unmarshal(data, f)
}

// Limits tells a client the server's limits, so it can check before sending.
type Limits struct {
	MaxFrameBytes   int     `json:"max_frame_bytes"`
	MaxMessageBytes int     `json:"max_message_bytes"`
	SendRate        float64 `json:"send_rate"`
	SendBurst       int     `json:"send_burst"`
	MaxRooms        int     `json:"max_rooms"`
	// MaxVideoFrameBytes is the largest video_offer or video_answer
	// frame; absent when the node has no video.
	MaxVideoFrameBytes int `json:"max_video_frame_bytes,omitempty"`
}

// Welcome answers a successful hello.
type Welcome struct {
	Type          string              `json:"type"`
	Session       string              `json:"session"`
	User          chat.User           `json:"user"`
	Conversations []chat.Conversation `json:"conversations"`
	Limits        Limits              `json:"limits"`
	// IdleTimeoutMS is how long this user's browser may sit unused before
	// it signs out, in milliseconds: longer for supervisors and admins,
	// who watch for pages (Config.SupervisorIdleTimeout). Absent: the
	// server does not say.
	IdleTimeoutMS int64 `json:"idle_timeout_ms,omitempty"`
	// CrisisResources are where to get help, for a "Get help now"
	// control that needs no crisis to show them.
	CrisisResources []Resource `json:"crisis_resources,omitempty"`
}

// Ack confirms that a send, edit or delete is durably stored.
type Ack struct {
	Type      string    `json:"type"`
	Ref       string    `json:"ref,omitempty"`
	ID        string    `json:"id,omitempty"`
	Conv      string    `json:"conv"`
	Seq       int64     `json:"seq"`
	Time      time.Time `json:"ts"`
	Duplicate bool      `json:"duplicate,omitempty"`
	// Held: the room holds messages the crisis detector scores imminent
	// for a supervisor; this one is stored with its escalation, not yet
	// delivered to the room (Seq is 0). It is delivered, with a sequence
	// number, if a supervisor releases it.
	Held bool `json:"held,omitempty"`
}

// PendingAck answers a send that the room's pre-moderation holds for its
// moderators: stored, not in the room's log (no sequence number). The
// message reaches the room, with its client ID, when a moderator approves
// it; a rejection is a Rejected frame.
type PendingAck struct {
	Type      string    `json:"type"` // "ack"
	Ref       string    `json:"ref,omitempty"`
	ID        string    `json:"id"`
	Conv      string    `json:"conv"`
	Time      time.Time `json:"ts"`
	Pending   bool      `json:"pending"`
	PendingID string    `json:"pending_id"`
}

// PendingNotice tells a room's owner and moderators of a message waiting
// for their decision.
type PendingNotice struct {
	Type    string              `json:"type"`
	Conv    string              `json:"conv"`
	Pending chat.PendingMessage `json:"pending"`
}

// PendingDone tells a room's owner and moderators that a waiting message
// was decided: Outcome is "approved" or "rejected".
type PendingDone struct {
	Type    string `json:"type"`
	Conv    string `json:"conv"`
	ID      string `json:"id"`
	Outcome string `json:"outcome"`
}

// Rejected tells the sender's sessions that a moderator rejected their
// held message (ID is its client ID); the reason is not given.
type Rejected struct {
	Type      string `json:"type"`
	Conv      string `json:"conv"`
	ID        string `json:"id"`
	PendingID string `json:"pending_id"`
}

// Event is a conversation log entry as sent to clients: type "message",
// "edit", "delete" or "hide". A hide has no From (who hid a message is in
// the audit log only); a message a moderator hid is Deleted and Hidden.
type Event struct {
	Type     string     `json:"type"`
	Conv     string     `json:"conv"`
	Seq      int64      `json:"seq"`
	ID       string     `json:"id,omitempty"`
	From     string     `json:"from,omitempty"`
	Name     string     `json:"name,omitempty"`
	Body     string     `json:"body,omitempty"`
	Target   int64      `json:"target,omitempty"`
	Time     time.Time  `json:"ts"`
	EditedAt *time.Time `json:"edited_at,omitempty"`
	Deleted  bool       `json:"deleted,omitempty"`
	Hidden   bool       `json:"hidden,omitempty"`
}

// Typing says a member is typing in a conversation.
type Typing struct {
	Type string `json:"type"`
	Conv string `json:"conv"`
	From string `json:"from"`
	Name string `json:"name,omitempty"`
}

// Presence says a member of a conversation came online or went offline.
type Presence struct {
	Type   string `json:"type"`
	Conv   string `json:"conv"`
	User   string `json:"user"`
	Online bool   `json:"online"`
}

// MemberEvent says someone joined (Joined true) or left a room.
type MemberEvent struct {
	Type   string    `json:"type"`
	Conv   string    `json:"conv"`
	User   chat.User `json:"user"`
	Joined bool      `json:"joined"`
}

// ConversationEvent tells all of a user's connections that they now belong
// to a conversation (they joined a room elsewhere, or someone opened a DM
// with them); the server subscribes those connections to it.
type ConversationEvent struct {
	Type         string            `json:"type"`
	Ref          string            `json:"ref,omitempty"`
	Conversation chat.Conversation `json:"conversation"`
}

// LeftEvent tells all of a user's connections that they left a room.
type LeftEvent struct {
	Type string `json:"type"`
	Ref  string `json:"ref,omitempty"`
	Conv string `json:"conv"`
}

// Synced marks the end of a catch-up: every event of Conv up to Seq has been
// sent, and live events follow.
type Synced struct {
	Type string `json:"type"`
	Conv string `json:"conv"`
	Seq  int64  `json:"seq"`
}

// MemberList answers a members request.
type MemberList struct {
	Type    string        `json:"type"`
	Ref     string        `json:"ref,omitempty"`
	Conv    string        `json:"conv"`
	Members []chat.Member `json:"members"`
}

// ErrorFrame reports a refused frame. The connection stays open.
type ErrorFrame struct {
	Type string `json:"type"`
	Ref  string `json:"ref,omitempty"`
	// ID and Conv echo the refused send, so a client can mark that message.
	ID   string `json:"id,omitempty"`
	Conv string `json:"conv,omitempty"`
	chat.Error
}

// Resource is a place to get help, shown to someone who may be in crisis.
// Call and Text are phone numbers (digits, optionally a leading +) for
// tap-to-call and tap-to-text links; Contact says the same for a person.
type Resource struct {
	Name    string `json:"name"`
	Contact string `json:"contact"`
	URL     string `json:"url,omitempty"`
	Call    string `json:"call,omitempty"`
	Text    string `json:"text,omitempty"`
}

// Support is the private support note of a message that signals a
// crisis, sent to every session of its writer (and nobody else) until
// they dismiss it; nobody else sees it.
type Support struct {
	Type      string     `json:"type"`
	Note      string     `json:"note,omitempty"`
	Conv      string     `json:"conv"`
	Seq       int64      `json:"seq"`
	State     string     `json:"state,omitempty"`
	Text      string     `json:"text"`
	Resources []Resource `json:"resources"`
	CreatedAt time.Time  `json:"created_at,omitzero"`
	UpdatedAt time.Time  `json:"updated_at,omitzero"`
}

// SupportDismissed tells every session of a person that one of their
// support notes was dismissed (Ref: on the session that asked).
type SupportDismissed struct {
	Type string `json:"type"`
	Ref  string `json:"ref,omitempty"`
	Note string `json:"note"`
}

// Flagged answers a flag or concern: the escalation it opened or joined.
type Flagged struct {
	Type       string `json:"type"`
	Ref        string `json:"ref,omitempty"`
	Escalation string `json:"escalation"`
}

// RoomAlert tells a room's owner and moderators, privately, that a message
// of their room signals distress (the detector scored it concern or
// higher) or was flagged: a pointer (conv, seq) and how serious, never the
// text or the sender's support note.
//
// A report in the danger category about a person (not a message) is
// source "concern", with the person in User and no Seq.
type RoomAlert struct {
	Type     string `json:"type"`
	Conv     string `json:"conv"`
	Seq      int64  `json:"seq,omitempty"`
	User     string `json:"user,omitempty"`
	Severity string `json:"severity"`
	Source   string `json:"source"` // "detector", "flag" or "concern"
}

// Reported answers a report frame: the report as stored.
type Reported struct {
	Type   string      `json:"type"`
	Ref    string      `json:"ref,omitempty"`
	Report chat.Report `json:"report"`
}

// ReportNews tells a room's owner and moderators that a report there was
// opened or resolved. The person reported never gets it.
type ReportNews struct {
	Type   string      `json:"type"`
	Report chat.Report `json:"report"`
}

// EscalationFrame tells supervisors about an escalation. Page is true for
// the people being paged (a new escalation, a wider tier, a hand-off);
// every connected supervisor gets the same news with Page false, to keep
// their queue current.
type EscalationFrame struct {
	Type       string                 `json:"type"`
	Page       bool                   `json:"page"`
	Step       escalation.Step        `json:"step"`
	Escalation *escalation.Escalation `json:"escalation"`
}

// Pins is a room's pinned messages, all of them, newest first: sent to
// the room after every change (a pin, an unpin, a pinned message deleted
// or hidden).
type Pins struct {
	Type string     `json:"type"`
	Conv string     `json:"conv"`
	Pins []chat.Pin `json:"pins"`
}

// Pong answers a ping.
type Pong struct {
	Type string `json:"type"`
	Ref  string `json:"ref,omitempty"`
}

// Reauthed answers a reauth: the session now lasts until ExpiresAt.
type Reauthed struct {
	Type      string    `json:"type"`
	Ref       string    `json:"ref,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

// EventFrame converts a stored event to its wire form.
func EventFrame(e *chat.Event) Event {
	return Event{
		Type: string(e.Kind), Conv: e.Conv, Seq: e.Seq, ID: e.ClientID,
		From: e.Sender, Name: e.Name, Body: e.Body, Target: e.Target,
		Time: e.Time, EditedAt: e.EditedAt, Deleted: e.Deleted, Hidden: e.Hidden,
	}
}

// EncodeEvent encodes a stored event once, for every recipient.
func EncodeEvent(e *chat.Event) []byte {
	return Encode(EventFrame(e))
}

// Encode marshals a server frame. The frame types above cannot fail to
// marshal, so an error here is a programming mistake and panics.
func Encode(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("protocol: encode " + err.Error())
	}
	return b
}

// Close codes sent when the server ends a connection. 1000-1015 are the
// standard RFC 6455 codes; 4000-4999 are Kindred's own.
const (
	// CloseNormal: the client said goodbye, or signed out.
	CloseNormal = 1000
	// CloseGoingAway: the server is shutting down; reconnect (to another
	// node, or after a moment) and resume.
	CloseGoingAway = 1001
	// CloseMessageTooBig: a frame exceeded the hard frame limit (abusive).
	CloseMessageTooBig = 1009
	// CloseInternal: an unexpected server failure; reconnect and resume.
	CloseInternal = 1011
	// CloseUnauthorized: the first frame was not a hello, or its token was
	// missing, invalid or expired; also sent when the token expires
	// mid-session. Get a new token before reconnecting.
	CloseUnauthorized = 4001
	// CloseSlowConsumer: the client did not read fast enough and its
	// outbound queue overflowed. Reconnect and resume from the last
	// sequence seen; nothing is lost.
	CloseSlowConsumer = 4008
	// ClosePolicy: too many refused frames in a short time (abusive client).
	ClosePolicy = 4009
	// CloseHelloTimeout: no frame arrived within the hello timeout.
	CloseHelloTimeout = 4002
	// CloseTooManySessions: the user has as many sessions open (on all
	// nodes sharing Redis) as the server allows; close another tab or
	// device first.
	CloseTooManySessions = 4029
	// CloseRevoked: an admin revoked every session of the user; the
	// token the session started with is refused from now on. Sign in
	// again for a new token.
	CloseRevoked = 4011
	// CloseSessionIdle: the client sent no frame (not even a ping) for
	// the server's session idle timeout. Reconnect and resume.
	CloseSessionIdle = 4012
	// CloseSessionMaxAge: the session reached the server's maximum
	// session age. Reconnect and resume; the token is checked again.
	CloseSessionMaxAge = 4013
)
