// Package rediscluster starts a throwaway Redis Cluster for tests: a few
// masters without replicas, each a redis-server of the machine's on free
// loopback ports, without persistence, torn down when the test ends.
//
// The slots are assigned from Go (CLUSTER ADDSLOTSRANGE, SET-CONFIG-EPOCH,
// MEET), so only redis-server (7.0 or newer, for sharded Pub/Sub) is
// needed. Each node keeps its cluster configuration (nodes.conf) in a
// directory of its own, so a master killed and started again on its port
// comes back empty but rejoins with its slots.
//
// Without redis-server the test is skipped, except in CI (CI=true), where
// it fails; a cluster that does not come up always fails the test.
package rediscluster

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// slots is the number of hash slots of a Redis Cluster.
const slots = 16384

// hang bounds every wait; reaching it means the cluster is broken, not
// slow.
const hang = 30 * time.Second

// Cluster is a running Redis Cluster of masters only.
type Cluster struct {
	t     testing.TB
	Nodes []*Node
}

// Node is one master of a Cluster.
type Node struct {
	t       testing.TB
	Port    int
	busPort int
	dir     string
	cmd     *exec.Cmd
}

// Addr is the node's host:port.
func (n *Node) Addr() string { return "127.0.0.1:" + strconv.Itoa(n.Port) }

// Start starts a cluster of masters (at least 3 for a real cluster) and
// waits until every node reports it healthy with every slot served.
func Start(t testing.TB, masters int) *Cluster {
	t.Helper()
	return start(t, masters, 0)
}

// StartReplicated starts a cluster of masters with one replica each:
// Nodes[i] is a master and Nodes[masters+i] its replica, which takes over
// within the node timeout (5 s) once the master fails.
func StartReplicated(t testing.TB, masters int) *Cluster {
	t.Helper()
	return start(t, masters, 1)
}

func start(t testing.TB, masters, replicas int) *Cluster {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		msg := "redis-server is not on PATH: " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg + " (skipping; with CI=true this fails)")
	}
	c := &Cluster{t: t}
	t.Cleanup(c.stop)
	base := t.TempDir()
	for i := range masters * (1 + replicas) {
		n := &Node{t: t, Port: freePort(t), busPort: freePort(t), dir: filepath.Join(base, fmt.Sprint("node", i))}
		if err := os.Mkdir(n.dir, 0o700); err != nil {
			t.Fatal(err)
		}
		c.Nodes = append(c.Nodes, n)
		n.Start()
	}
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	for i, n := range c.Nodes {
		admin := n.admin()
		var err error
		if i < masters {
			lo, hi := i*slots/masters, (i+1)*slots/masters-1
			err = admin.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err()
		}
		if err == nil {
			// Distinct epochs, as redis-cli --cluster create sets them,
			// so no node has to resolve a collision first.
			err = admin.Do(ctx, "CLUSTER", "SET-CONFIG-EPOCH", i+1).Err()
		}
		admin.Close()
		if err != nil {
			t.Fatalf("rediscluster: node %d: %v", i, err)
		}
	}
	first := c.Nodes[0].admin()
	defer first.Close()
	for _, n := range c.Nodes[1:] {
		if err := first.Do(ctx, "CLUSTER", "MEET", "127.0.0.1", n.Port, n.busPort).Err(); err != nil {
			t.Fatalf("rediscluster: meet %s: %v", n.Addr(), err)
		}
	}
	if replicas > 0 {
		c.replicate(ctx, masters)
	}
	c.WaitOK()
	return c
}

// replicate makes Nodes[masters+i] a replica of Nodes[i], once it knows
// its master.
func (c *Cluster) replicate(ctx context.Context, masters int) {
	c.t.Helper()
	for i, n := range c.Nodes[masters:] {
		master := c.Nodes[i].admin()
		id, err := master.Do(ctx, "CLUSTER", "MYID").Text()
		master.Close()
		if err != nil {
			c.t.Fatalf("rediscluster: %v", err)
		}
		admin := n.admin()
		for {
			err = admin.Do(ctx, "CLUSTER", "REPLICATE", id).Err()
			if err == nil || ctx.Err() != nil {
				break
			}
			time.Sleep(50 * time.Millisecond) // the master is not known here yet
		}
		// A replica that never synced with its master does not take over
		// from it: wait for the link.
		for err == nil {
			var info string
			info, err = admin.Info(ctx, "replication").Result()
			if err == nil && strings.Contains(info, "master_link_status:up") {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		admin.Close()
		if err != nil {
			c.t.Fatalf("rediscluster: %s replicating %s: %v", n.Addr(), c.Nodes[i].Addr(), err)
		}
	}
}

// Addrs are the masters' addresses.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr()
	}
	return out
}

