package server

import (
	"context"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/protocol"
)

// Reports (docs/moderation.md#reports): a member reports a message or a
// person of a room; the report waits in the room's queue for its
// moderators, who are told of it live; a report in the danger category
// also enters the crisis path.

// reportRequest is a report, from a frame or a route's body.
type reportRequest struct {
	Conv     string `json:"conv"`
	Seq      int64  `json:"seq"`
	User     string `json:"user"`
	Category string `json:"category"`
	Reason   string `json:"reason"`
}

// check validates in's fields; the first problem wins.
func (in *reportRequest) check() *chat.Error {
	switch {
	case in.Conv == "":
		return missing("conv")
	case in.Seq < 0:
		return chat.Errorf(chat.CodeInvalidField, "seq is the seq of a message (> 0)")
	case in.Seq == 0 && in.User == "":
		return chat.Errorf(chat.CodeMissingField, "a report needs the message's seq or the user")
	case in.Category == "":
		return missing("category")
	case !chat.ReportCategory(in.Category).Valid():
		return chat.Errorf(chat.CodeInvalidField, "category is harassment, spam, inappropriate, danger or other")
	}
	return checkText("reason", in.Reason, chat.MaxReportReason)
}

// checkText refuses text over max bytes, with a NUL or not UTF-8.
func checkText(field, s string, max int) *chat.Error {
	if len(s) > max {
		return chat.Errorf(chat.CodeInvalidField, "the %s can have at most %d bytes", field, max)
	}
	if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
		return chat.Errorf(chat.CodeInvalidField, "the %s must be UTF-8 text without NUL characters", field)
	}
	return nil
}

func frameReport(f *protocol.ClientFrame) reportRequest {
	return reportRequest{Conv: f.Conv, Seq: f.Seq, User: f.User, Category: f.Category, Reason: f.Reason}
}

func checkReport(_ *conn, f *protocol.ClientFrame) *chat.Error {
	in := frameReport(f)
	return in.check()
}

// handleReport answers a report frame (the frame table checked its
// fields, the reporter's membership and the rate limit).
func (c *conn) handleReport(f *protocol.ClientFrame) {
	r, err := c.srv.fileReport(c.quiet, c.ident, frameReport(f))
	if err != nil {
		e := chat.AsError(err)
		if e.Code == chat.CodeInternal {
			c.srv.log.Error("report not stored", "user", c.ident.UserID, "conv", f.Conv, "err", err)
		}
		c.reject(f.Ref, "", f.Conv, e)
		return
	}
	c.sendDirect(protocol.Encode(protocol.Reported{Type: protocol.TypeReported, Ref: f.Ref, Report: r}))
}

// fileReport stores id's report in, writes its one audit entry, tells the
// room's moderators and, for danger, opens an escalation.
func (s *Server) fileReport(ctx context.Context, id auth.Identity, in reportRequest) (chat.Report, error) {
	subject, err := s.reportSubject(ctx, id, in)
	if err != nil {
		return chat.Report{}, err
	}
	r, err := s.store.CreateReport(ctx, chat.Report{Conv: in.Conv, Seq: in.Seq, User: subject, Reporter: id.UserID,
		Category: chat.ReportCategory(in.Category), Reason: in.Reason})
	if err != nil {
		return chat.Report{}, err
	}
	// The reason is the reporter's words and may hold health
	// information: the audit log names the report, not its text.
	s.audit(ctx, chat.AuditEntry{Actor: id.UserID, Action: "report.create", Room: r.Conv, Target: r.User,
		Detail: "report=" + r.ID + " category=" + string(r.Category)})
	s.tellReport(ctx, r)
	if r.Category == chat.ReportDanger {
		s.reportDanger(ctx, id, r)
	}
	return r, nil
}

