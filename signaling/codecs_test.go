package signaling

import (
	"testing"
)

// cat joins byte slices, so payloads read as descriptor + header + data.
func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// vp8Key is a VP8 key frame's first 10 bytes (RFC 6386 §9.1): the frame
// tag with P=0 (show_frame 1, version 0, first partition size 0x123),
// the start code, then 640x480.
var vp8Key = []byte{0x30, 0x12, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01}

// vp8Delta is an interframe's tag: P=1, no start code.
var vp8Delta = []byte{0x31, 0x12, 0x00, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb}

type keyCase struct {
	name    string
	mime    string
	payload []byte
	want    bool
}

func vp8Cases() []keyCase {
	b := func(bs ...byte) []byte { return bs }
	return []keyCase{
		{"VP8 key, minimal descriptor S=1", "video/VP8", cat(b(0x10), vp8Key), true},
		{"VP8 key, mime in lower case", "video/vp8", cat(b(0x10), vp8Key), true},
		{"VP8 key, N bit set (non-reference) still key", "video/VP8", cat(b(0x30), vp8Key), true},
		{"VP8 delta frame", "video/VP8", cat(b(0x10), vp8Delta), false},
		{"VP8 key data but S=0 (continuation)", "video/VP8", cat(b(0x00), vp8Key), false},
		{"VP8 key data but PID=1 (not first partition)", "video/VP8", cat(b(0x11), vp8Key), false},
		{"VP8 X with I, 7-bit PictureID", "video/VP8", cat(b(0x90, 0x80, 0x05), vp8Key), true},
		{"VP8 X with I, 15-bit PictureID", "video/VP8", cat(b(0x90, 0x80, 0x81, 0x23), vp8Key), true},
		{"VP8 X with I, L, T: all skipped", "video/VP8", cat(b(0x90, 0xe0, 0x81, 0x23, 0x07, 0x40), vp8Key), true},
		{"VP8 X with K only", "video/VP8", cat(b(0x90, 0x10, 0x03), vp8Key), true},
		{"VP8 X with I, L, T, K, delta", "video/VP8", cat(b(0x90, 0xf0, 0x81, 0x23, 0x07, 0x40), vp8Delta), false},
		// Misparsing the 15-bit PictureID as 7-bit would read 0x00 as the tag.
		{"VP8 15-bit PictureID whose 2nd byte looks like a key tag", "video/VP8",
			cat(b(0x90, 0x80, 0x80, 0x30, 0x12, 0x00, 0x9d, 0x01, 0x2a), vp8Delta), false},
		{"VP8 P=0 without start code", "video/VP8", cat(b(0x10), []byte{0x30, 0x12, 0x00, 0x01, 0x02, 0x03}), false},
		{"VP8 truncated key header", "video/VP8", cat(b(0x10), vp8Key[:5]), false},
		{"VP8 X set but no extension byte", "video/VP8", b(0x90), false},
		{"VP8 I set but no PictureID", "video/VP8", b(0x90, 0x80), false},
		{"VP8 empty", "video/VP8", nil, false},
	}
}

func h264Cases() []keyCase {
	b := func(bs ...byte) []byte { return bs }
	sps := b(0x67, 0x42, 0xc0, 0x1f, 0x8c)  // NRI 3, type 7
	pps := b(0x68, 0xce, 0x3c, 0x80)        // type 8
	idr := b(0x65, 0x88, 0x84, 0x00, 0x33)  // type 5
	slice := b(0x41, 0x9a, 0x02, 0x11, 0x0) // type 1, non-IDR
	sei := b(0x06, 0x05, 0x01)              // type 6
	unit := func(nal []byte) []byte { return cat(b(byte(len(nal)>>8), byte(len(nal))), nal) }
	return []keyCase{
		{"H264 single IDR", "video/H264", idr, true},
		{"H264 single SPS", "video/h264", sps, true},
		{"H264 single PPS", "video/H264", pps, false},
		{"H264 single non-IDR slice", "video/H264", slice, false},
		{"H264 STAP-A SPS+PPS", "video/H264", cat(b(0x78), unit(sps), unit(pps)), true},
		{"H264 STAP-A SEI+IDR", "video/H264", cat(b(0x78), unit(sei), unit(idr)), true},
		{"H264 STAP-A SEI+slice", "video/H264", cat(b(0x78), unit(sei), unit(slice)), false},
		{"H264 STAP-A size past the end", "video/H264", cat(b(0x78, 0x00, 0x09), sps), false},
		{"H264 STAP-A size 0", "video/H264", cat(b(0x78, 0x00, 0x00), unit(sps)), false},
		{"H264 STAP-A empty", "video/H264", b(0x78), false},
		{"H264 FU-A start of IDR", "video/H264", b(0x7c, 0x85, 0x88, 0x84), true},
		{"H264 FU-A middle of IDR", "video/H264", b(0x7c, 0x05, 0x11, 0x22), false},
		{"H264 FU-A end of IDR", "video/H264", b(0x7c, 0x45, 0x11, 0x22), false},
		{"H264 FU-A start of non-IDR slice", "video/H264", b(0x5c, 0x81, 0x9a, 0x02), false},
		{"H264 FU-A without FU header", "video/H264", b(0x7c), false},
		{"H264 FU-B (not in packetization-mode 1)", "video/H264", b(0x7d, 0x85, 0x00, 0x01), false},
		{"H264 empty", "video/H264", nil, false},
	}
}

