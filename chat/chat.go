// Package chat holds Kindred's domain: conversations, members, the events that
// make up a conversation's history, the errors clients see, and the two seams
// every deployment mode plugs into: Store (durable history) and Broker
// (fan-out between nodes).
//
// Sub-packages implement those seams (chat/store/..., chat/broker/...) and
// the real-time machinery on top of them (chat/hub, chat/server). This package
// imports none of them, so the domain never depends on SQLite, Redis or the
// WebSocket library.
package chat

import (
	"time"
)

// ConversationKind tells a group room from a one-on-one conversation.
type ConversationKind string

// Conversation kinds.
const (
	KindRoom ConversationKind = "room"
	KindDM   ConversationKind = "dm"
)

// Conversation is a group room or a one-on-one chat. Every conversation is an
// ordered log of events numbered 1, 2, 3, … without gaps (LastSeq is the
// newest); that numbering is what makes loss-free resume possible.
type Conversation struct {
	ID        string           `json:"id"`
	Kind      ConversationKind `json:"kind"`
	Name      string           `json:"name,omitempty"`
	Topic     string           `json:"topic,omitempty"`
	CreatedBy string           `json:"created_by,omitempty"`
	CreatedAt time.Time        `json:"created_at"`
	LastSeq   int64            `json:"last_seq"`
	Members   int              `json:"members"`
	// Role is the asking user's role in the conversation; only
	// Store.UserConversations fills it (and the server, in what it sends
	// to that user).
	Role RoomRole `json:"role,omitempty"`
	// Visibility and History are a room's settings (empty for a DM).
	Visibility Visibility  `json:"visibility,omitempty"`
	History    HistoryMode `json:"history,omitempty"`
	// JoinedSeq is the room's LastSeq when the asking user joined it;
	// only Store.UserConversations fills it. It is not sent to clients.
	JoinedSeq int64 `json:"-"`
	// MutedUntil is when the asking user's mute in the room ends, in
	// unix nanoseconds: 0 when not muted, MutedForever until a moderator
	// lifts it. Store.UserConversations and Store.MutedUntil fill it (a
	// mute already over reads 0).
	MutedUntil int64 `json:"muted_until,omitempty"`
	// The room's other settings (docs/moderation.md#room-settings):
	// Guidelines a member accepts before posting, whose every change
	// raises GuidelinesVersion; GuidelinesAccepted is the version the
	// asking user accepted (Store.UserConversations fills it).
	Guidelines         string `json:"guidelines,omitempty"`
	GuidelinesVersion  int64  `json:"guidelines_version,omitempty"`
	GuidelinesAccepted int64  `json:"guidelines_accepted,omitempty"`
	Locked             bool   `json:"locked,omitempty"`
	ReadOnly           bool   `json:"read_only,omitempty"`
	SlowModeSeconds    int    `json:"slow_mode_seconds,omitempty"`
	MaxMembers         int    `json:"max_members,omitempty"`
	// PremodMessages is how many of a plain member's first messages wait
	// for a moderator (0: off); ApprovedMessages is how many of the
	// asking user's were approved (Store.UserConversations fills it;
	// docs/moderation.md#pre-moderation).
	PremodMessages   int `json:"premod_messages,omitempty"`
	ApprovedMessages int `json:"approved_messages,omitempty"`
	// RetainDays is how many days the room keeps messages (0: as the
	// deployment does; docs/security.md#retention-and-erasure).
	RetainDays int `json:"retain_days,omitempty"`
	// PurgedSeq is how far the retention purge went: nothing at or below
	// it can be read (docs/protocol.md#resume-what-a-client-must-implement).
	PurgedSeq int64 `json:"purged_seq,omitempty"`
	// Peer is, in a DM, the other member's ID as the asking user sees
	// it; Store.UserConversations fills it (and the server, in what it
	// sends to each side).
	Peer string `json:"peer,omitempty"`
}

// NeedsGuidelines reports whether a member whose accepted version is
// accepted must accept c's guidelines before posting.
func (c *Conversation) NeedsGuidelines(accepted int64) bool {
	return c.Guidelines != "" && accepted < c.GuidelinesVersion
}

