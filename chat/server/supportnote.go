package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/escalation"
	"github.com/kindred-health/kindred/chat/protocol"
)

// The support note: the private note a crisis message's writer gets, kept
// by the server per person (chat.SupportNote) and sent on the user's
// channel, so every session of theirs on every node shows it, again at
// every hello, until they dismiss it. Its words follow the crisis path
// honestly: a supervisor "has been told" only when a page reached one.

// SupportWords is what the support note says, in the operator's words
// (--crisis-support-file): the opening, one sentence per state, and the
// resources. The note's text is Text, a space, and the sentence of its
// state.
type SupportWords struct {
	// Text opens every note, whatever the state; it must promise
	// nothing (the state's sentence says who knows).
	Text string `json:"text"`
	// States are the sentences per state (pending, told, unreached,
	// unanswered, seen); one missing is the default's.
	States map[chat.SupportState]string `json:"states,omitempty"`
	// Resources are where to get help, in order; at least one.
	Resources []protocol.Resource `json:"resources"`
}

// DefaultCrisisSupport is what the sender of a crisis message sees when the
// operator configured nothing else: the US 988 Lifeline.
func DefaultCrisisSupport() SupportWords {
	const reachOut = " If you are in danger or thinking about ending your life, please reach out now:"
	return SupportWords{
		Text: "It sounds like you might be going through something really hard right now. You are not alone.",
		States: map[chat.SupportState]string{
			chat.SupportPending: "We are letting a supervisor from your support team know." + reachOut,
			chat.SupportTold:    "A supervisor from your support team has been told and will reach out as soon as they can." + reachOut,
			chat.SupportSeen:    "A supervisor from your support team has seen your message and will reach out." + reachOut,
			chat.SupportUnreached: "We could not reach a supervisor from your support team right now, so please do not wait for a call from us. " +
				"These services are there for you day and night; if you are in danger, contact one now:",
			chat.SupportUnanswered: "No supervisor from your support team has answered yet, so please do not wait for a call from us. " +
				"These services are there for you day and night; if you are in danger, contact one now:",
		},
		Resources: []protocol.Resource{
			{Name: "988 Suicide & Crisis Lifeline", Contact: "Call or text 988 (US)", URL: "https://988lifeline.org", Call: "988", Text: "988"},
			{Name: "Emergency services", Contact: "Call 911 (US) or your local emergency number", Call: "911"},
		},
	}
}

// phoneNumber is what a resource's call and text fields may hold: what a
// tel: or sms: link dials.
var phoneNumber = regexp.MustCompile(`^\+?[0-9]{2,15}$`)

// Check refuses words a note cannot be made of, saying what is wrong.
func (w SupportWords) Check() error {
	if w.Text == "" || len(w.Resources) == 0 {
		return errors.New("needs a text and at least one resource")
	}
	for st, s := range w.States {
		if !st.Valid() || s == "" {
			return fmt.Errorf("states: %q must be one of pending, told, unreached, unanswered, seen, with a sentence", st)
		}
	}
	for i, r := range w.Resources {
		switch {
		case r.Name == "" || r.Contact == "":
			return fmt.Errorf("resource %d needs a name and a contact", i+1)
		case r.Call != "" && !phoneNumber.MatchString(r.Call), r.Text != "" && !phoneNumber.MatchString(r.Text):
			return fmt.Errorf("resource %d: call and text are phone numbers: digits, optionally a leading +", i+1)
		}
	}
	return nil
}

// withDefaultStates returns states with the default sentence for every
// state it leaves out (a new map: the caller's is not changed).
func withDefaultStates(states map[chat.SupportState]string) map[chat.SupportState]string {
	out := DefaultCrisisSupport().States
	for st, s := range states {
		out[st] = s
	}
	return out
}

// textFor is the note's text in state st (Config's defaults gave every
// state a sentence).
func (w SupportWords) textFor(st chat.SupportState) string {
	return w.Text + " " + w.States[st]
}

// supportFrame is note n as its owner's sessions get it.
func (s *Server) supportFrame(n chat.SupportNote) protocol.Support {
	w := s.cfg.CrisisSupport
	return protocol.Support{Type: protocol.TypeSupport, Note: n.ID, Conv: n.Conv, Seq: n.Seq, State: string(n.State),
		Text: w.textFor(n.State), Resources: w.Resources, CreatedAt: n.Created, UpdatedAt: n.Updated}
}

// sendSupport keeps the support note of crisis message ev, written in
// session c, and shows it to every session of its writer (nobody else).
// st is what the escalation's opening said (openedState); a note the
// pager already moved on keeps its state. A note the writer dismissed is
// not shown again by a resend of its message. When the note cannot be
// stored, c still gets it.
func (s *Server) sendSupport(c *conn, ev chat.Event, st chat.SupportState) {
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), s.cfg.EscalationTimeout)
	defer cancel()
	n, _, err := s.store.AddSupportNote(ctx, chat.SupportNote{User: ev.Sender, Conv: ev.Conv, Seq: ev.Seq, State: st})
	if err != nil {
		s.log.Error("support note not stored; shown to its session only", "conv", ev.Conv, "seq", ev.Seq, "err", err)
		c.sendDirect(protocol.Encode(s.supportFrame(chat.SupportNote{Conv: ev.Conv, Seq: ev.Seq, State: st})))
		return
	}
	if !n.Dismissed {
		s.pub.frame(ctx, userChannel(n.User), s.supportFrame(n))
	}
}

