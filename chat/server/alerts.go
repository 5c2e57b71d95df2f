package server

import (
	"context"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/crisis"
	"github.com/kindred-health/kindred/chat/protocol"
)

// roomAlert is a facilitator's notice about one message of a room.
type roomAlert struct {
	conv, sender string
	seq          int64
	severity     crisis.Severity
	source       string // "detector", "flag" or "concern" (a danger report about a person)
	user         string // the person, for "concern"
}

// alerter tells a room's owner and moderators, privately, when a message
// there signals distress (the detector scored it concern or higher) or was
// flagged, so the person running the group knows. It reads the room's
// moderators from the store, so it runs on a goroutine of its own, owned
// by the server, fed without blocking by the committer and the flag
// handler; started with the server, stopped in Shutdown after the crisis
// workers, once its queue is empty.
type alerter struct {
	srv  *Server
	in   chan roomAlert
	done chan struct{}
}

func newAlerter(s *Server) *alerter {
	return &alerter{srv: s, in: make(chan roomAlert, 1024), done: make(chan struct{})}
}

func (a *alerter) start() {
	go func() {
		defer close(a.done)
		for al := range a.in {
			a.send(al)
		}
	}()
}

// stop delivers what is queued, then ends the goroutine. Nothing may be
// added after stop.
func (a *alerter) stop() {
	close(a.in)
	<-a.done
}

// add queues al; when the queue is full (a flood of distress at once) the
// notice is dropped and logged: escalations, which page supervisors, do
// not go through here.
func (a *alerter) add(al roomAlert) {
	select {
	case a.in <- al:
	default:
		a.srv.log.Error("facilitator alert dropped: queue full", "conv", al.conv, "seq", al.seq)
	}
}

// send publishes al to the user channel of each owner and moderator of the
// room but the message's sender.
func (a *alerter) send(al roomAlert) {
	s := a.srv
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.tellModerators(ctx, al.conv, al.sender, protocol.RoomAlert{Type: protocol.TypeRoomAlert, Conv: al.conv, Seq: al.seq, User: al.user,
		Severity: al.severity.String(), Source: al.source})
}

// alertFor is the notice a stored write calls for, if any: messages and
// edits in rooms that the detector scored concern or higher (an edit
// points at the message it changed).
func alertFor(r *commitReq) (roomAlert, bool) {
	ev := &r.item.Event
	// DMs have no owner or moderators: the alerter finds nobody to tell.
	if r.concern < crisis.Concern || r.item.Duplicate {
		return roomAlert{}, false
	}
	seq := ev.Seq
	if ev.Kind == chat.EventEdit {
		seq = ev.Target
	}
	return roomAlert{conv: ev.Conv, sender: ev.Sender, seq: seq, severity: r.concern, source: "detector"}, true
}
