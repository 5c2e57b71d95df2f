#!/usr/bin/env bash
# Chaos under load: two Kindred nodes in scale-out mode carry the `rooms`
# workload while the script breaks what they depend on, one fault at a time
# with time to recover in between, and then checks what users rely on:
#
#   cmd/kindred-bench/chaos.sh            # about 4 minutes
#   cmd/kindred-bench/chaos.sh --quick    # about 2 minutes, a smaller load
#   cmd/kindred-bench/chaos.sh --keep     # keep the directory (logs, samples, report)
#
# Run it as root on Linux: it needs `ip netns`, the postgres system user and
# PostgreSQL 15's binaries (/usr/lib/postgresql/15/bin, or $PG_BIN) and
# redis-server, psql, redis-cli, curl, jq. It touches no shared service: it
# starts its OWN PostgreSQL (initdb in a temporary directory, a free port,
# fsync on) and its OWN redis-server (a free port), so that it can restart
# them, and removes them, the namespace and the links when it ends.
#
# The cluster: node1 runs in the root namespace (127.0.0.1); node2 runs in a
# network namespace the script creates, with two veth pairs: one that
# carries the clients' connections and PostgreSQL (10.77.N.0/24), and one
# that carries only Redis (10.78.N.0/24, the only route from node2 to
# Redis). Both nodes share a token secret, PostgreSQL and Redis, and
# acknowledgement timeouts of 15 s for escalations.
#
# The load: kindred-bench --workload rooms across both nodes (each room has
# members on both, so deliveries cross Redis), clients that reconnect,
# resume and resend unacked sends with the same id as the protocol says
# (a client whose node refuses it for 5 s moves to the other node),
# plus a few crisis messages spread over the run and a supervisor on call
# (--crisis), who is paged and never acknowledges, so that every escalation
# keeps escalating every 15 s for the whole run.
#
# The faults, in order, ~30 s apart (~15 s with --quick):
#   a. node1 is killed with SIGKILL and started again at once;
#   b. Redis is killed and started again (an empty Redis);
#   c. PostgreSQL is restarted with `pg_ctl restart -m immediate` (a crash:
#      no checkpoint, recovery from the WAL);
#   d. node2 is cut off from Redis for 10 s (the host end of its Redis link
#      set down: its packets are dropped, nothing is refused), then restored.
#
# The checks, after the load and a drain:
#   - from the tool: every acked message reached every member exactly once
#     (lost = doubled = replayed = 0) and nothing is left unacked;
#   - from the store: every message is stored once per (conversation,
#     sender, client id), the stored count equals the tool's acked count,
#     and every conversation's sequence is gap-free;
#   - escalations: each crisis message opened one, and each page followed
#     the one before within the timeout plus 12 s (the lease a killed node
#     may hold, 10 s, and the engine's tick), the last one included;
#   - time to recover per fault: from the fault until stored messages grow
#     again on every node that has clients (sampled every 0.5 s from
#     /metrics), and until the tool's per-second p99 latency is back under
#     500 ms.
# It prints a table of results and exits 1 if a check failed.
#
# Environment: PG_BIN (PostgreSQL binaries), CHAOS_ROOMS, CHAOS_MEMBERS,
# CHAOS_RATE (per sender per second), CHAOS_GAP (seconds between faults).
set -euo pipefail

quick=0 keep=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: chaos.sh [--quick] [--keep]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "chaos.sh: run as root (network namespace, postgres user)" >&2; exit 2; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; fi
pgbin=${PG_BIN:-/usr/lib/postgresql/15/bin}
for c in ip redis-server redis-cli psql curl jq "$pgbin/initdb" "$pgbin/pg_ctl"; do
  command -v "$c" >/dev/null || { echo "chaos.sh: $c not found" >&2; exit 2; }
done
ulimit -n "$(ulimit -Hn)"

if [ "$quick" = 1 ]; then rooms=40 members=4 rate=0.5 gap=15 crisis=3
else rooms=200 members=5 rate=0.2 gap=30 crisis=6; fi
rooms=${CHAOS_ROOMS:-$rooms} members=${CHAOS_MEMBERS:-$members} rate=${CHAOS_RATE:-$rate} gap=${CHAOS_GAP:-$gap}
ack=15 cut=10 slack=12 p99_ok=500 warmup=5 first=20
end=$((first + 3 * gap + cut + gap))  # seconds from the load's start

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kindred-chaos.XXXXXX")
chmod 755 "$tmp"
n=$(($$ % 200 + 20)) ns=kchaos$$
netc=10.77.$n netr=10.78.$n
vch=kc$$ch vcn=kc$$cn vrh=kc$$rh vrn=kc$$rn
pids=() node_pid=("" "" "") redis_pid="" sampler_pid=""
log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
now() { date +%s.%N; }

