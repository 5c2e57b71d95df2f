package main

import "math/bits"

// seqTracker checks one receiver's view of one conversation. The server
// promises every event after the position a session starts from (the
// conversation's last_seq in the welcome or conversation frame), each
// exactly once and in order; the tracker records which sequences arrived
// in a bitmap, so that after the run a missing one is a loss and a repeated
// one a double, whatever order they came in.
//
// Across reconnects the tracker lives on: each new session resumes from
// the highest sequence seen, so the server owes it only what is above. A
// sequence that arrives again is counted as doubled when it is above the
// position the current session resumed from (the server sent it twice
// within one session, or sent it again although the client had it and
// said so), and as replayed when it is at or below that position (the
// server replayed what the resume said the client had: a breach of the
// resume contract, but one a client that deduplicates by seq absorbs).
//
// A tracker is used by one connection's reader goroutine; the engine reads
// it only under that connection's lock.
type seqTracker struct {
	base     int64    // sequences ≤ base are before this receiver started
	from     int64    // the current session resumed from here (base at first)
	bits     []uint64 // bit i set: sequence base+1+i received
	contig   int64    // every sequence in (base, contig] was received
	maxSeen  int64    // highest sequence received (≥ base)
	got      int64    // distinct sequences received above base
	dups     int64    // sequences received again above the session's resume position
	replayed int64    // sequences received again at or below it
	early    int64    // sequences ≤ base, which the server should not send
}

func newSeqTracker(base int64) *seqTracker {
	return &seqTracker{base: base, from: base, contig: base, maxSeen: base}
}

// observe records that seq arrived and reports whether it had already.
func (t *seqTracker) observe(seq int64) (dup bool) {
	if seq <= t.base {
		t.early++
		return false
	}
	i := seq - t.base - 1
	w := int(i >> 6)
	if w >= len(t.bits) {
		t.bits = append(t.bits, make([]uint64, w+1-len(t.bits)+len(t.bits)/2)...)
	}
	mask := uint64(1) << (i & 63)
	if t.bits[w]&mask != 0 {
		if seq <= t.from {
			t.replayed++
		} else {
			t.dups++
		}
		return true
	}
	t.bits[w] |= mask
	t.got++
	t.maxSeen = max(t.maxSeen, seq)
	for t.has(t.contig + 1) {
		t.contig++
	}
	return false
}

func (t *seqTracker) has(seq int64) bool {
	if seq <= t.base {
		return true
	}
	i := seq - t.base - 1
	w := int(i >> 6)
	return w < len(t.bits) && t.bits[w]&(uint64(1)<<(i&63)) != 0
}

// complete reports whether every sequence up to final has arrived.
func (t *seqTracker) complete(final int64) bool { return t.contig >= final }

// missing counts the sequences in (base, final] that never arrived.
func (t *seqTracker) missing(final int64) int64 {
	if final <= t.contig {
		return 0
	}
	// Count the received ones in (contig, final] a word at a time.
	var have int64
	lo, hi := t.contig-t.base, final-t.base-1 // bit range [lo, hi]
	for w := int(lo >> 6); w < len(t.bits) && int64(w)<<6 <= hi; w++ {
		word := t.bits[w]
		if start := int64(w) << 6; start < lo {
			word &^= 1<<(lo-start) - 1
		}
		if end := int64(w)<<6 + 63; end > hi {
			word &= 1<<(hi-int64(w)<<6+1) - 1
		}
		have += int64(bits.OnesCount64(word))
	}
	return final - t.contig - have
}

// resume is called as a new session says hello: it returns the position
// to resume from, the last sequence seen, as a real client sends it, and
// remembers it as the session's start.
func (t *seqTracker) resume() int64 {
	t.from = t.maxSeen
	return t.from
}
