package signaling

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/pion/rtcp"
)

// packetCacheMTU is the largest RTP packet the cache keeps. Browsers keep
// packets under the path MTU (about 1200 bytes), so a bigger packet is
// not media we forward; it is refused rather than truncated, because a
// truncated packet replayed on a NACK would be corrupt media.
const packetCacheMTU = 1500

// defaultPacketCacheSize is the number of slots of a packet cache: about
// 10 s of video at 500 kbit/s in 1200-byte packets (2 s at 2.5 Mbit/s),
// longer than any RTT a NACK is worth answering for.
const defaultPacketCacheSize = 512

// maxPacketCacheSize keeps the ring under half the sequence space, so
// "newer" and "older" in serial arithmetic (RFC 1982) stay meaningful
// across the whole ring.
const maxPacketCacheSize = 1 << 15

// packetCache keeps the last N packets of one incoming track, shared by
// all of its subscribers (docs/decisions/0002, "Packet cache and NACK"):
// the track's reader stores every packet, subscribers' RTCP goroutines
// copy packets out to answer NACKs, and a new subscriber is replayed from
// the last key frame.
//
// Slot i holds the packet whose sequence number is congruent to i modulo
// N, so a lookup is one index and wrap-around at 65535 -> 0 needs no
// special case (N divides 65536). A slot answers only for the exact
// sequence number it holds, so an overwritten packet is never returned in
// place of the one asked for.
//
// Concurrency: one writer (store, markKeyframe) and any number of readers
// (get, lastKeyframe, newest). Each slot has its own mutex, held only for
// the copy in or out, so readers never wait on I/O and rarely on the
// writer. A seqlock would let readers copy without a lock, but its copy
// races with the writer by design, which the Go memory model leaves
// undefined and the race detector reports; a per-slot mutex costs one
// uncontended lock per packet.
type packetCache struct {
	mask  uint16
	slots []cacheSlot
	// newestSeq and keyframe hold a sequence number in the low 16 bits
	// and bit 16 set once one has been recorded.
	newestSeq atomic.Uint32
	keyframe  atomic.Uint32
}

// cacheSlot is one packet; storing copies into buf and allocates nothing.
type cacheSlot struct {
	mu    sync.Mutex
	valid bool
	seq   uint16
	n     uint16
	buf   [packetCacheMTU]byte
}

const seqSet = 1 << 16

// newPacketCache returns a cache of n slots: n <= 0 means
// defaultPacketCacheSize; otherwise n is rounded up to a power of two and
// capped at 32768. All memory (about 1.5 KB per slot) is allocated here.
func newPacketCache(n int) *packetCache {
	if n <= 0 {
		n = defaultPacketCacheSize
	}
	size := 1
	for size < n && size < maxPacketCacheSize {
		size <<= 1
	}
	return &packetCache{mask: uint16(size - 1), slots: make([]cacheSlot, size)}
}

// size is the number of slots.
func (c *packetCache) size() int { return len(c.slots) }

// store copies raw, the whole RTP packet with sequence number seq, into
// the cache, replacing whatever the slot held. It returns false, storing
// nothing, when raw is empty or longer than packetCacheMTU. Writer only.
func (c *packetCache) store(seq uint16, raw []byte) bool {
	if len(raw) == 0 || len(raw) > packetCacheMTU {
		return false
	}
	s := &c.slots[seq&c.mask]
	s.mu.Lock()
	s.n = uint16(copy(s.buf[:], raw))
	s.seq = seq
	s.valid = true
	s.mu.Unlock()
	if old := c.newestSeq.Load(); old&seqSet == 0 || seqNewer(seq, uint16(old)) {
		c.newestSeq.Store(seqSet | uint32(seq))
	}
	return true
}

// get copies the packet with sequence number seq into dst and returns its
// length. It returns false when that packet was never stored or its slot
// has since been reused, and also when dst is too small for it (nothing
// is copied then: a partial packet is worse than none).
func (c *packetCache) get(seq uint16, dst []byte) (int, bool) {
	s := &c.slots[seq&c.mask]
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.valid || s.seq != seq || int(s.n) > len(dst) {
		return 0, false
	}
	return copy(dst, s.buf[:s.n]), true
}

// newest returns the newest sequence number stored (in RFC 1982 order,
// so a late packet does not move it back), and false before the first.
func (c *packetCache) newest() (uint16, bool) {
	v := c.newestSeq.Load()
	return uint16(v), v&seqSet != 0
}

// markKeyframe records that a key frame begins at seq (the packet the
// reader found isKeyframe true for), called after store(seq). Writer
// only.
//
// isKeyframe can be true for several packets of one frame: H.264 sends
// SPS and PPS before the IDR, and Chrome's encoder cuts an IDR picture
// into slices of one packet each. A mark in the same frame as the
// current one (same RTP timestamp) therefore keeps the earlier of the
// two, so a replay starts with the SPS, not the last slice; a mark for a
// different, older frame (a late resend) is ignored.
func (c *packetCache) markKeyframe(seq uint16) {
	if old := c.keyframe.Load(); old&seqSet != 0 {
		prev := uint16(old)
		if c.sameFrame(prev, seq) {
			if seqNewer(prev, seq) {
				c.keyframe.Store(seqSet | uint32(seq))
			}
			return
		}
		if !seqNewer(seq, prev) {
			return
		}
	}
	c.keyframe.Store(seqSet | uint32(seq))
}

// sameFrame reports whether the packets a and b are both in the cache
// with the same RTP timestamp.
func (c *packetCache) sameFrame(a, b uint16) bool {
	ta, okA := c.timestamp(a)
	tb, okB := c.timestamp(b)
	return okA && okB && ta == tb
}

// timestamp reads the RTP timestamp (header bytes 4-7) of packet seq.
func (c *packetCache) timestamp(seq uint16) (uint32, bool) {
	s := &c.slots[seq&c.mask]
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.valid || s.seq != seq || s.n < 12 {
		return 0, false
	}
	return binary.BigEndian.Uint32(s.buf[4:8]), true
}

// lastKeyframe returns where the last key frame began, so a new
// subscriber can be replayed from there to newest(). It returns false
// when no key frame was marked or the key frame has left the ring (the
// replay would start mid-frame): the caller asks the publisher for a new
// one instead.
func (c *packetCache) lastKeyframe() (uint16, bool) {
	k := c.keyframe.Load()
	n := c.newestSeq.Load()
	if k&seqSet == 0 || n&seqSet == 0 {
		return 0, false
	}
	back := uint16(n) - uint16(k) // how far behind newest, mod 2^16
	if int(back) >= len(c.slots) {
		return 0, false
	}
	return uint16(k), true
}

// seqNewer reports whether a comes after b in RFC 1982 serial arithmetic
// over 16 bits (a is at most 32767 ahead).
func seqNewer(a, b uint16) bool {
	return a != b && a-b < 1<<15
}

// nackSeqs calls fn for every sequence number a Generic NACK requests
// (RFC 4585 §6.2.1): each pair's PacketID, then PacketID+i+1 for every bit
// i set in its BLP, in increasing order. Unlike rtcp.NackPair.PacketList
// it allocates nothing. A nil n requests nothing.
func nackSeqs(n *rtcp.TransportLayerNack, fn func(seq uint16)) {
	if n == nil {
		return
	}
	for _, p := range n.Nacks {
		fn(p.PacketID)
		for i := uint16(0); i < 16; i++ {
			if p.LostPackets&(1<<i) != 0 {
				fn(p.PacketID + i + 1)
			}
		}
	}
}
