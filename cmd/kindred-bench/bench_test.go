package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kindred-health/kindred/auth"
	"github.com/kindred-health/kindred/chat/broker/memory"
	"github.com/kindred-health/kindred/chat/server"
	"github.com/kindred-health/kindred/chat/store/sqlite"
)

// TestMain lets the test binary stand in for kindred-bench when a test runs
// with --workers: the parent re-executes its own binary as each worker.
func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
			os.Stderr.WriteString("worker: " + err.Error() + "\n")
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startNode runs a real node in-process, as chat/server's tests do: SQLite
// in a temp dir, the memory broker, and the secret of a fresh data
// directory, which is returned for --data. Sends are not rate limited;
// mods change the configuration (the video test adds its SFU).
func startNode(t *testing.T, mods ...func(*server.Config)) (url, dataDir string) {
	t.Helper()
	t.Setenv("KINDRED_JWT_SECRET", "") // the data directory's secret must be the one used
	dataDir = t.TempDir()
	secret, err := auth.LoadOrCreateSecret(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(dataDir, "kindred.db"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewHMACVerifier(secret, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The tool scrapes /metrics on the node's port with the token in
	// $KINDRED_METRICS_TOKEN_FILE, as run.sh sets it up.
	const metricsToken = "bench-metrics-token-0123456789"
	tokenFile := filepath.Join(t.TempDir(), "metrics-token")
	if err := os.WriteFile(tokenFile, []byte(metricsToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KINDRED_METRICS_TOKEN_FILE", tokenFile)
	cfg := server.Config{
		Store: st, Broker: memory.NewBroker(), Presence: memory.NewPresence(), Verifier: v,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		SendRate: -1, QueueSize: 1 << 16, MetricsToken: metricsToken,
	}
	for _, mod := range mods {
		mod(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		hs.CloseClientConnections()
		_ = srv.Shutdown(ctx)
		hs.Close()
		st.Close()
	})
	return hs.URL, dataDir
}

// runBench runs the tool with args plus --json and returns the decoded
// report and the table it printed.
func runBench(t *testing.T, args ...string) (*report, string) {
	t.Helper()
	jsonPath := filepath.Join(t.TempDir(), "report.json")
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// A generous drain: it ends as soon as every message is in, and a
	// busy machine must not turn slowness into loss.
	if err := run(ctx, append(args, "--drain", "30s", "--json", jsonPath), &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, b)
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("table:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	return &rep, stdout.String()
}

// checkDelivery asserts that every acked message reached every member
// once: nothing lost, nothing doubled.
func checkDelivery(t *testing.T, rep *report, members int64) {
	t.Helper()
	c, m := rep.Connections, rep.Messages
	if c.Held != c.Target || c.ConnectErrors != 0 || c.Target == 0 {
		t.Errorf("connections: held %d of %d, %d connect errors (%v)", c.Held, c.Target, c.ConnectErrors, c.ConnectErrorKinds)
	}
	if m.Sent == 0 || m.Acked != m.Sent {
		t.Errorf("sent %d, acked %d; want some, all acked (errors %v)", m.Sent, m.Acked, m.SendErrors)
	}
	if m.Deliveries != m.Sent*members || m.Expected != m.Deliveries {
		t.Errorf("deliveries %d, expected %d; want sent×members = %d", m.Deliveries, m.Expected, m.Sent*members)
	}
	if m.Lost != 0 || m.Doubled != 0 {
		t.Errorf("lost %d, doubled %d; want none", m.Lost, m.Doubled)
	}
	l := rep.Latency
	if l.Count == 0 || l.P50 <= 0 || l.P90 < l.P50 || l.P99 < l.P90 || l.Max < l.P99 {
		t.Errorf("latency: %+v; want samples and p50 ≤ p90 ≤ p99 ≤ max", l)
	}
}

func TestSmokeRooms(t *testing.T) {
	url, data := startNode(t)
	chart := filepath.Join(t.TempDir(), "latency.svg")
	rep, table := runBench(t, "--url", url, "--data", data, "--workload", "rooms",
		"--rooms", "3", "--members", "3", "--rate", "20", "--size", "120",
		"--duration", "2s", "--warmup", "500ms", "--ramp", "0", "--chart", chart)
	checkDelivery(t, rep, 3)
	if rep.Connections.Target != 9 {
		t.Errorf("target %d connections; want 9", rep.Connections.Target)
	}
	if len(rep.PerSecond) == 0 {
		t.Error("no per-second series")
	}
	if n := len(rep.Server.Nodes); n != 1 || !rep.Server.Nodes[0].Scraped || rep.Server.RSSAfter == 0 {
		t.Errorf("server metrics not scraped: %+v", rep.Server)
	}
	co := rep.Cost
	if co.ServerPerStoredUs <= 0 || co.ServerPerDeliveryUs <= 0 || co.ToolPerDeliveryUs <= 0 || co.ServerPerStoredUs < co.ServerPerDeliveryUs {
		t.Errorf("CPU per unit %+v; want server per stored message ≥ per delivery > 0, tool > 0", co)
	}
	for _, want := range []string{"lost / doubled", "p50 / p90 / p99", "RSS per connection", "CPU per stored message / delivery", "CPU per delivery", "pinning"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	b, err := os.ReadFile(chart)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b, new(struct{})); err != nil || !bytes.Contains(b, []byte("<polyline")) {
		t.Errorf("chart is not an SVG with lines (%v):\n%.300s", err, b)
	}
}

// TestSmokeWorkersDM runs the DM workload in two worker processes (the
// test binary itself, see TestMain): the pairs' two sides live in
// different workers, so the merge of acks and results is exercised.
func TestSmokeWorkersDM(t *testing.T) {
	url, data := startNode(t)
	rep, _ := runBench(t, "--url", url, "--data", data, "--workload", "dm",
		"--conns", "8", "--rate", "20", "--duration", "1s", "--warmup", "0s", "--workers", "2", "--sample", "4")
	checkDelivery(t, rep, 2)
	if rep.Tool.Workers != 2 {
		t.Errorf("workers %d; want 2", rep.Tool.Workers)
	}
	// Every delivery is counted and checked; one in 4 per connection is
	// timed (each of the 8 connections may be one sample off).
	m, l := rep.Messages, rep.Latency
	if l.Every != 4 || m.Measured == 0 || l.Count < m.Measured/4-8 || l.Count > m.Measured/4+8 {
		t.Errorf("%d deliveries measured, %d timed (1 in %d); want a quarter", m.Measured, l.Count, l.Every)
	}
}

func TestSmokeIdle(t *testing.T) {
	url, data := startNode(t)
	args := []string{"--url", url, "--data", data, "--workload", "idle", "--conns", "20", "--rooms", "2", "--duration", "300ms"}
	if runtime.GOOS == "linux" {
		// Linux routes all of 127.0.0.0/8 to loopback; other systems
		// have only 127.0.0.1 unless configured.
		args = append(args, "--sources", "2")
	}
	rep, _ := runBench(t, args...)
	c := rep.Connections
	if c.Held != 20 || c.ConnectErrors != 0 || c.NotReady != 0 {
		t.Errorf("connections %+v; want 20 held and subscribed", c)
	}
	if rep.Messages.Sent != 0 || rep.Messages.Deliveries != 0 {
		t.Errorf("idle sent %d, received %d", rep.Messages.Sent, rep.Messages.Deliveries)
	}
}

func TestSeqTrackerGapsAndDuplicates(t *testing.T) {
	tr := newSeqTracker(10) // the session started after seq 10
	for _, s := range []int64{11, 12, 14, 12, 15, 200, 9} {
		tr.observe(s)
	}
	if tr.dups != 1 {
		t.Errorf("dups %d; want 1 (12 twice)", tr.dups)
	}
	if tr.early != 1 {
		t.Errorf("early %d; want 1 (9 is before the start)", tr.early)
	}
	if tr.contig != 12 || !tr.complete(12) || tr.complete(13) {
		t.Errorf("contig %d; want 12", tr.contig)
	}
	// Up to 15: 13 is missing. Up to 200: 13 and 16..199.
	for final, want := range map[int64]int64{10: 0, 12: 0, 13: 1, 15: 1, 16: 2, 200: 1 + 184, 300: 1 + 184 + 100} {
		if got := tr.missing(final); got != want {
			t.Errorf("missing(%d) = %d; want %d", final, got, want)
		}
	}
	tr.observe(13)
	if tr.contig != 15 || tr.missing(15) != 0 {
		t.Errorf("after 13: contig %d, missing %d; want 15, 0", tr.contig, tr.missing(15))
	}
	if got := tr.resume(); got != 200 {
		t.Errorf("resume from %d; want 200", got)
	}
}

// A reconnected session resumes from the highest sequence seen. What the
// server sends again at or below that position is a replay (a breach of
// the resume contract that a client deduplicating by seq absorbs), counted
// apart from a double above it, which no client asked for twice.
func TestSeqTrackerReplayAfterResume(t *testing.T) {
	tr := newSeqTracker(0)
	for s := int64(1); s <= 5; s++ {
		tr.observe(s)
	}
	tr.observe(3) // twice in the first session: a double
	if tr.resume() != 5 {
		t.Fatalf("resume from %d; want 5", tr.from)
	}
	for _, s := range []int64{4, 5, 6, 7, 7} { // 4 and 5 replayed, 7 doubled
		tr.observe(s)
	}
	if tr.dups != 2 || tr.replayed != 2 {
		t.Errorf("doubled %d, replayed %d; want 2 (3 and 7), 2 (4 and 5)", tr.dups, tr.replayed)
	}
	if tr.missing(7) != 0 || tr.early != 0 {
		t.Errorf("missing %d, early %d; want none", tr.missing(7), tr.early)
	}
}

func TestSeqTrackerAgainstSet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		base := r.Int64N(1000)
		tr := newSeqTracker(base)
		seen := map[int64]bool{}
		dups := 0
		for range r.IntN(3000) {
			s := base + 1 + r.Int64N(2000)
			if seen[s] {
				dups++
			}
			seen[s] = true
			tr.observe(s)
		}
		if tr.dups != int64(dups) {
			t.Fatalf("dups %d; want %d", tr.dups, dups)
		}
		final := base + r.Int64N(2500)
		var want int64
		for s := base + 1; s <= final; s++ {
			if !seen[s] {
				want++
			}
		}
		if got := tr.missing(final); got != want {
			t.Fatalf("base %d final %d: missing %d; want %d", base, final, got, want)
		}
	}
}

func TestHistPercentiles(t *testing.T) {
	h := newHist(latSub)
	var vals []int64
	r := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		// Log-uniform from 1 µs to about 10 s, like latencies.
		v := int64(math.Exp2(r.Float64() * 23))
		vals = append(vals, v)
		h.record(v)
	}
	slices.Sort(vals)
	s := h.snapshot()
	if s.Count != int64(len(vals)) || s.Max != vals[len(vals)-1] || s.Min != vals[0] {
		t.Fatalf("count %d max %d min %d", s.Count, s.Max, s.Min)
	}
	for _, p := range []float64{1, 50, 90, 99, 99.9, 100} {
		exact := vals[int(float64(len(vals))*p/100+0.5)-1]
		got := s.percentile(p)
		// Reported as the bucket's highest value: never below the
		// exact value, and above it by at most the precision.
		if got < exact || float64(got-exact) > float64(exact)/(1<<latSub)+1 {
			t.Errorf("p%g = %d; exact %d", p, got, exact)
		}
	}
}

func TestHistSmallValuesExact(t *testing.T) {
	h := newHist(latSub)
	for v := int64(1); v <= 100; v++ {
		h.record(v)
	}
	s := h.snapshot()
	for p, want := range map[float64]int64{50: 50, 90: 90, 99: 99, 100: 100} {
		if got := s.percentile(p); got != want {
			t.Errorf("p%g = %d; want %d", p, got, want)
		}
	}
	if empty := newHist(latSub).snapshot(); empty.percentile(50) != 0 {
		t.Error("empty histogram has a percentile")
	}
}

func TestHistMergeAndBucketBounds(t *testing.T) {
	for _, sub := range []uint{latSub, perSecSub} {
		prev := int64(-1)
		for i := 0; i <= histIndex(sub, histMaxValue); i++ {
			hi := histHighest(sub, i)
			if hi <= prev || histIndex(sub, hi) != i || histIndex(sub, prev+1) != i {
				t.Fatalf("sub %d: bucket %d spans (%d, %d]", sub, i, prev, hi)
			}
			prev = hi
		}
	}
	a, b, all := newHist(latSub), newHist(latSub), newHist(latSub)
	for v := int64(0); v < 5000; v += 7 {
		if v%2 == 0 {
			a.record(v * 13)
		} else {
			b.record(v * 13)
		}
		all.record(v * 13)
	}
	m := a.snapshot()
	m.merge(b.snapshot())
	want := all.snapshot()
	if m.Count != want.Count || m.Max != want.Max || m.Min != want.Min || !slices.Equal(m.Buckets, want.Buckets) {
		t.Errorf("merged %+v\nwant %+v", m, want)
	}
}

func TestParseMetrics(t *testing.T) {
	text := `# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 2.5165824e+07
process_cpu_seconds_total 1.5
kindred_frames_rejected_total{code="rate_limited"} 3
kindred_frames_rejected_total{code="a b"} 2
go_gc_duration_seconds{quantile="0"} 1e-05
`
	s, err := parseMetrics(bufio.NewScanner(strings.NewReader(text)))
	if err != nil {
		t.Fatal(err)
	}
	if s["process_resident_memory_bytes"] != 25165824 || s["process_cpu_seconds_total"] != 1.5 || s["kindred_frames_rejected_total"] != 5 {
		t.Errorf("parsed %v", s)
	}
	if _, ok := s["go_gc_duration_seconds"]; ok {
		t.Error("kept a series not asked for")
	}
}

func TestAppendSendAndStamp(t *testing.T) {
	now := time.Now().UnixNano()
	for _, size := range []int{1, 19, 20, 21, 200} {
		b := appendSend(nil, "r_abc", 7, now, size, false)
		var f struct{ Type, Conv, ID, Body string }
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("size %d: %v: %s", size, err, b)
		}
		if f.Type != "send" || f.Conv != "r_abc" || f.ID != "7" {
			t.Errorf("frame %s", b)
		}
		if len(f.Body) != max(size, 19) {
			t.Errorf("size %d: body has %d bytes", size, len(f.Body))
		}
		if ts, ok := parseStamp(f.Body); !ok || ts != now {
			t.Errorf("size %d: stamp %d, %v", size, ts, ok)
		}
	}
	b := appendSend(nil, "r_abc", 8, now, 200, true)
	var f struct{ Body string }
	if err := json.Unmarshal(b, &f); err != nil || len(f.Body) != 200 || !strings.Contains(f.Body, " "+crisisText+" ") {
		t.Errorf("crisis frame %s (%v)", b, err)
	}
	if ts, ok := parseStamp(f.Body); !ok || ts != now {
		t.Errorf("crisis body: stamp %d, %v", ts, ok)
	}
}

func TestBuildSpecs(t *testing.T) {
	cfg := &config{urls: []string{"http://a", "http://b"}, workload: workBroadcast, rooms: 2, members: 3, rate: 1, size: 10,
		duration: time.Second, timeout: time.Second, sources: 2}
	if err := cfg.check(); err == nil {
		t.Error("--sources accepted a non-loopback node")
	}
	cfg.sources = 0
	if err := cfg.check(); err != nil {
		t.Fatal(err)
	}
	specs := buildSpecs(cfg, plan{RunID: "x", Rooms: []string{"r1", "r2"}})
	if len(specs) != 6 {
		t.Fatalf("%d specs; want 6", len(specs))
	}
	var senders []int
	for _, s := range specs {
		if s.sender {
			senders = append(senders, s.idx)
		}
	}
	if !slices.Equal(senders, []int{0, 3}) || specs[4].room != "r2" || specs[1].url != 1 {
		t.Errorf("specs %+v", specs)
	}
	w0, w1 := shardSpecs(specs, 0, 2), shardSpecs(specs, 1, 2)
	if len(w0)+len(w1) != 6 || w0[1].idx != 2 || w1[0].idx != 1 {
		t.Errorf("shards %+v %+v", w0, w1)
	}
}

// --crisis adds one supervisor connection after the rooms' members and
// gives the first sender of each of the first rooms one crisis message,
// spread over the measured part of the run.
func TestBuildSpecsCrisis(t *testing.T) {
	cfg := &config{urls: []string{"http://a"}, workload: workRooms, rooms: 3, members: 2, rate: 1, size: 10,
		duration: 4 * time.Second, warmup: time.Second, timeout: time.Second, crisis: 2}
	if err := cfg.check(); err != nil {
		t.Fatal(err)
	}
	specs := buildSpecs(cfg, plan{RunID: "x", Rooms: []string{"r1", "r2", "r3"}})
	if len(specs) != 7 || !specs[6].supervisor || specs[6].room != "" || specs[6].sender {
		t.Fatalf("specs %+v; want 6 members and a supervisor", specs)
	}
	var at []time.Duration
	for _, s := range specs {
		if s.crisisAt > 0 {
			at = append(at, s.crisisAt)
		}
	}
	if !slices.Equal(at, []time.Duration{2 * time.Second, 4 * time.Second}) || specs[0].crisisAt == 0 || specs[2].crisisAt == 0 {
		t.Errorf("crisis times %v; want 2s and 4s, from members 0 and 2", at)
	}
	cfg.crisis, cfg.workload = 4, workRooms
	if err := cfg.check(); err == nil {
		t.Error("--crisis above --rooms accepted")
	}
}

// TestSmokeRoomsReconnect drops every client connection of the node
// several times while the load runs, as a node killed under its clients
// would: the tool reconnects, resumes, resends what was not acked with the
// same ids, and must still count every acked message delivered to every
// member once, with nothing unacked, lost, doubled or replayed.
func TestSmokeRoomsReconnect(t *testing.T) {
	url, data := startNode(t)
	// The cuts start with the load (the tool writes --start-file then):
	// a first connection cut before its welcome is a failed connect, not
	// a reconnect.
	startFile := filepath.Join(t.TempDir(), "start")
	proxy := droppingProxy(t, url, 700*time.Millisecond, func() bool {
		_, err := os.Stat(startFile)
		return err == nil
	})
	rep, _ := runBench(t, "--url", proxy, "--data", data, "--workload", "rooms",
		"--rooms", "3", "--members", "3", "--rate", "20", "--size", "120",
		"--duration", "3s", "--warmup", "0s", "--ramp", "0", "--start-file", startFile)
	c, m := rep.Connections, rep.Messages
	if c.Reconnects == 0 || c.ConnectErrors != 0 {
		t.Fatalf("%d reconnects, %d connect errors (%v); want some reconnects and no failed first connection (closes %v)",
			c.Reconnects, c.ConnectErrors, c.ConnectErrorKinds, c.Closes)
	}
	if m.Resent == 0 || m.DupAcks == 0 {
		t.Errorf("resent %d, acked as duplicates %d; want some of each (sends whose acks were cut off)", m.Resent, m.DupAcks)
	}
	if m.Sent == 0 || m.Acked != m.Sent+m.SendFailed || m.Unacked != 0 {
		t.Errorf("sent %d (+%d failed writes), acked %d, unacked %d; want every send acked (errors %v)",
			m.Sent, m.SendFailed, m.Acked, m.Unacked, m.SendErrors)
	}
	if m.Lost != 0 || m.Doubled != 0 || m.Replayed != 0 || m.Expected != m.Acked*3 {
		t.Errorf("lost %d, doubled %d, replayed %d, expected %d; want none, none, none, acked×3 = %d",
			m.Lost, m.Doubled, m.Replayed, m.Expected, m.Acked*3)
	}
}

// droppingProxy forwards TCP connections to the node at target and, once
// armed says so, every period cuts each WebSocket connection through it
// that is older than a third of the period, without a close frame, as a
// killed node or a broken network would. For a fifth of the period before the cut it drops what the
// node sends, so that sends are stored whose acks never arrive. Other
// requests (the setup's API calls) pass untouched. It returns the proxy's
// base URL.
func droppingProxy(t *testing.T, target string, period time.Duration, armed func() bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns = map[net.Conn]time.Time{} // WebSocket client sides, by when they opened
		mute  = map[net.Conn]bool{}      // their node-to-client bytes are dropped
		wg    sync.WaitGroup
		done  = make(chan struct{})
	)
	cut := func(all bool) {
		mu.Lock()
		defer mu.Unlock()
		for c := range mute {
			c.Close()
			delete(conns, c)
		}
		clear(mute)
		for c, at := range conns {
			if all {
				c.Close()
			} else if time.Since(at) > period/3 {
				mute[c] = true
			}
		}
	}
	muted := func(c net.Conn) bool {
		mu.Lock()
		defer mu.Unlock()
		return mute[c]
	}
	handle := func(c net.Conn) {
		defer wg.Done()
		defer c.Close()
		up, err := net.Dial("tcp", strings.TrimPrefix(target, "http://"))
		if err != nil {
			return
		}
		defer up.Close()
		br := bufio.NewReader(c)
		if head, _ := br.Peek(7); string(head) == "GET /ws" {
			mu.Lock()
			conns[c] = time.Now()
			mu.Unlock()
		}
		go func() {
			_, _ = io.Copy(up, br)
			up.Close()
		}()
		buf := make([]byte, 32<<10)
		for {
			n, err := up.Read(buf)
			if n > 0 && !muted(c) {
				if _, werr := c.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go handle(c)
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			// Mute at 4/5 of each period, cut at its end.
			wait := period * 4 / 5
			if i%2 == 1 {
				wait = period / 5
			}
			select {
			case <-done:
				return
			case <-time.After(wait):
				if armed() {
					cut(false)
				}
			}
		}
	}()
	t.Cleanup(func() {
		close(done)
		ln.Close()
		cut(true)
		wg.Wait()
	})
	return "http://" + ln.Addr().String()
}

func TestChartRendersWithoutData(t *testing.T) {
	var b bytes.Buffer
	if err := renderChart(&b, &report{Workload: "rooms", PerSecond: make([]secReport, 3)}); err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(b.Bytes(), new(struct{})); err != nil || !strings.Contains(b.String(), "no deliveries") {
		t.Errorf("chart without data: %v", err)
	}
}