cleanup() {
  set +e
  for p in $sampler_pid "${pids[@]}" ${node_pid[1]} ${node_pid[2]}; do kill -TERM "$p" 2>/dev/null; done
  for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null; done
  [ -n "$redis_pid" ] && kill -TERM "$redis_pid" 2>/dev/null
  wait 2>/dev/null
  [ -f "$tmp/pg/data/postmaster.pid" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$tmp/pg/data" -m immediate -w stop >/dev/null 2>&1
  ip netns del "$ns" 2>/dev/null; ip link del "$vch" 2>/dev/null; ip link del "$vrh" 2>/dev/null
  if [ "$keep" = 1 ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 20000))
    ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
  done
}

# --- the network: node2's namespace, one link for clients and PostgreSQL,
# one for Redis only.
make_net() {
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "$vch" type veth peer name "$vcn"
  ip link add "$vrh" type veth peer name "$vrn"
  ip link set "$vcn" netns "$ns"
  ip link set "$vrn" netns "$ns"
  ip addr add "$netc.1/24" dev "$vch"; ip link set "$vch" up
  ip addr add "$netr.1/24" dev "$vrh"; ip link set "$vrh" up
  ip -n "$ns" addr add "$netc.2/24" dev "$vcn"; ip -n "$ns" link set "$vcn" up
  ip -n "$ns" addr add "$netr.2/24" dev "$vrn"; ip -n "$ns" link set "$vrn" up
}

# --- PostgreSQL, our own, run by the postgres user (initdb refuses root).
pg() { runuser -u postgres -- "$pgbin/$1" "${@:2}"; }
start_pg() {
  mkdir -p "$tmp/pg/sock"
  chown -R postgres: "$tmp/pg"
  pg initdb -D "$tmp/pg/data" -A trust -U postgres >"$tmp/pg/initdb.log"
  echo "host all all $netc.0/24 trust" >>"$tmp/pg/data/pg_hba.conf"
  pg pg_ctl -D "$tmp/pg/data" -l "$tmp/pg/server.log" -w \
    -o "-p $pgport -k $tmp/pg/sock -c listen_addresses=127.0.0.1,$netc.1 -c max_connections=200" start >/dev/null
  psql -h 127.0.0.1 -p "$pgport" -U postgres -qc "CREATE DATABASE kindred" >/dev/null
}
sql() { psql -h 127.0.0.1 -p "$pgport" -U postgres -d kindred -AtF' ' -c "$1"; }

# --- Redis, our own: no persistence (it only carries publications and presence).
start_redis() {
  redis-server --port "$rport" --bind "127.0.0.1 $netr.1" --protected-mode no --save "" --appendonly no \
    --dir "$tmp" --logfile "$tmp/redis.log" &
  redis_pid=$!
  for _ in $(seq 100); do
    [ "$(redis-cli -p "$rport" ping 2>/dev/null)" = PONG ] && return
    sleep 0.1
  done
  echo "redis did not start" >&2; exit 1
}

# --- the nodes: node1 here, node2 in the namespace.
url=("" "http://127.0.0.1:$(free_port)" "http://$netc.2:$(free_port)")
start_node() {
  local i=$1 cmd
  if [ "$i" = 1 ]; then
    cmd=("$tmp/kindred" serve --addr "${url[1]#http://}"
      --database-url "postgres://postgres@127.0.0.1:$pgport/kindred?sslmode=disable" --redis-url "redis://127.0.0.1:$rport/0")
  else
    cmd=(ip netns exec "$ns" "$tmp/kindred" serve --addr "${url[2]#http://}"
      --database-url "postgres://postgres@$netc.1:$pgport/kindred?sslmode=disable" --redis-url "redis://$netr.1:$rport/0")
  fi
  mkdir -p "$tmp/node$i"
  "${cmd[@]}" --data "$tmp/node$i" --node-id "node$i" --log-level warn \
    --send-rate -1 --max-rooms 1000 --max-conns 0 --max-conns-per-ip 0 --conn-rate-per-ip 0 \
    --max-sessions-per-user 0 --session-idle-timeout 0 --ack-timeout-imminent ${ack}s --ack-timeout-high ${ack}s \
    >>"$tmp/node$i.out" 2>>"$tmp/node$i.log" &
  node_pid[i]=$!
  for _ in $(seq 300); do
    curl -fsS -o /dev/null -m 1 "${url[i]}/readyz" 2>/dev/null && return
    kill -0 "${node_pid[i]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "node$i did not become ready:" >&2; tail -n 20 "$tmp/node$i.log" >&2; exit 1
}

