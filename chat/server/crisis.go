package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/protocol"
)

// supervisorsChannel carries escalation news to every connected
// supervisor and admin, on every node, so their queues stay current.
const supervisorsChannel = "role:supervisors"

// DefaultCrisisSupport is what the sender of a crisis message sees when the
// operator configured nothing else: the US 988 Lifeline.
func DefaultCrisisSupport() protocol.Support {
	return protocol.Support{
		Text: "It sounds like you might be going through something really hard right now. You are not alone: a supervisor from your support team has been told and will reach out. If you are in danger or thinking about ending your life, please reach out now:",
		Resources: []protocol.Resource{
			{Name: "988 Suicide & Crisis Lifeline", Contact: "Call or text 988 (US)", URL: "https://988lifeline.org"},
			{Name: "Emergency services", Contact: "Call 911 (US) or your local emergency number"},
		},
	}
}

// isSupervisor reports whether r handles escalations (supervisors and
// admins): the auth table's answer, asked in one place.
func isSupervisor(r auth.Role) bool { return r.Can(auth.ActViewEscalations) }

// crisisOutcome is what the reader decided about a write before it was
// committed: the detector's verdict, kept with the commit request.
type crisisOutcome struct {
	verdict crisis.Verdict
}

// detect scores a message body. It runs on the sender's reader goroutine,
// before the commit, so its cost is spread over connections and never
// delays the committer.
func (s *Server) detect(body string) *crisisOutcome {
	if s.cfg.Detector == nil {
		return nil
	}
	v := s.cfg.Detector.Detect(body)
	if v.Severity < crisis.High {
		return nil
	}
	return &crisisOutcome{verdict: v}
}

