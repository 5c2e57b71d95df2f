package main

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/kindred-health/kindred/chat/brokertest/rediscluster"
)

// One address keeps the single-Redis client; several, or the +cluster
// scheme, make a cluster client with every address as a seed.
func TestRedisURL(t *testing.T) {
	for _, c := range []struct {
		url     string
		cluster []string // nil: one Redis
		tls     bool
		bad     string // in the error
	}{
		{url: "redis://127.0.0.1:6379/0"},
		{url: "redis://:secret@redis.example.org:6380/2"},
		{url: "rediss://redis.example.org:6379/0", tls: true},
		{url: "redis://h1:7001,h2:7002,h3:7003", cluster: []string{"h1:7001", "h2:7002", "h3:7003"}},
		{url: "redis://user:pw@h1:7001,h2:7002/0?dial_timeout=2s", cluster: []string{"h1:7001", "h2:7002"}},
		{url: "redis+cluster://h1:7001", cluster: []string{"h1:7001"}},
		{url: "rediss+cluster://h1:7001,h2:7002/", cluster: []string{"h1:7001", "h2:7002"}, tls: true},
		{url: "redis://h1:7001,h2:7002/3", bad: "database 0 only"},
		{url: "redis://h1:7001,h2", bad: "want host:port"},
		{url: "redis+cluster://h1:7001?nonsense=1", bad: "nonsense"},
		{url: "memcached+cluster://h1:7001", bad: "scheme"},
	} {
		single, cluster, err := parseRedisURL(c.url)
		switch {
		case c.bad != "":
			if err == nil || !strings.Contains(err.Error(), c.bad) {
				t.Errorf("%s: error %v, want one about %q", c.url, err, c.bad)
			}
		case err != nil:
			t.Errorf("%s: %v", c.url, err)
		case c.cluster == nil:
			want, _ := goredis.ParseURL(c.url)
			if single == nil || cluster != nil || single.Addr != want.Addr || single.DB != want.DB ||
				single.Password != want.Password || (single.TLSConfig != nil) != c.tls {
				t.Errorf("%s: %+v, %+v; want one Redis as goredis.ParseURL reads it", c.url, single, cluster)
			}
		default:
			if single != nil || cluster == nil || !slices.Equal(cluster.Addrs, c.cluster) || (cluster.TLSConfig != nil) != c.tls {
				t.Errorf("%s: %+v, %+v; want a cluster of %v", c.url, single, cluster, c.cluster)
			}
		}
	}
	if _, cl, _ := parseRedisURL("redis://user:pw@h1:7001,h2:7002/0?dial_timeout=2s"); cl.Username != "user" || cl.Password != "pw" || cl.DialTimeout.Seconds() != 2 {
		t.Errorf("cluster credentials and options: %+v", cl)
	}
}

func TestRedisClusterRefusesHashTaggedPrefix(t *testing.T) {
	if _, err := newRedisClient("redis://h1:7001,h2:7002", "", "kindred:{prod}:"); err == nil {
		t.Fatal("a hash-tagged prefix was accepted for a cluster")
	}
	c, err := newRedisClient("redis://127.0.0.1:6379/0", "", "kindred:{prod}:")
	if err != nil {
		t.Fatalf("one Redis takes any prefix: %v", err)
	}
	c.Close()
}

// --redis-tls-ca works with a cluster URL too, and is refused without TLS.
func TestRedisClusterTLSCA(t *testing.T) {
	ca := newTestCA(t)
	c, err := newRedisClient("rediss+cluster://h1:7001,h2:7002", ca.file, "kindred:")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cc, ok := c.(*goredis.ClusterClient)
	if !ok || cc.Options().TLSConfig == nil || cc.Options().TLSConfig.RootCAs == nil {
		t.Fatal("the cluster client does not trust the given authority")
	}
	if _, err := newRedisClient("redis://h1:7001,h2:7002", ca.file, "kindred:"); err == nil {
		t.Fatal("--redis-tls-ca was accepted with a plain redis:// cluster")
	}
	bad := filepath.Join(t.TempDir(), "empty.pem")
	os.WriteFile(bad, nil, 0o600)
	if _, err := newRedisClient("rediss+cluster://h1:7001", bad, "kindred:"); err == nil {
		t.Fatal("a CA file without a certificate was accepted")
	}
}

// Two kindred processes on PostgreSQL and a three-master Redis Cluster
// (--redis-url with every master's address) fan a message out between
// them.
func TestServeScaleOutOverRedisCluster(t *testing.T) {
	rc := rediscluster.Start(t, 3)
	args := clusterArgs(t)
	i := slices.Index(args, "--redis-url")
	args[i+1] = rc.URL()
	urlA, urlB := checkFanOut(t, http.DefaultClient, args)
	for _, url := range []string{urlA, urlB} {
		waitFor(t, "a node connected to the cluster", func() bool { return readiness(t, url) == "ready" })
	}
}
