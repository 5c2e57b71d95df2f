// Command kindred-bench drives one or more running Kindred nodes with real
// WebSocket clients and reports what the server held and how fast and how
// completely it delivered:
//
//	kindred-bench --url http://127.0.0.1:8080 --data ./kindred-data \
//	    --workload rooms --rooms 100 --members 10 --rate 0.2 --duration 20s
//
// It sets up through the HTTP API with tokens it mints with the server's own
// key (read from the server's data directory, or an environment variable),
// opens the connections at a given ramp, runs a workload (idle, rooms,
// broadcast or dm), and checks every delivery: end-to-end latency (each
// message body starts with its send time; senders and receivers share this
// machine's clock), and per-receiver sequence tracking for lost and doubled
// messages. See run.sh beside this file for a one-command run against a
// fresh local node.
//
// `kindred-bench video [flags]` is a subcommand of its own: pion WebRTC
// participants that sign in, join video sessions, publish synthetic VP8
// and Opus and subscribe to each other through the node's SFU (video.go).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "kindred-bench:", err)
		}
		os.Exit(2)
	}
}

// run is the whole tool: it parses args, and either coordinates a run
// (writing the report to stdout) or, with the hidden --worker-index flag,
// serves as one worker process of a parent's run over stdin and stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	stderr = &syncWriter{w: stderr}
	if len(args) > 0 && args[0] == "video" {
		// A subcommand of its own: pion participants against the SFU.
		err := runVideo(ctx, args[1:], stdout, stderr)
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, errHelp) {
			return nil
		}
		return err
	}
	// Each connection is a file descriptor; the soft limit is often far
	// below the hard one, and only the hard one is a real ceiling.
	limit := raiseFileLimit()
	if cfg.cpuProfile != "" {
		stop, err := startCPUProfile(cfg)
		if err != nil {
			return err
		}
		defer stop()
	}
	if cfg.workerIndex >= 0 {
		return runWorker(ctx, cfg, os.Stdin, stdout)
	}
	return coordinate(ctx, cfg, limit, stdout, stderr)
}

// startCPUProfile profiles this process into --cpuprofile (a worker into
// FILE.N) until the returned stop.
func startCPUProfile(cfg *config) (stop func(), err error) {
	path := cfg.cpuProfile
	if cfg.workerIndex >= 0 {
		path += "." + strconv.Itoa(cfg.workerIndex)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}