// MutedForever is Conversation.MutedUntil (and a ban's end) for a mute or a
// ban that lasts until a moderator lifts it.
const MutedForever int64 = 1<<63 - 1

// HistoryFloor is the sequence number at or before which the asking user
// may not read c: JoinedSeq in a room with HistoryJoined, 0 otherwise, and
// never below PurgedSeq.
func (c *Conversation) HistoryFloor() int64 {
	if c.History == HistoryJoined {
		return max(c.JoinedSeq, c.PurgedSeq)
	}
	return c.PurgedSeq
}

// Visibility says who can find and join a room.
type Visibility string

// Room visibilities.
const (
	// VisibilityPublic rooms are listed to everyone and anyone may join.
	VisibilityPublic Visibility = "public"
	// VisibilityPrivate rooms are listed to their members only, and
	// people join them only when a moderator adds them.
	VisibilityPrivate Visibility = "private"
)

// HistoryMode says how much of a room's log its members may read.
type HistoryMode string

// History modes.
const (
	// HistoryJoined members read only what was said after they joined
	// (after the room's last_seq at their join): the default of new rooms.
	HistoryJoined HistoryMode = "joined"
	// HistoryShared members read the whole log, whenever they joined.
	HistoryShared HistoryMode = "shared"
)

// RoomSettings are the settings of a room its moderators may change. An
// empty field means "unchanged" in a change, and "the default" (public,
// joined) when a room is created.
type RoomSettings struct {
	Visibility Visibility  `json:"visibility,omitempty"`
	History    HistoryMode `json:"history,omitempty"`
	// The others are set with a change only (absent: unchanged).
	Guidelines      *string `json:"guidelines,omitempty"`
	Locked          *bool   `json:"locked,omitempty"`
	ReadOnly        *bool   `json:"read_only,omitempty"`
	SlowModeSeconds *int    `json:"slow_mode_seconds,omitempty"`
	MaxMembers      *int    `json:"max_members,omitempty"`
	PremodMessages  *int    `json:"premod_messages,omitempty"`
	// RetainDays is set by the room's owner (or an admin) only, see
	// Conversation.RetainDays.
	RetainDays *int `json:"retain_days,omitempty"`
}

// Limits of room settings.
const (
	MaxGuidelinesBytes = 4000
	MaxSlowModeSeconds = 3600
	MaxRoomMembers     = 100000
)

// Check refuses unknown values (CodeInvalidField); empty fields are fine.
func (s RoomSettings) Check() error {
	switch s.Visibility {
	case "", VisibilityPublic, VisibilityPrivate:
	default:
		return Errorf(CodeInvalidField, "visibility is public or private")
	}
	switch s.History {
	case "", HistoryJoined, HistoryShared:
	default:
		return Errorf(CodeInvalidField, "history is joined or shared")
	}
	switch {
	case s.Guidelines != nil && len(*s.Guidelines) > MaxGuidelinesBytes:
		return Errorf(CodeInvalidField, "guidelines have at most %d bytes", MaxGuidelinesBytes)
	case s.SlowModeSeconds != nil && (*s.SlowModeSeconds < 0 || *s.SlowModeSeconds > MaxSlowModeSeconds):
		return Errorf(CodeInvalidField, "slow_mode_seconds is 0 to %d", MaxSlowModeSeconds)
	case s.MaxMembers != nil && (*s.MaxMembers < 0 || *s.MaxMembers > MaxRoomMembers):
		return Errorf(CodeInvalidField, "max_members is 0 (no limit) to %d", MaxRoomMembers)
	case s.PremodMessages != nil && (*s.PremodMessages < 0 || *s.PremodMessages > MaxPremodMessages):
		return Errorf(CodeInvalidField, "premod_messages is 0 (off) to %d", MaxPremodMessages)
	case s.RetainDays != nil && (*s.RetainDays < 0 || *s.RetainDays > MaxRetainDays):
		return Errorf(CodeInvalidField, "retain_days is 0 (the deployment's retention) to %d", MaxRetainDays)
	}
	return nil
}

