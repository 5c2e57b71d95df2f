package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
)

// videoConfig is the command line of `kindred-bench video`.
type videoConfig struct {
	url       string // base URL of the node, no trailing slash
	data      string
	secretEnv string

	sessions int
	people   int // per session, the host included

	duration time.Duration // measured
	warmup   time.Duration // media flowing before measuring
	timeout  time.Duration // one participant's sign-in, join and first media

	videoKbps float64
	fps       int
	audioKbps float64
	keyEvery  time.Duration
	loopback  bool

	jsonPath string
}

func parseVideoFlags(args []string, stderr io.Writer) (*videoConfig, error) {
	c := &videoConfig{}
	fs := flag.NewFlagSet("kindred-bench video", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.url, "url", "http://127.0.0.1:8080", "base URL of the node")
	fs.StringVar(&c.data, "data", "", "the server's data directory, to read its token secret (jwt-secret) from")
	fs.StringVar(&c.secretEnv, "secret-env", "KINDRED_JWT_SECRET", "environment variable holding the server's token secret; used when set, before --data")
	fs.IntVar(&c.sessions, "sessions", 1, "video sessions, each in its own room with a specialist as host")
	fs.IntVar(&c.people, "people", 3, "participants per session, the host included; each publishes audio and video and subscribes to everyone else")
	fs.DurationVar(&c.duration, "duration", 20*time.Second, "how long to measure, after the warm-up")
	fs.DurationVar(&c.warmup, "warmup", 3*time.Second, "media flowing after everyone joined, before measuring")
	fs.DurationVar(&c.timeout, "timeout", 20*time.Second, "limit for one participant's sign-in, join and ICE connection")
	fs.Float64Var(&c.videoKbps, "video-kbps", 500, "video bit rate per publisher, kbit/s (VP8-shaped RTP, packets of about 1200 bytes)")
	fs.IntVar(&c.fps, "fps", 30, "video frames per second")
	fs.Float64Var(&c.audioKbps, "audio-kbps", 32, "audio bit rate per publisher, kbit/s (Opus-shaped RTP, 50 packets a second)")
	fs.DurationVar(&c.keyEvery, "keyframe-interval", 2*time.Second, "a key frame this often, and on every PLI or FIR")
	fs.BoolVar(&c.loopback, "loopback", true, "keep the tool's ICE on 127.0.0.1 (the node must offer loopback candidates too)")
	fs.StringVar(&c.jsonPath, "json", "", "also write the report as JSON to this file")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: kindred-bench video [flags]

Load-tests a node's video SFU with pion participants: each signs in over the
WebSocket, joins its session, publishes synthetic VP8 and Opus RTP and
subscribes to everyone else. Reports forwarded tracks, server CPU per
forwarded video track-second, join-to-first-frame times, server memory per
participant, packet loss and the tool's own CPU.

Flags:
`)
		fs.PrintDefaults()
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
	c.url = strings.TrimRight(strings.TrimSpace(c.url), "/")
	if p, err := url.Parse(c.url); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return nil, fmt.Errorf("--url %q: want http://host:port or https://host:port", c.url)
	}
	return c, c.check()
}

func (c *videoConfig) check() error {
	switch {
	case c.sessions < 1:
		return errors.New("--sessions must be at least 1")
	case c.people < 2:
		return errors.New("--people must be at least 2: one publishes, the others subscribe")
	case c.duration <= 0 || c.warmup < 0 || c.timeout <= 0:
		return errors.New("--duration and --timeout must be positive, --warmup not negative")
	case !(c.videoKbps > 0) || c.fps < 1 || c.fps > 120 || !(c.audioKbps > 0) || c.keyEvery <= 0:
		return errors.New("--video-kbps, --audio-kbps and --keyframe-interval must be positive, --fps 1 to 120")
	}
	return nil
}

// participants is the number of pion participants the run drives.
func (c *videoConfig) participants() int { return c.sessions * c.people }

// wsURL is the node's WebSocket endpoint.
func (c *videoConfig) wsURL() string { return "ws" + strings.TrimPrefix(c.url, "http") + "/ws" }