func vp9Cases() []keyCase {
	b := func(bs ...byte) []byte { return bs }
	const data = 0x82 // a VP9 frame header byte, not read
	return []keyCase{
		{"VP9 P=0 B=1, no extensions", "video/VP9", b(0x08, data), true},
		{"VP9 P=0 B=1 E=1, 15-bit PictureID", "video/vp9", b(0x8c, 0x81, 0x23, data), true},
		{"VP9 P=1 B=1 (inter frame)", "video/VP9", b(0xc8, 0x05, data), false},
		{"VP9 P=0 B=0 (not the first packet)", "video/VP9", b(0x84, 0x05, data), false},
		{"VP9 L, base spatial layer", "video/VP9", b(0xa8, 0x05, 0x20, 0x00, data), true},
		{"VP9 L, 15-bit PictureID, base spatial layer", "video/VP9", b(0xa8, 0x81, 0x23, 0x00, 0x00, data), true},
		{"VP9 L, spatial layer 1 of a key picture", "video/VP9", b(0xa8, 0x05, 0x02, 0x00, data), false},
		{"VP9 L missing its byte", "video/VP9", b(0xa8, 0x05), false},
		{"VP9 I, L missing PictureID", "video/VP9", b(0xa8), false},
		{"VP9 empty", "video/VP9", nil, false},
	}
}

func otherCases() []keyCase {
	return []keyCase{
		{"Opus never", "audio/opus", []byte{0x10, 0x30, 0x12, 0x00, 0x9d, 0x01, 0x2a, 0, 0, 0}, false},
		{"unknown codec", "video/AV1", []byte{0x08, 0x65}, false},
		{"empty mime", "", []byte{0x65}, false},
	}
}

func allKeyCases() []keyCase {
	return cat4(vp8Cases(), h264Cases(), vp9Cases(), otherCases())
}

func cat4(a, b, c, d []keyCase) []keyCase { return append(append(append(a, b...), c...), d...) }

func TestIsKeyframe(t *testing.T) {
	for _, tc := range allKeyCases() {
		t.Run(tc.name, func(t *testing.T) {
			if got := isKeyframe(tc.mime, tc.payload); got != tc.want {
				t.Fatalf("isKeyframe(%q, % x) = %v, want %v", tc.mime, tc.payload, got, tc.want)
			}
		})
	}
}

func TestIsKeyframeNoAllocs(t *testing.T) {
	cases := allKeyCases()
	if a := testing.AllocsPerRun(100, func() {
		for _, tc := range cases {
			isKeyframe(tc.mime, tc.payload)
		}
	}); a != 0 {
		t.Fatalf("%v allocs per run, want 0", a)
	}
}

// FuzzIsKeyframe: any payload, under any of the codecs, must be answered
// without a panic (the reader runs isKeyframe on every packet a browser
// sends).
func FuzzIsKeyframe(f *testing.F) {
	mimes := []string{"video/VP8", "video/H264", "video/VP9", "audio/opus"}
	for _, tc := range allKeyCases() {
		for m := range mimes {
			f.Add(uint8(m), tc.payload)
		}
	}
	f.Fuzz(func(t *testing.T, m uint8, payload []byte) {
		isKeyframe(mimes[int(m)%len(mimes)], payload)
	})
}
