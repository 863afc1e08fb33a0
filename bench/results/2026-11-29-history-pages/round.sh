#!/usr/bin/env bash
# round.sh ROOT LABEL I: one distributed round of join latency with that
# build's binaries and scripts, on a fresh cluster (distributed.sh): one
# client joining in a loop (rooms of 60 messages), ten clients at once, then
# one client again while 200 messages/s flow into ten other rooms (so the
# archivers' consumer usually has messages unacknowledged, and a page reads
# the stream back).
set -euo pipefail
root=$1; label=$2; i=$3
bin=$root/target/dist
out=${BENCH_OUT:-/work/bench-dist}/$label; mkdir -p "$out"
ulimit -n "$(ulimit -Hn)"
eval "$(BENCH_BIN=$bin "$root/bench/scripts/distributed.sh" 18081)"
trap '"$root/bench/scripts/stop.sh" "$SERVER_PIDS" "$ARCHIVER_PID" "$NATS_PID"' EXIT
urls=127.0.0.1:18081,127.0.0.1:18082
join() { "$bin/chat-bench" join --url "$urls" --joins 2000 --server-pid "$SERVER_PIDS" "$@" >/dev/null; }
join -n 1 --prefill 60 --json "$out/join1-$i.json"
join -n 10 --json "$out/join10-$i.json"
"$bin/chat-bench" fanout --url "$urls" -n 100 --rooms 10 --room-prefix load- --senders 10 --rate 200 \
  --duration 60 --server-pid "$SERVER_PIDS" --json "$out/load-$i.json" > "$out/load-$i.txt" 2>&1 &
load=$!
sleep 8
join -n 1 --json "$out/join1-load-$i.json"
wait "$load"