// afterCrisisCommit runs on the committer once a message the detector
// flagged is stored, before its sender is acked: the escalation is opened
// (recorded, and the on-call supervisor paged) first, so that a crash can
// only leave a crisis message unacked, never acked and unescalated. The
// client then resends it, the store answers with the original message,
// and opening again is idempotent per message. Detection never holds a
// message back; it only routes to people.
func (s *Server) afterCrisisCommit(ctx context.Context, ev chat.Event, out *crisisOutcome, duplicate bool) {
	if !duplicate {
		s.metrics.crisis.WithLabelValues(out.verdict.Severity.String()).Inc()
	}
	if s.engine == nil {
		s.log.Error("crisis message with no escalation engine configured", "conv", ev.Conv, "seq", ev.Seq)
		return
	}
	e := detectorEscalation(ev, out)
	e.ID = escalation.NewID("esc_") // kept by the retries
	if out.verdict.About == "other" {
		e.Reason = "the message is about someone else"
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := s.openEscalationNow(ctx, e); err != nil {
		// The engine has paged whoever is online all the same; keep
		// trying to record it, under the same ID, in the background.
		s.log.Error("escalation not recorded; retrying", "escalation", e.ID, "conv", ev.Conv, "err", err)
		s.retryEscalation(e)
	}
}

// detectorEscalation is the escalation of a message the detector flagged.
func detectorEscalation(ev chat.Event, out *crisisOutcome) *escalation.Escalation {
	return &escalation.Escalation{
		Source: escalation.SourceDetector, Subject: ev.Sender, SubjectName: ev.Name,
		Severity: out.verdict.Severity, Categories: out.verdict.Categories, Evidence: out.verdict.Evidence,
		Message: ev,
	}
}

// sendSupport shows the sender of a crisis message, and nobody else, where
// to find help.
func (s *Server) sendSupport(c *conn, ev chat.Event) {
	sup := s.cfg.CrisisSupport
	sup.Type, sup.Conv, sup.Seq = protocol.TypeSupport, ev.Conv, ev.Seq
	c.sendDirect(protocol.Encode(sup))
}

// holdIfPolicy holds an imminent message back from a room whose policy says
// so: it is stored with its escalation (durable before the ack), the sender
// is acked with held and shown the support frame, and nothing reaches the
// room until a supervisor releases it. It reports whether it held the
// message; when the policy cannot be read, the message is delivered, as by
// default.
func (c *conn) holdIfPolicy(ref string, ev chat.Event, out *crisisOutcome) bool {
	s := c.srv
	if s.engine == nil {
		return false
	}
	p, err := s.store.RoomPolicy(c.ctx, ev.Conv)
	if err != nil || !p.HoldImminent {
		return false
	}
	ev.Time = time.Now().UTC()
	e := detectorEscalation(ev, out)
	e.Reason = "held for a supervisor by the room's policy"
	if _, err := s.openEscalationNow(c.ctx, e); err != nil {
		s.log.Error("held message not recorded", "conv", ev.Conv, "err", err)
		c.reject(ref, ev.ClientID, ev.Conv, &chat.Error{Code: chat.CodeUnavailable,
			Message: "the message could not be stored; retry with the same id", Temporary: true, RetryAfterMS: 1000})
		return true
	}
	s.metrics.crisis.WithLabelValues(out.verdict.Severity.String()).Inc()
	c.sendDirect(protocol.Encode(protocol.Ack{Type: protocol.TypeAck, Ref: ref, ID: ev.ClientID, Conv: ev.Conv, Time: ev.Time, Held: true}))
	s.sendSupport(c, ev)
	return true
}

// release delivers a held message into its room as its sender wrote it
// (idempotent: the client id makes a second release a duplicate).
func (s *Server) release(ctx context.Context, id auth.Identity, eid string) (*escalation.Escalation, error) {
	e, err := s.engine.Get(ctx, eid)
	if err != nil {
		return nil, err
	}
	if !e.Held() {
		return nil, chat.Errorf(chat.CodeConflict, "this escalation holds no message")
	}
	ev := e.Message
	ev.Seq, ev.Time = 0, time.Time{}
	type result struct {
		it  chat.AppendItem
		err error
	}
	res := make(chan result, 1)
	req := &commitReq{item: chat.AppendItem{Event: ev}, done: func(it chat.AppendItem, err error) { res <- result{it, err} }}
	if err := s.commit.submit(ctx, req); err != nil {
		return nil, err
	}
	var r result
	select {
	case r = <-res:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if r.err != nil {
		return nil, r.err
	}
	if r.it.Err != nil {
		return nil, r.it.Err
	}
	detail := fmt.Sprintf("released the held message into the room as seq %d", r.it.Event.Seq)
	if r.it.Duplicate {
		detail = fmt.Sprintf("released again; it was already delivered as seq %d", r.it.Event.Seq)
	}
	return s.engine.AddNote(ctx, eid, id.UserID, detail)
}

// retryEscalation keeps trying to open e until it is recorded or refused.
func (s *Server) retryEscalation(e *escalation.Escalation) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		ctx := context.WithoutCancel(s.ctx)
		backoff := 500 * time.Millisecond
		for attempt := 2; ; attempt++ {
			select {
			case <-s.ctx.Done():
				// Shutting down: one last try, then the client's resend
				// of the unacked message reopens it elsewhere.
				attempt = -1
			case <-time.After(backoff):
				backoff = min(2*backoff, 10*time.Second)
			}
			_, err := s.engine.Open(ctx, e)
			if err == nil {
				return
			}
			var ce *chat.Error
			if errors.As(err, &ce) && ce.Code != chat.CodeInternal && ce.Code != chat.CodeUnavailable {
				s.log.Error("escalation refused", "escalation", e.ID, "err", err)
				return
			}
			if attempt < 0 {
				s.log.Error("escalation not recorded at shutdown", "escalation", e.ID, "err", err)
				return
			}
			s.log.Error("escalation not recorded; retrying", "escalation", e.ID, "attempt", attempt, "err", err)
		}
	}()
}

// Notify implements escalation.Notifier: pages go to the recipients'
// sessions on every node; every supervisor's queue gets the news.
func (s *Server) Notify(ctx context.Context, e *escalation.Escalation, recipients []string, step escalation.Step) error {
	page := step.Kind == escalation.StepNotified || step.Kind == escalation.StepEscalated || step.Kind == escalation.StepHandedOff
	if page {
		data := protocol.Encode(protocol.EscalationFrame{Type: protocol.TypeEscalation, Page: true, Step: step, Escalation: e})
		for _, r := range recipients {
			if err := s.broker.Publish(ctx, &chat.Publication{Channel: userChannel(r), Data: data}); err != nil {
				// A page that may not have arrived must count as failed,
				// so the engine tries again sooner.
				s.hub.HandlePublication(&chat.Publication{Channel: userChannel(r), Data: data})
				return err
			}
		}
	}
	s.publishFrame(ctx, supervisorsChannel, protocol.EscalationFrame{Type: protocol.TypeEscalation, Step: step, Escalation: e})
	return nil
}

// OnlineSupervisors implements escalation.Notifier.
func (s *Server) OnlineSupervisors(ctx context.Context) ([]string, error) {
	users, err := s.store.UsersByRole(ctx, string(auth.RoleSupervisor), string(auth.RoleAdmin))
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	online, err := s.presence.Online(ctx, ids)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(ids, func(id string) bool { return !online[id] }), nil
}

