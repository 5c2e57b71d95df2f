package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kindred-health/kindred/auth"
)

// plan is what the parent decides before any connection opens and every
// worker must agree on: the run's id (which makes user ids unique per run,
// so runs against one server do not interfere) and the rooms it created.
type plan struct {
	RunID string   `json:"run_id"`
	Rooms []string `json:"rooms,omitempty"`
}

// spec is one planned connection. Specs are derived from the config and
// the plan alone, so the parent and every worker derive the same ones.
type spec struct {
	idx    int
	user   string
	url    int    // index into config.urls
	source int    // index of the loopback source address, -1 for none
	room   string // the room this user joined during setup, if any
	sender bool
	peer   int // dm: the other side's index; -1 otherwise

	crisisAt   time.Duration // from the load's start: when to send a crisis message (0: never)
	supervisor bool          // the supervisor on call (--crisis)
}

func newRunID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func userID(runID string, i int) string { return fmt.Sprintf("bench-%s-%d", runID, i) }

// buildSpecs lays out the connections. Consecutive connections go to
// different nodes (round-robin), and a room's members are consecutive, so
// with several nodes every room spans them and deliveries cross the broker.
func buildSpecs(c *config, p plan) []spec {
	out := make([]spec, c.conns)
	for i := range out {
		s := spec{idx: i, user: userID(p.RunID, i), url: i % len(c.urls), source: -1, peer: -1}
		if c.sources > 0 {
			// Divide by the node count first, so that every
			// (source, node) pair gets its share of connections.
			s.source = (i / len(c.urls)) % c.sources
		}
		switch c.workload {
		case workIdle:
			if len(p.Rooms) > 0 {
				s.room = p.Rooms[i%len(p.Rooms)]
			}
		case workRooms:
			if i >= c.rooms*c.members {
				s.supervisor = true // the extra connection of --crisis
				break
			}
			s.room, s.sender = p.Rooms[i/c.members], true
			if k := i / c.members; i%c.members == 0 && k < c.crisis {
				s.crisisAt = c.warmup + time.Duration(float64(c.duration)*(float64(k)+0.5)/float64(c.crisis))
			}
		case workBroadcast:
			s.room, s.sender = p.Rooms[i/c.members], i%c.members == 0
		case workDM:
			s.peer, s.sender = i^1, true
		}
		out[i] = s
	}
	return out
}

// shardSpecs returns worker w's share of the specs (every k-th one, so each
// worker has a slice of every room and every node).
func shardSpecs(all []spec, w, k int) []spec {
	var out []spec
	for i := w; i < len(all); i += k {
		out = append(out, all[i])
	}
	return out
}

// loadSecret finds the server's HS256 secret the way the server does: the
// environment variable first, then <data>/jwt-secret. Unlike the server it
// never creates the file: a secret made up here would match nothing.
func loadSecret(c *config) ([]byte, error) {
	if c.secretEnv != "" {
		if s := os.Getenv(c.secretEnv); s != "" {
			return []byte(s), nil
		}
	}
	if c.data == "" {
		return nil, fmt.Errorf("no token secret: give the server's --data directory, or set %s", c.secretEnv)
	}
	if _, err := os.Stat(filepath.Join(c.data, "jwt-secret")); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s has no jwt-secret: is it the server's --data directory?", c.data)
	}
	return auth.LoadOrCreateSecret(c.data)
}

// tokenTTL covers the whole run with room to spare: the server ends a
// session when its token expires.
func tokenTTL(c *config) time.Duration {
	return c.warmup + c.duration + c.drain + 2*time.Hour
}

// api is a small client of the HTTP API.
type api struct {
	hc     *http.Client
	signer *auth.Signer
	ttl    time.Duration
}

// apiError is a refusal by the server, with its error code.
type apiError struct {
	Status int
	Code   string
	Msg    string
}

func (e *apiError) Error() string { return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Msg) }

func (a *api) token(sub string, role auth.Role) (string, error) {
	return a.signer.Mint(sub, sub, role, a.ttl)
}

