#!/usr/bin/env bash
# metrics.sh BEFORE_ROOT AFTER_ROOT: the fan-out rows that per-delivery
# metrics touch, before and after them. Each root is a checkout with its
# `dist` build (the load generator is AFTER's); builds alternate round by
# round, ROUNDS (3) rounds. Embedded, 1,000 connections in 10 rooms of 100
# with 10 senders, the server pinned to core 0 and the load generator to core 1:
#   ramp1  the highest sustained rate (deliveries/s; p99 within 500 ms, nothing lost)
#   e100k  100,000 deliveries/s for 20 s: latency and server CPU
#   e50k   50,000 deliveries/s for 20 s: server CPU per delivery below saturation
# ROWS picks the rows (default "ramp1 e100k"; the CPU rows ran as ROWS=e50k).
# Reports go to $BENCH_OUT (default /work/bench-dist/metrics).
set -u
before=$1; after=$2
out=${BENCH_OUT:-/work/bench-dist/metrics}
mkdir -p "$out"
bench="$after/target/dist/chat-bench"
script="$after/bench/scripts/embedded.sh"
port=18080
url=127.0.0.1:$port
stop() { kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done; rm -rf "$dir"; }
start() { read -r pid dir < <(BENCH_BIN=$1/target/dist taskset -c 0 "$script" "$port"); }
fanout() { taskset -c 1 "$bench" fanout --url "$url" -n 1000 --rooms 10 --senders 10 --server-pid "$pid" "$@"; }
for i in $(seq 1 "${ROUNDS:-3}"); do
  for pair in "$before before" "$after after"; do
    set -- $pair
    root=$1; name=$2
    echo "== $name $i $(date +%T)"
    for row in ${ROWS:-ramp1 e100k}; do
      case $row in
        ramp1) args=(--rate 500 --ramp --step-secs 5) ;;
        e100k) args=(--rate 1000 --duration 20) ;;
        e50k) args=(--rate 500 --duration 20) ;;
        *) echo "unknown row $row"; exit 2 ;;
      esac
      start "$root"
      fanout "${args[@]}" --json "$out/$row-$name-$i.json" >/dev/null || echo "$row failed"
      stop
    done
  done
done
echo "== done $(date +%T)"
