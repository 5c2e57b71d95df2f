package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// serverMetrics are the /metrics series the report uses. Labelled series
// (kindred_frames_rejected_total{code="…"}) are summed over their labels.
var serverMetrics = []string{
	"process_resident_memory_bytes",
	"process_cpu_seconds_total",
	"go_goroutines",
	"kindred_connections",
	"kindred_messages_stored_total",
	"kindred_frames_sent_total",
	"kindred_socket_writes_total",
	"kindred_frames_rejected_total",
	"kindred_queue_overflow_closes_total",
	"kindred_catchups_total",
}

// sample is one scrape of one node; nil values mean the scrape failed.
type sample map[string]float64

// scrape reads a node's /metrics (Prometheus text format) on its public
// address, with the bearer token in $KINDRED_METRICS_TOKEN_FILE (the file
// the node's --metrics-token-file reads too). Only the lines of
// serverMetrics are kept.
func scrape(ctx context.Context, hc *http.Client, base string) (sample, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	if f := os.Getenv("KINDRED_METRICS_TOKEN_FILE"); f != "" {
		tok, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("metrics token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s/metrics: HTTP %d", base, resp.StatusCode)
	}
	return parseMetrics(bufio.NewScanner(resp.Body))
}

func parseMetrics(sc *bufio.Scanner) (sample, error) {
	want := make(map[string]bool, len(serverMetrics))
	for _, m := range serverMetrics {
		want[m] = true
	}
	s := sample{}
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, _ := strings.Cut(line, " ")
		if i := strings.IndexByte(name, '{'); i >= 0 {
			// Label values may contain spaces; the value follows the
			// closing brace.
			name = line[:i]
			if j := strings.LastIndexByte(line, '}'); j >= 0 {
				rest = line[j+1:]
			}
		}
		if !want[name] {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		s[name] += v
	}
	return s, sc.Err()
}

// scrapeAll scrapes every node at once; a node that fails gives a nil
// sample and a warning, not an error: the run's own figures still count.
func scrapeAll(ctx context.Context, hc *http.Client, urls []string, warn func(string)) []sample {
	out := make([]sample, len(urls))
	var wg sync.WaitGroup
	for i, u := range urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := scrape(ctx, hc, u)
			if err != nil {
				warn(fmt.Sprintf("metrics of %s: %v", u, err))
				return
			}
			out[i] = s
		}()
	}
	wg.Wait()
	return out
}
