package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"
)

var (
	errUsage = errors.New("usage")
	errHelp  = errors.New("help")
)

// The workloads.
const (
	workIdle      = "idle"
	workRooms     = "rooms"
	workBroadcast = "broadcast"
	workDM        = "dm"
)

// config is the parsed command line.
type config struct {
	args []string // as given, for re-executing workers

	urls      []string // base URLs, no trailing slash
	data      string
	secretEnv string

	workload string
	conns    int
	rooms    int
	members  int
	rate     float64
	size     int
	crisis   int
	sample   int // time one delivery in this many (after check: at least 1)

	duration time.Duration
	warmup   time.Duration
	drain    time.Duration
	ramp     float64
	timeout  time.Duration

	jsonPath   string
	cpuProfile string
	startFile  string
	chartPath  string
	progress   bool
	reconnect  bool
	failover   time.Duration

	sources     int
	workers     int
	workerIndex int // -1 in the parent
}

// hiddenFlags are not listed by --help: they are the parent's way of
// talking to its workers.
var hiddenFlags = map[string]bool{"worker-index": true}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{args: args}
	fs := flag.NewFlagSet("kindred-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	urls := fs.String("url", "http://127.0.0.1:8080", "base URL of the node, or a comma-separated list of nodes; connections are spread over them round-robin")
	fs.StringVar(&c.data, "data", "", "the server's data directory, to read its token secret (jwt-secret) from")
	fs.StringVar(&c.secretEnv, "secret-env", "KINDRED_JWT_SECRET", "environment variable holding the server's token secret; used when set, before --data (as the server does)")
	fs.StringVar(&c.workload, "workload", workRooms, "idle, rooms, broadcast or dm")
	fs.IntVar(&c.conns, "conns", 100, "connections, for idle and dm (rooms and broadcast open rooms×members)")
	fs.IntVar(&c.rooms, "rooms", -1, "rooms (default: 10 for rooms, 1 for broadcast, 0 for idle: idle connections join these rooms round-robin when set)")
	fs.IntVar(&c.members, "members", 10, "connections per room, for rooms and broadcast")
	fs.Float64Var(&c.rate, "rate", 1, "messages per second per sender (rooms: every member; broadcast: one per room; dm: both sides)")
	fs.IntVar(&c.size, "size", 200, "message body bytes (at least the 19-digit send timestamp)")
	fs.IntVar(&c.crisis, "crisis", 0, "rooms: this many crisis messages (one sender each in the first rooms, spread over the run), and a supervisor connection put on call as primary to be paged")
	fs.DurationVar(&c.duration, "duration", 30*time.Second, "how long to send (idle: how long to hold the connections), after the warmup")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "sending before measuring: latencies of messages sent then are not recorded")
	fs.DurationVar(&c.drain, "drain", 15*time.Second, "after sending stops, the longest wait for acks and for every receiver to get every message")
	fs.Float64Var(&c.ramp, "ramp", 500, "connections opened per second (0: as fast as possible)")
	fs.DurationVar(&c.timeout, "connect-timeout", 15*time.Second, "limit for one connection's dial, upgrade and welcome")
	fs.StringVar(&c.jsonPath, "json", "", "also write the report as JSON to this file")
	fs.IntVar(&c.sample, "sample", 0, "time one delivery in this many for the latency figures (every delivery is still checked for loss, doubles and order, and counted); 0: 1 in as many as keep about 100,000 timed deliveries in the measured window, at most 10")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the tool to this file (a worker process to FILE.N)")
	fs.StringVar(&c.chartPath, "chart", "", "write an SVG chart of p50 and p99 latency per second to this file")
	fs.StringVar(&c.startFile, "start-file", "", "write the load's start time (unix nanoseconds) to this file when it is set, for a script that times events against the run (chaos.sh)")
	fs.BoolVar(&c.progress, "progress", false, "show progress on stderr even when it is not a terminal")
	fs.BoolVar(&c.reconnect, "reconnect", true, "reconnect and resume when the server closes a connection during the run, as a real client does")
	fs.DurationVar(&c.failover, "failover-after", time.Second, "with several nodes, how long a connection's node may refuse its reconnects before it tries the next node")
	fs.IntVar(&c.sources, "sources", 0, "spread connections over this many loopback source addresses (127.0.0.2, 127.0.0.3, …), about 28,000 connections each; 0: let the kernel choose")
	fs.IntVar(&c.workers, "workers", 0, "worker processes (0: as many as the open-file limit needs)")
	fs.IntVar(&c.workerIndex, "worker-index", -1, "internal: run as this worker of a parent")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: kindred-bench [flags]

