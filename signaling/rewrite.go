package signaling

import "sync"

// seqWindow is how far behind the newest source seq a late packet is
// still placed and a NACK still mapped: far beyond any reordering, RTT or
// packetCache size, and under half the sequence space.
const seqWindow = 1 << 14

// maxSeqEras is how many offset changes a seqRewriter remembers for
// late (reordered) packets and NACKs (384 bytes). A mute is one change
// however long it lasts; 64 cover 4 s of dropping every other frame at
// 30 frames/s, or about 600 packets with a drop every tenth.
const maxSeqEras = 64

// seqEra is a run of source sequence numbers forwarded with one offset:
// source seq s >= start becomes s - off. Source seqs in [gapFrom, start)
// were dropped in order just before the run; they have no output number.
type seqEra struct {
	gapFrom, start, off uint16
}

// seqRewriter numbers the packets one subscriber receives on one track.
// The SFU drops packets (a muted track, later unwanted layers) and
// switches sources (a simulcast layer is another SSRC with its own
// sequence and timestamp spaces), but the subscriber must see one
// gap-free sequence, or it NACKs every dropped packet, and a continuous
// timestamp, or its jitter buffer stalls.
//
// Output seq = source seq - offset, where the offset grows by one for
// each packet dropped in order; the rewriter remembers the last
// maxSeqEras offset changes, so a packet arriving late still gets the
// number its place calls for, and a NACK for an output number maps back
// to the source packet (source). A packet lost upstream keeps its number
// (its hole is real: the subscriber's NACK for it is answered once the
// publisher resends it). Output timestamp = source timestamp - tsOffset;
// only a switch changes tsOffset.
//
// rewrite and drop are for the track's reader goroutine; source may be
// called concurrently (the subscriber's RTCP goroutine answering NACKs).
// The zero value is ready: its first packet passes through unchanged.
type seqRewriter struct {
	mu       sync.Mutex
	started  bool
	used     bool   // the newest era has forwarded a packet
	maxSrc   uint16 // newest source seq seen (forwarded or dropped in order)
	lastTS   uint32 // output timestamp of the newest packet forwarded
	tsOffset uint32
	eras     [maxSeqEras]seqEra // ring; eras[cur] is the newest
	cur      int
	count    int
}

// rewrite returns the output seq and timestamp for the source packet
// (srcSeq, srcTS), or ok false when the packet must not be forwarded: it
// came late from before the rewriter's memory (before a switch, before
// the first packet, more than seqWindow back, or past maxSeqEras offset
// changes), or it falls in a run that was dropped.
//
// switched says this packet is the first from a new source (a simulcast
// layer switch). Its output seq follows the last one given out, and its
// timestamp is the last output timestamp plus elapsed: the ticks of the
// track's clock (90 kHz for video) since that last packet was forwarded,
// measured by the caller, so the receiver's clock sees real time pass.
// A zero elapsed counts as 1: two frames must not share a timestamp.
// On the very first packet switched is ignored.
func (r *seqRewriter) rewrite(srcSeq uint16, srcTS uint32, switched bool, elapsed uint32) (seq uint16, ts uint32, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case !r.started:
		r.reset(srcSeq, srcSeq, srcTS, srcTS)
	case switched:
		next := r.maxSrc + 1 - r.eras[r.cur].off
		r.reset(srcSeq, next, srcTS, r.lastTS+max(elapsed, 1))
	}
	ts = srcTS - r.tsOffset
	if seqNewer(srcSeq, r.maxSrc) {
		r.maxSrc, r.lastTS, r.used = srcSeq, ts, true
		r.trim()
		return srcSeq - r.eras[r.cur].off, ts, true
	}
	off, ok := r.lateOffset(srcSeq)
	if !ok {
		return 0, 0, false
	}
	return srcSeq - off, ts, true
}

