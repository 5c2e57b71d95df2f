#!/usr/bin/env bash
# Starts a throwaway Redis Cluster of three masters (no replicas, no
# persistence) on this machine, for cluster.sh to run its nodes through:
#
#   url=$(cmd/kindred-bench/rediscluster.sh start /tmp/rc 7101)
#   KINDRED_BENCH_REDIS_URL=$url cmd/kindred-bench/cluster.sh 2 --workload rooms ...
#   cmd/kindred-bench/rediscluster.sh stop /tmp/rc
#
# start DIR [PORT]: masters on PORT, PORT+1, PORT+2 (default 7101) with
# their files in DIR; prints the --redis-url of the cluster.
# stop DIR: stops them and removes DIR.
set -euo pipefail

cmd=${1:?usage: rediscluster.sh start DIR [PORT] | stop DIR}
dir=${2:?usage: rediscluster.sh start DIR [PORT] | stop DIR}
case "$cmd" in
start)
  port=${3:-7101}
  mkdir -p "$dir"
  addrs=()
  for p in "$port" $((port + 1)) $((port + 2)); do
    mkdir -p "$dir/$p"
    redis-server --bind 127.0.0.1 --port "$p" --cluster-enabled yes \
      --cluster-config-file nodes.conf --save "" --appendonly no \
      --dir "$dir/$p" --daemonize yes --pidfile "$dir/$p/redis.pid" \
      --logfile redis.log --loglevel warning
    addrs+=("127.0.0.1:$p")
  done
  for a in "${addrs[@]}"; do
    for _ in $(seq 100); do
      redis-cli -h 127.0.0.1 -p "${a#*:}" ping >/dev/null 2>&1 && break
      sleep 0.05
    done
  done
  redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$dir/create.log"
  for a in "${addrs[@]}"; do
    for _ in $(seq 200); do
      redis-cli -h 127.0.0.1 -p "${a#*:}" cluster info | grep -q 'cluster_state:ok' && break
      sleep 0.05
    done
  done
  (IFS=,; echo "redis://${addrs[*]}")
  ;;
stop)
  for f in "$dir"/*/redis.pid; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  sleep 0.5
  rm -rf "$dir"
  ;;
*)
  echo "usage: rediscluster.sh start DIR [PORT] | stop DIR" >&2
  exit 2
  ;;
esac