func (s *Server) admins(ctx context.Context) ([]string, error) {
	users, err := s.store.UsersByRole(ctx, string(auth.RoleAdmin))
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	return ids, nil
}

// flag opens (or joins) an escalation about message seq of conv, flagged
// by hand by a member.
func (s *Server) flag(ctx context.Context, id auth.Identity, conv string, seq int64, reason string) (*escalation.Escalation, error) {
	if conv == "" || seq <= 0 {
		return nil, chat.Errorf(chat.CodeMissingField, "a flag needs the conversation and the message's seq")
	}
	if err := s.requireMember(ctx, id, conv); err != nil {
		return nil, err
	}
	evs, err := s.store.History(ctx, conv, 0, seq-1, 1)
	if err != nil {
		return nil, err
	}
	if len(evs) == 0 || evs[0].Seq != seq {
		return nil, chat.ErrNotFound
	}
	msg := evs[0]
	if msg.Deleted {
		return nil, chat.ErrDeleted
	}
	if msg.Sender == id.UserID {
		// Flagging one's own message is a way of asking for help; keep it.
		reason = strings.TrimSpace("flagged their own message. " + reason)
	}
	return s.openEscalationNow(ctx, &escalation.Escalation{
		Source: escalation.SourceFlag, Subject: msg.Sender, SubjectName: msg.Name, ReportedBy: id.UserID,
		Reason: reason, Severity: crisis.High, Message: msg,
	})
}

// concern opens an escalation about a person, raised by a specialist.
func (s *Server) concern(ctx context.Context, id auth.Identity, subject, conv, reason string) (*escalation.Escalation, error) {
	if err := auth.Authorize(id, auth.ActModerate); err != nil {
		return nil, err
	}
	if subject == "" {
		return nil, missing("user")
	}
	if strings.TrimSpace(reason) == "" {
		return nil, missing("reason")
	}
	u, err := s.store.User(ctx, subject)
	if err != nil {
		return nil, err
	}
	if conv != "" {
		if err := s.requireMember(ctx, id, conv); err != nil {
			return nil, err
		}
	}
	return s.openEscalationNow(ctx, &escalation.Escalation{
		Source: escalation.SourceConcern, Subject: subject, SubjectName: u.Name, ReportedBy: id.UserID,
		Reason: reason, Severity: crisis.High, Conv: conv,
	})
}

// openEscalationNow is openEscalation for a person waiting for the answer.
func (s *Server) openEscalationNow(ctx context.Context, e *escalation.Escalation) (*escalation.Escalation, error) {
	if s.engine == nil {
		return nil, &chat.Error{Code: chat.CodeUnavailable, Message: "escalation is not configured on this server", Temporary: false}
	}
	if e.Conv == "" {
		e.Conv = e.Message.Conv
	}
	if e.Conv != "" {
		if cv, err := s.store.Conversation(ctx, e.Conv); err == nil {
			e.ConvKind, e.ConvName = cv.Kind, cv.Name
		}
		if e.Message.Seq > 0 {
			if hist, err := s.store.History(ctx, e.Conv, e.Message.Seq, 0, escalation.MaxContext); err == nil {
				e.Context = hist
			}
		}
	}
	return s.engine.Open(ctx, e)
}

