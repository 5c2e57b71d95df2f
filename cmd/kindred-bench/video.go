package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/kindred-health/kindred/auth"
)

// `kindred-bench video`: pion participants against a node's SFU. The run:
// rooms and memberships through the HTTP API; every participant signs in
// over the WebSocket; in each session (in parallel) the host starts it and
// everyone joins in turn, publishes and subscribes; a warm-up; the
// measured window (server CPU and memory from its /metrics, the tool's
// CPU, packets per second of every remote track); teardown; the report.

// idleInterval is how long the server's CPU is read before anyone signs in.
const idleInterval = 2 * time.Second

// videoRun is one run of the video tool.
type videoRun struct {
	cfg    *videoConfig
	runID  string
	a      *api
	hc     *http.Client
	webrtc *webrtc.API
	errs   countMap // refusals and failures, by kind

	epoch   time.Time // second 0 of every track's per-second counts
	seconds int       // length of those counts

	sessions []*vsess
	parts    []*participant
}

// runVideo is the video subcommand: args are its flags.
func runVideo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseVideoFlags(args, stderr)
	if err != nil {
		return err
	}
	r, err := newVideoRun(cfg)
	if err != nil {
		return err
	}
	defer r.hc.CloseIdleConnections()
	rep, err := r.run(ctx, stderr)
	if err != nil {
		return err
	}
	if err := printVideoReport(stdout, rep); err != nil {
		return err
	}
	if cfg.jsonPath != "" {
		if err := writeVideoJSON(cfg.jsonPath, rep); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
	}
	return nil
}

func newVideoRun(cfg *videoConfig) (*videoRun, error) {
	secret, err := loadSecret(&config{data: cfg.data, secretEnv: cfg.secretEnv})
	if err != nil {
		return nil, err
	}
	signer, err := auth.NewHMACSigner(secret)
	if err != nil {
		return nil, err
	}
	r := &videoRun{cfg: cfg, runID: newRunID(),
		hc: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}}}
	r.a = &api{hc: r.hc, signer: signer, ttl: cfg.warmup + cfg.duration + 2*time.Hour}
	if r.webrtc, err = newClientAPI(cfg.loopback); err != nil {
		return nil, err
	}
	for i := range cfg.sessions {
		r.sessions = append(r.sessions, &vsess{idx: i, ready: make(chan struct{})})
	}
	for i := range cfg.participants() {
		r.parts = append(r.parts, newParticipant(r, r.sessions[i/cfg.people], i, i%cfg.people == 0))
	}
	// Joins are one at a time per session, each within --timeout.
	whole := cfg.timeout*time.Duration(cfg.people+1) + cfg.warmup + cfg.duration + time.Minute
	r.seconds = int(whole / time.Second)
	return r, nil
}

// newClientAPI is what a browser brings: Opus and VP8 with their feedback,
// the audio-level extension, and pion's default interceptors (NACK both
// ways, receiver and sender reports).
func newClientAPI(loopback bool) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	fb := []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	if err := m.RegisterCodec(webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: fb}}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	if err := m.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if loopback {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		se.SetIncludeLoopbackCandidate(true)
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se)), nil
}

// run does the whole run and returns its report.
func (r *videoRun) run(ctx context.Context, stderr io.Writer) (*videoReport, error) {
	c := r.cfg
	warn := func(s string) { fmt.Fprintf(stderr, "kindred-bench video: warning: %s\n", s) }
	if err := setupVideoRooms(ctx, r); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	load := readLoadAvg()
	// The server's own CPU with nobody signed in, over a short interval:
	// what a figure per track at a few participants should be read
	// against.
	idle := window{start: time.Now()}
	idleStart := scrapeAll(ctx, r.hc, []string{c.url}, warn)
	if err := sleepCtx(ctx, idleInterval); err != nil {
		return nil, err
	}
	before := scrapeAll(ctx, r.hc, []string{c.url}, warn)
	idle.end = time.Now()
	r.epoch = time.Now()
	joinStart := time.Now()
	r.joinAll(ctx)
	defer r.closeAll()
	joinSecs := time.Since(joinStart).Seconds()
	if err := sleepCtx(ctx, c.warmup); err != nil {
		return nil, err
	}
	w := window{start: time.Now()}
	start := scrapeAll(ctx, r.hc, []string{c.url}, warn)
	mark := takeCPUMark()
	if err := sleepCtx(ctx, c.duration); err != nil {
		return nil, err
	}
	end := scrapeAll(ctx, r.hc, []string{c.url}, warn)
	w.end = time.Now()
	toolCPU, host := mark.since()
	rep := r.report(w, before[0], start[0], end[0], toolCPU, host)
	rep.LoadAvg, rep.JoinPhaseS = load, round2(joinSecs)
	if idleStart[0] != nil && before[0] != nil {
		cpu := before[0]["process_cpu_seconds_total"] - idleStart[0]["process_cpu_seconds_total"]
		rep.Server.IdleCores = round3(cpu / idle.end.Sub(idle.start).Seconds())
	}
	return rep, nil
}

// joinAll joins every participant: sessions in parallel, and within a
// session one after another. It returns when each has connected or failed.
func (r *videoRun) joinAll(ctx context.Context) {
	var wg sync.WaitGroup
	for i, p := range r.parts {
		var prev *participant
		if i%r.cfg.people != 0 {
			prev = r.parts[i-1]
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.join(ctx, prev)
		}()
	}
	wg.Wait()
}

// closeAll tears every participant down at once.
func (r *videoRun) closeAll() {
	var wg sync.WaitGroup
	for _, p := range r.parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.close()
		}()
	}
	wg.Wait()
}