// reportSubject is whom report in is about: the sender of message in.Seq,
// which the reporter must be able to see, or in.User, a member of the
// room. Nobody reports themselves.
func (s *Server) reportSubject(ctx context.Context, id auth.Identity, in reportRequest) (string, error) {
	subject := in.User
	if in.Seq > 0 {
		msg, err := s.visibleMessage(ctx, id.UserID, in.Conv, in.Seq)
		if err != nil {
			return "", err
		}
		if in.User != "" && in.User != msg.Sender {
			return "", chat.Errorf(chat.CodeInvalidField, "user is not the message's sender; give the seq alone")
		}
		subject = msg.Sender
	}
	if subject == id.UserID {
		return "", chat.Errorf(chat.CodeInvalidField, "you cannot report yourself")
	}
	if in.Seq == 0 {
		role, err := s.store.MemberRole(ctx, in.Conv, subject)
		if err != nil {
			return "", err
		}
		if !role.Valid() {
			return "", chat.Errorf(chat.CodeNotFound, "this user is not a member of the room")
		}
	}
	return subject, nil
}

// tellReport sends news of r, opened or resolved, to the user channels of
// the room's owner and moderators (never to the person reported), so that
// their sessions on every node get it.
func (s *Server) tellReport(ctx context.Context, r chat.Report) {
	s.tellModerators(ctx, r.Conv, r.User, protocol.ReportNews{Type: protocol.TypeReportNews, Report: r})
}

// reportDanger puts danger report r on the crisis path as a flag (of a
// message) or a concern (about a person) by its reporter would, whatever
// the reporter's role, and tells the room's facilitators with a
// room_alert. A failure is logged; the report stands either way.
func (s *Server) reportDanger(ctx context.Context, id auth.Identity, r chat.Report) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.EscalationTimeout)
	defer cancel()
	reason := strings.TrimSpace("Reported in the room as possibly in danger. " + r.Reason)
	al := roomAlert{conv: r.Conv, sender: r.User, seq: r.Seq, severity: crisis.High, source: "flag"}
	var e *escalation.Escalation
	var err error
	if r.Seq > 0 {
		e, err = s.flag(ctx, id, r.Conv, r.Seq, reason)
	} else {
		e, err = s.concern(ctx, id, r.User, r.Conv, reason)
		al.source, al.user = "concern", r.User
	}
	if err != nil {
		s.log.Error("danger report: escalation not opened", "report", r.ID, "err", err)
	} else {
		s.log.Info("escalation raised by a report", "escalation", e.ID, "report", r.ID)
	}
	s.alerts.add(al)
}

// reportRoutes: reporting over HTTP, and the queue.
func (s *Server) reportRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /api/rooms/{id}/reports", s.apiIn(auth.ActReport, s.createReport))
	m.HandleFunc("GET /api/rooms/{id}/reports", s.apiIn(auth.ActHandleReports, func(r *http.Request, id auth.Identity) (int, any, error) {
		return s.listReports(r, id, r.PathValue("id"))
	}))
	m.HandleFunc("GET /api/reports", s.api(auth.ActViewReports, func(r *http.Request, id auth.Identity) (int, any, error) {
		return s.listReports(r, id, "")
	}))
	m.HandleFunc("POST /api/reports/{id}/resolve", s.authed(s.resolveReport))
}

// createReport answers POST /api/rooms/{id}/reports: the report frame's
// fields, the room from the path; it draws from the same rate limit.
func (s *Server) createReport(r *http.Request, id auth.Identity) (int, any, error) {
	var in reportRequest
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	room := r.PathValue("id")
	if in.Conv != "" && in.Conv != room {
		return 0, nil, chat.Errorf(chat.CodeInvalidField, "conv, when given, is the room in the path")
	}
	in.Conv = room
	if err := in.check(); err != nil {
		return 0, nil, err
	}
	if err := s.takeReport(id.UserID); err != nil {
		return 0, nil, err
	}
	rep, err := s.fileReport(r.Context(), id, in)
	return http.StatusCreated, map[string]any{"report": rep}, err
}