# sample writes, every 0.5 s, each node's stored-message counter and open
# connections ("NA" while it does not answer).
sample() {
  local t i m
  while :; do
    t=$(now)
    for i in 1 2; do
      m=$(curl -fsS -m 1 -H "Authorization: Bearer $(cat "$tmp/metrics-token")" "${url[i]}/metrics" 2>/dev/null |
        awk '/^kindred_messages_stored_total /{s=$2} /^kindred_connections /{c=$2} END{printf "%d %d", s, c}') || m="NA NA"
      echo "$t $i $m"
    done
    sleep 0.5
  done
}

# at waits until s seconds after the load's start.
at() { local d; d=$(awk -v l="$load_start" -v s="$1" -v n="$(now)" 'BEGIN{d=l+s-n; print (d>0?d:0)}'); sleep "$d"; }
# fault records fault $1, injected at $2 and undone (restarted, restored) at
# $3, described by $4.
fault() { echo "$1 $2 $3 $4" >>"$tmp/faults.txt"; log "fault $1: $4 (undone after $(awk -v a="$2" -v b="$3" 'BEGIN{printf "%.1f", b-a}') s)"; }

run_faults() {
  local t0
  at "$first"; t0=$(now); log "a: SIGKILL node1"
  kill -KILL "${node_pid[1]}"; wait "${node_pid[1]}" 2>/dev/null || true
  start_node 1; fault a "$t0" "$(now)" "node1 killed and restarted"
  at $((first + gap)); t0=$(now); log "b: restart Redis"
  kill -KILL "$redis_pid"; wait "$redis_pid" 2>/dev/null || true
  start_redis; fault b "$t0" "$(now)" "Redis killed and restarted"
  at $((first + 2 * gap)); t0=$(now); log "c: restart PostgreSQL (immediate)"
  pg pg_ctl -D "$tmp/pg/data" -m immediate -w restart >/dev/null
  fault c "$t0" "$(now)" "PostgreSQL restarted"
  at $((first + 3 * gap)); t0=$(now); log "d: cut node2 off from Redis for ${cut}s"
  ip link set "$vrh" down; sleep "$cut"; ip link set "$vrh" up
  fault d "$t0" "$(now)" "node2 cut off from Redis"
}

# --- the checks -----------------------------------------------------------

failed=0
row() { printf '  %-44s %s\n' "$1" "$2"; }
verdict() { if [ "$1" = 0 ]; then echo "ok"; else failed=1; echo "FAILED"; fi; }

# check_delivery: the tool's counts. A member's missing acked message is
# lost; one it got twice is doubled; one the server sent again at or below
# the position a reconnect resumed from is replayed.
check_delivery() {
  local m c bad
  m=$(jq -r '.messages | "\(.sent) \(.resent) \(.acked) \(.duplicate_acks) \(.unacked) \(.deliveries) \(.expected_deliveries) \(.lost) \(.doubled) \(.replayed) \(.crisis_sent // 0)"' "$tmp/bench.json")
  read -r sent resent acked dupacks unacked deliveries expected lost doubled replayed crisis_sent <<<"$m"
  c=$(jq -r '.connections | "\(.reconnects) \(.closes_by_code // {} | to_entries | map("\(.key): \(.value)") | join(", "))"' "$tmp/bench.json")
  echo "delivery (kindred-bench)"
  row "sent / resent / acked" "$sent / $resent / $acked (acked as duplicates $dupacks, crisis $crisis_sent)"
  row "reconnects (server closes)" "$c"
  bad=$((unacked > 0)); row "unacked at the end" "$unacked $(verdict $bad)"
  row "deliveries / expected" "$((deliveries - doubled - replayed)) / $expected"
  bad=$((lost + doubled + replayed > 0)); row "lost / doubled / replayed" "$lost / $doubled / $replayed $(verdict $bad)"
}

