#!/usr/bin/env bash
# Starts the distributed mode for benchmarking, in the background: a
# nats-server with the project's nats.conf, a fresh PostgreSQL database, one
# chat-archiver and two chat-servers (limits lifted) on PORT and PORT+1.
# Prints shell assignments (source them): NATS_PID ARCHIVER_PID SERVER_PIDS
# DATABASE_URL NATS_URL DIR (BENCH_NATS_CONF: another nats.conf;
# BENCH_DIR, BENCH_DB: reuse a store and database). Usage: eval "$(bench/scripts/distributed.sh [PORT])"
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
nats-server -c "${BENCH_NATS_CONF:-$root/nats.conf}" -a 127.0.0.1 -p "$nats_port" -sd "$dir/nats" >"$dir/nats.log" 2>&1 &
nats_pid=$!
[ -n "${BENCH_DB:-}" ] || createdb -h 127.0.0.1 -U postgres "$db"
export DATABASE_URL=postgres://postgres@127.0.0.1:5432/$db NATS_URL=nats://127.0.0.1:$nats_port
export CHAT_SESSION_KEY=bench-session-key-bench-session-key-bench-session-key-bench-session-key
export RUST_LOG=${RUST_LOG:-warn}
wait_for nats-server grep -q "Server is ready" "$dir/nats.log"
NATS_USER=archiver NATS_PASSWORD=$NATS_ARCHIVER_PASSWORD RUST_LOG=info "$bin/chat-archiver" >"$dir/archiver.log" 2>&1 &
archiver_pid=$!
wait_for chat-archiver grep -q "archiving" "$dir/archiver.log"
pids=()
for p in "$port" "$((port + 1))"; do
  NATS_USER=server NATS_PASSWORD=$NATS_SERVER_PASSWORD "$bin/chat-server" --bind "127.0.0.1:$p" \
    --bcrypt-cost 10 --rate-count 1000000 --rate-window-secs 1 \
    --max-connections-per-user 100000 --login-attempts 100000 \
    --login-attempts-per-address 100000 --signups-per-hour 1000000 --channels-per-hour 1000000 \
    >"$dir/server-$p.log" 2>&1 &
  pids+=($!)
  wait_for "chat-server on $p" curl -fs "http://127.0.0.1:$p/readyz"
done
echo "NATS_PID=$nats_pid ARCHIVER_PID=$archiver_pid SERVER_PIDS=${pids[0]},${pids[1]}"
echo "DATABASE_URL=$DATABASE_URL NATS_URL=$NATS_URL DIR=$dir NATS_OPS_PASSWORD=$NATS_OPS_PASSWORD"