// WithDefaults fills empty fields with the defaults of a new room:
// public, joined.
func (s RoomSettings) WithDefaults() RoomSettings {
	if s.Visibility == "" {
		s.Visibility = VisibilityPublic
	}
	if s.History == "" {
		s.History = HistoryJoined
	}
	return s
}

// RoomRole is a user's role in one conversation. A room's creator is its
// owner; moderators are named by the owner (or by staff); everyone else who
// joined is a member. RoomNone means not a member at all. DMs have two
// members and no owner.
type RoomRole string

// The room roles, strongest first.
const (
	RoomOwner     RoomRole = "owner"
	RoomModerator RoomRole = "moderator"
	RoomMember    RoomRole = "member"
	RoomNone      RoomRole = ""
)

// Valid reports whether r is a membership role (not RoomNone).
func (r RoomRole) Valid() bool {
	return r == RoomOwner || r == RoomModerator || r == RoomMember
}

// User is what the server knows about a person: the identity from their
// token, refreshed each time they connect.
type User struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// Member is a user's membership of a conversation.
type Member struct {
	User
	// RoomRole is the member's role in the conversation.
	RoomRole RoomRole  `json:"room_role"`
	JoinedAt time.Time `json:"joined_at"`
	Online   bool      `json:"online"`
	// MutedUntil is the member's mute in the room as
	// Conversation.MutedUntil has it (0 when not muted or the mute is
	// over). The server shows it only to those who may moderate the room.
	MutedUntil int64 `json:"muted_until,omitempty"`
}

// Ban is a ban in force from a room (Store.Bans).
type Ban struct {
	User string `json:"user"`
	// Name is the banned user's display name, "" when the store has
	// never seen them.
	Name string `json:"name"`
	// Until is when the ban ends; nil for a ban for good.
	Until *time.Time `json:"until,omitempty"`
	// By is who banned them, At when.
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// EventKind is the kind of an entry in a conversation's log.
type EventKind string

// Event kinds. An edit, a delete or a hide is itself a new event with its
// own sequence number, pointing at the message it changes through Target,
// so a client that resumes from a sequence number sees changes made while
// it was away in the order they happened. A hide is a moderator's removal
// of someone's message (docs/moderation.md#hiding-messages): it erases the
// text as a delete does, and carries no sender.
const (
	EventMessage EventKind = "message"
	EventEdit    EventKind = "edit"
	EventDelete  EventKind = "delete"
	EventHide    EventKind = "hide"
)

// EventKindOf returns the EventKind spelled by b, as one of the constants
// when it is one, so that stores reading many rows keep no string per row
// for the kind (the comparison does not allocate).
func EventKindOf(b []byte) EventKind {
	switch string(b) {
	case string(EventMessage):
		return EventMessage
	case string(EventEdit):
		return EventEdit
	case string(EventDelete):
		return EventDelete
	case string(EventHide):
		return EventHide
	}
	return EventKind(b)
}

// Event is one entry of a conversation's log.
//
// For EventMessage, Seq is the message's own number and ClientID the id the
// sender chose (sends are idempotent on it). History returns messages in
// their current state: Body is the latest edit, EditedAt is set once edited,
// Deleted marks a tombstone whose Body is empty; Hidden, with Deleted,
// marks one a moderator hid.
//
// For EventEdit and EventDelete, Target is the Seq of the message changed and
// Body is the new text (empty for a delete). For EventHide, Target is the
// message hidden; Sender and Body are empty (who hid it is in the audit
// log only).
type Event struct {
	Conv     string     `json:"conv"`
	Seq      int64      `json:"seq"`
	Kind     EventKind  `json:"kind"`
	Sender   string     `json:"sender"`
	Name     string     `json:"name,omitempty"`
	ClientID string     `json:"client_id,omitempty"`
	Body     string     `json:"body,omitempty"`
	Target   int64      `json:"target,omitempty"`
	Time     time.Time  `json:"ts"`
	EditedAt *time.Time `json:"edited_at,omitempty"`
	Deleted  bool       `json:"deleted,omitempty"`
	Hidden   bool       `json:"hidden,omitempty"`
}
