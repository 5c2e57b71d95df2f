package protocol

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzDecodeClientFrame feeds the client frame decoder arbitrary bytes (as
// a WebSocket text message would bring them). It must never panic; a frame
// it accepts must re-encode to JSON that decodes to the same frame. Seeds
// are in testdata/fuzz/FuzzDecodeClientFrame.
func FuzzDecodeClientFrame(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		var fr ClientFrame
		if err := DecodeClientFrame(data, &fr); err != nil {
			return
		}
		first, err := json.Marshal(&fr)
		if err != nil {
			t.Fatalf("an accepted frame does not encode: %v", err)
		}
		var again ClientFrame
		if err := DecodeClientFrame(first, &again); err != nil {
			t.Fatalf("re-encoded frame %s refused: %v", first, err)
		}
		second, _ := json.Marshal(&again)
		if !bytes.Equal(first, second) {
			t.Fatalf("round trip changed the frame:\n%s\n%s", first, second)
		}
	})
}
