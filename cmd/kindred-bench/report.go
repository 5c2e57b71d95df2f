package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// report is the run's outcome, printed as a table and written as JSON.
type report struct {
	Workload    string           `json:"workload"`
	URLs        []string         `json:"urls"`
	RunID       string           `json:"run_id"`
	Settings    settings         `json:"settings"`
	Connections connReport       `json:"connections"`
	Server      serverReport     `json:"server"`
	Messages    msgReport        `json:"messages"`
	Latency     latReport        `json:"latency_ms"`
	PerSecond   []secReport      `json:"per_second,omitempty"`
	Frames      map[string]int64 `json:"frames_received,omitempty"`
	Tool        toolReport       `json:"tool"`
	Cost        costReport       `json:"cpu_per_unit"`
	Host        *hostReport      `json:"host_cpu,omitempty"`
	Phases      phases           `json:"phases_seconds"`
	LoadStart   time.Time        `json:"load_start"` // per_second's t counts seconds from here
	Warnings    []string         `json:"warnings,omitempty"`
}

type settings struct {
	Conns     int     `json:"conns"`
	Rooms     int     `json:"rooms"`
	Members   int     `json:"members,omitempty"`
	Rate      float64 `json:"rate_per_sender"`
	Size      int     `json:"size_bytes"`
	DurationS float64 `json:"duration_s"`
	WarmupS   float64 `json:"warmup_s"`
	Ramp      float64 `json:"ramp_per_s"`
	Sources   int     `json:"sources"`
	Workers   int     `json:"workers"`
}

type connReport struct {
	Target            int64            `json:"target"`
	Opened            int64            `json:"opened"`
	Held              int64            `json:"held"`
	ConnectErrors     int64            `json:"connect_errors"`
	ConnectErrorKinds map[string]int64 `json:"connect_error_kinds,omitempty"`
	NotReady          int64            `json:"not_ready"`
	Reconnects        int64            `json:"reconnects"`
	Closes            map[string]int64 `json:"closes_by_code,omitempty"`
}

type nodeReport struct {
	URL            string  `json:"url"`
	RSSBefore      int64   `json:"rss_before_bytes"`
	RSSAfter       int64   `json:"rss_after_bytes"`
	RSSEnd         int64   `json:"rss_end_bytes"`
	CPUSeconds     float64 `json:"cpu_seconds"`
	CPULoadSeconds float64 `json:"cpu_load_seconds"`
	Goroutines     int64   `json:"goroutines_after"`
	Connections    int64   `json:"connections_after"`
	OverflowCloses int64   `json:"queue_overflow_closes"`
	Rejected       int64   `json:"frames_rejected"`
	Catchups       int64   `json:"catchups"`
	Stored         int64   `json:"messages_stored"`
	FramesSent     int64   `json:"frames_sent"`
	SocketWrites   int64   `json:"socket_writes"`
	Scraped        bool    `json:"scraped"`
}

type serverReport struct {
	Nodes          []nodeReport `json:"nodes"`
	RSSBefore      int64        `json:"rss_before_bytes"`
	RSSAfter       int64        `json:"rss_after_bytes"`
	RSSEnd         int64        `json:"rss_end_bytes"`
	RSSPerConn     float64      `json:"rss_per_conn_bytes"`
	CPUSeconds     float64      `json:"cpu_seconds"`
	CPULoadSeconds float64      `json:"cpu_load_seconds"`
	OverflowCloses int64        `json:"queue_overflow_closes"`
	Rejected       int64        `json:"frames_rejected"`
	Catchups       int64        `json:"catchups"`
}

type msgReport struct {
	Sent           int64            `json:"sent"`
	Resent         int64            `json:"resent"`
	CrisisSent     int64            `json:"crisis_sent,omitempty"`
	Acked          int64            `json:"acked"`
	DupAcks        int64            `json:"duplicate_acks"`
	Unacked        int64            `json:"unacked"`
	Skipped        int64            `json:"skipped"`
	SendFailed     int64            `json:"send_failed"`
	SendErrors     map[string]int64 `json:"send_errors,omitempty"`
	OtherErrors    map[string]int64 `json:"other_errors,omitempty"`
	Deliveries     int64            `json:"deliveries"`
	Measured       int64            `json:"measured_deliveries"` // first deliveries of messages sent in the measured window
	Expected       int64            `json:"expected_deliveries"`
	Lost           int64            `json:"lost"`
	Doubled        int64            `json:"doubled"`
	Replayed       int64            `json:"replayed"`
	Early          int64            `json:"before_start"`
	UnknownConv    int64            `json:"unknown_conversation"`
	SentPerS       float64          `json:"sent_per_s"`
	DeliveriesPerS float64          `json:"deliveries_per_s"`
}

