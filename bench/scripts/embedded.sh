#!/usr/bin/env bash
# Starts the dist chat-server in embedded mode (SQLite, in-process bus,
# archiver and bot) with the limits lifted for benchmarking, in the
# background. Prints "PID DATA_DIR". Usage: bench/scripts/embedded.sh [PORT [FLAG...]]
# (FLAGs go to chat-server after the lifted limits, e.g. --hash-concurrency 16).
# Binaries from `cargo build --profile dist -p chat-bench -p chat-server -p chat-archiver -p chat-bot`
# (BENCH_BIN: another directory). BENCH_FROM: a data directory to start
# from (copied; e.g. one holding the accounts of an earlier run).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BENCH_BIN:-$root/target/dist}
port=${1:-18080}
dir=$(mktemp -d /tmp/chat-bench-embedded.XXXXXX)
if [ -n "${BENCH_FROM:-}" ]; then cp -a "$BENCH_FROM"/. "$dir"/; rm -f "$dir/server.log"; fi
ulimit -n "$(ulimit -Hn)"   # one descriptor per WebSocket
RUST_LOG=${RUST_LOG:-warn} "$bin/chat-server" --data-dir "$dir" --bind "127.0.0.1:$port" \
  --bcrypt-cost 10 --rate-count 1000000 --rate-window-secs 1 \
  --max-connections-per-user 100000 --login-attempts 100000 \
  --login-attempts-per-address 100000 --signups-per-hour 1000000 --channels-per-hour 1000000 \
  --stock-api-url 'http://127.0.0.1:9/q?s={code}' "${@:2}" >"$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 300); do
  if curl -fs "http://127.0.0.1:$port/healthz" >/dev/null; then echo "$pid $dir"; exit 0; fi
  sleep 0.1
done
echo "chat-server did not come up; log: $dir/server.log" >&2
exit 1
