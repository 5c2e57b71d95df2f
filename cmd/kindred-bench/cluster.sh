#!/usr/bin/env bash
# Benchmarks N Kindred nodes in scale-out mode (PostgreSQL and Redis) on
# this machine, in one command:
#
#   cmd/kindred-bench/cluster.sh 2 --workload rooms --rooms 1900 --members 10 --rate 0.2 --duration 30s
#
# It builds kindred and kindred-bench, creates a fresh PostgreSQL schema
# and Redis key prefix for the run, starts N nodes on free loopback ports
# with a shared secret, runs kindred-bench against all of them (connections
# spread round robin; arguments after N are passed through), prints the
# report, stops the nodes and drops the schema.
#
# Environment:
#   KINDRED_BENCH_DATABASE_URL  default postgres://postgres@127.0.0.1:5432/test?sslmode=disable
#   KINDRED_BENCH_REDIS_URL     default redis://127.0.0.1:6379/0
#   KINDRED_BENCH_SERVER_ARGS   extra flags for every `kindred serve`
#   KINDRED_BENCH_SERVER_CPUS   run every node under `taskset -c` on these CPUs
#   KINDRED_BENCH_TOOL_CPUS     run the tool under `taskset -c` on these CPUs
set -euo pipefail

nodes=${1:?usage: cluster.sh NODES [kindred-bench flags]}
shift
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
ulimit -n "$(ulimit -Hn)"

db=${KINDRED_BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
redis=${KINDRED_BENCH_REDIS_URL:-redis://127.0.0.1:6379/0}
run=kb$(date +%s)$$
schema="bench_$run"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kindred-cluster.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  psql "$db" -q -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building kindred and kindred-bench…" >&2
go -C "$root" build -o "$tmp/kindred" ./cmd/kindred
go -C "$root" build -o "$tmp/kindred-bench" ./cmd/kindred-bench
psql "$db" -q -c "CREATE SCHEMA $schema" >/dev/null
server_pin=()
tool_pin=()
if [ -n "${KINDRED_BENCH_SERVER_CPUS:-}" ]; then server_pin=(taskset -c "$KINDRED_BENCH_SERVER_CPUS"); fi
if [ -n "${KINDRED_BENCH_TOOL_CPUS:-}" ]; then tool_pin=(taskset -c "$KINDRED_BENCH_TOOL_CPUS"); fi
export KINDRED_BENCH_SERVER_CPUS # the tool reports the pinning

sep='?'; case "$db" in *\?*) sep='&';; esac
export KINDRED_JWT_SECRET="bench-secret-$run-0123456789abcdef"
# Every node serves /metrics on its port to this token only (serve reads
# $KINDRED_METRICS_TOKEN_FILE as --metrics-token-file; so does the tool).
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/metrics-token"
export KINDRED_METRICS_TOKEN_FILE="$tmp/metrics-token"
urls=()
for i in $(seq "$nodes"); do
  mkdir -p "$tmp/node$i"
  # shellcheck disable=SC2086
  ${server_pin[@]+"${server_pin[@]}"} "$tmp/kindred" serve --addr 127.0.0.1:0 --data "$tmp/node$i" --node-id "node$i" \
    --database-url "${db}${sep}search_path=$schema" --redis-url "$redis" --redis-prefix "$run:" \
    --send-rate -1 --max-rooms 1000 --log-level warn --video-udp-port 0 --video-tcp-port 0 \
    --max-conns 0 --max-conns-per-ip 0 --conn-rate-per-ip 0 --max-sessions-per-user 0 --session-idle-timeout 0 ${KINDRED_BENCH_SERVER_ARGS:-} \
    >"$tmp/node$i.out" 2>"$tmp/node$i.log" &
  pids+=($!)
  url=
  for _ in $(seq 200); do
    url=$(sed -n 's|^Kindred is listening on \(http://[0-9.:]*\).*|\1|p' "$tmp/node$i.out" | head -n 1)
    if [ -n "$url" ] && curl -fsS -o /dev/null "$url/readyz" 2>/dev/null; then break; fi
    url=; sleep 0.1
  done
  [ -n "$url" ] || { echo "node $i did not become ready:" >&2; cat "$tmp/node$i.log" >&2; exit 1; }
  urls+=("$url")
done
list=$(IFS=,; echo "${urls[*]}")
echo "nodes $list (schema $schema, redis prefix $run:)" >&2
${tool_pin[@]+"${tool_pin[@]}"} "$tmp/kindred-bench" --url "$list" --secret-env KINDRED_JWT_SECRET "$@"
