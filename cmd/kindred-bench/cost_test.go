package main

import (
	"strings"
	"testing"
	"time"
)

// TestCostPerUnit checks the CPU-per-unit arithmetic on a two-node run:
// the nodes' load CPU is summed, then divided by the messages acked and by
// the deliveries; the tool's by the deliveries.
func TestCostPerUnit(t *testing.T) {
	t.Setenv("KINDRED_BENCH_SERVER_CPUS", "0")
	srv := serverReport{
		Nodes:          []nodeReport{{Scraped: true, CPULoadSeconds: 3}, {Scraped: true, CPULoadSeconds: 1}},
		CPULoadSeconds: 4,
	}
	r := &shardResult{Acked: 2000, Deliveries: 20000, Measured: 18000, ToolLoadCPU: 1.5, Sent: 2000}
	c := costs(srv, r)
	if c.ServerPerStoredUs != 2000 || c.ServerPerDeliveryUs != 200 || c.ToolPerDeliveryUs != 75 {
		t.Errorf("costs %+v; want 2000 µs per stored message, 200 per delivery, tool 75 per delivery", c)
	}
	if c.ServerCPUs != "0" || !strings.Contains(c.pinning(), "server CPUs 0") {
		t.Errorf("pinning %q (server CPUs %q)", c.pinning(), c.ServerCPUs)
	}

	// One node not scraped: no server figure rather than half of one.
	srv.Nodes[1].Scraped = false
	if c := costs(srv, r); c.ServerPerStoredUs != 0 || c.ServerPerDeliveryUs != 0 || c.ToolPerDeliveryUs != 75 {
		t.Errorf("costs with a node unscraped %+v; want no server figures", c)
	}
	// Nothing delivered (idle): no figures, not a division by zero.
	if c := costs(serverReport{Nodes: []nodeReport{{Scraped: true}}, CPULoadSeconds: 2}, &shardResult{ToolLoadCPU: 1}); c.ServerPerStoredUs != 0 || c.ServerPerDeliveryUs != 0 || c.ToolPerDeliveryUs != 0 {
		t.Errorf("idle costs %+v; want none", c)
	}
	if got := perUnitUs(1, 3); got != 333333.3 {
		t.Errorf("perUnitUs(1 s, 3) = %v; want 333333.3", got)
	}

	// The report carries them, and measured deliveries per second.
	cfg := &config{workload: workRooms, rooms: 200, members: 10, rate: 1, duration: 20 * time.Second, sample: 4}
	rep := buildReport(cfg, plan{}, r, srv, phases{}, nil, 1, 0, nil)
	if rep.Messages.DeliveriesPerS != 900 || rep.Latency.Every != 4 || rep.Cost.ToolPerDeliveryUs != 75 {
		t.Errorf("report: %.0f deliveries/s (want 18000/20 s = 900), sample 1 in %d, tool %v µs", rep.Messages.DeliveriesPerS, rep.Latency.Every, rep.Cost.ToolPerDeliveryUs)
	}
}

func TestCPUList(t *testing.T) {
	for _, c := range []struct {
		in   []int
		want string
	}{{nil, ""}, {[]int{1}, "1"}, {[]int{0, 1}, "0-1"}, {[]int{0, 2, 3, 4, 7}, "0,2-4,7"}} {
		if got := cpuList(c.in); got != c.want {
			t.Errorf("cpuList(%v) = %q; want %q", c.in, got, c.want)
		}
	}
}

func TestAutoSample(t *testing.T) {
	for _, c := range []struct {
		cfg  config
		want int
	}{
		// 400 rooms × 10 at 0.2/s for 20 s: 160,000 timed deliveries.
		{config{workload: workRooms, rooms: 400, members: 10, rate: 0.2, duration: 20 * time.Second}, 1},
		// 1,900 × 10 at 0.2/s for 30 s: 1.14 million; 1 in 11 would leave 100,000, capped at 10.
		{config{workload: workRooms, rooms: 1900, members: 10, rate: 0.2, duration: 30 * time.Second}, 10},
		// broadcast to 1,000 at 100/s for 20 s: 2 million.
		{config{workload: workBroadcast, rooms: 1, members: 1000, rate: 100, duration: 20 * time.Second}, 10},
		{config{workload: workBroadcast, rooms: 1, members: 1000, rate: 10, duration: 20 * time.Second}, 2},
		{config{workload: workIdle, conns: 100, duration: 20 * time.Second}, 1},
	} {
		if got := c.cfg.autoSample(); got != c.want {
			t.Errorf("%s %d×%d at %g/s for %s: sample 1 in %d; want %d", c.cfg.workload, c.cfg.rooms, c.cfg.members, c.cfg.rate, c.cfg.duration, got, c.want)
		}
	}
}