// escalationRoutes adds the supervisor and on-call API.
func (s *Server) escalationRoutes(m *http.ServeMux) {
	sup := func(h func(r *http.Request, id auth.Identity) (int, any, error)) http.HandlerFunc {
		return s.api(func(r *http.Request, id auth.Identity) (int, any, error) {
			if err := auth.Authorize(id, auth.ActViewEscalations); err != nil {
				return 0, nil, err
			}
			if s.engine == nil {
				return 0, nil, &chat.Error{Code: chat.CodeUnavailable, Message: "escalation is not configured on this server", Temporary: true}
			}
			if eid := r.PathValue("id"); eid != "" && r.Method == http.MethodPost {
				// A supervisor who is the person at risk must not be the
				// one who handles it.
				e, err := s.engine.Get(r.Context(), eid)
				if err != nil {
					return 0, nil, err
				}
				if e.Subject == id.UserID {
					return 0, nil, chat.Errorf(chat.CodeForbidden, "this escalation is about you; another supervisor will handle it")
				}
				status, body, err := h(r, id)
				// The audit log: who did what to which escalation, when
				// (IDs only; notes and outcomes stay in the timeline).
				action := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
				s.log.Info("audit: escalation action", "action", action, "escalation", eid, "user", id.UserID, "ok", err == nil)
				return status, body, err
			}
			return h(r, id)
		})
	}
	m.HandleFunc("GET /api/escalations", sup(func(r *http.Request, id auth.Identity) (int, any, error) {
		var f escalation.Filter
		for _, st := range splitComma(r.URL.Query().Get("status")) {
			if !escalation.Status(st).Valid() {
				return 0, nil, chat.Errorf(chat.CodeInvalidField, "status is open, acknowledged or resolved")
			}
			f.Status = append(f.Status, escalation.Status(st))
		}
		f.Subject = r.URL.Query().Get("subject")
		list, err := s.engine.List(r.Context(), f)
		return http.StatusOK, map[string]any{"escalations": nonNil(list)}, err
	}))
	m.HandleFunc("GET /api/escalations/{id}", sup(func(r *http.Request, id auth.Identity) (int, any, error) {
		e, err := s.engine.Get(r.Context(), r.PathValue("id"))
		return http.StatusOK, e, err
	}))
	m.HandleFunc("POST /api/escalations/{id}/ack", sup(func(r *http.Request, id auth.Identity) (int, any, error) {
		e, err := s.engine.Ack(r.Context(), r.PathValue("id"), id.UserID)
		return http.StatusOK, e, err
	}))
	m.HandleFunc("POST /api/escalations/{id}/notes", sup(func(r *http.Request, id auth.Identity) (int, any, error) {
		var in struct{ Text string }
		if err := decodeBody(r, &in); err != nil {
			return 0, nil, err
		}
		if strings.TrimSpace(in.Text) == "" {
			return 0, nil, missing("text")
		}
		e, err := s.engine.AddNote(r.Context(), r.PathValue("id"), id.UserID, in.Text)
		return http.StatusOK, e, err
	}))
	m.HandleFunc("POST /api/escalations/{id}/handoff", sup(func(r *http.Request, id auth.Identity) (int, any, error) {
		var in struct{ To string }
		if err := decodeBody(r, &in); err != nil {
			return 0, nil, err
		}
		if in.To == "" {
			return 0, nil, missing("to")
		}
		to, err := s.store.User(r.Context(), in.To)
		if err != nil {
			return 0, nil, err
		}
		if !isSupervisor(auth.Role(to.Role)) {
			return 0, nil, chat.Errorf(chat.CodeInvalidField, "hand off to a supervisor")
		}
		e, err := s.engine.HandOff(r.Context(), r.PathValue("id"), id.UserID, to.ID)
		return http.StatusOK, e, err
	}))
	m.HandleFunc("POST /api/escalations/{id}/resolve", sup(func(r *http.Request, id auth.Identity) (int, any, error) {
		var in struct{ Outcome string }
		if err := decodeBody(r, &in); err != nil {
			return 0, nil, err
		}
		if strings.TrimSpace(in.Outcome) == "" {
			return 0, nil, missing("outcome")
		}
		e, err := s.engine.Resolve(r.Context(), r.PathValue("id"), id.UserID, in.Outcome)
		return http.StatusOK, e, err
	}))
	m.HandleFunc("POST /api/escalations/{id}/join", sup(func(r *http.Request, id auth.Identity) (int, any, error) {
		e, err := s.engine.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			return 0, nil, err
		}
		if e.Conv == "" || e.ConvKind != chat.KindRoom {
			return 0, nil, chat.Errorf(chat.CodeInvalidField, "this escalation has no room to join")
		}
		// Joining is visible to members (a member frame with the
		// supervisor role); the room limit does not apply to a crisis.
		if err := s.store.Join(r.Context(), e.Conv, id.UserID, 0); err != nil {
			return 0, nil, err
		}
		c, err := s.store.Conversation(r.Context(), e.Conv)
		if err != nil {
			return 0, nil, err
		}
		s.publishFrame(r.Context(), userChannel(id.UserID), protocol.ConversationEvent{Type: protocol.TypeConversation, Conversation: c})
		s.publishFrame(r.Context(), e.Conv, protocol.MemberEvent{Type: protocol.TypeMember, Conv: e.Conv, User: identUser(id), Joined: true})
		e, err = s.engine.JoinedRoom(r.Context(), e.ID, id.UserID)
		return http.StatusOK, e, err
	}))
	m.HandleFunc("POST /api/escalations/{id}/release", sup(func(r *http.Request, id auth.Identity) (int, any, error) {
		e, err := s.release(r.Context(), id, r.PathValue("id"))
		return http.StatusOK, e, err
	}))
	m.HandleFunc("GET /api/rooms/{id}/policy", s.api(func(r *http.Request, id auth.Identity) (int, any, error) {
		if err := s.requireMember(r.Context(), id, r.PathValue("id")); err != nil && !isSupervisor(id.Role) {
			return 0, nil, err
		}
		p, err := s.store.RoomPolicy(r.Context(), r.PathValue("id"))
		return http.StatusOK, p, err
	}))
	m.HandleFunc("PUT /api/rooms/{id}/policy", s.api(func(r *http.Request, id auth.Identity) (int, any, error) {
		if err := auth.Authorize(id, auth.ActModerate); err != nil {
			return 0, nil, err
		}
		if err := s.requireMember(r.Context(), id, r.PathValue("id")); err != nil && !isSupervisor(id.Role) {
			return 0, nil, err
		}
		var p chat.RoomPolicy
		if err := decodeBody(r, &p); err != nil {
			return 0, nil, err
		}
		if err := s.store.SetRoomPolicy(r.Context(), r.PathValue("id"), p); err != nil {
			return 0, nil, err
		}
		s.log.Info("audit: room policy set", "room", r.PathValue("id"), "hold_imminent", p.HoldImminent, "user", id.UserID)
		return http.StatusOK, p, nil
	}))
	m.HandleFunc("POST /api/escalations/{id}/dm", sup(func(r *http.Request, id auth.Identity) (int, any, error) {
		e, err := s.engine.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			return 0, nil, err
		}
		c, err := s.openDM(r.Context(), id, e.Subject)
		if err != nil {
			return 0, nil, err
		}
		if _, err := s.engine.OpenedDM(r.Context(), e.ID, id.UserID, c.ID); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, map[string]any{"conversation": c}, nil
	}))

	admin := func(h func(r *http.Request, id auth.Identity) (int, any, error)) http.HandlerFunc {
		return s.api(func(r *http.Request, id auth.Identity) (int, any, error) {
			if err := auth.Authorize(id, auth.ActManageOncall); err != nil {
				return 0, nil, err
			}
			if s.cfg.Escalations == nil {
				return 0, nil, &chat.Error{Code: chat.CodeUnavailable, Message: "escalation is not configured on this server"}
			}
			return h(r, id)
		})
	}
	m.HandleFunc("GET /api/oncall/shifts", sup(func(r *http.Request, id auth.Identity) (int, any, error) {
		from, to := time.Now().Add(-24*time.Hour), time.Now().Add(30*24*time.Hour)
		shifts, err := s.cfg.Escalations.ListShifts(r.Context(), from, to)
		return http.StatusOK, map[string]any{"shifts": nonNil(shifts)}, err
	}))
	m.HandleFunc("POST /api/oncall/shifts", admin(func(r *http.Request, id auth.Identity) (int, any, error) {
		var in escalation.Shift
		if err := decodeBody(r, &in); err != nil {
			return 0, nil, err
		}
		if err := in.Validate(); err != nil {
			return 0, nil, err
		}
		if err := s.checkOnCall(r.Context(), in.Supervisor); err != nil {
			return 0, nil, err
		}
		sh, err := s.cfg.Escalations.PutShift(r.Context(), in)
		if err == nil {
			s.log.Info("audit: on-call shift saved", "shift", sh.ID, "supervisor", sh.Supervisor, "tier", sh.Tier, "user", id.UserID)
		}
		return http.StatusCreated, sh, err
	}))
	m.HandleFunc("DELETE /api/oncall/shifts/{id}", admin(func(r *http.Request, id auth.Identity) (int, any, error) {
		err := s.cfg.Escalations.DeleteShift(r.Context(), r.PathValue("id"))
		if err == nil {
			s.log.Info("audit: on-call shift removed", "shift", r.PathValue("id"), "user", id.UserID)
		}
		return http.StatusOK, map[string]string{"deleted": r.PathValue("id")}, err
	}))
}

// checkOnCall refuses to put anyone but a known supervisor or admin on
// call: whoever is paged sees the message and its context.
func (s *Server) checkOnCall(ctx context.Context, user string) error {
	u, err := s.store.User(ctx, user)
	if err != nil {
		if chat.ErrorCode(err) == chat.CodeNotFound {
			return chat.Errorf(chat.CodeInvalidField, "%q has never signed in; only known supervisors can be on call", user)
		}
		return err
	}
	if !isSupervisor(auth.Role(u.Role)) {
		return chat.Errorf(chat.CodeInvalidField, "%q is not a supervisor", user)
	}
	return nil
}

func splitComma(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
