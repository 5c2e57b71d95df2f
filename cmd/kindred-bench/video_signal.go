package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// A participant's WebSocket (vsignal): sign-in with a minted token, video
// requests answered by ref (video_ok or error), and every other frame
// handed in order to the participant's negotiation goroutine.

// vframe holds the fields of the server frames the video tool reads.
type vframe struct {
	Type          string  `json:"type"`
	Ref           string  `json:"ref"`
	Session       string  `json:"session"`
	SDP           string  `json:"sdp"`
	Candidate     *string `json:"candidate"`
	SDPMid        *string `json:"sdp_mid"`
	SDPMLineIndex *uint16 `json:"sdp_mline_index"`
	Code          string  `json:"code"`
	Reason        string  `json:"reason"`
}

// vsignal is one participant's WebSocket. The reader goroutine (read) is
// its only reader; it ends when the connection closes (close).
type vsignal struct {
	ws     *websocket.Conn
	frames chan vframe // to the participant's negotiation goroutine
	done   chan struct{}

	mu       sync.Mutex
	nextRef  int
	waiting  map[string]chan vframe // answers by ref
	welcome  chan struct{}
	welcomed bool
	errs     *countMap // refusals and surprises, by code
}

// dialSignal opens the WebSocket, says hello and waits for the welcome.
func dialSignal(ctx context.Context, wsURL, token string, errs *countMap) (*vsignal, error) {
	ws, resp, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPClient: &http.Client{}})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, fmt.Errorf("upgrade refused: HTTP %d", resp.StatusCode)
		}
		return nil, err
	}
	ws.SetReadLimit(readLimit)
	s := &vsignal{ws: ws, frames: make(chan vframe, 256), done: make(chan struct{}),
		waiting: make(map[string]chan vframe), welcome: make(chan struct{}), errs: errs}
	go s.read()
	b, _ := json.Marshal(hello{Type: "hello", Token: token})
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		s.close()
		return nil, err
	}
	select {
	case <-s.welcome:
		return s, nil
	case <-s.done:
		return nil, errors.New("connection closed before the welcome")
	case <-ctx.Done():
		s.close()
		return nil, ctx.Err()
	}
}

// close ends the connection and waits for the reader.
func (s *vsignal) close() {
	_ = s.ws.Close(websocket.StatusNormalClosure, "benchmark done")
	<-s.done
}

// read reads messages (frames one per line) until the connection ends.
func (s *vsignal) read() {
	defer close(s.done)
	for {
		_, data, err := s.ws.Read(context.Background())
		if err != nil {
			return
		}
		for len(data) > 0 {
			var line []byte
			line, data, _ = bytes.Cut(data, []byte{'\n'})
			var f vframe
			if json.Unmarshal(line, &f) != nil {
				s.errs.add("unreadable frame", 1)
				continue
			}
			s.dispatch(f)
		}
	}
}

// dispatch routes one frame: the welcome, an answer to a request, or a
// frame for the negotiation goroutine. That goroutine must keep up; a
// frame it has no room for is counted and dropped rather than blocking
// the reader (which would stall the answers it waits for).
func (s *vsignal) dispatch(f vframe) {
	s.mu.Lock()
	if f.Type == "welcome" && !s.welcomed {
		s.welcomed = true
		close(s.welcome)
	}
	ch := s.waiting[f.Ref]
	if f.Ref != "" && (f.Type == "video_ok" || f.Type == "error") && ch != nil {
		delete(s.waiting, f.Ref)
		s.mu.Unlock()
		ch <- f
		return
	}
	s.mu.Unlock()
	switch {
	case f.Type == "error":
		s.errs.add(f.Code, 1)
	case len(f.Type) > 6 && f.Type[:6] == "video_":
		select {
		case s.frames <- f:
		default:
			s.errs.add("frame queue full", 1)
		}
	}
}

// send writes one frame; fields is the frame without its type and ref.
// If answer is set, a ref is added and the answer (video_ok or error)
// will arrive on the returned channel.
func (s *vsignal) send(ctx context.Context, typ string, fields map[string]any, answer bool) (<-chan vframe, error) {
	fields["type"] = typ
	var ch chan vframe
	if answer {
		ch = make(chan vframe, 1)
		s.mu.Lock()
		s.nextRef++
		ref := "b" + strconv.Itoa(s.nextRef)
		s.waiting[ref] = ch
		s.mu.Unlock()
		fields["ref"] = ref
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return ch, s.ws.Write(wctx, websocket.MessageText, b)
}

// request sends a frame and waits for its answer: the session id of its
// video_ok, or the error's code as an error.
func (s *vsignal) request(ctx context.Context, typ string, fields map[string]any) (string, error) {
	ch, err := s.send(ctx, typ, fields, true)
	if err != nil {
		return "", err
	}
	select {
	case f := <-ch:
		if f.Type == "error" {
			return "", fmt.Errorf("%s refused: %s", typ, f.Code)
		}
		return f.Session, nil
	case <-s.done:
		return "", fmt.Errorf("%s: connection closed", typ)
	case <-ctx.Done():
		return "", fmt.Errorf("%s: %w", typ, ctx.Err())
	}
}
