package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
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
	var (
		wmu      sync.Mutex
		warnings []string
	)
	tty := isTerminal(stderr)
	warn := func(s string) {
		wmu.Lock()
		warnings = append(warnings, s)
		wmu.Unlock()
		erase := ""
		if tty {
			erase = "\r\x1b[K" // over the progress line
		}
		fmt.Fprintf(stderr, "%skindred-bench: warning: %s\n", erase, s)
	}
	secret, err := loadSecret(cfg)
	if err != nil {
		return err
	}
	workers := planWorkers(cfg, limit, warn)
	if cfg.sources == 0 && cfg.conns/len(cfg.urls) > portsPerSource {
		warn(fmt.Sprintf("%d connections per node from one source address may run out of local ports: use --sources %d",
			cfg.conns/len(cfg.urls), (cfg.conns/len(cfg.urls))/portsPerSource+1))
	}

	signer, err := auth.NewHMACSigner(secret)
	if err != nil {
		return err
	}
	hc := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64},
	}
	defer hc.CloseIdleConnections()
	a := &api{hc: hc, signer: signer, ttl: tokenTTL(cfg)}
	pb := startProgress(stderr, tty, tty || cfg.progress)
	defer pb.finish()
	p := plan{RunID: newRunID()}
	var ph phases
	since := func(t time.Time) float64 { return time.Since(t).Round(100 * time.Millisecond).Seconds() }

	pb.setPhase("setup")
	if cfg.rooms > 0 {
		pb.setupTotal.Store(int64(cfg.conns))
	}
	t := time.Now()
	if err := setupRooms(ctx, cfg, a, &p, func() { pb.setupDone.Add(1) }); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	ph.Setup = since(t)
	before := scrapeAll(ctx, hc, cfg.urls, warn)

	shards, err := startShards(ctx, cfg, p, secret, workers, stderr)
	closeShards := func() {
		_ = each(shards, func(s shard) error { return s.close() })
		shards = nil
	}
	defer func() { closeShards() }()
	if err != nil {
		return err
	}
	pb.setShards(shards)

	pb.setPhase("connect")
	t = time.Now()
	if err := each(shards, func(s shard) error { return s.connect(ctx) }); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	ph.Connect = since(t)

	t = time.Now()
	if cfg.workload == workDM {
		pb.setPhase("open DMs")
		if _, err := openDMs(ctx, cfg, a, p); err != nil {
			if ctx.Err() != nil {
				return err
			}
			warn(err.Error())
		}
	}
	pb.setPhase("subscribe")
	if err := each(shards, func(s shard) error { return s.ready(ctx) }); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	ph.Ready = since(t)
	after := scrapeAll(ctx, hc, cfg.urls, warn)

	switch {
	case !cfg.senders():
		pb.setPhase("hold")
	case cfg.warmup > 0:
		pb.setPhase("warmup")
		tm := time.AfterFunc(cfg.warmup, func() { pb.setPhase("load") })
		defer tm.Stop()
	default:
		pb.setPhase("load")
	}
	t = time.Now()
	loadCPU := cpuSeconds()
	hostBusy, hostTotal, hostOK := hostCPU()
	// A moment's notice lets every worker receive the start time before
	// it comes, so all senders share one clock origin.
	start := time.Now().Add(100 * time.Millisecond)
	finals := make(map[string]int64)
	var fmu sync.Mutex
	if err := each(shards, func(s shard) error {
		acked, err := s.load(ctx, start)
		fmu.Lock()
		mergeFinals(finals, acked)
		fmu.Unlock()
		return err
	}); err != nil {
		return fmt.Errorf("load: %w", err)
	}
	ph.Load = since(t)

	pb.setPhase("drain")
	t = time.Now()
	results := make([]*shardResult, len(shards))
	if err := eachIndexed(shards, func(i int, s shard) error {
		r, err := s.drain(ctx, finals)
		results[i] = r
		return err
	}); err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	ph.Drain = since(t)
	loadCPU = cpuSeconds() - loadCPU
	var host *hostReport
	if busy, tot, ok := hostCPU(); ok && hostOK {
		host = &hostReport{BusySeconds: busy - hostBusy, CoreSeconds: tot - hostTotal}
	}
	end := scrapeAll(ctx, hc, cfg.urls, warn)
	pb.finish()
	closeShards()

	total := &shardResult{}
	for _, r := range results {
		total.merge(r)
	}
	if total.Lost > 0 {
		warn(fmt.Sprintf("%d deliveries missing after a %s drain", total.Lost, cfg.drain))
	}
	wmu.Lock()
	ws := append([]string(nil), warnings...)
	wmu.Unlock()
	srv := nodesReport(cfg.urls, before, after, after, end, total.Opened)
	total.ToolCPU += cpuSeconds()
	total.ToolLoadCPU += loadCPU
	rep := buildReport(cfg, p, total, srv, ph, host, workers, limit, ws)
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
