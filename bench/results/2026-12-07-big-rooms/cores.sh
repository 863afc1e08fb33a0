#!/usr/bin/env bash
# cores.sh BEFORE_ROOT AFTER_ROOT: the cores, overload and idle rows of
# docs/benchmarks.md "Big rooms": each root a checkout with its `dist` build
# (the load generator is AFTER's); builds alternate round by round, ROUNDS
# (3) rounds. Per build and round, embedded, 1,000 connections in 10 rooms of
# 100 with 10 senders:
#   ramp1    server pinned to core 0, load generator to core 1: the highest
#            sustained rate (deliveries/s, p99 within 500 ms, nothing lost)
#   ramp2    server on cores 0 and 1, load generator on core 1 (it has no
#            core of its own left on this 2-core machine)
#   overload server on core 0, load generator on core 1, offered twice
#            ramp1's highest rate for 20 s: connections closed, refusals,
#            p99 of what was accepted, deliveries/s
#   idle     10,000 connections (500 accounts) in 100 rooms of 100, held
#            35 s: memory per connection and server CPU while idle
# Reports go to $BENCH_OUT (default /work/bench-dist/cores). ONLY=before or
# ONLY=after runs that build alone.
set -u
before=$1; after=$2
out=${BENCH_OUT:-/work/bench-dist/cores}
mkdir -p "$out"
bench="$after/target/dist/chat-bench"
script="$after/bench/scripts/embedded.sh"
port=18080
url=127.0.0.1:$port
stop() { kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done; rm -rf "$dir"; }
start() { read -r pid dir < <(BENCH_BIN=$1/target/dist taskset -c "$2" "$script" "$port"); }
fanout() { taskset -c 1 "$bench" fanout --url "$url" -n 1000 --rooms 10 --senders 10 --server-pid "$pid" "$@"; }
for i in $(seq 1 "${ROUNDS:-3}"); do
  for pair in "$before before" "$after after"; do
    set -- $pair
    root=$1; name=$2
    [ -n "${ONLY:-}" ] && [ "$name" != "$ONLY" ] && continue
    echo "== $name $i $(date +%T)"
    start "$root" 0
    fanout --rate 500 --ramp --step-secs 5 --json "$out/ramp1-$name-$i.json" >/dev/null || echo "ramp1 failed"
    stop
    start "$root" 0,1
    fanout --rate 500 --ramp --step-secs 5 --json "$out/ramp2-$name-$i.json" >/dev/null || echo "ramp2 failed"
    stop
    top=$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["result"]["rate_msgs"]))' "$out/ramp1-$name-$i.json")
    start "$root" 0
    fanout --rate "$((2 * top))" --duration 20 --json "$out/overload-$name-$i.json" >/dev/null || echo "overload failed"
    stop
    start "$root" 0,1
    "$bench" connections --url "$url" -n 10000 --rooms 100 --hold-secs 35 --server-pid "$pid" \
      --json "$out/idle-$name-$i.json" >/dev/null || echo "idle failed"
    stop
  done
done
echo "== done $(date +%T)"
