#!/usr/bin/env bash
# round.sh ROOT LABEL I: one distributed round with that build's binaries and scripts.
set -euo pipefail
root=$1; label=$2; i=$3
bin=$root/target/dist
out=${BENCH_OUT:-/work/bench-dist}/$label; mkdir -p "$out"
ulimit -n "$(ulimit -Hn)"
eval "$(BENCH_BIN=$bin "$root/bench/scripts/distributed.sh" 18081)"
trap '"$root/bench/scripts/stop.sh" "$SERVER_PIDS" "$ARCHIVER_PID" "$NATS_PID"' EXIT
urls=127.0.0.1:18081,127.0.0.1:18082
"$bin/chat-bench" cross --url "$urls" -n 1000 --rooms 10 --senders 10 --rate 100 --duration 20 \
  --server-pid "$SERVER_PIDS" --archive-pg "$DATABASE_URL" --json "$out/cross-$i.json" >/dev/null
"$bin/chat-bench" fanout --url "$urls" -n 1000 --rooms 10 --senders 10 --rate 500 --ramp --step-secs 5 \
  --server-pid "$SERVER_PIDS" --json "$out/ramp-$i.json" > "$out/ramp-$i.txt" 2>&1