// openedState is what opening a crisis message's escalation tells its
// writer: nobody can be told without an escalation engine or when the
// first step had nobody to page; seen once acknowledged; otherwise the
// pager's word (supportStep) stands, or the note waits (pending).
func (s *Server) openedState(e *escalation.Escalation, err error) chat.SupportState {
	switch {
	case s.esc == nil:
		return chat.SupportUnreached
	case err != nil || e == nil:
		return chat.SupportPending
	case e.Status != escalation.StatusOpen:
		return chat.SupportSeen
	}
	for _, st := range e.Timeline {
		if (st.Kind == escalation.StepNotified || st.Kind == escalation.StepEscalated) && len(st.Recipients) > 0 {
			return chat.SupportPending
		}
	}
	return chat.SupportUnreached
}

// supportStep follows an escalation step (from the pager, on whichever
// node takes it) into the writer's support note (supportMove), and pushes
// a change to the writer's sessions, unless the note was dismissed or has
// just been made (the crisis worker shows it).
func (s *Server) supportStep(ctx context.Context, e *escalation.Escalation, step escalation.Step, reached int, notifyErr error) {
	if e.Source != escalation.SourceDetector || e.Subject == "" || e.Conv == "" {
		return
	}
	for _, mv := range supportMoves(e, step, reached, notifyErr) {
		n, changed, err := s.store.SetSupportState(ctx, e.Subject, e.Conv, e.Message.Seq, mv.to, mv.from...)
		if err != nil {
			s.log.Error("support note state not stored", "escalation", e.ID, "state", string(mv.to), "err", err)
			return
		}
		if !changed {
			continue
		}
		if !n.Dismissed && !n.Created.Equal(n.Updated) {
			s.pub.frame(ctx, userChannel(n.User), s.supportFrame(n))
		}
		return
	}
}

// supportMove is a state change of a note, made only from the states in
// from (empty: any but seen).
type supportMove struct {
	to   chat.SupportState
	from []chat.SupportState
}

// supportMoves is what a step does to the note, tried in order until one
// applies: seen once acknowledged or resolved; told when a page reached a
// supervisor's session; unreached when it reached nobody; and unanswered
// when the chain ran out (a page beyond the last tier) after supervisors
// were told, which stays until someone acknowledges. Someone reached for
// the first time beyond the last tier has been told all the same.
func supportMoves(e *escalation.Escalation, step escalation.Step, reached int, notifyErr error) []supportMove {
	const (
		pending, told, unreached = chat.SupportPending, chat.SupportTold, chat.SupportUnreached
	)
	switch step.Kind {
	case escalation.StepAcknowledged, escalation.StepResolved:
		return []supportMove{{to: chat.SupportSeen}}
	case escalation.StepNotified, escalation.StepEscalated:
	default:
		return nil
	}
	switch {
	case notifyErr != nil && reached == 0:
		return nil // presence did not answer: who was reached is unknown
	case reached == 0:
		return []supportMove{{to: unreached, from: []chat.SupportState{pending, told}}}
	case e.Tier > escalation.LastTier:
		return []supportMove{
			{to: chat.SupportUnanswered, from: []chat.SupportState{told}},
			{to: told, from: []chat.SupportState{pending, unreached}},
		}
	}
	return []supportMove{{to: told, from: []chat.SupportState{pending, unreached}}}
}

// sendSupportNotes shows a starting session its user's notes not yet
// dismissed (after subscribing the user channel, so no change is missed).
func (c *conn) sendSupportNotes() {
	notes, err := c.srv.store.SupportNotes(c.quiet, c.ident.UserID)
	if err != nil {
		c.srv.log.Error("support notes", "user", c.ident.UserID, "err", err)
		return
	}
	for _, n := range notes {
		c.sendDirect(protocol.Encode(c.srv.supportFrame(n)))
	}
}

func checkDismissSupport(_ *conn, f *protocol.ClientFrame) *chat.Error {
	switch {
	case f.Note == "":
		return missing("note")
	case len(f.Note) > 64:
		return chat.Errorf(chat.CodeInvalidField, "note must be at most 64 bytes")
	}
	return nil
}

// handleDismissSupport dismisses one of the user's own notes (anyone
// else's is not_found) and tells every session of theirs.
func (c *conn) handleDismissSupport(f *protocol.ClientFrame) {
	n, changed, err := c.srv.store.DismissSupportNote(c.quiet, c.ident.UserID, f.Note)
	if err != nil {
		c.reject(f.Ref, "", "", chat.AsError(err))
		return
	}
	c.sendDirect(protocol.Encode(protocol.SupportDismissed{Type: protocol.TypeSupportGone, Ref: f.Ref, Note: n.ID}))
	if changed {
		c.srv.pub.frame(c.ctx, userChannel(n.User), protocol.SupportDismissed{Type: protocol.TypeSupportGone, Note: n.ID})
	}
}

// supportResources is GET /api/support: the crisis resources, for a "Get
// help now" control that needs no crisis.
type supportResources struct {
	Text      string              `json:"text"`
	Resources []protocol.Resource `json:"resources"`
}

func (s *Server) supportRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/support", s.api(auth.ActSupport, func(*http.Request, auth.Identity) (int, any, error) {
		w := s.cfg.CrisisSupport
		return http.StatusOK, supportResources{Text: w.Text, Resources: w.Resources}, nil
	}))
}
