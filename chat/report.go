package chat

import "time"

// ReportCategory is what a member says is wrong when reporting a message
// or a person (docs/moderation.md#reports).
type ReportCategory string

// The report categories. ReportDanger (the person may be in danger) also
// opens an escalation.
const (
	ReportHarassment    ReportCategory = "harassment"
	ReportSpam          ReportCategory = "spam"
	ReportInappropriate ReportCategory = "inappropriate"
	ReportDanger        ReportCategory = "danger"
	ReportOther         ReportCategory = "other"
)

// Valid reports whether c is one of the categories.
func (c ReportCategory) Valid() bool {
	switch c {
	case ReportHarassment, ReportSpam, ReportInappropriate, ReportDanger, ReportOther:
		return true
	}
	return false
}

// ReportStatus is where a report stands in its room's queue.
type ReportStatus string

// A report is open until a moderator resolves it, once.
const (
	ReportOpen     ReportStatus = "open"
	ReportResolved ReportStatus = "resolved"
)

// ReportOutcome is what the moderator who resolved a report did about it.
// It records a decision: the action itself (a mute, a ban) is taken, and
// audited, through its own route.
type ReportOutcome string

// The outcomes.
const (
	OutcomeNoAction  ReportOutcome = "no_action"
	OutcomeWarned    ReportOutcome = "warned"
	OutcomeHidden    ReportOutcome = "hidden"
	OutcomeMuted     ReportOutcome = "muted"
	OutcomeRemoved   ReportOutcome = "removed"
	OutcomeBanned    ReportOutcome = "banned"
	OutcomeEscalated ReportOutcome = "escalated"
)

// Valid reports whether o is one of the outcomes.
func (o ReportOutcome) Valid() bool {
	switch o {
	case OutcomeNoAction, OutcomeWarned, OutcomeHidden, OutcomeMuted, OutcomeRemoved, OutcomeBanned, OutcomeEscalated:
		return true
	}
	return false
}

// Report is a member's report of a message (Seq > 0) or a person in a
// room, waiting in the room's queue for its moderators. It points at the
// message (Conv, Seq) and never copies its text. Reason is the reporter's
// own words and may hold health information: it is shown to the room's
// moderators and to supervisors, never written to the audit log.
type Report struct {
	ID           string         `json:"id"`
	Conv         string         `json:"conv"`
	Seq          int64          `json:"seq,omitempty"`
	User         string         `json:"user"` // the person reported
	Reporter     string         `json:"reporter"`
	ReporterName string         `json:"reporter_name"`
	Category     ReportCategory `json:"category"`
	Reason       string         `json:"reason"`
	Status       ReportStatus   `json:"status"`
	Outcome      ReportOutcome  `json:"outcome,omitempty"`
	Note         string         `json:"note,omitempty"`
	ResolvedBy   string         `json:"resolved_by,omitempty"`
	CreatedAt    time.Time      `json:"created_at"`
	ResolvedAt   *time.Time     `json:"resolved_at,omitempty"`
}

// ReportFilter selects reports: those matching every field set, newest
// first (by CreatedAt, then ID), at most Limit.
type ReportFilter struct {
	// Conv is one room ("": every room).
	Conv string
	// Status is ReportOpen or ReportResolved ("": both).
	Status ReportStatus
	// NotAbout leaves out the reports about this user: nobody is shown
	// who reported them.
	NotAbout string
	// BeforeAt and BeforeID page: reports created before BeforeAt, or at
	// BeforeAt with an ID below BeforeID (zero BeforeAt: no bound).
	BeforeAt time.Time
	BeforeID string
	// Limit is at most 500 (<= 0: 500).
	Limit int
}

// Report limits (docs/protocol.md#report).
const (
	MaxReportReason = 1000
	MaxReportNote   = 1000
)