// URL is the cluster as kindred's --redis-url takes it: every master's
// address, comma-separated, in one redis:// URL.
func (c *Cluster) URL() string { return "redis://" + strings.Join(c.Addrs(), ",") }

// Client returns a cluster client closed when the test ends, with
// per-call deadlines bounding socket reads, as kindred builds it.
func (c *Cluster) Client() *goredis.ClusterClient {
	cl := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: c.Addrs(), ContextTimeoutEnabled: true})
	c.t.Cleanup(func() { _ = cl.Close() })
	return cl
}

// NodeOf is the index of the master that serves key's slot.
func (c *Cluster) NodeOf(key string) int {
	c.t.Helper()
	cl := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: c.Addrs()})
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), hang)
	defer cancel()
	m, err := cl.MasterForKey(ctx, key)
	if err != nil {
		c.t.Fatalf("rediscluster: master of %q: %v", key, err)
	}
	for i, n := range c.Nodes {
		if n.Addr() == m.Options().Addr {
			return i
		}
	}
	c.t.Fatalf("rediscluster: %q is served by %s, not one of %v", key, m.Options().Addr, c.Addrs())
	return -1
}

// WaitOK waits until every node reports the cluster healthy (state ok,
// every slot served, every node known) and knows every other node's
// address.
func (c *Cluster) WaitOK() {
	c.t.Helper()
	deadline := time.Now().Add(hang)
	var last string
	for _, n := range c.Nodes {
		admin := n.admin()
		for {
			ok, why := n.healthy(admin, len(c.Nodes))
			if ok {
				break
			}
			last = why
			if time.Now().After(deadline) {
				admin.Close()
				c.t.Fatalf("rediscluster: %s is not healthy after %v: %s", n.Addr(), hang, last)
			}
			time.Sleep(50 * time.Millisecond)
		}
		admin.Close()
	}
}

// healthy reports whether n sees a healthy cluster of size nodes, and if
// not, why.
func (n *Node) healthy(admin *goredis.Client, nodes int) (bool, string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	info, err := admin.ClusterInfo(ctx).Result()
	if err != nil {
		return false, err.Error()
	}
	for _, want := range []string{"cluster_state:ok", "cluster_slots_ok:" + strconv.Itoa(slots), "cluster_known_nodes:" + strconv.Itoa(nodes)} {
		if !strings.Contains(info, want+"\r\n") {
			return false, "no " + want
		}
	}
	list, err := admin.ClusterNodes(ctx).Result()
	if err != nil {
		return false, err.Error()
	}
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 || strings.HasPrefix(f[1], ":") || strings.Contains(f[2], "fail") ||
			strings.Contains(f[2], "handshake") || strings.Contains(f[2], "noaddr") || f[7] != "connected" {
			return false, "node line " + line
		}
	}
	return true, ""
}

// Start starts the node's redis-server (again) on its port, with its
// cluster configuration, and waits until it answers. After a restart,
// Cluster.WaitOK waits until it has rejoined.
func (n *Node) Start() {
	n.t.Helper()
	cmd := exec.Command("redis-server",
		"--bind", "127.0.0.1", "--port", strconv.Itoa(n.Port),
		"--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
		"--cluster-port", strconv.Itoa(n.busPort), "--cluster-node-timeout", "5000",
		"--save", "", "--appendonly", "no", "--dir", n.dir,
		"--daemonize", "no", "--loglevel", "warning", "--logfile", "redis.log")
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("rediscluster: start redis-server: %v", err)
	}
	n.cmd = cmd
	admin := n.admin()
	defer admin.Close()
	deadline := time.Now().Add(hang)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := admin.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(n.dir, "redis.log"))
			n.t.Fatalf("rediscluster: redis-server on %s did not come up: %v\n%s", n.Addr(), err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill ends the node's redis-server abruptly (SIGKILL) and waits for it to
// exit. Without persistence it loses its data; its nodes.conf stays.
func (n *Node) Kill() {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGCONT)
	_ = n.cmd.Process.Kill()
	_ = n.cmd.Wait()
	n.cmd = nil
}

// admin is a client of this node alone (no cluster redirections).
func (n *Node) admin() *goredis.Client {
	return goredis.NewClient(&goredis.Options{Addr: n.Addr(), MaxRetries: -1})
}

func (c *Cluster) stop() {
	for _, n := range c.Nodes {
		n.Kill()
	}
}

// freePort returns a loopback port nothing listens on (one the kernel
// just handed out and that was released again).
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