# check_store: every acked message stored once, every sequence gap-free.
check_store() {
  local stored distinct gaps bad
  read -r stored distinct <<<"$(sql "SELECT count(*), count(DISTINCT (conv_id, sender_id, client_id)) FROM events WHERE kind = 'message' AND sender_id LIKE 'bench-%'")"
  gaps=$(sql "SELECT count(*) FROM (SELECT conv_id FROM events GROUP BY conv_id HAVING max(seq) <> count(*)) g")
  echo "store (PostgreSQL)"
  bad=$((stored != distinct)); row "messages stored / distinct ids" "$stored / $distinct $(verdict $bad)"
  bad=$((stored < acked || stored > acked + unacked)); row "stored vs acked" "$stored vs $acked (+$unacked unacked) $(verdict $bad)"
  bad=$((gaps > 0)); row "conversations with a sequence gap" "$gaps $(verdict $bad)"
}

# check_escalations: one per crisis message, each page within the timeout
# (plus slack) of the step before, the last one included.
check_escalations() {
  local rows n late lim=$((ack + slack)) bad
  rows=$(sql "WITH p AS (
      SELECT e.id, e.tier, s.at, s.kind, lag(s.at) OVER (PARTITION BY e.id ORDER BY s.n) AS prev
      FROM escalations e JOIN escalation_steps s ON s.escalation_id = e.id
      WHERE s.kind IN ('created', 'notified', 'escalated'))
    SELECT count(*) FILTER (WHERE kind <> 'created'), max(tier),
      round(coalesce(max((at - prev) / 1e9) FILTER (WHERE kind <> 'created'), 0)::numeric, 1),
      round(((extract(epoch FROM clock_timestamp()) * 1e9 - max(at)) / 1e9)::numeric, 1)
    FROM p GROUP BY id ORDER BY min(at)")
  n=$(grep -c . <<<"$rows" || true)
  late=$(awk -v lim="$lim" '$1 < 1 || $3 > lim || $4 > lim' <<<"$rows" | grep -c . || true)
  echo "escalations (acknowledgement timeout ${ack}s, on time: every page within $lim s of the step before, and of now)"
  bad=$((n != crisis_sent)); row "opened / crisis messages" "$n / $crisis_sent $(verdict $bad)"
  bad=$((late > 0)); row "on time" "$((n - late)) of $n $(verdict $bad)"
  awk '{printf "  %-44s %d pages, tier %d, longest gap %s s, last %s s ago\n", "  escalation " NR, $1, $2, $3, $4}' <<<"$rows"
}

