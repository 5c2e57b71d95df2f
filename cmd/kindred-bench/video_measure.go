package main

import (
	"math"
	"os"
	"strings"
	"time"
)

// Turning what the participants saw into the report's figures.

// window is the measured interval.
type window struct{ start, end time.Time }

// seconds returns the whole seconds of the per-second counts inside w:
// [from, to) since the run's epoch.
func (w window) seconds(epoch time.Time) (from, to int) {
	from = int((w.start.Sub(epoch) + time.Second - 1) / time.Second)
	to = int(w.end.Sub(epoch) / time.Second)
	return from, max(from, to)
}

// trackTally adds up the remote tracks' figures.
type trackTally struct {
	videoSeconds, audioSeconds int64 // track-seconds with packets, in the window
	videoAny, audioAny         int64 // tracks with packets at some time in the window
	videoFull                  int64 // video tracks with packets in every second of it
	videoPackets, audioPackets int64 // the whole run
	videoLost, audioLost, dups int64
	videoLate, audioLate       int64
	videoPerSec                []int64 // video packets received in each second of the window
	connect                    *hist   // join → media connected (ICE and DTLS), per participant
	perTrack, firstKey         *hist   // join → first packet / first key frame, per remote video track
	firstAny, firstAll         *hist   // join → first packet of the first / of the last remote video track
	joinMissing, joinSamples   int64   // remote video tracks that never came / participants measured
}

func (r *videoRun) tally(w window) *trackTally {
	from, to := w.seconds(r.epoch)
	tt := &trackTally{videoPerSec: make([]int64, to-from), connect: newHist(latSub), perTrack: newHist(latSub), firstKey: newHist(latSub), firstAny: newHist(latSub), firstAll: newHist(latSub)}
	for _, p := range r.parts {
		p.mu.Lock()
		tracks := append([]*rtrack(nil), p.tracks...)
		p.mu.Unlock()
		byPub := map[int]trackStats{}
		for _, t := range tracks {
			s := t.stats()
			active := int64(0)
			for i := from; i < to && i < len(s.perSec); i++ {
				if s.perSec[i] > 0 {
					active++
				}
			}
			if s.video {
				for i := from; i < to && i < len(s.perSec); i++ {
					tt.videoPerSec[i-from] += int64(s.perSec[i])
				}
				tt.videoSeconds += active
				tt.videoPackets += s.packets
				tt.videoLost += s.lost()
				tt.videoLate += s.late
				if active > 0 {
					tt.videoAny++
				}
				if active == int64(to-from) && active > 0 {
					tt.videoFull++
				}
				if s.pub >= 0 {
					byPub[s.pub] = s
				}
			} else {
				tt.audioSeconds += active
				tt.audioPackets += s.packets
				tt.audioLost += s.lost()
				tt.audioLate += s.late
				if active > 0 {
					tt.audioAny++
				}
			}
			tt.dups += s.dups
		}
		r.tallyJoin(tt, p, byPub)
	}
	return tt
}

// tallyJoin measures p's join: from sending video_join to the first
// packet of each remote video track of those already publishing when p
// asked to join (joins in a session are one at a time, so that is
// everyone before p); the session's first joiner has none and is left out.
func (r *videoRun) tallyJoin(tt *trackTally, p *participant, byPub map[int]trackStats) {
	joined := p.joinSent.Load()
	if joined == 0 {
		return
	}
	if c := p.connected.Load(); c > 0 {
		tt.connect.record((c - joined) / 1000)
	}
	var first, last int64 = math.MaxInt64, 0
	n := 0
	for _, q := range r.parts {
		if q.sess != p.sess || q == p || q.pub == nil {
			continue
		}
		if st := q.pub.started.Load(); st == 0 || st > joined {
			continue
		}
		n++
		t, ok := byPub[q.idx]
		if !ok {
			tt.joinMissing++
			last = math.MaxInt64
			continue
		}
		d := (t.firstNs - joined) / 1000
		tt.perTrack.record(d)
		if t.keyNs > 0 {
			tt.firstKey.record((t.keyNs - joined) / 1000)
		}
		first, last = min(first, d), max(last, d)
	}
	if n == 0 {
		return
	}
	tt.joinSamples++
	if first != math.MaxInt64 {
		tt.firstAny.record(first)
	}
	if last != math.MaxInt64 {
		tt.firstAll.record(last)
	}
}

// readLoadAvg is the machine's load average (1, 5 and 15 minutes) before
// the run, to say how quiet it was; "" where /proc/loadavg is missing.
func readLoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
