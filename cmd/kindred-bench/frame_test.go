package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/kindred-health/kindred/auth"
)

// checkAgrees asserts that where scanFrame reads a line, it reads what the
// full decoder reads: type, conversation, sequence, id, duplicate flag and
// the body's send time. It returns whether scanFrame read it.
func checkAgrees(t *testing.T, line []byte) bool {
	t.Helper()
	var ff frameFields
	ok := scanFrame(line, &ff)
	var f inFrame
	if json.Unmarshal(line, &f) != nil || !ok {
		// Nothing to compare: the full decoder refuses the line (it
		// counts it as "other"; the server sends only valid frames of
		// the right types), or the scan left it to the full decoder.
		return ok
	}
	gotStamp, gotOK := bodyStamp(ff.body)
	wantStamp, wantOK := parseStamp(f.Body)
	if string(ff.typ) != f.Type || string(ff.conv) != f.Conv || string(ff.id) != f.ID ||
		ff.seq != f.Seq || ff.duplicate != f.Duplicate || gotOK != wantOK || gotOK && gotStamp != wantStamp {
		t.Errorf("scan and decode disagree on %s:\nscan   type %q conv %q id %q seq %d dup %v stamp %d %v\ndecode type %q conv %q id %q seq %d dup %v stamp %d %v",
			line, ff.typ, ff.conv, ff.id, ff.seq, ff.duplicate, gotStamp, gotOK,
			f.Type, f.Conv, f.ID, f.Seq, f.Duplicate, wantStamp, wantOK)
	}
	return true
}

// trickyLines are frames of the server's shape and some it never sends:
// quotes, escapes and field names inside bodies, other key orders,
// nesting, whitespace, unusual values.
var trickyLines = []string{
	`{"type":"message","conv":"r_abc","seq":42,"id":"7","from":"u1","name":"U","body":"1764790000000000000 xxxx","ts":"2026-12-03T20:00:00Z"}`,
	`{"type":"message","conv":"r_abc","seq":43,"body":"1764790000000000001 she said \"hi\", \"seq\":99, \"conv\":\"r_zzz\"","ts":"2026-12-03T20:00:00Z"}`,
	`{"type":"message","conv":"r_abc","seq":44,"body":"1764790000000000002\\ \"}, \"seq\": 7}","ts":"x"}`,
	`{"type":"message","conv":"r_abc","seq":45,"body":"\u0031\u0037\u0036 tail"}`,
	`{"type":"message","conv":"r_abc","seq":46,"body":"17647900\"00 quote in the stamp"}`,
	`{"type":"message","conv":"r_abc","seq":47,"body":"+0001764790000000000003 x"}`,
	`{"type":"message","conv":"r_abc","seq":48,"body":"-5 x"}`,
	`{"type":"message","conv":"r_abc","seq":49,"body":"99999999999999999999 overflow"}`,
	`{"type":"message","conv":"r_abc","seq":50,"body":"\u003cb\u003e \u0026 日本語 \\\\ \/"}`,
	`{"body":"1764790000000000004","seq":51,"conv":"r_abc","type":"message"}`,
	` { "type" : "message" , "conv" : "r_abc" , "seq" : 52 , "body" : "1764790000000000005 y" } `,
	`{"type":"message","conv":"r_abc","seq":53,"extra":{"seq":1,"a":[1,{"b":"}"}],"c":"\"]}"},"body":"1764790000000000006"}`,
	`{"type":"message","conv":"r_abc","seq":54,"seq":55,"body":"1"}`,
	`{"type":"message","conv":"r_abc","seq":null,"body":null,"id":null}`,
	`{"type":"message","conv":"r_abc","Seq":56,"body":"1"}`,
	`{"type":"message","conv":"r_a\u0062c","seq":57}`,
	`{"type":"message","conv":"r_abc","seq":5.0}`,
	`{"type":"message","conv":"r_abc","seq":-3}`,
	`{"type":"message","conv":"r_abc","seq":"58"}`,
	`{"type":"message","conv":"r_abc","se\u0071":59}`,
	`{"type":"ack","id":"12","conv":"r_abc","seq":60,"ts":"2026-12-03T20:00:00Z","duplicate":true}`,
	`{"type":"ack","id":"13","conv":"r_abc","seq":61,"ts":"2026-12-03T20:00:00Z","held":true,"duplicate":false}`,
	`{"type":"synced","conv":"r_abc","seq":62}`,
	`{"type":"welcome","user":"u1","conversations":[{"id":"r_abc","last_seq":3,"name":"a \"room\""}]}`,
	`{"type":"error","code":"rate_limited","id":"14","temporary":true,"retry_after_ms":250}`,
	`{"type":"typing","conv":"r_abc","from":"u1"}`,
	`{}`,
	`[]`,
	`{"type":"message"`,
	`{"type":"message","conv":"r_abc","seq":63,"body":"1764790000000000007"}x`,
	`{"type":"message" "conv":"r_abc"}`,
	``,
}

