#!/usr/bin/env bash
# round.sh ROOT I: one round of docs/benchmarks.md "Search": an embedded
# server and a distributed cluster (bench/scripts/distributed.sh), each with
# 1,000,000 messages filled into its archive first, then 3,000 searches.
# Reports go to $BENCH_OUT (default /work/bench-dist).
set -euo pipefail
root=$1; i=$2
bin=$root/target/dist
out=${BENCH_OUT:-/work/bench-dist}; mkdir -p "$out"
ulimit -n "$(ulimit -Hn)"
search() { "$bin/chat-bench" search --fill 1000000 --queries 3000 "$@"; }
read -r pid dir < <("$root/bench/scripts/embedded.sh" 18080)
search --url 127.0.0.1:18080 --sqlite "$dir/chat.db" --server-pid "$pid" \
  --json "$out/embedded-$i.json" > "$out/embedded-$i.txt" 2>&1
kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done; rm -rf "$dir"
eval "$(BENCH_BIN=$bin "$root/bench/scripts/distributed.sh" 18081)"
trap '"$root/bench/scripts/stop.sh" "$SERVER_PIDS" "$ARCHIVER_PID" "$NATS_PID"' EXIT
search --url 127.0.0.1:18081 --pg-url "$DATABASE_URL" --server-pid "${SERVER_PIDS%%,*}" \
  --json "$out/distributed-$i.json" > "$out/distributed-$i.txt" 2>&1
