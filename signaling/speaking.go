package signaling

import (
	"sync"
	"time"
)

// Speaker detection from the RTP audio-level header extension (RFC 6464,
// urn:ietf:params:rtp-hdrext:ssrc-audio-level): each audio packet carries
// its level as 0..127 -dBov (0 loudest, 127 silence) and a voice-activity
// flag. The SFU feeds every publisher's audio packets to observe and asks
// loudest on a ticker; loudest reports at most one change per
// speakerMinInterval, which the SFU sends as a `speaking` event.
const (
	// levelSilence is the level of a participant not heard from.
	levelSilence = 127.0
	// speakerActive: a smoothed level at or below this (louder than
	// -50 dBov) is speech; room noise and comfort noise are quieter.
	speakerActive = 50.0
	// speakerAttack and speakerRelease are the time constants of the
	// level's moving average when it rises and when it falls: speech is
	// noticed within about 100 ms, and a level falls back slowly enough
	// that the quiet between syllables does not make a speaker lose out
	// to someone louder for an instant.
	speakerAttack  = 50 * time.Millisecond
	speakerRelease = 300 * time.Millisecond
	// speakerStale: a participant without packets this long is silent
	// (muted, or sending nothing with DTX; with DTX browsers still send a
	// packet every 400 ms or so).
	speakerStale = 500 * time.Millisecond
	// speakerTakeover: a challenger must stay the loudest, and louder
	// than the current speaker, this long to take the floor, so a cough
	// or a door does not.
	speakerTakeover = 300 * time.Millisecond
	// speakerClear: the current speaker silent this long has finished.
	speakerClear = time.Second
	// speakerMinInterval: the least time between two reported changes.
	speakerMinInterval = 300 * time.Millisecond
)

// speakerLevel is one participant's smoothed level.
type speakerLevel struct {
	level float64   // smoothed -dBov: 0 loudest, 127 silence
	last  time.Time // the last packet
	loud  time.Time // the last packet that left the level active
	// vad: this client sets the voice-activity flag, so a packet
	// without it is silence whatever its level. Clients that never set
	// it are judged on the level alone.
	vad bool
}

// at returns the level at now: silence once packets have stopped.
func (p *speakerLevel) at(now time.Time) float64 {
	if now.Sub(p.last) > speakerStale {
		return levelSilence
	}
	return p.level
}

// speakers chooses who is speaking in one session. observe may be called
// by one goroutine per participant (the reader of its audio track) while
// one other goroutine calls loudest; the mutex is held only for a few
// arithmetic steps, never across I/O.
type speakers struct {
	mu     sync.Mutex
	levels map[string]*speakerLevel

	current    string    // the speaker last reported, "" for none
	changed    time.Time // when current was last reported
	challenger string    // who is taking over the floor, "" for none
	since      time.Time // when the challenger became loudest
}

func newSpeakers() *speakers {
	return &speakers{levels: make(map[string]*speakerLevel)}
}

// observe records one audio packet of user at now: level is the
// extension's 0..127 (larger values are clamped), voice its V flag. It
// allocates only on user's first packet.
func (s *speakers) observe(user string, level uint8, voice bool, now time.Time) {
	x := float64(min(level, 127))
	s.mu.Lock()
	p := s.levels[user]
	if p == nil {
		p = &speakerLevel{level: levelSilence}
		s.levels[user] = p
	}
	if voice {
		p.vad = true
	} else if p.vad {
		x = levelSilence
	}
	// A moving average weighted by the time since the previous packet,
	// so that the packet rate (20 ms frames, 60 ms frames, DTX) does not
	// change how fast the level follows.
	dt := float64(max(now.Sub(p.last), 0))
	if p.last.IsZero() {
		dt = float64(speakerStale)
	}
	tau := float64(speakerAttack)
	if x > p.level {
		tau = float64(speakerRelease)
	}
	p.level += (x - p.level) * dt / (tau + dt)
	p.last = now
	if p.level <= speakerActive {
		p.loud = now
	}
	s.mu.Unlock()
}

// forget drops user (left, removed or muted); if user was speaking, the
// next loudest reports the change.
func (s *speakers) forget(user string) {
	s.mu.Lock()
	delete(s.levels, user)
	if s.challenger == user {
		s.challenger = ""
	}
	s.mu.Unlock()
}

// loudest returns the current speaker ("" for none) and whether it
// changed since the last call that reported a change. Call it every
// 100 ms or so: a challenger must be the loudest at every call for
// speakerTakeover, and changes are reported at most every
// speakerMinInterval.
func (s *speakers) loudest(now time.Time) (user string, changed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := s.current
	cur, present := s.levels[s.current]
	curLevel := levelSilence
	if present {
		curLevel = cur.at(now)
	}
	if s.current != "" && (!present || now.Sub(cur.loud) >= speakerClear) {
		want = ""
	}
	best, bestLevel := s.loudestOther(now)
	switch {
	case best == "" || bestLevel >= curLevel:
		s.challenger = ""
	case best != s.challenger:
		s.challenger, s.since = best, now
	case now.Sub(s.since) >= speakerTakeover:
		want = best
	}
	if want == s.current || now.Sub(s.changed) < speakerMinInterval {
		return s.current, false
	}
	s.current, s.changed = want, now
	if s.challenger == want {
		s.challenger = ""
	}
	return want, true
}

// loudestOther returns the loudest active participant other than the
// current speaker; ties go to the smaller user id so the choice does not
// depend on map order.
func (s *speakers) loudestOther(now time.Time) (string, float64) {
	best, bestLevel := "", levelSilence
	for u, p := range s.levels {
		if u == s.current {
			continue
		}
		l := p.at(now)
		if l > speakerActive {
			continue
		}
		if l < bestLevel || l == bestLevel && u < best {
			best, bestLevel = u, l
		}
	}
	return best, bestLevel
}
