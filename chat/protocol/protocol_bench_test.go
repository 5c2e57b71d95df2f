package protocol_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kindred-health/kindred/chat"
	"github.com/kindred-health/kindred/chat/protocol"
)

// BenchmarkDecodeSend measures decoding one client send frame, the first
// step of every message.
func BenchmarkDecodeSend(b *testing.B) {
	frame := []byte(`{"type":"send","conv":"r_0123456789ab","id":"6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b","body":"` + strings.Repeat("a", 200) + `","ref":"r1"}`)
	var f protocol.ClientFrame
	b.ReportAllocs()
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		f.Reset()
		if err := json.Unmarshal(frame, &f); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeEvent measures encoding a message event: done once per
// message, whatever the number of recipients.
func BenchmarkEncodeEvent(b *testing.B) {
	ev := &chat.Event{Conv: "r_0123456789ab", Seq: 12345, Kind: chat.EventMessage, Sender: "user-42", Name: "Sam",
		ClientID: "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b", Body: strings.Repeat("a", 200), Time: time.Now()}
	b.ReportAllocs()
	for b.Loop() {
		if len(protocol.EncodeEvent(ev)) == 0 {
			b.Fatal("empty")
		}
	}
}

func TestEventRoundTrip(t *testing.T) {
	ts := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	ev := &chat.Event{Conv: "r_1", Seq: 7, Kind: chat.EventMessage, Sender: "u", Name: "U", ClientID: "c", Body: "line one\nline \"two\" <b>", Time: ts}
	data := protocol.EncodeEvent(ev)
	if strings.Contains(string(data), "\n") {
		t.Fatalf("encoded frame contains a raw newline, which would break server framing: %s", data)
	}
	var got protocol.Event
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.Type != "message" || got.Body != ev.Body || got.Seq != 7 || got.From != "u" || got.ID != "c" || !got.Time.Equal(ts) {
		t.Fatalf("round trip: %+v", got)
	}
}
