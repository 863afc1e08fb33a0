#!/usr/bin/env bash
# The embedded-mode benchmarks of docs/benchmarks.md, each run 3 times on a
# fresh server: 10,000 idle connections, the fan-out ramp (plot included),
# fixed-rate fan-out at half the ramp's maximum and at 100,000
# deliveries/s, and /api/me during bursts of 16 sign-ups (with the default
# cap on password hashing and with it lifted to 16). JSON reports go to OUT
# (default /tmp/chat-bench-results).
# Usage: bench/scripts/suite-embedded.sh [OUT]
# Binaries from `cargo build --profile dist -p chat-bench -p chat-server -p chat-archiver -p chat-bot`
# (BENCH_BIN: another directory).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BENCH_BIN:-$root/target/dist}
out=${1:-/tmp/chat-bench-results}
mkdir -p "$out"
port=18080
url=127.0.0.1:$port
ulimit -n "$(ulimit -Hn)"

server() { read -r pid dir < <("$root/bench/scripts/embedded.sh" "$port" "$@"); }
stop() { kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done; rm -rf "$dir"; }
fanout() { "$bin/chat-bench" fanout --url "$url" -n 1000 --rooms 10 --senders 10 \
  --server-pid "$pid" --archive-sqlite "$dir/chat.db" "$@"; }

for i in 1 2 3; do
  server
  "$bin/chat-bench" connections --url "$url" -n 10000 --hold-secs 35 --server-pid "$pid" \
    --json "$out/connections-$i.json" >/dev/null
  stop
done

for i in 1 2 3; do
  server
  fanout --rate 500 --ramp --step-secs 5 --json "$out/ramp-$i.json" >/dev/null
  stop
done
"$bin/chat-bench" plot --out "$out/fanout-ramp.svg" --title "fan-out, 1,000 connections in 10 rooms, embedded" "$out"/ramp-?.json

# Half of the median maximum sustained rate (messages/s).
half=$(python3 -c 'import json,sys,statistics as s; print(round(s.median(json.load(open(f))["result"]["rate_msgs"] for f in sys.argv[1:])/2))' "$out"/ramp-?.json)
for i in 1 2 3; do
  server
  fanout --rate "$half" --duration 20 --json "$out/half-$i.json" >/dev/null
  fanout --rate 1000 --duration 20 --json "$out/fixed100k-$i.json" >/dev/null
  stop
done
for i in 1 2 3; do
  for cap in default 16; do
    if [ "$cap" = default ]; then server; else server --hash-concurrency "$cap"; fi
    "$bin/chat-bench" signups --url "$url" --server-pid "$pid" --json "$out/signups-$cap-$i.json" >/dev/null
    stop
  done
done
echo "results in $out"
