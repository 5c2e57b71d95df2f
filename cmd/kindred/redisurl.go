package main

import (
	"fmt"
	"net"
	"strings"

	goredis "github.com/redis/go-redis/v9"
)

// newRedisClient builds the client that --redis-url names, trusting the
// authorities in caFile for rediss:// (when given):
//
//   - one address, redis://host:6379/0 (rediss:// for TLS): one Redis;
//   - several comma-separated addresses, redis://h1:7001,h2:7002,h3:7003,
//     or the redis+cluster:// (rediss+cluster://) scheme with one or more:
//     a Redis Cluster, whose other nodes are found from these. The broker
//     then uses sharded Pub/Sub.
//
// Per-call deadlines bound socket reads too, so a hung Redis cannot hold
// a publish (and the committer) for long.
func newRedisClient(raw, caFile, prefix string) (goredis.UniversalClient, error) {
	single, cluster, err := parseRedisURL(raw)
	if err != nil {
		return nil, fmt.Errorf("redis URL: %w", err)
	}
	if single != nil {
		if err := redisTLS(single.TLSConfig, caFile); err != nil {
			return nil, err
		}
		single.ContextTimeoutEnabled = true
		return goredis.NewClient(single), nil
	}
	if strings.ContainsAny(prefix, "{}") {
		return nil, fmt.Errorf("--redis-prefix %q: with a Redis Cluster it must hold no braces: a hash tag would put every channel and key on one shard", prefix)
	}
	if err := redisTLS(cluster.TLSConfig, caFile); err != nil {
		return nil, err
	}
	cluster.ContextTimeoutEnabled = true
	return goredis.NewClusterClient(cluster), nil
}

// parseRedisURL returns the options of one Redis, or of a cluster when
// raw lists several addresses or has a +cluster scheme.
func parseRedisURL(raw string) (*goredis.Options, *goredis.ClusterOptions, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		opts, err := goredis.ParseURL(raw) // its error says what is wrong
		return opts, nil, err
	}
	isCluster := false
	if base, ok := strings.CutSuffix(scheme, "+cluster"); ok {
		scheme, isCluster = base, true
	}
	end := strings.IndexAny(rest, "/?")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo, hosts := "", authority
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		userinfo, hosts = authority[:at+1], authority[at+1:]
	}
	addrs := strings.Split(hosts, ",")
	if !isCluster && len(addrs) == 1 {
		opts, err := goredis.ParseURL(raw)
		return opts, nil, err
	}
	for _, a := range addrs {
		if h, p, err := net.SplitHostPort(a); err != nil || h == "" || p == "" {
			return nil, nil, fmt.Errorf("cluster address %q: want host:port", a)
		}
	}
	path, _, _ := strings.Cut(tail, "?")
	if path != "" && path != "/" && path != "/0" {
		return nil, nil, fmt.Errorf("a Redis Cluster has database 0 only, not %q", strings.TrimPrefix(path, "/"))
	}
	opts, err := goredis.ParseClusterURL(scheme + "://" + userinfo + addrs[0] + tail)
	if err != nil {
		return nil, nil, err
	}
	opts.Addrs = append(opts.Addrs, addrs[1:]...)
	return nil, opts, nil
}