func TestScanFrameAgreesWithDecoding(t *testing.T) {
	read := 0
	for _, l := range trickyLines {
		if checkAgrees(t, []byte(l)) {
			read++
		}
	}
	// The frames the server sends are read by the scan, not left to the
	// full decoder.
	for _, l := range trickyLines[:3] {
		var ff frameFields
		if !scanFrame([]byte(l), &ff) {
			t.Errorf("scan left a plain server frame to the full decoder: %s", l)
		}
	}
	// And what it must leave to the full decoder, it does.
	for _, l := range []string{
		`{"type":"message","conv":"r_abc","Seq":56,"body":"1"}`,
		`{"type":"message","conv":"r_a\u0062c","seq":57}`,
		`{"type":"message","conv":"r_abc","se\u0071":59}`,
		`{"type":"message","conv":"r_abc","seq":5.0}`,
		`{"type":"message"`,
	} {
		var ff frameFields
		if scanFrame([]byte(l), &ff) {
			t.Errorf("scan read a frame it should leave to the full decoder: %s", l)
		}
	}
	t.Logf("%d of %d lines read by the scan", read, len(trickyLines))
}

// FuzzScanFrame: on any valid JSON the full decoder reads, a scan that
// reads it agrees.
func FuzzScanFrame(f *testing.F) {
	for _, l := range trickyLines {
		f.Add([]byte(l))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		if json.Valid(line) {
			checkAgrees(t, line)
		}
	})
}

func TestParseStampBytesAgrees(t *testing.T) {
	for _, s := range []string{
		"", "0", "1", "+1", "-1", "+", "00", "0001764790000000000000", "1764790000000000000",
		"9223372036854775807", "9223372036854775808", "18446744073709551616", "12a", "1 2", "１２",
		strings.Repeat("0", 40) + "7", "+0", "++1", " 1",
	} {
		n, ok := parseStampBytes([]byte(s))
		wn, wok := parseStamp(s)
		if s != "1 2" && (ok != wok || ok && n != wn) {
			t.Errorf("parseStampBytes(%q) = %d, %v; parseStamp: %d, %v", s, n, ok, wn, wok)
		}
	}
}

// TestScanFrameOnServerFrames sends bodies full of quotes, escapes and
// field names through a real node and checks every line it sends back,
// as the tool receives them: welcome, synced, acks and messages.
func TestScanFrameOnServerFrames(t *testing.T) {
	url, data := startNode(t)
	secret, err := auth.LoadOrCreateSecret(data)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := auth.NewHMACSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a := &api{hc: &http.Client{}, signer: signer, ttl: time.Hour}
	admin, _ := a.token("scan-admin", auth.RoleAdmin)
	var room struct {
		ID string `json:"id"`
	}
	if err := a.call(ctx, url, "/api/rooms", admin, map[string]string{"name": "scan"}, &room); err != nil {
		t.Fatal(err)
	}
	tok, _ := a.token("scan-peer", auth.RolePeer)
	if err := a.call(ctx, url, "/api/rooms/"+room.ID+"/join", tok, struct{}{}, nil); err != nil {
		t.Fatal(err)
	}
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(readLimit)
	hello, _ := json.Marshal(map[string]string{"type": "hello", "token": tok})
	if err := ws.Write(ctx, websocket.MessageText, hello); err != nil {
		t.Fatal(err)
	}
	bodies := []string{
		`1764790000000000001 she said "hi", "seq":99, "conv":"r_zzz", "type":"ack"`,
		`1764790000000000002\ "}, "seq": 7} \" \\ \n`,
		"1764790000000000003 <b>&amp;</b> 日本語 \u2028 \t tab",
		`"1764790000000000004" quoted stamp`,
		"1764790000000000005\ttab before the space",
		`17647900"00 a quote inside the stamp`,
		"1764790000000000006",
	}
	for i, b := range bodies {
		frame, _ := json.Marshal(map[string]string{"type": "send", "conv": room.ID, "id": strconv.Itoa(i + 1), "body": b})
		if err := ws.Write(ctx, websocket.MessageText, frame); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]int{}
	scanned := 0
	for seen["message"] < len(bodies) || seen["ack"] < len(bodies) {
		_, msg, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v (seen %v)", err, seen)
		}
		for line := range bytes.SplitSeq(msg, []byte{'\n'}) {
			var f inFrame
			if err := json.Unmarshal(line, &f); err != nil {
				t.Fatalf("server frame %s: %v", line, err)
			}
			seen[f.Type]++
			if checkAgrees(t, line) {
				scanned++
			} else if f.Type == "message" || f.Type == "ack" {
				t.Errorf("a %s frame from the server was left to the full decoder: %s", f.Type, line)
			}
			if f.Type == "message" {
				i, _ := strconv.Atoi(f.ID)
				want, wantOK := parseStamp(bodies[i-1])
				var ff frameFields
				scanFrame(line, &ff)
				if got, ok := bodyStamp(ff.body); got != want || ok != wantOK {
					t.Errorf("message %d: stamp %d, %v; the body sent starts with %d, %v", f.Seq, got, ok, want, wantOK)
				}
			}
		}
	}
	if seen["welcome"] != 1 || seen["synced"] < 1 {
		t.Errorf("frames seen %v; want a welcome and a synced", seen)
	}
	t.Logf("frames %v, %d read by the scan", seen, scanned)
}