// call POSTs body to base+path as token's user and decodes the answer into
// out. Refusals the server marks as passing (429, 503) are retried a few
// times: setup must not fail on a moment of back-pressure.
func (a *api) call(ctx context.Context, base, path, token string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(b))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := a.hc.Do(req)
		if err != nil {
			return err
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode/100 == 2 {
			if out != nil {
				return json.Unmarshal(data, out)
			}
			return nil
		}
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		_ = json.Unmarshal(data, &e)
		ae := &apiError{Status: resp.StatusCode, Code: e.Error.Code, Msg: e.Error.Message}
		if (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) && attempt < 5 {
			select {
			case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return ae
	}
}

// parallel runs f(0..n-1) on at most width goroutines and returns the first
// error; the rest still run (setup steps are independent).
func parallel(ctx context.Context, n, width int, f func(ctx context.Context, i int) error) error {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		first error
		mu    sync.Mutex
	)
	for range min(n, width) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := f(ctx, i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// setupRooms creates the run's rooms as an admin and joins every member to
// its room with the member's own token, before any connection opens, so
// that each connection's welcome already lists its room.
func setupRooms(ctx context.Context, c *config, a *api, p *plan, onJoin func()) error {
	if c.rooms == 0 {
		return nil
	}
	admin, err := a.token(fmt.Sprintf("bench-%s-admin", p.RunID), auth.RoleAdmin)
	if err != nil {
		return err
	}
	p.Rooms = make([]string, c.rooms)
	err = parallel(ctx, c.rooms, 8, func(ctx context.Context, i int) error {
		var room struct {
			ID string `json:"id"`
		}
		name := fmt.Sprintf("bench %s room %d", p.RunID, i)
		if err := a.call(ctx, c.urls[i%len(c.urls)], "/api/rooms", admin, map[string]string{"name": name}, &room); err != nil {
			return fmt.Errorf("create room: %w", err)
		}
		p.Rooms[i] = room.ID
		return nil
	})
	if err != nil {
		return err
	}
	specs := buildSpecs(c, *p)
	return parallel(ctx, len(specs), 32, func(ctx context.Context, i int) error {
		s := specs[i]
		if s.room == "" {
			return nil
		}
		tok, err := a.token(s.user, auth.RolePeer)
		if err != nil {
			return err
		}
		if err := a.call(ctx, c.urls[s.url], "/api/rooms/"+s.room+"/join", tok, struct{}{}, nil); err != nil {
			var ae *apiError
			if errors.As(err, &ae) && ae.Code == "room_limit" {
				return fmt.Errorf("join room: %w (start the server with a larger --max-rooms)", err)
			}
			return fmt.Errorf("join room: %w", err)
		}
		onJoin()
		return nil
	})
}

// openDMs opens each pair's DM once both sides are connected: the server
// only opens a DM with a user it has seen, and it tells both sides'
// sessions, which subscribe to it. Pairs whose other side never connected
// fail and are counted, not fatal.
func openDMs(ctx context.Context, c *config, a *api, p plan) (failed int64, err error) {
	specs := buildSpecs(c, p)
	var bad atomic.Int64
	var kinds sync.Map
	_ = parallel(ctx, len(specs)/2, 32, func(ctx context.Context, i int) error {
		s, peer := specs[2*i], specs[2*i+1]
		// Opened with a specialist's token: the server's one-on-one
		// policy lets staff open a DM with anyone, whereas two peers
		// need a room in common (docs/moderation.md).
		tok, err := a.token(s.user, auth.RoleSpecialist)
		if err != nil {
			return err
		}
		if err := a.call(ctx, c.urls[s.url], "/api/dms", tok, map[string]string{"user": peer.user}, nil); err != nil {
			bad.Add(1)
			kinds.LoadOrStore(errKind(err), true)
		}
		return nil
	})
	if ctx.Err() != nil {
		return bad.Load(), ctx.Err()
	}
	if n := bad.Load(); n > 0 {
		var ks []string
		kinds.Range(func(k, _ any) bool { ks = append(ks, k.(string)); return true })
		return n, fmt.Errorf("%d of %d DMs could not be opened (%s)", n, len(specs)/2, strings.Join(ks, "; "))
	}
	return 0, nil
}

// putOnCall puts the run's supervisor (the extra connection of --crisis,
// connected by now, so the server knows them) on call as primary for the
// run, through the admin API, so that the crisis messages page them.
func putOnCall(ctx context.Context, c *config, a *api, p plan) error {
	specs := buildSpecs(c, p)
	sup := specs[len(specs)-1]
	admin, err := a.token(fmt.Sprintf("bench-%s-admin", p.RunID), auth.RoleAdmin)
	if err != nil {
		return err
	}
	now := time.Now()
	shift := map[string]any{"supervisor": sup.user, "tier": "primary",
		"start": now.Add(-time.Minute), "end": now.Add(tokenTTL(c))}
	if err := a.call(ctx, c.urls[0], "/api/oncall/shifts", admin, shift, nil); err != nil {
		return fmt.Errorf("put the supervisor on call: %w", err)
	}
	return nil
}