// reset starts a new source: srcSeq will be output as outSeq and srcTS as
// outTS, and nothing before srcSeq is mapped any more.
func (r *seqRewriter) reset(srcSeq, outSeq uint16, srcTS, outTS uint32) {
	r.started, r.used = true, false
	r.maxSrc = srcSeq - 1
	r.tsOffset = srcTS - outTS
	r.eras[0] = seqEra{gapFrom: srcSeq, start: srcSeq, off: srcSeq - outSeq}
	r.cur, r.count = 0, 1
}

// back is how far srcSeq lies behind the next new source seq: 1 for the
// newest seen, 0 for the next. With trim keeping every era within
// seqWindow, comparing backs orders seqs without wrap-around ambiguity.
func (r *seqRewriter) back(srcSeq uint16) uint16 { return r.maxSrc + 1 - srcSeq }

// era returns the i-th newest era (0: the current one).
func (r *seqRewriter) era(i int) *seqEra { return &r.eras[(r.cur-i+maxSeqEras)%maxSeqEras] }

// lateOffset finds the offset of a seq no newer than maxSrc, newest era
// first; false if it was dropped or is older than every era. Called
// with mu held.
func (r *seqRewriter) lateOffset(srcSeq uint16) (uint16, bool) {
	b := r.back(srcSeq)
	for i := 0; i < r.count; i++ {
		e := r.era(i)
		if b <= r.back(e.start) {
			return e.off, true
		}
		if b <= r.back(e.gapFrom) {
			return 0, false // dropped
		}
	}
	return 0, false
}

// trim forgets what lies more than seqWindow behind maxSrc: the eras
// wholly before it, and the part of the oldest one kept. Run on every
// advance of maxSrc (at most 32767 at a time), it keeps back() of every
// era start below 65536, so backs never wrap. Called with mu held.
func (r *seqRewriter) trim() {
	for i := 0; i < r.count; i++ {
		e := r.era(i)
		if r.back(e.gapFrom) <= seqWindow {
			continue
		}
		if r.back(e.start) > seqWindow {
			e.start = r.maxSrc + 1 - seqWindow
		}
		e.gapFrom = e.start
		r.count = i + 1
		return
	}
}

// drop tells the rewriter that the source packet srcSeq is not forwarded,
// so the packets after it close up over its number. Only a packet newer
// than any seen can give its number up; a late one leaves its hole, and a
// NACK for that hole maps to it (the caller decides whether to resend).
// A drop before the first rewrite does nothing.
func (r *seqRewriter) drop(srcSeq uint16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started || !seqNewer(srcSeq, r.maxSrc) {
		return
	}
	e := r.era(0)
	if !r.used && srcSeq == e.start {
		// Nothing was forwarded since the last drop: widen its gap.
		e.start, e.off = srcSeq+1, e.off+1
	} else {
		r.cur = (r.cur + 1) % maxSeqEras
		r.count = min(r.count+1, maxSeqEras)
		r.eras[r.cur] = seqEra{gapFrom: srcSeq, start: srcSeq + 1, off: e.off + 1}
		r.used = false
	}
	r.maxSrc = srcSeq
	r.trim()
}

// source maps an output seq from a subscriber's NACK back to the source
// seq to look up in the track's packetCache, and gives the tsOffset to
// rewrite the resent packet with (output timestamp = source timestamp -
// tsOffset). ok is false for a number not given out yet, or from before
// the current source or the rewriter's memory: such a packet is not
// resent.
func (r *seqRewriter) source(outSeq uint16) (srcSeq uint16, tsOffset uint32, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started || seqNewer(outSeq+r.era(0).off, r.maxSrc) {
		return 0, 0, false // not given out yet
	}
	for i := 0; i < r.count; i++ {
		e := r.era(i)
		// The eras' output ranges abut: out belongs to the newest era
		// whose start it reaches.
		if src := outSeq + e.off; r.back(src) <= r.back(e.start) {
			return src, r.tsOffset, true
		}
	}
	return 0, 0, false
}