Load-tests running Kindred nodes with real WebSocket clients and reports
connections held, server memory and CPU, deliveries, loss, duplicates and
end-to-end latency.

Flags:
`)
		fs.VisitAll(func(f *flag.Flag) {
			if hiddenFlags[f.Name] {
				return
			}
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(stderr, "  --%s %s\n    \t%s", f.Name, name, usage)
			if f.DefValue != "" && f.DefValue != "0" && f.DefValue != "false" {
				fmt.Fprintf(stderr, " (default %s)", f.DefValue)
			}
			fmt.Fprintln(stderr)
		})
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, errHelp
		}
		return nil, errUsage
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags only)", fs.Arg(0))
	}
	for u := range strings.SplitSeq(*urls, ",") {
		u = strings.TrimRight(strings.TrimSpace(u), "/")
		if u == "" {
			continue
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, fmt.Errorf("--url %q: want http://host:port or https://host:port", u)
		}
		c.urls = append(c.urls, u)
	}
	if len(c.urls) == 0 {
		return nil, errors.New("--url: give at least one node")
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return c, nil
}

// check validates the settings and fills workload defaults.
func (c *config) check() error {
	switch c.workload {
	case workIdle:
		if c.rooms < 0 {
			c.rooms = 0
		}
		c.warmup = 0 // nothing is sent, so nothing to warm up
	case workRooms:
		if c.rooms < 0 {
			c.rooms = 10
		}
	case workBroadcast:
		if c.rooms < 0 {
			c.rooms = 1
		}
	case workDM:
		c.rooms = 0
	default:
		return fmt.Errorf("--workload %q: want idle, rooms, broadcast or dm", c.workload)
	}
	switch c.workload {
	case workRooms, workBroadcast:
		if c.rooms < 1 || c.members < 1 {
			return fmt.Errorf("--workload %s needs --rooms and --members of at least 1", c.workload)
		}
		c.conns = c.rooms * c.members
		if c.crisis > 0 {
			c.conns++ // the supervisor on call
		}
	case workDM:
		if c.conns < 2 {
			return errors.New("--workload dm needs --conns of at least 2")
		}
		c.conns -= c.conns % 2 // pairs
	}
	if c.conns < 1 {
		return errors.New("--conns must be at least 1")
	}
	if c.crisis < 0 || c.crisis > 0 && (c.workload != workRooms || c.crisis > c.rooms) {
		return errors.New("--crisis: with --workload rooms, at most one per room")
	}
	if c.workload != workIdle && !(c.rate > 0) {
		return errors.New("--rate must be positive")
	}
	if c.size < 1 || c.duration <= 0 || c.warmup < 0 || c.drain < 0 || c.ramp < 0 || c.timeout <= 0 {
		return errors.New("--size, --duration and --connect-timeout must be positive; --warmup, --drain and --ramp not negative")
	}
	if c.sources < 0 || c.sources > 253 {
		return errors.New("--sources: 0 to 253 (127.0.0.2 to 127.0.0.254)")
	}
	if c.sources > 0 {
		for _, u := range c.urls {
			p, _ := url.Parse(u)
			if ip := net.ParseIP(p.Hostname()); ip == nil || !ip.IsLoopback() || ip.To4() == nil {
				return fmt.Errorf("--sources needs IPv4 loopback nodes (127.x.x.x), not %s", p.Host)
			}
		}
	}
	if c.workers < 0 {
		return errors.New("--workers must not be negative")
	}
	if c.sample < 0 {
		return errors.New("--sample must not be negative")
	}
	if c.sample == 0 {
		c.sample = c.autoSample()
	}
	return nil
}

// autoSample picks --sample when it is not given: time one delivery in N,
// where N keeps about 100,000 timed deliveries in the measured window
// (1,000 beyond p99, 100 beyond p99.9), between 1 and 10.
func (c *config) autoSample() int {
	var senders, perMsg float64
	switch c.workload {
	case workRooms:
		senders, perMsg = float64(c.rooms*c.members), float64(c.members)
	case workBroadcast:
		senders, perMsg = float64(c.rooms), float64(c.members)
	case workDM:
		senders, perMsg = float64(c.conns), 2
	default:
		return 1
	}
	n := int(senders * c.rate * c.duration.Seconds() * perMsg / 100_000)
	return max(1, min(n, 10))
}

// isLoopbackURL reports whether base URL u names a loopback address.
func isLoopbackURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	if p.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(p.Hostname())
	return ip != nil && ip.IsLoopback()
}

// senders says whether the workload sends messages.
func (c *config) senders() bool { return c.workload != workIdle }
