package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/kindred-health/kindred/auth"
)

// fdHeadroom is what a process keeps free besides its connections:
// stdio, the HTTP client's connections, the Go runtime's own descriptors.
const fdHeadroom = 256

// portsPerSource is about one ephemeral port range (32768–60999 by
// default): the most connections one source address can open to one node.
const portsPerSource = 28000

// coordinate runs a whole benchmark: setup through the HTTP API, the
// connections (in this process or in workers), the load, the drain, and
// the report.
func coordinate(ctx context.Context, cfg *config, limit uint64, stdout, stderr io.Writer) error {
	r, err := newBenchRun(cfg, limit, stderr)
	if err != nil {
		return err
	}
	defer r.hc.CloseIdleConnections()
	r.pb = startProgress(stderr, r.tty, r.tty || cfg.progress)
	defer r.pb.finish()
	r.p = plan{RunID: newRunID()}

	if err := r.setup(ctx); err != nil {
		return err
	}
	before := scrapeAll(ctx, r.hc, cfg.urls, r.warn)
	err = r.startShards(ctx)
	defer r.closeShards()
	if err != nil {
		return err
	}
	if err := r.connect(ctx); err != nil {
		return err
	}
	after := scrapeAll(ctx, r.hc, cfg.urls, r.warn)

	stopWarmup := r.startLoadPhase()
	defer stopWarmup()
	mark := takeCPUMark()
	finals, err := r.load(ctx)
	if err != nil {
		return err
	}
	results, err := r.drain(ctx, finals)
	if err != nil {
		return err
	}
	loadCPU, host := mark.since()
	end := scrapeAll(ctx, r.hc, cfg.urls, r.warn)
	r.pb.finish()
	r.closeShards()

	total := &shardResult{}
	for _, res := range results {
		total.merge(res)
	}

	if total.Lost > 0 {
		r.warn(fmt.Sprintf("%d deliveries missing after a %s drain", total.Lost, cfg.drain))
	}
	srv := nodesReport(cfg.urls, before, after, after, end, total.Opened)
	total.ToolCPU += cpuSeconds()
	total.ToolLoadCPU += loadCPU
	rep := buildReport(cfg, r.p, total, srv, r.ph, host, r.workers, limit, r.warningList())
	rep.LoadStart = r.loadStart
	return writeReports(stdout, cfg, rep)
}

// benchRun is the state of one coordinated run.
type benchRun struct {
	cfg     *config
	limit   uint64
	stderr  io.Writer
	tty     bool
	secret  []byte
	workers int
	hc      *http.Client
	a       *api
	pb      *progressBar
	p       plan
	ph      phases
	shards  []shard

	loadStart time.Time

	wmu      sync.Mutex
	warnings []string
}

// newBenchRun resolves the secret, plans the workers and makes the HTTP
// client for the API.
func newBenchRun(cfg *config, limit uint64, stderr io.Writer) (*benchRun, error) {
	r := &benchRun{cfg: cfg, limit: limit, stderr: stderr, tty: isTerminal(stderr)}
	secret, err := loadSecret(cfg)
	if err != nil {
		return nil, err
	}
	r.secret = secret
	r.workers = planWorkers(cfg, limit, r.warn)
	if cfg.sources == 0 && cfg.conns/len(cfg.urls) > portsPerSource {
		r.warn(fmt.Sprintf("%d connections per node from one source address may run out of local ports: use --sources %d",
			cfg.conns/len(cfg.urls), (cfg.conns/len(cfg.urls))/portsPerSource+1))
	}
	signer, err := auth.NewHMACSigner(secret)
	if err != nil {
		return nil, err
	}
	r.hc = &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64},
	}
	r.a = &api{hc: r.hc, signer: signer, ttl: tokenTTL(cfg)}
	return r, nil
}

