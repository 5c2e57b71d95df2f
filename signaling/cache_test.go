package signaling

import (
	"bytes"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// rtpPacket marshals a real RTP packet whose payload says which seq it is,
// so a packet returned for the wrong seq shows.
func rtpPacket(t testing.TB, seq uint16, size int) []byte {
	t.Helper()
	p := rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: uint32(seq) * 3000, SSRC: 0x1234},
		Payload: bytes.Repeat([]byte{byte(seq), byte(seq >> 8)}, size/2),
	}
	raw, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// mustGet reads seq from c and checks it is the packet stored for seq.
func mustGet(t *testing.T, c *packetCache, seq uint16, want []byte) {
	t.Helper()
	buf := make([]byte, packetCacheMTU)
	n, ok := c.get(seq, buf)
	if !ok {
		t.Fatalf("get(%d): not found", seq)
	}
	var p rtp.Packet
	if err := p.Unmarshal(buf[:n]); err != nil {
		t.Fatalf("get(%d): %v", seq, err)
	}
	if p.SequenceNumber != seq || !bytes.Equal(buf[:n], want) {
		t.Fatalf("get(%d): got packet seq %d, %d bytes", seq, p.SequenceNumber, n)
	}
}

func mustMiss(t *testing.T, c *packetCache, seq uint16) {
	t.Helper()
	if n, ok := c.get(seq, make([]byte, packetCacheMTU)); ok {
		t.Fatalf("get(%d) = %d bytes, want not found", seq, n)
	}
}

