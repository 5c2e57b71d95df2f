package server

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// Failed sign-ins in the audit log, limited per source address so that
// someone who keeps sending bad tokens cannot flood it: the first refusal
// from an address writes a "signin.fail" entry at once (count=1); further
// refusals from it within signinWindow are counted, and when the window
// ends one more entry carries their number (count=N, with the latest
// one's code and way in, and since= the window's start). At most
// signinAddrs addresses are tracked at a time; refusals from others are
// counted together under the source "other".
const (
	signinWindow = 10 * time.Second
	signinAddrs  = 10000
)

type signinFailures struct {
	s   *Server
	now func() time.Time

	mu    sync.Mutex
	addrs map[string]*signinWindowState
}

type signinWindowState struct {
	start time.Time
	more  int    // refusals after the first, not yet written
	last  string // the code of the latest of them
	via   string
}

func newSigninFailures(s *Server) *signinFailures {
	return &signinFailures{s: s, now: time.Now, addrs: make(map[string]*signinWindowState)}
}

// refused notes a refused token from addr (via "websocket" or "http"),
// with the refusal's code and, when the token was genuine but revoked,
// whose it was (actor). Never the token. The first refusal of a window is
// recorded before the caller answers.
func (f *signinFailures) refused(ctx context.Context, addr, via, actor string, code chat.Code) {
	now := f.now()
	f.mu.Lock()
	w := f.addrs[addr]
	if w == nil && len(f.addrs) >= signinAddrs {
		addr = "other"
		w = f.addrs[addr]
	}
	if w != nil && now.Sub(w.start) < signinWindow {
		w.more++
		w.last, w.via = string(code), via
		f.mu.Unlock()
		return
	}
	var flush []chat.AuditEntry
	if w != nil && w.more > 0 {
		flush = append(flush, w.summary(addr))
	}
	f.addrs[addr] = &signinWindowState{start: now}
	f.mu.Unlock()
	for _, e := range flush {
		f.s.audit(ctx, e)
	}
	f.s.audit(ctx, chat.AuditEntry{Actor: actor, Action: "signin.fail", Source: addr,
		Detail: fmt.Sprintf("via=%s code=%s count=1", via, code)})
}

func (w *signinWindowState) summary(addr string) chat.AuditEntry {
	return chat.AuditEntry{Action: "signin.fail", Source: addr,
		Detail: fmt.Sprintf("via=%s code=%s count=%d since=%s", w.via, w.last, w.more, w.start.UTC().Format(time.RFC3339))}
}

// run writes the counts of windows that ended, every signinWindow, and
// those still open when ctx ends.
func (f *signinFailures) run(ctx context.Context) {
	t := time.NewTicker(signinWindow)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			f.flush(ctx, false)
		case <-ctx.Done():
			f.flush(ctx, true)
			return
		}
	}
}

// flush writes the counts of ended windows (all windows with all) and
// forgets them.
func (f *signinFailures) flush(ctx context.Context, all bool) {
	now := f.now()
	var out []chat.AuditEntry
	f.mu.Lock()
	for addr, w := range f.addrs {
		if all || now.Sub(w.start) >= signinWindow {
			if w.more > 0 {
				out = append(out, w.summary(addr))
			}
			delete(f.addrs, addr)
		}
	}
	f.mu.Unlock()
	for _, e := range out {
		f.s.audit(ctx, e)
	}
}
