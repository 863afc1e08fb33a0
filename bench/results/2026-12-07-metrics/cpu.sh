#!/usr/bin/env bash
# cpu.sh BEFORE_ROOT AFTER_ROOT: server CPU per delivery below saturation,
# before and after, alternating, ROUNDS (3) rounds: embedded, 1,000
# connections in 10 rooms of 100, 10 senders at 500 msg/s (50,000
# deliveries/s) for 20 s, the server on core 0 and the load generator on core 1.
set -u
before=$1; after=$2
out=${BENCH_OUT:-/work/bench-dist/metrics}
mkdir -p "$out"
bench="$after/target/dist/chat-bench"
script="$after/bench/scripts/embedded.sh"
port=18080
for i in $(seq 1 "${ROUNDS:-3}"); do
  for pair in "$before before" "$after after"; do
    set -- $pair
    echo "== $2 $i $(date +%T)"
    read -r pid dir < <(BENCH_BIN=$1/target/dist taskset -c 0 "$script" "$port")
    taskset -c 1 "$bench" fanout --url 127.0.0.1:$port -n 1000 --rooms 10 --senders 10 --server-pid "$pid" \
      --rate 500 --duration 20 --json "$out/e50k-$2-$i.json" >/dev/null || echo "e50k failed"
    kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done; rm -rf "$dir"
  done
done
