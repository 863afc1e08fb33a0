#!/usr/bin/env bash
# Starts the distributed mode for benchmarking, in the background: a
# nats-server with the project's nats.conf, a fresh PostgreSQL database, one
# chat-archiver and two chat-servers (limits lifted) on PORT and PORT+1.
# Prints shell assignments (source them): NATS_PID ARCHIVER_PID SERVER_PIDS
# DATABASE_URL NATS_URL DIR (BENCH_NATS_CONF: another nats.conf;
# BENCH_DIR, BENCH_DB: reuse a store and database). Usage: eval "$(bench/scripts/distributed.sh [PORT])"
# BENCH_SERVERS: how many chat-servers (PORT, PORT+1, …; default 2).
# BENCH_NATS_NODES: nats-servers in one cluster (default 1; with 3 the stream
# has 3 replicas, server i uses node i mod 3, and each node's monitoring port
# is its client port + 100, so `curl 127.0.0.1:PORT/connz` shows each
# client's out_msgs, what it was handed). NATS_PID is then a comma-separated list.
# Binaries from `cargo build --profile dist -p chat-bench -p chat-server -p chat-archiver -p chat-bot`
# (BENCH_BIN: another directory).
set -euo pipefail
wait_for() { # wait_for WHAT COMMAND...: up to 30 s
  local what=$1; shift
  for _ in $(seq 300); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "$what did not come up (logs in $dir)" >&2; exit 1
}
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BENCH_BIN:-$root/target/dist}
port=${1:-18081}
nats_port=$((port + 1000))
# BENCH_DIR and BENCH_DB reuse a NATS store and a database of an earlier start.
dir=${BENCH_DIR:-$(mktemp -d /tmp/chat-bench-cluster.XXXXXX)}
db=${BENCH_DB:-bench$(date +%s)}
export NATS_SERVER_PASSWORD=bench-server NATS_BOT_PASSWORD=bench-bot
export NATS_ARCHIVER_PASSWORD=bench-archiver NATS_OPS_PASSWORD=bench-ops
ulimit -n "$(ulimit -Hn)"
for log in "$dir"/*.log; do [ -e "$log" ] && mv "$log" "$log.$(date +%s)"; done
nodes=${BENCH_NATS_NODES:-1}
nats_pids=(); urls=()
for i in $(seq 0 $((nodes - 1))); do
  p=$((nats_port + i)); cluster=()
  if [ "$nodes" -gt 1 ]; then
    routes=$(for j in $(seq 0 $((nodes - 1))); do [ "$j" = "$i" ] || printf 'nats://127.0.0.1:%s,' $((nats_port + 200 + j)); done)
    cluster=(-n "bench-$i" -m $((p + 100)) --cluster_name chat-bench --cluster "nats://127.0.0.1:$((nats_port + 200 + i))"
      --routes "${routes%,}" --no_advertise)
  fi
  nats-server -c "${BENCH_NATS_CONF:-$root/nats.conf}" -a 127.0.0.1 -p "$p" -sd "$dir/nats-$i" "${cluster[@]}" >"$dir/nats-$i.log" 2>&1 &
  nats_pids+=($!); urls+=("nats://127.0.0.1:$p")
done
nats_pid=$(IFS=,; echo "${nats_pids[*]}")
[ -n "${BENCH_DB:-}" ] || createdb -h 127.0.0.1 -U postgres "$db"
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$db NATS_URL=${urls[0]}
if [ "$nodes" -gt 1 ]; then export CHAT_STREAM_REPLICAS=3; fi
export CHAT_SESSION_KEY=bench-session-key-bench-session-key-bench-session-key-bench-session-key
export RUST_LOG=${RUST_LOG:-warn}
for i in $(seq 0 $((nodes - 1))); do wait_for "nats-server $i" grep -q "Server is ready" "$dir/nats-$i.log"; done
# A cluster's JetStream takes a moment to elect its meta leader.
if [ "$nodes" -gt 1 ]; then
  wait_for "a JetStream meta leader" grep -qh "JetStream cluster new metadata leader\|Self is new JetStream cluster metadata leader" "$dir"/nats-*.log
fi
NATS_USER=archiver NATS_PASSWORD=$NATS_ARCHIVER_PASSWORD RUST_LOG=info "$bin/chat-archiver" >"$dir/archiver.log" 2>&1 &
archiver_pid=$!
wait_for chat-archiver grep -q "archiving" "$dir/archiver.log"
pids=()
for k in $(seq 0 $((${BENCH_SERVERS:-2} - 1))); do
  p=$((port + k))
  NATS_URL=${urls[$((k % nodes))]} NATS_USER=server NATS_PASSWORD=$NATS_SERVER_PASSWORD "$bin/chat-server" --bind "127.0.0.1:$p" \
    --bcrypt-cost 10 --rate-count 1000000 --rate-window-secs 1 \
    --max-connections-per-user 100000 --login-attempts 100000 \
    --login-attempts-per-address 100000 --signups-per-hour 1000000 --channels-per-hour 1000000 \
    >"$dir/server-$p.log" 2>&1 &
  pids+=($!)
  wait_for "chat-server on $p" curl -fs "http://127.0.0.1:$p/readyz"
done
echo "NATS_PID=$nats_pid ARCHIVER_PID=$archiver_pid SERVER_PIDS=$(IFS=,; echo "${pids[*]}")"
echo "DATABASE_URL=$DATABASE_URL NATS_URL=$NATS_URL DIR=$dir NATS_OPS_PASSWORD=$NATS_OPS_PASSWORD"
