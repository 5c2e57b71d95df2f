package chat

import (
	"context"
	"time"
)

// HistoryFromStart, as History's after, asks for the oldest messages: the
// page that starts at the beginning of the conversation.
const HistoryFromStart int64 = -1

// Store keeps users, conversations, memberships and every conversation's
// event log durably. Implementations: chat/store/sqlite (embedded default)
// and, for scale-out, PostgreSQL. All of them pass chat/storetest.
//
// Contract shared by all implementations:
//   - Sequence numbers are per conversation, start at 1 and have no gaps,
//     even when several writers (goroutines or nodes) append to the same
//     conversation at once. A sequence number, once committed, never
//     changes meaning.
//   - Append is atomic for the whole batch: when it returns nil every item
//     either committed or carries its own refusal in Err; when it returns an
//     error nothing of the batch is stored.
//   - Errors a client may see are *Error values (ErrNotFound, ErrNotMember,
//     ErrNotAuthor, ErrDeleted, CodeRoomLimit). Anything else is an internal
//     failure and callers treat it as retryable.
type Store interface {
	// Accounts: the people directory, browser sessions and sign-in links.
	Accounts

	// UpsertUser records a user or refreshes their name and role.
	UpsertUser(ctx context.Context, u User) error
	// User returns a known user, or ErrNotFound.
	User(ctx context.Context, id string) (User, error)
	// UsersByRole lists the known users whose role is one of roles,
	// ordered by ID (for paging supervisors, who are few).
	UsersByRole(ctx context.Context, roles ...string) ([]User, error)

	// CreateRoom creates a room named c.Name (with c.Topic) made by
	// c.CreatedBy, who becomes its first member, with RoomOwner. The store assigns ID when
	// c.ID is empty and sets CreatedAt. c.Visibility and c.History are
	// its settings; empty ones get RoomSettings.WithDefaults (public,
	// joined), unknown ones are refused with CodeInvalidField.
	CreateRoom(ctx context.Context, c Conversation) (Conversation, error)
	// OpenDM returns the one-on-one conversation between users a and b,
	// creating it with both as members if it does not exist yet. The same
	// pair always gets the same conversation, in either order.
	OpenDM(ctx context.Context, a, b string) (Conversation, error)
	// Conversation returns one conversation with LastSeq and Members filled,
	// or ErrNotFound.
	Conversation(ctx context.Context, id string) (Conversation, error)
	// Rooms lists the rooms (not DMs) viewer may see, oldest first, with
	// member counts: every public room, and the private rooms viewer
	// belongs to.
	Rooms(ctx context.Context, viewer string) ([]Conversation, error)
	// SetRoomSettings changes room conv's given settings (non-empty
	// strings, non-nil pointers, PremodMessages included); a change of
	// the guidelines' text raises GuidelinesVersion
	// (ErrNotFound for unknown conversations and DMs, CodeInvalidField
	// for unknown values).
	SetRoomSettings(ctx context.Context, conv string, s RoomSettings) error
	// AcceptGuidelines records that member user of room conv accepted
	// its guidelines at their current version, which it returns; with
	// version > 0, only if that is still the current one (CodeConflict
	// otherwise). A non-member, a DM or an unknown room is ErrNotFound.
	AcceptGuidelines(ctx context.Context, conv, userID string, version int64) (int64, error)
	// UserConversations lists the rooms and DMs user belongs to, with
	// LastSeq filled, Role set to the user's room role, JoinedSeq to
	// where they joined (see MemberSince), and MutedUntil,
	// GuidelinesAccepted and ApprovedMessages to the user's. For a DM,
	// Name is the other user's display name and Peer their ID.
	UserConversations(ctx context.Context, userID string) ([]Conversation, error)

	// Join makes user a member of room conv (RoomMember). Joining twice is
	// not an error and keeps the role the user has.
	// When the user already belongs to maxRooms rooms (DMs do not count) it
	// returns an *Error with CodeRoomLimit; maxRooms <= 0 means no limit.
	// Joining a DM or an unknown room returns ErrNotFound. The store
	// records the room's LastSeq at the join (see MemberSince); joining
	// twice keeps the first point, leaving and joining again starts anew.
	// Join does not look at the room's visibility: callers decide who may
	// join a private room. A user banned from the room (see Ban) who is
	// not a member is refused with CodeBanned until the ban ends.
	Join(ctx context.Context, conv, userID string, maxRooms int) error
	// SetMemberRole makes member user of room conv a RoomModerator or a
	// RoomMember (CodeInvalidField for any other role). A non-member, a
	// DM or an unknown room is ErrNotFound; the owner's role never
	// changes (CodeForbidden).
	SetMemberRole(ctx context.Context, conv, userID string, role RoomRole) error
	// SetMute sets until when (unix nanoseconds; 0 lifts it,
	// MutedForever until lifted) member user of room conv is muted (see
	// Leave for a mute that outlives the membership).
	// A non-member, a DM or an unknown room is ErrNotFound.
	SetMute(ctx context.Context, conv, userID string, until int64) error
	// MutedUntil returns user's mute in conv as Conversation.MutedUntil
	// has it: 0 when not muted, not a member, or the mute is over.
	MutedUntil(ctx context.Context, conv, userID string) (int64, error)
	// Ban removes user from room conv, if a member, and keeps them out
	// until until (unix nanoseconds; MutedForever for good): Join
	// refuses them with CodeBanned meanwhile. Banning again replaces the
	// end. A DM or an unknown room is ErrNotFound.
	Ban(ctx context.Context, conv, userID, by string, until int64) error
	// Unban lifts user's ban from room conv (ErrNotFound when there is
	// none in force).
	Unban(ctx context.Context, conv, userID string) error
	// Bans lists the bans from room conv still in force (a ban that is
	// over is not listed), newest first, with the banned user's name
	// (Ban.Until nil for a ban for good). An unknown conversation or one
	// without bans gives an empty list.
	Bans(ctx context.Context, conv string) ([]Ban, error)
	// CreateInvite stores an invite to room inv.Conv by inv.CreatedBy,
	// good for inv.MaxUses (at least 1) joins until inv.ExpiresAt (in the
	// future), and returns it with ID, Code (128 random bits) and
	// CreatedAt set. A DM or an unknown room is ErrNotFound; bad limits
	// are CodeInvalidField.
	CreateInvite(ctx context.Context, inv Invite) (Invite, error)
	// Invites lists room conv's invites, newest first, at most 100,
	// revoked, expired and used-up ones included.
	Invites(ctx context.Context, conv string) ([]Invite, error)
	// RevokeInvite revokes invite id of room conv (again: no error);
	// ErrNotFound when conv has no such invite.
	RevokeInvite(ctx context.Context, conv, id string) error
	// UseInvite counts one use of the invite with code for user and
	// returns it (Uses counted). A user who is already a member of its
	// room uses nothing (used false). Unknown codes are ErrNotFound;
	// expired, revoked and used-up invites CodeInviteInvalid. The check
	// and the count are one step: concurrent uses never pass MaxUses.
	UseInvite(ctx context.Context, code, userID string) (inv Invite, used bool, err error)
	// ReleaseInvite gives back one use of the invite with code, counted
	// by UseInvite for a join that was then refused.
	ReleaseInvite(ctx context.Context, code string) error
	// Leave removes user from room conv. Leaving a room one is not in is
	// not an error; leaving a DM returns an *Error with CodeForbidden. A
	// mute still in force outlives it: the user's next Join of conv
	// takes it back (as it does after a Ban).
	Leave(ctx context.Context, conv, userID string) error
	// IsMember reports whether user belongs to conv.
	IsMember(ctx context.Context, conv, userID string) (bool, error)
	// MemberRole returns user's role in conv: RoomOwner for a room's
	// creator, RoomMember for those who joined and for both sides of a
	// DM, RoomNone (and no error) when the user is not a member. An
	// unknown conversation is not an error either: RoomNone.
	MemberRole(ctx context.Context, conv, userID string) (RoomRole, error)
	// MemberSince returns the sequence number at or before which user
	// may not read conv: in a room whose history is HistoryJoined, the
	// room's LastSeq when user joined; 0 for shared history, DMs,
	// non-members and unknown conversations; never below the
	// conversation's PurgedSeq. Readers clamp History and
	// EventsAfter to it, which do not look at membership themselves.
	MemberSince(ctx context.Context, conv, userID string) (int64, error)
	// Members lists conv's members, oldest membership first, each with
	// MutedUntil as MutedUntil returns it (0 when not muted or the mute
	// is over). Online is left false: presence is not the store's
	// business.
	Members(ctx context.Context, conv string) ([]Member, error)

	// Append stores a batch of events in one transaction, so that many
	// messages share one commit. For each item it fills Event.Seq and
	// Event.Time (when zero) or sets Err; see AppendItem.
	Append(ctx context.Context, items []AppendItem) error
	// History returns messages of conv (EventMessage only, in their current
	// state: latest body, EditedAt, Deleted tombstones with empty Body,
	// Hidden too when a moderator hid them) in
	// ascending Seq order, at most limit of them. With before > 0 it returns
	// the newest messages with Seq < before; with after > 0 the oldest with
	// Seq > after; with after == HistoryFromStart (and no before) the
	// oldest messages of all; with neither, the newest messages.
	History(ctx context.Context, conv string, before, after int64, limit int) ([]Event, error)
	// EventsAfter returns the log entries of conv with Seq > after in
	// ascending order, at most limit. Message entries are in their current
	// state (latest body, or a tombstone: deleted and hidden text is
	// erased everywhere), followed later in the log by the edit, delete
	// and hide entries that changed them; replaying them in order ends in the state
	// History shows. It is what a resuming client replays.
	EventsAfter(ctx context.Context, conv string, after int64, limit int) ([]Event, error)

	// HoldMessage stores p, a message member p.Sender sent to room
	// p.Conv (ClientID, Name and Body set) that pre-moderation holds, as
	// PendingWaiting, and returns it with ID ("p_…"), Time and State set
	// (created true). It is idempotent on (Conv, Sender, ClientID):
	// holding the same send again returns the message held before, in
	// whatever state (created false; once decided, without its Body).
	// A send already in the room's log (stored before its sender was
	// held) is not held: the answer has State PendingApproved and no ID.
	// A sender who is not a member of the room: ErrNotMember.
	HoldMessage(ctx context.Context, p PendingMessage) (held PendingMessage, created bool, err error)
	// PendingMessages lists room conv's held messages that wait for a
	// decision (PendingWaiting, PendingApproving), oldest first, at
	// most 500.
	PendingMessages(ctx context.Context, conv string) ([]PendingMessage, error)
	// FindPending returns the message held for sender's send with
	// clientID in room conv, in whatever state; ErrNotFound when none.
	FindPending(ctx context.Context, conv, sender, clientID string) (PendingMessage, error)
	// DecidePending moves held message id of room conv to state to, in
	// one transaction, and returns it as it was before the move (Body
	// included), with, for PendingApproved, the sender's approved count
	// in conv after it. The moves:
	//   - PendingApproving from PendingWaiting, or from PendingApproving
	//     (a retry of an approval that did not finish);
	//   - PendingWaiting from PendingApproving (an approval given up);
	//   - PendingApproved from PendingApproving: the Body is erased and
	//     the sender's approved count in conv goes up by one (while they
	//     are a member; a new membership starts at 0);
	//   - PendingRejected from PendingWaiting: the Body is erased.
	// Any other move is CodeConflict; an id unknown in conv ErrNotFound.
	DecidePending(ctx context.Context, conv, id string, to PendingState) (PendingMessage, int, error)

	// Pin pins message seq of room conv for by, unless the room has
	// max pins already (CodeConflict). Pinning a message already pinned
	// changes nothing (pinned false). A deleted or hidden message is
	// CodeConflict; a seq that is not a message of conv, a DM or an
	// unknown room ErrNotFound. Deleting or hiding a message unpins it
	// (see AppendItem.Unpinned).
	Pin(ctx context.Context, conv string, seq int64, by string, max int) (pinned bool, err error)
	// Unpin removes the pin of message seq of conv; unpinned is false
	// when it was not pinned.
	Unpin(ctx context.Context, conv string, seq int64) (unpinned bool, err error)
	// Pins lists room conv's pins, newest first.
	Pins(ctx context.Context, conv string) ([]Pin, error)

	// RoomPolicy returns room conv's policy; a room never given one has
	// the zero policy. Unknown conversations and DMs: ErrNotFound.
	RoomPolicy(ctx context.Context, conv string) (RoomPolicy, error)
	// SetRoomPolicy replaces room conv's policy (ErrNotFound for unknown
	// conversations and DMs).
	SetRoomPolicy(ctx context.Context, conv string, p RoomPolicy) error

	// RevokeSessions bumps user's session generation and records now as
	// the time of its latest revocation (never earlier than the one
	// before), returning where it stands. An unstorable user id is
	// CodeInvalidField.
	RevokeSessions(ctx context.Context, user string) (Revocation, error)
	// SessionRevocation returns user's latest revocation: Generation 0
	// when never revoked.
	SessionRevocation(ctx context.Context, user string) (Revocation, error)
	// AppendAudit adds es to the audit log, in order, in one transaction
	// (At defaults to now; ID, Position and Hash are the store's). Each
	// entry is chained to the one before it (AuditHash), with appends
	// from every node taking turns, so the chain has no gaps or forks.
	// Nothing updates or deletes an entry.
	AppendAudit(ctx context.Context, es ...AuditEntry) error
	// VerifyAudit walks the whole chain with the store's audit key and
	// reports what it found (see AuditWalk); expect, when its Position
	// is set, is a head anchored earlier that must still be there.
	VerifyAudit(ctx context.Context, expect AuditHead) (AuditReport, error)
	// Audit lists the audit log as f selects it, newest first.
	Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)

	// CreateReport stores r, a new open report by r.Reporter about
	// r.User in room r.Conv (of its message r.Seq when > 0), and returns
	// it with ID, Status, CreatedAt and ReporterName (the reporter's
	// name as the store knows it) set. A DM or an unknown room is
	// ErrNotFound; an unknown category, an empty user or reporter, a
	// negative seq or text a column cannot hold is CodeInvalidField.
	// Membership and the message are the caller's to check.
	CreateReport(ctx context.Context, r Report) (Report, error)
	// Report returns report id, or ErrNotFound.
	Report(ctx context.Context, id string) (Report, error)
	// Reports lists the reports f selects, newest first.
	Reports(ctx context.Context, f ReportFilter) ([]Report, error)
	// ResolveReport resolves open report id: by decided outcome, with
	// note. ErrNotFound for no such report, CodeConflict when it is
	// already resolved (of concurrent resolves exactly one succeeds),
	// CodeInvalidField for an unknown outcome.
	ResolveReport(ctx context.Context, id, by string, outcome ReportOutcome, note string) (Report, error)
	// Block records that blocker blocks blocked; blocking again keeps
	// the first time. blocked must be a known user (ErrNotFound) other
	// than blocker (CodeInvalidField).
	Block(ctx context.Context, blocker, blocked string) error
	// Unblock lifts blocker's block of blocked, reporting whether there
	// was one.
	Unblock(ctx context.Context, blocker, blocked string) (bool, error)
	// Blocks lists whom blocker blocks, oldest block first, with each
	// one's name and role (empty when unknown) and Since.
	Blocks(ctx context.Context, blocker string) ([]Block, error)
	// BlockedBy lists the IDs of the users who block user, for the
	// server's checks; user is never shown it.
	BlockedBy(ctx context.Context, user string) ([]string, error)
	// Blocking reports whether a blocks b and whether b blocks a.
	Blocking(ctx context.Context, a, b string) (aBlocksB, bBlocksA bool, err error)
	// ShareRoom reports whether a and b are both members of at least
	// one room (DMs do not count).
	ShareRoom(ctx context.Context, a, b string) (bool, error)

	// AddSupportNote records the support note n (n.User, n.Conv, n.Seq,
	// n.State; the store assigns ID, Created and Updated) unless that
	// message already has one: it returns the stored note (the existing
	// one as it is, dismissed or not) and whether it added it. An empty
	// user or conversation, a negative seq, an unknown state or text a
	// column cannot hold is CodeInvalidField.
	AddSupportNote(ctx context.Context, n SupportNote) (SupportNote, bool, error)
	// SetSupportState moves the note of message (user, conv, seq) to
	// state, creating it with that state when it does not exist yet (the
	// escalation may page before the note is added). With from, only a
	// note in one of those states moves. A seen note stays seen. It
	// returns the note and whether anything changed. Refusals as for
	// AddSupportNote (an unknown state in from too).
	SetSupportState(ctx context.Context, user, conv string, seq int64, state SupportState, from ...SupportState) (SupportNote, bool, error)
	// DismissSupportNote dismisses note id of user, reporting whether it
	// was shown until now (dismissing again changes nothing). A note
	// that does not exist or is someone else's is ErrNotFound.
	DismissSupportNote(ctx context.Context, user, id string) (SupportNote, bool, error)
	// SupportNotes lists user's notes not dismissed, oldest first. Never
	// nil.
	SupportNotes(ctx context.Context, user string) ([]SupportNote, error)

	// ClaimVideoSession records v as the live session of conversation
	// v.Conv, hosted by node v.Node until v.LeaseUntil (v.Started
	// defaults to now). If the conversation already has a session whose
	// lease has not lapsed at now, nothing changes and it returns that
	// one with an error of code CodeConflict (of concurrent claims for
	// one conversation exactly one wins); a lapsed one is replaced. A
	// retried claim that had in fact been recorded gets that conflict
	// too, with its own ID and Node in the session returned.
	// An unknown conversation is ErrNotFound; an empty ID, Conv or Node,
	// a LeaseUntil not after now, text a column cannot hold, or an ID
	// already recording another conversation's session CodeInvalidField.
	// Times are the nodes' clocks (see VideoSession).
	ClaimVideoSession(ctx context.Context, v VideoSession, now time.Time) (VideoSession, error)
	// RenewVideoSession extends session id's lease to until if node
	// still holds it (even after a lapse nobody acted on); false if the
	// record is gone or another node's: someone took over after a lapse,
	// and the caller ends its session.
	RenewVideoSession(ctx context.Context, id, node string, until time.Time) (bool, error)
	// EndVideoSession removes session id's record if node holds it;
	// otherwise, and again, it does nothing.
	EndVideoSession(ctx context.Context, id, node string) error
	// VideoSessionByID returns session id if its lease has not lapsed
	// at now (ok false otherwise, or for no such session).
	VideoSessionByID(ctx context.Context, id string, now time.Time) (v VideoSession, ok bool, err error)
	// LiveVideoSessions returns the sessions of convs whose lease has
	// not lapsed at now, in any order (for a connection's hello: which
	// of my conversations have a session live somewhere). Never nil.
	LiveVideoSessions(ctx context.Context, convs []string, now time.Time) ([]VideoSession, error)

	// Retention, legal holds, export and erasure
	// (docs/security.md#retention-and-erasure).
	//
	// PurgeMessages removes, in one bounded round, the log entries older
	// than each conversation's horizon: a room's RetainDays when set
	// (never longer than r.Global when that is set), otherwise r.Global.
	// A room under a hold and the messages of a user under a hold are
	// kept. With a message go its pin, its support notes and the
	// resolved reports of it; later edits of a message removed keep their
	// place in the log with an empty body. Sequence numbers are never
	// reused: history simply starts later.
	PurgeMessages(ctx context.Context, r PurgeRequest) (PurgeResult, error)
	// PurgeEscalations removes at most limit resolved escalations
	// (timeline and webhook deliveries with them) resolved before
	// closedBefore, returning how many. Open and acknowledged ones stay.
	PurgeEscalations(ctx context.Context, closedBefore time.Time, limit int) (int, error)
	// TryJobLease takes or renews the lease of job name for owner until
	// until, if nobody else holds it now; it reports whether owner holds
	// it. ReleaseJobLease gives it up (if owner holds it).
	TryJobLease(ctx context.Context, name, owner string, until time.Time) (bool, error)
	ReleaseJobLease(ctx context.Context, name, owner string) error
	// SetHold sets (or updates the reason of) a legal hold and returns
	// it as stored; an unknown kind, an empty subject or text a column
	// cannot hold is CodeInvalidField. ReleaseHold lifts it, reporting
	// whether there was one. Holds lists those of subject (every hold
	// when subject is ""), oldest first.
	SetHold(ctx context.Context, h Hold) (Hold, error)
	ReleaseHold(ctx context.Context, kind HoldKind, subject string) (bool, error)
	Holds(ctx context.Context, subject string) ([]Hold, error)
	// ExportUser returns everything the store keeps about user (an
	// unknown user gives an export with nil User and empty lists).
	ExportUser(ctx context.Context, user string) (UserExport, error)
	// EraseUser erases user's messages (tombstones, as a delete leaves
	// them) and personal data in one transaction, keeping what a hold
	// or an open escalation requires, and says what it did and kept.
	// It does not revoke sessions: the caller does.
	EraseUser(ctx context.Context, user string) (Erasure, error)

	// Ping reports whether the store can serve requests (for /readyz).
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