func TestPacketCacheSize(t *testing.T) {
	for _, tc := range []struct{ in, want int }{
		{0, 512}, {-1, 512}, {1, 1}, {3, 4}, {512, 512}, {513, 1024}, {1 << 20, 1 << 15},
	} {
		if got := newPacketCache(tc.in).size(); got != tc.want {
			t.Errorf("newPacketCache(%d).size() = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestPacketCacheStoreGet(t *testing.T) {
	c := newPacketCache(8)
	mustMiss(t, c, 0) // never stored: a zero slot must not answer for seq 0
	raw := rtpPacket(t, 100, 1000)
	if !c.store(100, raw) {
		t.Fatal("store refused a 1012-byte packet")
	}
	mustGet(t, c, 100, raw)
	mustMiss(t, c, 101)
	mustMiss(t, c, 100+8) // same slot, other seq
	if _, ok := c.get(100, make([]byte, len(raw)-1)); ok {
		t.Fatal("get into a too small buffer succeeded")
	}
	raw[20] ^= 0xff // the cache holds a copy, not the caller's buffer
	buf := make([]byte, packetCacheMTU)
	if n, _ := c.get(100, buf); bytes.Equal(buf[:n], raw) {
		t.Fatal("cache aliases the stored slice")
	}
}

func TestPacketCacheWrapAround(t *testing.T) {
	c := newPacketCache(8)
	pkts := map[uint16][]byte{}
	for seq := uint16(65532); seq != 4; seq++ { // 65532..65535, 0..3
		pkts[seq] = rtpPacket(t, seq, 100)
		c.store(seq, pkts[seq])
	}
	for seq, raw := range pkts {
		mustGet(t, c, seq, raw)
	}
	if n, ok := c.newest(); !ok || n != 3 {
		t.Fatalf("newest() = %d, %v; want 3 after the wrap", n, ok)
	}
}

func TestPacketCacheOverwritten(t *testing.T) {
	c := newPacketCache(4)
	for seq := uint16(10); seq < 16; seq++ {
		c.store(seq, rtpPacket(t, seq, 100))
	}
	for _, seq := range []uint16{10, 11} { // slots reused by 14, 15
		mustMiss(t, c, seq)
	}
	for seq := uint16(12); seq < 16; seq++ {
		mustGet(t, c, seq, rtpPacket(t, seq, 100))
	}
}

func TestPacketCacheOversizeRefused(t *testing.T) {
	c := newPacketCache(8)
	small := rtpPacket(t, 7, 100)
	c.store(7, small)
	big := make([]byte, packetCacheMTU+1)
	if c.store(7, big) {
		t.Fatal("store accepted a 1501-byte packet")
	}
	if c.store(8, nil) {
		t.Fatal("store accepted an empty packet")
	}
	mustGet(t, c, 7, small) // the refused packet did not touch the slot
	mustMiss(t, c, 8)
	if !c.store(9, make([]byte, packetCacheMTU)) {
		t.Fatal("store refused a packet of exactly packetCacheMTU bytes")
	}
}

func TestPacketCacheNewestIgnoresLate(t *testing.T) {
	c := newPacketCache(16)
	if _, ok := c.newest(); ok {
		t.Fatal("newest() ok on an empty cache")
	}
	c.store(65535, rtpPacket(t, 65535, 10))
	c.store(1, rtpPacket(t, 1, 10))
	c.store(0, rtpPacket(t, 0, 10)) // late, reordered
	if n, _ := c.newest(); n != 1 {
		t.Fatalf("newest() = %d, want 1", n)
	}
}

func TestPacketCacheKeyframe(t *testing.T) {
	c := newPacketCache(8)
	if _, ok := c.lastKeyframe(); ok {
		t.Fatal("lastKeyframe() ok before any key frame")
	}
	for seq := uint16(65534); seq != 3; seq++ {
		c.store(seq, rtpPacket(t, seq, 10))
		if seq == 65535 {
			c.markKeyframe(seq)
		}
	}
	if k, ok := c.lastKeyframe(); !ok || k != 65535 {
		t.Fatalf("lastKeyframe() = %d, %v; want 65535", k, ok)
	}
	for seq := uint16(3); seq != 7; seq++ { // 65535 is now 7 behind newest
		c.store(seq, rtpPacket(t, seq, 10))
	}
	if k, ok := c.lastKeyframe(); !ok || k != 65535 {
		t.Fatalf("lastKeyframe() = %d, %v; want 65535 still in the ring", k, ok)
	}
	c.store(7, rtpPacket(t, 7, 10)) // overwrites 65535's slot
	if k, ok := c.lastKeyframe(); ok {
		t.Fatalf("lastKeyframe() = %d after its slot was reused", k)
	}
}

// TestPacketCacheKeyframeFirstOfFrame: H.264 marks several packets of
// one key frame (SPS/PPS, then each IDR slice); the replay must start at
// the first of them, even when they arrive out of order, and a late
// packet of an older key frame must not move the mark back.
func TestPacketCacheKeyframeFirstOfFrame(t *testing.T) {
	c := newPacketCache(64)
	put := func(seq uint16, ts uint32, key bool) {
		raw, err := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: ts}, Payload: []byte{1}}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		c.store(seq, raw)
		if key {
			c.markKeyframe(seq)
		}
	}
	wantKey := func(want uint16) {
		t.Helper()
		if k, ok := c.lastKeyframe(); !ok || k != want {
			t.Fatalf("lastKeyframe() = %d, %v; want %d", k, ok, want)
		}
	}
	put(10, 9000, true) // STAP-A with SPS and PPS
	put(11, 9000, true) // IDR slice
	put(12, 9000, true) // IDR slice
	wantKey(10)
	put(13, 12000, false)
	put(21, 90000, true) // the next key frame: its second slice first
	put(20, 90000, true) // reordered: the first packet of that frame
	wantKey(20)
	put(9, 6000, true) // a late resend of an older key frame
	wantKey(20)
	put(40, 180000, true)
	wantKey(40)
}

// TestPacketCacheConcurrent runs the one writer against readers answering
// NACKs; under -race it checks the locking, and every packet a reader
// gets must be whole and the one asked for.
func TestPacketCacheConcurrent(t *testing.T) {
	c := newPacketCache(64)
	const total = 20000
	pkts := make([][]byte, 256)
	for i := range pkts {
		pkts[i] = rtpPacket(t, uint16(i), 200+i*4)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	stop := make(chan struct{})
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- readUntil(c, pkts, stop)
		}()
	}
	for i := 0; i < total; i++ {
		seq := uint16(i)
		raw := pkts[seq%256]
		binaryPutSeq(raw, seq)
		c.store(seq, raw)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// readUntil gets recent seqs until stop, checking each packet it finds.
func readUntil(c *packetCache, pkts [][]byte, stop <-chan struct{}) error {
	buf := make([]byte, packetCacheMTU)
	for i := 0; ; i++ {
		select {
		case <-stop:
			return nil
		default:
		}
		newest, ok := c.newest()
		if !ok {
			continue
		}
		seq := newest - uint16(i%80)
		n, ok := c.get(seq, buf)
		if !ok {
			continue
		}
		var p rtp.Packet
		if err := p.Unmarshal(buf[:n]); err != nil || p.SequenceNumber != seq || n != len(pkts[seq%256]) {
			return fmt.Errorf("get(%d): bad packet (seq %d, %d bytes, err %v)", seq, p.SequenceNumber, n, err)
		}
	}
}

// binaryPutSeq rewrites the RTP sequence number of raw in place.
func binaryPutSeq(raw []byte, seq uint16) { raw[2], raw[3] = byte(seq>>8), byte(seq) }

func TestNackSeqs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		pairs []rtcp.NackPair
		want  []uint16
	}{
		{"no BLP", []rtcp.NackPair{{PacketID: 10}}, []uint16{10}},
		{"BLP bit 0", []rtcp.NackPair{{PacketID: 10, LostPackets: 1}}, []uint16{10, 11}},
		{"BLP bit 15", []rtcp.NackPair{{PacketID: 10, LostPackets: 1 << 15}}, []uint16{10, 26}},
		{"BLP bits 0 and 15", []rtcp.NackPair{{PacketID: 10, LostPackets: 1<<15 | 1}}, []uint16{10, 11, 26}},
		{"all bits", []rtcp.NackPair{{PacketID: 0, LostPackets: 0xffff}},
			[]uint16{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
		{"wraps", []rtcp.NackPair{{PacketID: 65534, LostPackets: 0b101}}, []uint16{65534, 65535, 1}},
		{"two pairs", []rtcp.NackPair{{PacketID: 5}, {PacketID: 40, LostPackets: 2}}, []uint16{5, 40, 42}},
		{"none", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []uint16
			nackSeqs(&rtcp.TransportLayerNack{Nacks: tc.pairs}, func(s uint16) { got = append(got, s) })
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			var fromPion []uint16
			for _, p := range tc.pairs {
				fromPion = append(fromPion, p.PacketList()...)
			}
			if !reflect.DeepEqual(got, fromPion) {
				t.Fatalf("got %v, pion's PacketList gives %v", got, fromPion)
			}
		})
	}
	nackSeqs(nil, func(uint16) { t.Fatal("nil NACK requested a packet") })
}

// TestPacketCacheNoAllocs is the 0 allocs/op contract, checked as a test
// so it fails in CI and not only in a benchmark someone reads.
func TestPacketCacheNoAllocs(t *testing.T) {
	c := newPacketCache(512)
	raw := rtpPacket(t, 1, 1100)
	buf := make([]byte, packetCacheMTU)
	seq := uint16(0)
	nack := &rtcp.TransportLayerNack{Nacks: []rtcp.NackPair{{PacketID: 3, LostPackets: 0xff}}}
	allocs := testing.AllocsPerRun(1000, func() {
		seq++
		c.store(seq, raw)
		c.markKeyframe(seq)
		c.get(seq-1, buf)
		c.lastKeyframe()
		nackSeqs(nack, func(s uint16) { c.get(s, buf) })
	})
	if allocs != 0 {
		t.Fatalf("%v allocs per store+get, want 0", allocs)
	}
}

func BenchmarkPacketCacheStore(b *testing.B) {
	c := newPacketCache(512)
	raw := rtpPacket(b, 1, 1100)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for i := 0; b.Loop(); i++ {
		c.store(uint16(i), raw)
	}
}

// BenchmarkPacketCacheStoreWithReaders stores while other goroutines get
// (the NACK path), to show what the per-slot mutex costs the writer.
func BenchmarkPacketCacheStoreWithReaders(b *testing.B) {
	c := newPacketCache(512)
	raw := rtpPacket(b, 1, 1100)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r := 0; r < 2; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, packetCacheMTU)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				n, _ := c.newest()
				c.get(n-uint16(i%64), buf)
			}
		}()
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for i := 0; b.Loop(); i++ {
		c.store(uint16(i), raw)
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
}

func BenchmarkPacketCacheGet(b *testing.B) {
	c := newPacketCache(512)
	for i := 0; i < 512; i++ {
		c.store(uint16(i), rtpPacket(b, uint16(i), 1100))
	}
	buf := make([]byte, packetCacheMTU)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, ok := c.get(uint16(i)&511, buf); !ok {
			b.Fatal("miss")
		}
	}
}