// reportPage is a page of a report queue; Next is the before of the
// following page, when there may be one.
type reportPage struct {
	Reports []chat.Report `json:"reports"`
	Next    string        `json:"next,omitempty"`
}

// listReports answers GET …/reports?status=&before=&limit= for room (""
// every room): newest first, never the reports about the caller.
func (s *Server) listReports(r *http.Request, id auth.Identity, room string) (int, any, error) {
	q := r.URL.Query()
	f := chat.ReportFilter{Conv: room, NotAbout: id.UserID}
	switch q.Get("status") {
	case "", "open":
		f.Status = chat.ReportOpen
	case "resolved":
		f.Status = chat.ReportResolved
	case "all":
	default:
		return 0, nil, chat.Errorf(chat.CodeInvalidField, "status is open, resolved or all")
	}
	limit, err := queryInt(q.Get("limit"))
	if err != nil {
		return 0, nil, chat.Errorf(chat.CodeInvalidField, "limit is a whole number")
	}
	f.Limit = int(min(max(limit, 1), 200))
	if limit == 0 {
		f.Limit = 50
	}
	if err := s.reportCursor(r.Context(), q.Get("before"), &f); err != nil {
		return 0, nil, err
	}
	list, err := s.store.Reports(r.Context(), f)
	if err != nil {
		return 0, nil, err
	}
	page := reportPage{Reports: nonNil(list)}
	if len(list) == f.Limit {
		page.Next = list[len(list)-1].ID
	}
	return http.StatusOK, page, nil
}

// reportCursor sets f's bound from before: a report's id (the reports
// listed after it) or an RFC 3339 time.
func (s *Server) reportCursor(ctx context.Context, before string, f *chat.ReportFilter) error {
	bad := chat.Errorf(chat.CodeInvalidField, "before is a report's id or an RFC 3339 time")
	switch {
	case before == "":
		return nil
	case strings.HasPrefix(before, "rp_"):
		at, err := s.store.Report(ctx, before)
		if chat.ErrorCode(err) == chat.CodeNotFound {
			return bad
		}
		f.BeforeAt, f.BeforeID = at.CreatedAt, at.ID
		return err
	}
	t, err := time.Parse(time.RFC3339Nano, before)
	if err != nil {
		return bad
	}
	f.BeforeAt = t
	return nil
}

// resolveReport answers POST /api/reports/{id}/resolve
// {"outcome","note"}: the permission is the room's of the report.
func (s *Server) resolveReport(r *http.Request, id auth.Identity) (int, any, error) {
	ctx := r.Context()
	rep, err := s.store.Report(ctx, r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.permitIn(ctx, id, rep.Conv, auth.ActHandleReports); err != nil {
		return 0, nil, err
	}
	var in struct {
		Outcome chat.ReportOutcome `json:"outcome"`
		Note    string             `json:"note"`
	}
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	switch {
	case in.Outcome == "":
		return 0, nil, missing("outcome")
	case !in.Outcome.Valid():
		return 0, nil, chat.Errorf(chat.CodeInvalidField, "outcome is no_action, warned, hidden, muted, removed, banned or escalated")
	case rep.User == id.UserID:
		return 0, nil, chat.Errorf(chat.CodeForbidden, "a report about you is for someone else to resolve")
	}
	if err := checkText("note", in.Note, chat.MaxReportNote); err != nil {
		return 0, nil, err
	}
	if rep, err = s.store.ResolveReport(ctx, rep.ID, id.UserID, in.Outcome, in.Note); err != nil {
		return 0, nil, err
	}
	s.audit(ctx, chat.AuditEntry{Actor: id.UserID, Action: "report.resolve", Room: rep.Conv, Target: rep.User,
		Reason: in.Note, Detail: "report=" + rep.ID + " outcome=" + string(in.Outcome)})
	s.tellReport(ctx, rep)
	return http.StatusOK, map[string]any{"report": rep}, nil
}
