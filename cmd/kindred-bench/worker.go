package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// shard is one share of the connections, driven through the run's phases
// by the parent. engine is the in-process shard; workerShard is a worker
// process speaking JSON lines over its stdin and stdout.
type shard interface {
	connect(ctx context.Context) error
	ready(ctx context.Context) error
	load(ctx context.Context, start time.Time) (map[string]int64, error)
	drain(ctx context.Context, finals map[string]int64) (*shardResult, error)
	progress() progressSnap
	close() error
}

// progressSnap is a shard's live counters for the progress line.
type progressSnap struct {
	Target        int64 `json:"target"`
	Up            int64 `json:"up"`
	Opened        int64 `json:"opened"`
	ConnectErrors int64 `json:"connect_errors"`
	Sent          int64 `json:"sent"`
	Deliveries    int64 `json:"deliveries"`
}

// workerEnv marks a re-executed worker, so a binary that is not
// kindred-bench itself (the test binary) knows to act as one.
const workerEnv = "KINDRED_BENCH_WORKER"

// command is a parent-to-worker message; reply is the answer.
type command struct {
	Cmd    string           `json:"cmd"` // plan, ready, load, drain, close
	Plan   *plan            `json:"plan,omitempty"`
	Start  int64            `json:"start,omitempty"`
	Finals map[string]int64 `json:"finals,omitempty"`
}

type reply struct {
	Kind     string           `json:"kind"` // progress, done, error
	Progress *progressSnap    `json:"progress,omitempty"`
	Acked    map[string]int64 `json:"acked,omitempty"`
	Result   *shardResult     `json:"result,omitempty"`
	Error    string           `json:"error,omitempty"`
}

// runWorker is a worker process: it takes commands from in, runs its share
// of the connections through each phase, and answers on out. It stops when
// in closes, so a parent that dies takes its workers with it.
func runWorker(ctx context.Context, cfg *config, in io.Reader, out io.Writer) error {
	if cfg.workers < 1 || cfg.workerIndex >= cfg.workers {
		return fmt.Errorf("--worker-index %d of %d workers", cfg.workerIndex, cfg.workers)
	}
	secret, err := loadSecret(cfg)
	if err != nil {
		return err
	}
	w := &workerProc{cfg: cfg, secret: secret, enc: json.NewEncoder(out)}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmds := readCommands(in, cancel)
	defer func() {
		if w.e != nil {
			_ = w.e.close()
		}
	}()
	for c := range cmds {
		r, err := w.do(ctx, c)
		r.Kind = "done"
		if err != nil {
			r = reply{Kind: "error", Error: err.Error()}
		}
		if err := w.send(r); err != nil {
			return err
		}
		if c.Cmd == "close" {
			return nil
		}
	}
	return ctx.Err()
}

// readCommands decodes the parent's commands from in. When in ends (the
// parent is gone) it cancels the worker's context and closes the channel.
func readCommands(in io.Reader, cancel context.CancelFunc) <-chan command {
	dec := json.NewDecoder(bufio.NewReader(in))
	cmds := make(chan command)
	go func() {
		defer close(cmds)
		for {
			var c command
			if dec.Decode(&c) != nil {
				cancel() // the parent is gone
				return
			}
			cmds <- c
		}
	}()
	return cmds
}

// workerProc is the state of a worker process: its engine, once planned.
type workerProc struct {
	cfg     *config
	secret  []byte
	e       *engine
	loadCPU float64 // CPU seconds when the load began

	mu  sync.Mutex // the encoder is shared with the progress reports
	enc *json.Encoder
}

// send writes one reply to the parent.
func (w *workerProc) send(r reply) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.enc.Encode(r)
}

// do carries out one command; the reply's kind is the caller's to set.
func (w *workerProc) do(ctx context.Context, c command) (reply, error) {
	var r reply
	var err error
	switch c.Cmd {
	case "plan":
		err = w.takePlan(ctx, c.Plan)
	case "ready":
		err = w.e.ready(ctx)
	case "load":
		w.loadCPU = cpuSeconds()
		r.Acked, err = w.e.load(ctx, time.Unix(0, c.Start))
	case "drain":
		r.Result, err = w.e.drain(ctx, c.Finals)
		if r.Result != nil {
			r.Result.ToolCPU = cpuSeconds()
			r.Result.ToolLoadCPU = r.Result.ToolCPU - w.loadCPU
		}
	case "close":
		err = w.e.close()
		w.e = nil
	default:
		err = fmt.Errorf("unknown command %q", c.Cmd)
	}
	return r, err
}

