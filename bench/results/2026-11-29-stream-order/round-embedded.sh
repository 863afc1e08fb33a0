#!/usr/bin/env bash
# round-embedded.sh ROOT LABEL I: one embedded round with that build's binaries
# and scripts: the fan-out ramp, then 100,000 deliveries/s for 20 s, each on a
# fresh server (1,000 connections in 10 rooms).
set -euo pipefail
root=$1; label=$2; i=$3
bin=$root/target/dist
out=${BENCH_OUT:-/work/bench-dist}/$label; mkdir -p "$out"
port=18080; url=127.0.0.1:$port
ulimit -n "$(ulimit -Hn)"
server() { read -r pid dir < <("$root/bench/scripts/embedded.sh" "$port"); }
stop() { kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done; rm -rf "$dir"; }
fanout() { "$bin/chat-bench" fanout --url "$url" -n 1000 --rooms 10 --senders 10 \
  --server-pid "$pid" --archive-sqlite "$dir/chat.db" "$@"; }
server
fanout --rate 500 --ramp --step-secs 5 --json "$out/eramp-$i.json" > "$out/eramp-$i.txt" 2>&1
stop
server
fanout --rate 1000 --duration 20 --json "$out/e100k-$i.json" > "$out/e100k-$i.txt" 2>&1
stop