// warn records a warning for the report and prints it at once (over the
// progress line on a terminal).
func (r *benchRun) warn(s string) {
	r.wmu.Lock()
	r.warnings = append(r.warnings, s)
	r.wmu.Unlock()
	erase := ""
	if r.tty {
		erase = "\r\x1b[K" // over the progress line
	}
	fmt.Fprintf(r.stderr, "%skindred-bench: warning: %s\n", erase, s)
}

// warningList returns a copy of the warnings so far.
func (r *benchRun) warningList() []string {
	r.wmu.Lock()
	defer r.wmu.Unlock()
	return append([]string(nil), r.warnings...)
}

// since returns the time since t, to a tenth of a second, for phases.
func since(t time.Time) float64 { return time.Since(t).Round(100 * time.Millisecond).Seconds() }

// setup creates the rooms and their members through the HTTP API.
func (r *benchRun) setup(ctx context.Context) error {
	r.pb.setPhase("setup")
	if r.cfg.rooms > 0 {
		r.pb.setupTotal.Store(int64(r.cfg.conns))
	}
	t := time.Now()
	if err := setupRooms(ctx, r.cfg, r.a, &r.p, func() { r.pb.setupDone.Add(1) }); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	r.ph.Setup = since(t)
	return nil
}

// startShards makes the engine or starts the workers; closeShards closes
// whatever was started (it may be called again).
func (r *benchRun) startShards(ctx context.Context) error {
	shards, err := startShards(ctx, r.cfg, r.p, r.secret, r.workers, r.stderr)
	r.shards = shards
	if err != nil {
		return err
	}
	r.pb.setShards(shards)
	return nil
}

func (r *benchRun) closeShards() {
	_ = each(r.shards, func(s shard) error { return s.close() })
	r.shards = nil
}

// connect opens every connection, then (for DMs) the conversations, and
// waits until every connection is subscribed.
func (r *benchRun) connect(ctx context.Context) error {
	r.pb.setPhase("connect")
	t := time.Now()
	if err := each(r.shards, func(s shard) error { return s.connect(ctx) }); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	r.ph.Connect = since(t)

	t = time.Now()
	if r.cfg.workload == workDM {
		r.pb.setPhase("open DMs")
		if _, err := openDMs(ctx, r.cfg, r.a, r.p); err != nil {
			if ctx.Err() != nil {
				return err
			}
			r.warn(err.Error())
		}
	}
	if r.cfg.crisis > 0 {
		if err := putOnCall(ctx, r.cfg, r.a, r.p); err != nil {
			return err
		}
	}
	r.pb.setPhase("subscribe")
	if err := each(r.shards, func(s shard) error { return s.ready(ctx) }); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	r.ph.Ready = since(t)
	return nil
}

// startLoadPhase names the phase that follows the connections on the
// progress line; it returns what stops the warmup's timer.
func (r *benchRun) startLoadPhase() (stop func()) {
	switch {
	case !r.cfg.senders():
		r.pb.setPhase("hold")
	case r.cfg.warmup > 0:
		r.pb.setPhase("warmup")
		tm := time.AfterFunc(r.cfg.warmup, func() { r.pb.setPhase("load") })
		return func() { tm.Stop() }
	default:
		r.pb.setPhase("load")
	}
	return func() {}
}

// cpuMark is the process's and the host's CPU time at the start of the
// load.
type cpuMark struct {
	tool                float64
	hostBusy, hostTotal float64
	hostOK              bool
}

func takeCPUMark() cpuMark {
	m := cpuMark{tool: cpuSeconds()}
	m.hostBusy, m.hostTotal, m.hostOK = hostCPU()
	return m
}

// since returns the tool's CPU seconds since the mark and, where the host
// can tell, the host's.
func (m cpuMark) since() (tool float64, host *hostReport) {
	tool = cpuSeconds() - m.tool
	if busy, tot, ok := hostCPU(); ok && m.hostOK {
		host = &hostReport{BusySeconds: busy - m.hostBusy, CoreSeconds: tot - m.hostTotal}
	}
	return tool, host
}

