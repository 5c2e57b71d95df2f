package server

import (
	"sync"
	"time"

	"github.com/kindred-health/kindred/chat"
)

// rate is how fast a token bucket refills (tokens a second) and how many
// tokens it holds at most.
type rate struct{ perSec, burst float64 }

// tokenBucket holds the tokens of one rate, which its owner keeps: 16
// bytes, as a user's five are part of every idle session's memory.
type tokenBucket struct {
	tokens float64
	last   int64 // monotonic nanoseconds since clockStart
}

// clockStart carries the monotonic clock reading that mono measures from.
var clockStart = time.Now()

func mono(t time.Time) int64 { return int64(t.Sub(clockStart)) }

func newTokenBucket(r rate, now time.Time) tokenBucket {
	return tokenBucket{tokens: r.burst, last: mono(now)}
}

// take spends one token. When none is left it reports how long until one
// will be.
func (b *tokenBucket) take(r rate, now time.Time) (ok bool, wait time.Duration) {
	if r.perSec <= 0 {
		return true, 0
	}
	n := mono(now)
	b.tokens = min(r.burst, b.tokens+float64(n-b.last)/float64(time.Second)*r.perSec)
	b.last = n
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / r.perSec * float64(time.Second))
}

// bucket is one user's rate limits on this node, shared by all of the
// user's sessions there, so opening more tabs does not buy more: sends,
// edits and deletes; membership changes (join, leave, open_dm), each
// announced to a room or a person; flags, concerns and reports, each
// of which pages people or tells a room's moderators; video negotiation
// (offers, answers, candidates), each of which works the SFU; and video
// session actions (start, end, admit, deny, control), each told to a
// whole session or room, most audited.
type bucket struct {
	mu        sync.Mutex
	rates     *bucketRates
	send      tokenBucket
	members   tokenBucket
	reports   tokenBucket
	videoSig  tokenBucket
	videoCtrl tokenBucket
	// refs (sessions holding it) and idle (since when it has had none)
	// belong to its shard's lock.
	refs int
	idle time.Time
}

// bucketRates are the rates of every user's buckets on the node.
type bucketRates struct{ send, members, reports, videoSig, videoCtrl rate }

// spend takes one token from t, one of b's buckets, refilled at r.
func (b *bucket) spend(t *tokenBucket, r rate, now time.Time) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return t.take(r, now)
}

// take spends one send token.
func (b *bucket) take(now time.Time) (bool, time.Duration) {
	return b.spend(&b.send, b.rates.send, now)
}

// takeMembership spends one token for a join, leave or open_dm.
func (b *bucket) takeMembership(now time.Time) (bool, time.Duration) {
	return b.spend(&b.members, b.rates.members, now)
}

// takeReport spends one token for a flag, a concern or a report.
func (b *bucket) takeReport(now time.Time) (bool, time.Duration) {
	return b.spend(&b.reports, b.rates.reports, now)
}

// takeVideoSignal spends one token for a video_offer, video_answer or
// video_candidate.
func (b *bucket) takeVideoSignal(now time.Time) (bool, time.Duration) {
	return b.spend(&b.videoSig, b.rates.videoSig, now)
}

// takeVideoControl spends one token for a video_start, video_end,
// video_admit, video_deny or video_control.
func (b *bucket) takeVideoControl(now time.Time) (bool, time.Duration) {
	return b.spend(&b.videoCtrl, b.rates.videoCtrl, now)
}

// The video buckets are fixed. Negotiation is generous: a browser
// trickles some 10 to 30 candidates at once, and renegotiates when a
// camera or a screen starts. Session actions are for people clicking.
const (
	videoSignalRate   = 50
	videoSignalBurst  = 200
	videoControlRate  = 2
	videoControlBurst = 10
)

// limits are the rates of a user's buckets.
type limits struct {
	sendRate       float64
	sendBurst      int
	memberRate     float64
	memberBurst    int
	reportsPerHour int
	videoSigRate   float64
	videoSigBurst  int
	videoCtrlRate  float64
	videoCtrlBurst int
}

// withVideo sets the video buckets' rates; off (a negative send rate)
// turns them off with the others.
func (l limits) withVideo(off bool) limits {
	l.videoSigRate, l.videoSigBurst = videoSignalRate, videoSignalBurst
	l.videoCtrlRate, l.videoCtrlBurst = videoControlRate, videoControlBurst
	if off {
		l.videoSigRate, l.videoCtrlRate = -1, -1
	}
	return l
}

// rates are l's buckets' rates.
func (l limits) rates() bucketRates {
	return bucketRates{
		send:      rate{l.sendRate, float64(l.sendBurst)},
		members:   rate{l.memberRate, float64(l.memberBurst)},
		reports:   rate{float64(l.reportsPerHour) / 3600, float64(l.reportsPerHour)},
		videoSig:  rate{l.videoSigRate, float64(l.videoSigBurst)},
		videoCtrl: rate{l.videoCtrlRate, float64(l.videoCtrlBurst)},
	}
}

// refill is how long an unused bucket takes to be full again: a bucket
// idle that long is no different from a new one, so it can be forgotten.
func (l limits) refill() time.Duration {
	d := time.Duration(0)
	r := l.rates()
	for _, r := range [...]rate{r.send, r.members, r.reports, r.videoSig, r.videoCtrl} {
		if r.perSec > 0 {
			d = max(d, time.Duration(r.burst/r.perSec*float64(time.Second)))
		}
	}
	return d
}

