#!/usr/bin/env bash
# Benchmarks a fresh local Kindred node in one command:
#
#   cmd/kindred-bench/run.sh --workload rooms --rooms 100 --members 10 --rate 0.2 --duration 20s
#
# It builds kindred and kindred-bench, starts a node on a free loopback port
# with a temporary data directory and limits set for load (no per-user send
# rate limit, up to 1000 rooms per user, a large outbound queue), waits for
# /readyz, runs kindred-bench with the arguments given (--url and --data are
# filled in), prints its report, and stops the node.
#
# With `video` first, it runs the video subcommand instead, against a node
# whose media ports listen on 127.0.0.1 (so it offers loopback candidates,
# as the tool's participants do) on a free UDP port, without ICE-TCP:
#
#   cmd/kindred-bench/run.sh video --sessions 1 --people 12 --duration 20s
#
# Environment:
#   KINDRED_BENCH_SERVER_ARGS  extra flags for `kindred serve`, e.g. "--queue-size 1024"
#   KINDRED_BENCH_KINDRED      a kindred binary to run instead of building one
#                              (the binary of another commit, side by side)
#   KINDRED_BENCH_TOOL         a kindred-bench binary to run instead of building
#                              one (the tool of another commit, side by side)
#   KINDRED_BENCH_SERVER_CPUS  run the server under `taskset -c` on these CPUs
#   KINDRED_BENCH_TOOL_CPUS    run the tool under `taskset -c` on these CPUs,
#                              e.g. SERVER_CPUS=0 TOOL_CPUS=1: separate cores,
#                              so figures compare from run to run
#   KINDRED_BENCH_KEEP=1       keep the temporary directory (data, server log,
#                              the node's /metrics after the run)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi

# Every connection is a descriptor on both ends; the soft limit is often
# 1024 while the hard limit allows far more. Both processes inherit this.
ulimit -n "$(ulimit -Hn)"

mode=()
# Video's media ports on free ports: another node on this machine may hold
# the defaults, and chat workloads do not use them.
mode_server_args=(--video-udp-port 0 --video-tcp-port 0)
if [ "${1:-}" = video ]; then
  shift
  mode=(video)
  mode_server_args=(--video-listen-ip 127.0.0.1 --video-udp-port 0 --video-tcp-port -1)
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kindred-bench.XXXXXX")
server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "${KINDRED_BENCH_KEEP:-}" = 1 ]; then
    echo "kept $tmp (data, server.log, metrics.txt)" >&2
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building kindred and kindred-bench…" >&2
if [ -n "${KINDRED_BENCH_KINDRED:-}" ]; then
  # A binary built elsewhere (another commit), to compare side by side.
  cp "$KINDRED_BENCH_KINDRED" "$tmp/kindred"
else
  go -C "$root" build -o "$tmp/kindred" ./cmd/kindred
fi
if [ -n "${KINDRED_BENCH_TOOL:-}" ]; then
  cp "$KINDRED_BENCH_TOOL" "$tmp/kindred-bench"
else
  go -C "$root" build -o "$tmp/kindred-bench" ./cmd/kindred-bench
fi

# Pinning: `taskset -c LIST` for the server and the tool when asked; the
# tool reports both (it reads KINDRED_BENCH_SERVER_CPUS, and its own
# affinity).
server_pin=()
tool_pin=()
if [ -n "${KINDRED_BENCH_SERVER_CPUS:-}" ]; then server_pin=(taskset -c "$KINDRED_BENCH_SERVER_CPUS"); fi
if [ -n "${KINDRED_BENCH_TOOL_CPUS:-}" ]; then tool_pin=(taskset -c "$KINDRED_BENCH_TOOL_CPUS"); fi
export KINDRED_BENCH_SERVER_CPUS

# The node serves /metrics on its port to this token only (serve reads
# $KINDRED_METRICS_TOKEN_FILE as --metrics-token-file; so does the tool).
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/metrics-token"
export KINDRED_METRICS_TOKEN_FILE="$tmp/metrics-token"

# Port 0: the node picks a free port and prints it.
# shellcheck disable=SC2086 # KINDRED_BENCH_SERVER_ARGS is a list of flags
${server_pin[@]+"${server_pin[@]}"} "$tmp/kindred" serve --addr 127.0.0.1:0 --data "$tmp/data" \
  --send-rate -1 --max-rooms 1000 --queue-size 65536 --log-level warn \
  --max-conns 0 --max-conns-per-ip 0 --conn-rate-per-ip 0 --max-sessions-per-user 0 --session-idle-timeout 0 \
  ${mode_server_args[@]+"${mode_server_args[@]}"} \
  ${KINDRED_BENCH_SERVER_ARGS:-} >"$tmp/server.out" 2>"$tmp/server.log" &
server_pid=$!

url=
for _ in $(seq 100); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "the server exited:" >&2
    cat "$tmp/server.log" >&2
    exit 1
  fi
  # The shell may not have created server.out yet: that is "not yet",
  # not a failure (set -e would end the run and stop the node at birth).
  url=$(sed -n 's|^Kindred is listening on \(http://[0-9.:]*\).*|\1|p' "$tmp/server.out" 2>/dev/null | head -n 1) || url=
  if [ -n "$url" ] && curl -fsS -o /dev/null "$url/readyz" 2>/dev/null; then
    break
  fi
  url=
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "the server did not become ready within 10 s:" >&2
  cat "$tmp/server.log" >&2
  exit 1
fi
echo "server $url (pid $server_pid), open-file limit $(ulimit -n), load average $(cut -d" " -f1-3 /proc/loadavg 2>/dev/null), server CPUs ${KINDRED_BENCH_SERVER_CPUS:-all}, tool CPUs ${KINDRED_BENCH_TOOL_CPUS:-all}" >&2

status=0
${tool_pin[@]+"${tool_pin[@]}"} "$tmp/kindred-bench" ${mode[@]+"${mode[@]}"} --url "$url" --data "$tmp/data" "$@" || status=$?
# The node's own series (commit times, batch sizes, …) as the run left them.
curl -fsS -H "Authorization: Bearer $(cat "$tmp/metrics-token")" -o "$tmp/metrics.txt" "$url/metrics" 2>/dev/null || true

# Warnings and errors the node logged during the run say what limited it.
if [ -s "$tmp/server.log" ]; then
  echo "server log: $(wc -l <"$tmp/server.log") lines at warn or above; the last ones:" >&2
  tail -n 5 "$tmp/server.log" >&2
fi
exit "$status"