type latReport struct {
	Count int64   `json:"count"`        // deliveries timed
	Every int     `json:"sample_every"` // one delivery in this many is timed (--sample)
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
}

type secReport struct {
	T     int     `json:"t"`
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

type toolReport struct {
	CPUSeconds     float64 `json:"cpu_seconds"`
	CPULoadSeconds float64 `json:"cpu_load_seconds"`
	Workers        int     `json:"workers"`
	FileLimit      uint64  `json:"open_file_limit"`
}

// hostReport is the whole machine's CPU from the start of the load to the
// end of the drain, the window of the server's and the tool's load CPU.
// What neither used went to other processes, which on a shared machine
// compete with the server and skew latency.
type hostReport struct {
	CoreSeconds  float64 `json:"core_seconds"`
	BusySeconds  float64 `json:"busy_seconds"`
	OtherSeconds float64 `json:"other_processes_seconds"`
}

type phases struct {
	Setup   float64 `json:"setup"`
	Connect float64 `json:"connect"`
	Ready   float64 `json:"ready"`
	Load    float64 `json:"load"`
	Drain   float64 `json:"drain"`
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// ms converts microseconds to milliseconds, to the microsecond.
func ms(us int64) float64 { return float64(us) / 1000 }

func latencyOf(h *histSnap) latReport {
	return latReport{
		Count: h.Count,
		Mean:  math.Round(h.mean()) / 1000,
		P50:   ms(h.percentile(50)),
		P90:   ms(h.percentile(90)),
		P99:   ms(h.percentile(99)),
		P999:  ms(h.percentile(99.9)),
		Max:   ms(h.Max),
	}
}

// nodesReport turns the scrapes (before connecting, after connecting, at
// the start of the load, at the end) into per-node figures and totals.
func nodesReport(urls []string, before, after, loadStart, end []sample, held int64) serverReport {
	var s serverReport
	for i, u := range urls {
		n := nodeReport{URL: u}
		b, a, l, e := before[i], after[i], loadStart[i], end[i]
		if b != nil && a != nil && l != nil && e != nil {
			n.Scraped = true
			n.RSSBefore = int64(b["process_resident_memory_bytes"])
			n.RSSAfter = int64(a["process_resident_memory_bytes"])
			n.RSSEnd = int64(e["process_resident_memory_bytes"])
			n.CPUSeconds = e["process_cpu_seconds_total"] - b["process_cpu_seconds_total"]
			n.CPULoadSeconds = e["process_cpu_seconds_total"] - l["process_cpu_seconds_total"]
			n.Goroutines = int64(a["go_goroutines"])
			n.Connections = int64(a["kindred_connections"])
			delta := func(k string) int64 { return int64(e[k] - b[k]) }
			n.OverflowCloses = delta("kindred_queue_overflow_closes_total")
			n.Rejected = delta("kindred_frames_rejected_total")
			n.Catchups = delta("kindred_catchups_total")
			n.Stored = delta("kindred_messages_stored_total")
			n.FramesSent = delta("kindred_frames_sent_total")
			n.SocketWrites = delta("kindred_socket_writes_total")
		}
		s.Nodes = append(s.Nodes, n)
		s.RSSBefore += n.RSSBefore
		s.RSSAfter += n.RSSAfter
		s.RSSEnd += n.RSSEnd
		s.CPUSeconds += n.CPUSeconds
		s.CPULoadSeconds += n.CPULoadSeconds
		s.OverflowCloses += n.OverflowCloses
		s.Rejected += n.Rejected
		s.Catchups += n.Catchups
	}
	if held > 0 {
		s.RSSPerConn = math.Round(float64(s.RSSAfter-s.RSSBefore) / float64(held))
	}
	return s
}

func buildReport(cfg *config, p plan, r *shardResult, srv serverReport, ph phases, host *hostReport, workers int, limit uint64, warnings []string) *report {
	rep := &report{
		Workload: cfg.workload, URLs: cfg.urls, RunID: p.RunID,
		Settings: settings{
			Conns: cfg.conns, Rooms: cfg.rooms, Rate: cfg.rate, Size: cfg.size,
			DurationS: cfg.duration.Seconds(), WarmupS: cfg.warmup.Seconds(), Ramp: cfg.ramp,
			Sources: cfg.sources, Workers: workers,
		},
		Connections: connReport{
			Target: r.Target, Opened: r.Opened, Held: r.Held, ConnectErrors: r.ConnectErrors,
			ConnectErrorKinds: r.ConnectErrorKinds, NotReady: r.NotReady, Reconnects: r.Reconnects, Closes: r.Closes,
		},
		Server: srv,
		Messages: msgReport{
			Sent: r.Sent, Resent: r.Resent, CrisisSent: r.CrisisSent, Acked: r.Acked, DupAcks: r.DupAcks,
			Unacked: r.Unacked, Skipped: r.Skipped, SendFailed: r.SendFailed,
			SendErrors: r.SendErrors, OtherErrors: r.OtherErrors,
			Deliveries: r.Deliveries, Measured: r.Measured, Expected: r.Expected, Lost: r.Lost, Doubled: r.Doubled, Replayed: r.Replayed,
			Early: r.Early, UnknownConv: r.UnknownConv,
		},
		Latency: latencyOf(&r.Latency),
		Cost:    costs(srv, r),
		Frames:  r.Frames,
		Tool: toolReport{
			CPUSeconds: round2(r.ToolCPU), CPULoadSeconds: round2(r.ToolLoadCPU),
			Workers: workers, FileLimit: limit,
		},
		Phases:   ph,
		Warnings: warnings,
	}
	rep.Latency.Every = cfg.sample
	if host != nil {
		allLocal := true
		for _, u := range cfg.urls {
			allLocal = allLocal && isLoopbackURL(u)
		}
		host.CoreSeconds, host.BusySeconds = round2(host.CoreSeconds), round2(host.BusySeconds)
		if allLocal {
			// Only when every node runs here is its CPU part of the
			// machine's.
			host.OtherSeconds = round2(max(0, host.BusySeconds-srv.CPULoadSeconds-r.ToolLoadCPU))
		}
		rep.Host = host
	}
	if cfg.workload == workRooms || cfg.workload == workBroadcast {
		rep.Settings.Members = cfg.members
	}
	if cfg.senders() {
		rep.Messages.SentPerS = math.Round(float64(r.Sent) / (cfg.warmup + cfg.duration).Seconds())
		rep.Messages.DeliveriesPerS = math.Round(float64(r.Measured) / cfg.duration.Seconds())
		for i := range r.PerSecond {
			h := &r.PerSecond[i]
			rep.PerSecond = append(rep.PerSecond, secReport{T: i, Count: h.Count, P50: ms(h.percentile(50)), P99: ms(h.percentile(99)), Max: ms(h.Max)})
		}
	}
	return rep
}

func writeJSON(path string, rep *report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// mib formats bytes as MiB.
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func counts(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// describe says in a few words what the run did.
func describe(rep *report) string {
	s := rep.Settings
	desc := fmt.Sprintf("%d conns", s.Conns)
	switch rep.Workload {
	case workRooms, workBroadcast:
		desc = fmt.Sprintf("%s × %d members", plural(s.Rooms, "room"), s.Members)
	case workIdle:
		if s.Rooms > 0 {
			desc += " in " + plural(s.Rooms, "room")
		}
	}
	if rep.Workload != workIdle {
		desc += fmt.Sprintf(", %g msg/s per sender, %d B", s.Rate, s.Size)
	}
	return desc
}

// printTable writes the report for a person.
func printTable(w io.Writer, rep *report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(k string, format string, a ...any) {
		fmt.Fprintf(tw, "  %s\t"+format+"\n", append([]any{k}, a...)...)
	}
	s, c, m, l, sv := rep.Settings, rep.Connections, rep.Messages, rep.Latency, rep.Server

	desc := describe(rep)
	fmt.Fprintf(tw, "kindred-bench %s: %s, %s (+%s warmup) against %s\n", rep.Workload, desc,
		time.Duration(s.DurationS*float64(time.Second)), time.Duration(s.WarmupS*float64(time.Second)), strings.Join(rep.URLs, ", "))
	fmt.Fprintln(tw, "connections")
	row("held", "%d of %d (opened %d)", c.Held, c.Target, c.Opened)
	row("connect errors", "%d%s", c.ConnectErrors, kindsSuffix(c.ConnectErrorKinds))
	if c.NotReady > 0 {
		row("not subscribed in time", "%d", c.NotReady)
	}
	row("server closes", "%s (reconnects %d)", counts(c.Closes), c.Reconnects)
	fmt.Fprintln(tw, "server")
	row("RSS before / after connecting", "%s / %s (end %s)", mib(sv.RSSBefore), mib(sv.RSSAfter), mib(sv.RSSEnd))
	row("RSS per connection", "%.1f KiB", sv.RSSPerConn/1024)
	row("CPU seconds", "%.2f (during load %.2f)", sv.CPUSeconds, sv.CPULoadSeconds)
	if co := rep.Cost; co.ServerPerStoredUs > 0 {
		row("CPU per stored message / delivery", "%.1f / %.1f µs (CPU during load over messages acked / deliveries)", co.ServerPerStoredUs, co.ServerPerDeliveryUs)
	}
	row("queue-overflow closes (4008)", "%d", sv.OverflowCloses)
	row("frames rejected", "%d", sv.Rejected)
	if len(sv.Nodes) > 1 {
		for _, n := range sv.Nodes {
			row("  "+n.URL, "RSS %s → %s, CPU %.2f s, %d connections", mib(n.RSSBefore), mib(n.RSSAfter), n.CPUSeconds, n.Connections)
		}
	}
	if rep.Workload != workIdle {
		fmt.Fprintln(tw, "messages")
		row("sent / acked", "%d / %d (%.0f/s sent)", m.Sent, m.Acked, m.SentPerS)
		if m.Resent+m.DupAcks+m.CrisisSent > 0 {
			row("resent / acked as duplicates", "%d / %d (crisis messages %d)", m.Resent, m.DupAcks, m.CrisisSent)
		}
		if m.Unacked+m.Skipped+m.SendFailed > 0 || len(m.SendErrors) > 0 {
			row("not acked / skipped / failed", "%d / %d / %d", m.Unacked, m.Skipped, m.SendFailed)
			row("send errors", "%s", counts(m.SendErrors))
		}
		row("deliveries", "%d of %d expected", m.Deliveries-m.Doubled-m.Replayed, m.Expected)
		row("lost / doubled", "%d / %d", m.Lost, m.Doubled)
		if m.Replayed > 0 {
			row("replayed at or below a resume position", "%d", m.Replayed)
		}
		row("deliveries/s (measured)", "%.0f", m.DeliveriesPerS)
		fmt.Fprintln(tw, "latency (send → receive)")
		row("p50 / p90 / p99", "%.2f / %.2f / %.2f ms", l.P50, l.P90, l.P99)
		row("p99.9 / max", "%.2f / %.2f ms (%d samples: 1 delivery in %d timed)", l.P999, l.Max, l.Count, l.Every)
	}
	if len(m.OtherErrors) > 0 {
		row("other error frames", "%s", counts(m.OtherErrors))
	}
	fmt.Fprintln(tw, "tool")
	procs := ""
	if rep.Tool.Workers > 1 {
		procs = fmt.Sprintf(", %d worker processes", rep.Tool.Workers)
	}
	row("CPU seconds", "%.2f (during load %.2f%s)", rep.Tool.CPUSeconds, rep.Tool.CPULoadSeconds, procs)
	if rep.Cost.ToolPerDeliveryUs > 0 {
		row("CPU per delivery", "%.1f µs", rep.Cost.ToolPerDeliveryUs)
	}
	row("pinning", "%s", rep.Cost.pinning())
	if h := rep.Host; h != nil {
		row("machine CPU during load", "%.1f of %.1f core-seconds busy; other processes %.1f", h.BusySeconds, h.CoreSeconds, h.OtherSeconds)
	}
	row("phases", "setup %.1fs, connect %.1fs, subscribe %.1fs, load %.1fs, drain %.1fs",
		rep.Phases.Setup, rep.Phases.Connect, rep.Phases.Ready, rep.Phases.Load, rep.Phases.Drain)
	for _, wmsg := range rep.Warnings {
		row("warning", "%s", wmsg)
	}
	return tw.Flush()
}

// plural writes "1 room" or "3 rooms".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func kindsSuffix(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	return " (" + counts(m) + ")"
}