// AppendItem is one write in a batch given to Store.Append.
//
// In: Event.Conv, Event.Kind, Event.Sender, Event.ClientID (messages),
// Event.Body, Event.Target (edits, deletes and hides), optionally Event.Time.
//
// Out:
//   - Event.Seq and Event.Time of the committed entry.
//   - Duplicate: a message with the same (Conv, Sender, ClientID) was stored
//     before (or earlier in this batch); Event then holds that original
//     message in its current state (its Seq, Time and Body) and nothing new
//     is written. This is what makes sends idempotent.
//   - Err: the item was refused and nothing was written for it, while the
//     rest of the batch still commits: ErrNotMember when Sender does not
//     belong to Conv, ErrNotFound when Target is not a message of Conv,
//     ErrNotAuthor when Sender did not write Target, ErrDeleted when Target
//     is already deleted.
//
// A hide (EventHide) is a moderator's: the caller checked the permission,
// so neither Sender's membership nor authorship is checked, and Sender is
// not stored (Event.Sender comes back empty). Target's row becomes a
// tombstone (empty Body, Deleted) with Hidden set, the edits of it are
// blanked and its pin, if any, goes (as for a delete). Refusals:
// ErrNotFound when Conv does not exist or Target is not a message of it,
// ErrDeleted when its author deleted it. Hiding a message already hidden
// writes nothing: Duplicate, with Event.Seq the hide that hid it.
//
// Unpinned: a committed delete or hide removed its target's pin.
type AppendItem struct {
	Event     Event
	Duplicate bool
	Err       error
	Unpinned  bool
}

// RoomPolicy is what a room's moderators decided about it.
type RoomPolicy struct {
	// HoldImminent holds a message the crisis detector scores imminent
	// for a supervisor to release, instead of delivering it at once.
	HoldImminent bool `json:"hold_imminent"`
}