const (
	bucketShards = 64
	// maxIdleBuckets bounds, per shard, the buckets kept for users with
	// no session on this node (HTTP callers, and users who left less
	// than a refill ago); past it the oldest idle ones are forgotten
	// early.
	maxIdleBuckets = 1024
)

// buckets keeps each user's bucket on this node, in shards by user. A
// user's sessions share theirs (acquire, release), and the HTTP API's
// membership routes take from the same one (forUser), so neither more tabs
// nor another front end buys more. A bucket nobody holds is kept until it
// would have refilled (so that leaving and coming back, or calling the API
// between sessions, starts no fresh budget), then forgotten.
type buckets struct {
	rates  bucketRates
	ttl    time.Duration
	shards [bucketShards]bucketShard
}

type bucketShard struct {
	mu        sync.Mutex
	m         map[string]*bucket
	idle      int // buckets in m with no session
	nextSweep time.Time
}

func newBuckets(l limits) *buckets {
	bs := &buckets{rates: l.rates(), ttl: l.refill()}
	for i := range bs.shards {
		bs.shards[i].m = make(map[string]*bucket)
	}
	return bs
}

func (bs *buckets) shard(user string) *bucketShard {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(user); i++ {
		h = (h ^ uint32(user[i])) * 16777619
	}
	return &bs.shards[h%bucketShards]
}

// getLocked returns user's bucket, made full if there is none. Called
// with sh.mu held.
func (bs *buckets) getLocked(sh *bucketShard, user string, now time.Time) *bucket {
	if b := sh.m[user]; b != nil {
		return b
	}
	bs.sweepLocked(sh, now)
	r := &bs.rates
	b := &bucket{
		rates:   r,
		send:    newTokenBucket(r.send, now),
		members: newTokenBucket(r.members, now),
		reports: newTokenBucket(r.reports, now),
		idle:    now,

		videoSig:  newTokenBucket(r.videoSig, now),
		videoCtrl: newTokenBucket(r.videoCtrl, now),
	}
	sh.m[user] = b
	sh.idle++
	return b
}

// sweepLocked forgets buckets that have had no session for a refill, at
// most once a refill per shard, and the oldest idle ones when the shard
// holds too many.
func (bs *buckets) sweepLocked(sh *bucketShard, now time.Time) {
	if sh.idle < maxIdleBuckets && now.Before(sh.nextSweep) {
		return
	}
	sh.nextSweep = now.Add(max(bs.ttl, time.Second))
	var oldest time.Time
	for u, b := range sh.m {
		if b.refs == 0 && now.Sub(b.idle) >= bs.ttl {
			delete(sh.m, u)
			sh.idle--
		} else if b.refs == 0 && (oldest.IsZero() || b.idle.Before(oldest)) {
			oldest = b.idle
		}
	}
	// Still too many: forget those idle longest (half the gap between
	// the oldest and now, at a time).
	for i := 0; sh.idle >= maxIdleBuckets && !oldest.IsZero() && i < 64; i++ {
		cut := oldest.Add(now.Sub(oldest) / 2)
		for u, b := range sh.m {
			if b.refs == 0 && !b.idle.After(cut) {
				delete(sh.m, u)
				sh.idle--
			}
		}
		oldest = cut
	}
}

// acquire is user's bucket for a new session; release it when the session
// ends.
func (bs *buckets) acquire(user string) *bucket {
	sh := bs.shard(user)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := bs.getLocked(sh, user, time.Now())
	if b.refs == 0 {
		sh.idle--
	}
	b.refs++
	return b
}

func (bs *buckets) release(user string) {
	sh := bs.shard(user)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if b := sh.m[user]; b != nil && b.refs > 0 {
		b.refs--
		if b.refs == 0 {
			b.idle = time.Now()
			sh.idle++
		}
	}
}

// forUser is user's bucket for one HTTP request: the one their sessions
// on this node share, or one kept for them until it would have refilled.
func (bs *buckets) forUser(user string) *bucket {
	sh := bs.shard(user)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	now := time.Now()
	b := bs.getLocked(sh, user, now)
	if b.refs == 0 {
		b.idle = now
	}
	return b
}

// errRateLimited is the refusal of an action past its bucket.
func errRateLimited(wait time.Duration) *chat.Error {
	return &chat.Error{Code: chat.CodeRateLimited, Message: "too many of these; wait a moment",
		Temporary: true, RetryAfterMS: max(1, wait.Milliseconds())}
}

// takeMembership spends one of user's membership tokens for an HTTP join,
// leave or DM opened: the budget the join, leave and open_dm frames take
// from. A refusal counts as a refused frame.
func (s *Server) takeMembership(user string) error {
	if ok, wait := s.buckets.forUser(user).takeMembership(time.Now()); !ok {
		e := errRateLimited(wait)
		s.metrics.rejected.WithLabelValues(string(e.Code)).Inc()
		return e
	}
	return nil
}

// takeReport spends one of user's report tokens for a report over HTTP:
// the budget the flag, concern and report frames take from. A refusal
// counts as a refused frame.
func (s *Server) takeReport(user string) error {
	if ok, wait := s.buckets.forUser(user).takeReport(time.Now()); !ok {
		e := errRateLimited(wait)
		s.metrics.rejected.WithLabelValues(string(e.Code)).Inc()
		return e
	}
	return nil
}