// takePlan builds the engine for this worker's share of the plan, starts
// reporting its progress and connects it.
func (w *workerProc) takePlan(ctx context.Context, p *plan) error {
	if p == nil || w.e != nil {
		return errors.New("bad plan")
	}
	specs := shardSpecs(buildSpecs(w.cfg, *p), w.cfg.workerIndex, w.cfg.workers)
	var err error
	if w.e, err = newEngine(ctx, w.cfg, specs, w.secret, w.cfg.workers); err != nil {
		return err
	}
	go w.reportProgress(ctx, w.e)
	return w.e.connect(ctx)
}

// reportProgress sends the engine's counters four times a second until
// ctx ends.
func (w *workerProc) reportProgress(ctx context.Context, e *engine) {
	for {
		if sleepCtx(ctx, 250*time.Millisecond) != nil {
			return
		}
		p := e.progress()
		_ = w.send(reply{Kind: "progress", Progress: &p})
	}
}

// workerShard is the parent's handle on one worker process.
type workerShard struct {
	idx     int
	plan    plan
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	replies chan reply
	last    atomic.Pointer[progressSnap]
	exited  chan struct{}
}

// startWorker re-executes this program as worker idx of k, with the same
// flags, so it resolves the secret and builds the same specs.
func startWorker(cfg *config, p plan, idx, k int, stderr io.Writer) (*workerShard, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := append(append([]string{}, cfg.args...), "--workers="+strconv.Itoa(k), "--worker-index="+strconv.Itoa(idx), "--json=", "--chart=", "--progress=false")
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), workerEnv+"=1")
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start worker %d: %w", idx, err)
	}
	w := &workerShard{idx: idx, plan: p, cmd: cmd, stdin: stdin, replies: make(chan reply, 1), exited: make(chan struct{})}
	go func() {
		defer close(w.exited)
		dec := json.NewDecoder(bufio.NewReader(stdout))
		for {
			var r reply
			if err := dec.Decode(&r); err != nil {
				_ = cmd.Wait()
				return
			}
			if r.Kind == "progress" {
				w.last.Store(r.Progress)
				continue
			}
			w.replies <- r
		}
	}()
	return w, nil
}

// call sends c and waits for the worker's answer.
func (w *workerShard) call(ctx context.Context, c command) (reply, error) {
	b, _ := json.Marshal(c)
	if _, err := w.stdin.Write(append(b, '\n')); err != nil {
		return reply{}, fmt.Errorf("worker %d: %w", w.idx, err)
	}
	select {
	case r := <-w.replies:
		if r.Kind == "error" {
			return r, fmt.Errorf("worker %d: %s", w.idx, r.Error)
		}
		return r, nil
	case <-w.exited:
		return reply{}, fmt.Errorf("worker %d exited (%v)", w.idx, w.cmd.ProcessState)
	case <-ctx.Done():
		return reply{}, ctx.Err()
	}
}

// connect sends the plan; the worker connects its share before answering.
func (w *workerShard) connect(ctx context.Context) error {
	_, err := w.call(ctx, command{Cmd: "plan", Plan: &w.plan})
	return err
}

func (w *workerShard) ready(ctx context.Context) error {
	_, err := w.call(ctx, command{Cmd: "ready"})
	return err
}

func (w *workerShard) load(ctx context.Context, start time.Time) (map[string]int64, error) {
	r, err := w.call(ctx, command{Cmd: "load", Start: start.UnixNano()})
	return r.Acked, err
}

func (w *workerShard) drain(ctx context.Context, finals map[string]int64) (*shardResult, error) {
	r, err := w.call(ctx, command{Cmd: "drain", Finals: finals})
	if err == nil && r.Result == nil {
		err = fmt.Errorf("worker %d sent no result", w.idx)
	}
	return r.Result, err
}

func (w *workerShard) progress() progressSnap {
	if p := w.last.Load(); p != nil {
		return *p
	}
	return progressSnap{}
}

// close asks the worker to close its connections and waits for it to
// exit; a worker that does not answer in time is killed (it is ours).
func (w *workerShard) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := w.call(ctx, command{Cmd: "close"})
	_ = w.stdin.Close()
	select {
	case <-w.exited:
	case <-ctx.Done():
		_ = w.cmd.Process.Kill()
		<-w.exited
	}
	return err
}