// load runs the load on every shard from a common start and returns the
// last acknowledged sequence number of each conversation.
func (r *benchRun) load(ctx context.Context) (map[string]int64, error) {
	t := time.Now()
	// A moment's notice lets every worker receive the start time before
	// it comes, so all senders share one clock origin.
	start := time.Now().Add(100 * time.Millisecond)
	r.loadStart = start
	if r.cfg.startFile != "" {
		if err := os.WriteFile(r.cfg.startFile, []byte(strconv.FormatInt(start.UnixNano(), 10)+"\n"), 0o644); err != nil {
			return nil, fmt.Errorf("--start-file: %w", err)
		}
	}
	finals := make(map[string]int64)
	var fmu sync.Mutex
	if err := each(r.shards, func(s shard) error {
		acked, err := s.load(ctx, start)
		fmu.Lock()
		mergeFinals(finals, acked)
		fmu.Unlock()
		return err
	}); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	r.ph.Load = since(t)
	return finals, nil
}

// drain waits for the deliveries still due and returns the shards'
// results.
func (r *benchRun) drain(ctx context.Context, finals map[string]int64) ([]*shardResult, error) {
	r.pb.setPhase("drain")
	t := time.Now()
	results := make([]*shardResult, len(r.shards))
	if err := eachIndexed(r.shards, func(i int, s shard) error {
		res, err := s.drain(ctx, finals)
		results[i] = res
		return err
	}); err != nil {
		return nil, fmt.Errorf("drain: %w", err)
	}
	r.ph.Drain = since(t)
	return results, nil
}

// writeReports prints the table and writes the JSON report and the chart
// if asked to.
func writeReports(stdout io.Writer, cfg *config, rep *report) error {
	if err := printTable(stdout, rep); err != nil {
		return err
	}
	if cfg.jsonPath != "" {
		if err := writeJSON(cfg.jsonPath, rep); err != nil {
			return fmt.Errorf("--json: %w", err)
		}
	}
	if cfg.chartPath != "" {
		if err := writeChart(cfg.chartPath, rep); err != nil {
			return fmt.Errorf("--chart: %w", err)
		}
	}
	return nil
}

// planWorkers picks the number of processes: --workers if given, else as
// many as the open-file limit requires.
func planWorkers(cfg *config, limit uint64, warn func(string)) int {
	k := cfg.workers
	if k == 0 {
		k = 1
		if limit > 2*fdHeadroom && uint64(cfg.conns)+fdHeadroom > limit {
			per := int(limit) - fdHeadroom
			k = (cfg.conns + per - 1) / per
		}
	} else if limit > 0 && uint64((cfg.conns+k-1)/k)+fdHeadroom > limit {
		warn(fmt.Sprintf("%d connections per process is near the open-file limit %d: use more --workers", (cfg.conns+k-1)/k, limit))
	}
	return max(1, min(k, cfg.conns))
}

// startShards makes the engine (one process) or starts the workers.
func startShards(ctx context.Context, cfg *config, p plan, secret []byte, k int, stderr io.Writer) ([]shard, error) {
	if k == 1 {
		e, err := newEngine(ctx, cfg, buildSpecs(cfg, p), secret, 1)
		if err != nil {
			return nil, err
		}
		return []shard{e}, nil
	}
	var out []shard
	for i := range k {
		w, err := startWorker(cfg, p, i, k, stderr)
		if err != nil {
			return out, err
		}
		out = append(out, w)
	}
	return out, nil
}

// each runs f on every shard at once and returns the first error.
func each(shards []shard, f func(s shard) error) error {
	return eachIndexed(shards, func(_ int, s shard) error { return f(s) })
}

func eachIndexed(shards []shard, f func(i int, s shard) error) error {
	errs := make([]error, len(shards))
	var wg sync.WaitGroup
	for i, s := range shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(i, s)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