# check_recovery: per fault, the outage (fault until undone); the time
# until acks flow again: until every node that is down or has clients
# stores, over 1 s, at least 30% of what its clients stored per connection
# in the 10 s before the fault (0 if that never stopped), found by the 3rd
# sample in a row that shows it after the fault is undone; and the time
# until the per-second p99 (by send time) is back under p99_ok ms for 3
# seconds.
check_recovery() {
  jq -r '.per_second[] | "\(.t) \(.count) \(.p99_ms)"' "$tmp/bench.json" >"$tmp/p99.txt"
  echo "faults (seconds from the fault)"
  printf '  %-34s %8s %14s %16s\n' fault outage "acks flowing" "p99 < ${p99_ok} ms"
  awk -v ls="$load_start" -v ok="$p99_ok" '
    FILENAME ~ /faults/ { nf++; name[nf] = $1; t0[nf] = $2; t1[nf] = $3; $1 = $2 = $3 = ""; what[nf] = substr($0, 4); next }
    FILENAME ~ /p99/ { cnt[$1] = $2; p99[$1] = $3; last = $1; next }
    {
      k = $2; n[k]++; T[k, n[k]] = $1; S[k, n[k]] = $3; C[k, n[k]] = $4
      if (k == 2) step($1)
    }
    # at returns the index of the last sample of node k at or before time t.
    function at(k, t,   i) { for (i = n[k]; i > 1 && T[k, i] > t; i--); return i }
    # rate is the messages node k stored per second per connection over the
    # samples i0..i1 (-1 if the node did not answer or restarted).
    function rate(k, i0, i1) {
      if (S[k, i0] == "NA" || S[k, i1] == "NA" || S[k, i1] < S[k, i0] || T[k, i1] <= T[k, i0] || C[k, i1] < 1) return -1
      return (S[k, i1] - S[k, i0]) / (T[k, i1] - T[k, i0]) / C[k, i1]
    }
    function step(t,   j, k, good, i) {
      for (j = 1; j <= nf; j++) {
        if (t < t0[j] || done[j]) continue
        if (base[j, 1] == "") for (k = 1; k <= 2; k++) base[j, k] = rate(k, at(k, t0[j] - 10), at(k, t0[j]))
        good = 1
        for (k = 1; k <= 2; k++) {
          i = n[k]
          if (C[k, i] != "NA" && C[k, i] < 2) continue
          if (i < 3 || rate(k, i - 2, i) < 0.3 * base[j, k]) good = 0
        }
        if (!good) { bad[j] = 1; rec[j] = ""; streak[j] = 0; continue }
        if (bad[j] && rec[j] == "") rec[j] = t - t0[j]
        if (t >= t1[j] && ++streak[j] >= 3) done[j] = 1
      }
    }
    END {
      for (j = 1; j <= nf; j++) {
        f = t0[j] - ls; r = ""
        for (x = int(f); x <= last - 2; x++) {
          if (cnt[x] > 0 && p99[x] < ok && p99[x+1] < ok && p99[x+2] < ok) { r = x - f; if (r < 0) r = 0; break }
        }
        printf "  %-34s %8.1f %14s %16s\n", name[j] ". " what[j], t1[j] - t0[j], \
          (!done[j] ? "never" : sprintf("%.1f", bad[j] ? rec[j] : 0)), (r == "" ? "never" : sprintf("%.1f", r))
      }
    }' "$tmp/faults.txt" "$tmp/p99.txt" "$tmp/samples.txt"
}

report() {
  echo
  echo "chaos.sh results: $rooms rooms × $members members at $rate msg/s per sender, $end s of load; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"
  check_delivery
  check_store
  check_escalations
  check_recovery
  if [ "$failed" = 0 ]; then echo "chaos.sh: every check passed"; else echo "chaos.sh: a check FAILED"; fi
  return "$failed"
}

# --- the run --------------------------------------------------------------

echo "building kindred and kindred-bench…" >&2
go -C "$root" build -o "$tmp/kindred" ./cmd/kindred
go -C "$root" build -o "$tmp/kindred-bench" ./cmd/kindred-bench
pgport=$(free_port) rport=$(free_port)
make_net
start_pg
start_redis
export KINDRED_JWT_SECRET="chaos-secret-$$-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$tmp/metrics-token"
export KINDRED_METRICS_TOKEN_FILE="$tmp/metrics-token"
start_node 1
start_node 2
log "nodes ${url[1]} ${url[2]} (namespace $ns), PostgreSQL :$pgport, Redis :$rport; load average $(cut -d' ' -f1-3 /proc/loadavg)"
sample >"$tmp/samples.txt" 2>/dev/null &
sampler_pid=$!

"$tmp/kindred-bench" --url "${url[1]},${url[2]}" --secret-env KINDRED_JWT_SECRET --workload rooms \
  --rooms "$rooms" --members "$members" --rate "$rate" --warmup ${warmup}s --duration $((end - warmup))s \
  --drain 60s --failover-after 5s --crisis "$crisis" --json "$tmp/bench.json" --start-file "$tmp/start" \
  >"$tmp/bench.txt" 2>"$tmp/bench.err" &
bench=$!
pids+=("$bench")
for _ in $(seq 1200); do [ -s "$tmp/start" ] || { kill -0 "$bench" 2>/dev/null || break; sleep 0.1; }; done
[ -s "$tmp/start" ] || { echo "the load did not start:" >&2; cat "$tmp/bench.err" >&2; exit 1; }
load_start=$(awk '{printf "%.3f", $1/1e9}' "$tmp/start")
log "load started: $rooms rooms × $members members at $rate msg/s per sender for $end s"
run_faults
bench_status=0
wait "$bench" || bench_status=$?
cat "$tmp/bench.txt"
[ "$bench_status" = 0 ] || { echo "kindred-bench failed ($bench_status):" >&2; tail -n 20 "$tmp/bench.err" >&2; exit 1; }
report || exit 1
