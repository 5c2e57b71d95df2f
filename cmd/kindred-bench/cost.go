package main

import (
	"fmt"
	"math"
	"os"
	"strings"
)

// What a run cost in CPU, per unit of work, for the server and the tool.
//
// Server CPU per stored message = the server's CPU seconds during the load
// (process_cpu_seconds_total from the scrape after every connection is
// subscribed to the scrape after the drain, summed over the nodes) divided
// by the messages acked in that window (every send of the run is; a resend
// acked as a duplicate is not counted again). Server CPU per delivery =
// the same CPU seconds divided by the message frames the tool received in
// that window (doubles included: the server paid for them). Both divide
// the whole of the server's CPU: per stored message it is a message with
// all its deliveries, per delivery a delivery with its share of the
// storing. Tool CPU per delivery = the tool's CPU seconds (every process:
// the parent and each worker) over the same window, divided by the same
// deliveries.

// costReport is the CPU per unit of work, in microseconds (0 when the
// run had none, or the server's CPU could not be read).
type costReport struct {
	ServerPerStoredUs   float64 `json:"server_cpu_us_per_stored_message"`
	ServerPerDeliveryUs float64 `json:"server_cpu_us_per_delivery"`
	ToolPerDeliveryUs   float64 `json:"tool_cpu_us_per_delivery"`
	ServerCPUs          string  `json:"server_cpus,omitempty"` // the servers' taskset, as the script set it
	ToolCPUs            string  `json:"tool_cpus,omitempty"`   // the tool's CPU affinity, as it found it
}

// perUnitUs spreads cpuSeconds over n units, in microseconds to 0.1; 0
// when there are no units or no CPU figure.
func perUnitUs(cpuSeconds float64, n int64) float64 {
	if n <= 0 || !(cpuSeconds > 0) {
		return 0
	}
	return math.Round(cpuSeconds*1e7/float64(n)) / 10
}

// costs computes the run's costReport. The server's figures need every
// node's CPU: with a node unscraped they are left out.
func costs(srv serverReport, r *shardResult) costReport {
	c := costReport{
		ToolPerDeliveryUs: perUnitUs(r.ToolLoadCPU, r.Deliveries),
		ServerCPUs:        os.Getenv("KINDRED_BENCH_SERVER_CPUS"),
		ToolCPUs:          cpuAffinity(),
	}
	scraped := len(srv.Nodes) > 0
	for _, n := range srv.Nodes {
		scraped = scraped && n.Scraped
	}
	if scraped {
		c.ServerPerStoredUs = perUnitUs(srv.CPULoadSeconds, r.Acked)
		c.ServerPerDeliveryUs = perUnitUs(srv.CPULoadSeconds, r.Deliveries)
	}
	return c
}

// pinning describes where the server and the tool ran, for the report.
func (c costReport) pinning() string {
	srv := c.ServerCPUs
	if srv == "" {
		srv = "not pinned"
	}
	tool := c.ToolCPUs
	if tool == "" {
		tool = "unknown"
	}
	return fmt.Sprintf("server CPUs %s, tool CPUs %s", srv, tool)
}

// cpuList writes sorted CPU numbers as a taskset list: "0-3,6".
func cpuList(cpus []int) string {
	var parts []string
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, fmt.Sprint(cpus[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", cpus[i], cpus[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