// TestHandleFramesBothPaths feeds one connection frames that take the scan
// and frames left to the full decoder: both are checked, counted and
// timed alike.
func TestHandleFramesBothPaths(t *testing.T) {
	cfg := &config{workload: workRooms, urls: []string{"http://127.0.0.1:1"}, duration: time.Second, sample: 1}
	e, err := newEngine(context.Background(), cfg, []spec{{user: "u", source: -1, peer: -1, room: "r_abc"}}, []byte("0123456789abcdef0123456789abcdef"), 1)
	if err != nil {
		t.Fatal(err)
	}
	v := e.vcs[0]
	v.convs["r_abc"] = newSeqTracker(0)
	start := time.Now()
	e.startNs.Store(start.UnixNano())
	e.measureNs.Store(start.UnixNano())
	e.stopNs.Store(start.Add(time.Minute).UnixNano())
	stamp := strconv.FormatInt(start.Add(time.Millisecond).UnixNano(), 10)
	lines := []string{
		`{"type":"message","conv":"r_abc","seq":1,"body":"` + stamp + ` plain"}`,
		`{"type":"message","conv":"r_a\u0062c","seq":2,"body":"` + stamp + ` escaped conv: full decode"}`,
		`{"type":"message","conv":"r_abc","Seq":3,"body":"` + stamp + ` key case: full decode"}`,
		`{"type":"message","conv":"r_abc","seq":2,"body":"` + stamp + ` again"}`,
		`{"type":"synced","conv":"r_abc","seq":3}`,
		`{"type":"presence","conv":"r_abc","user":"x","online":true}`,
		`not json`,
	}
	v.handleFrames([]byte(strings.Join(lines, "\n")), start.Add(5*time.Millisecond).UnixNano(), nil, &sessionState{})
	tr := v.convs["r_abc"]
	if tr.got != 3 || tr.dups != 1 || !tr.complete(3) {
		t.Errorf("tracker: %d distinct, %d doubled, complete to 3: %v; want 3, 1, true", tr.got, tr.dups, tr.complete(3))
	}
	if v.delivered.Load() != 4 || v.measured.Load() != 3 || e.lat.total.Load() != 3 {
		t.Errorf("delivered %d, measured %d, timed %d; want 4, 3 (first deliveries), 3", v.delivered.Load(), v.measured.Load(), e.lat.total.Load())
	}
	r := e.result(map[string]int64{"r_abc": 3})
	want := map[string]int64{"message": 4, "synced": 1, "presence": 1, "other": 1}
	for k, n := range want {
		if r.Frames[k] != n {
			t.Errorf("frames %v; want %v", r.Frames, want)
			break
		}
	}
	if !v.synced["r_abc"] || r.Lost != 0 || r.Doubled != 1 || r.Deliveries != 4 {
		t.Errorf("synced %v, lost %d, doubled %d, deliveries %d", v.synced["r_abc"], r.Lost, r.Doubled, r.Deliveries)
	}
}
