#!/usr/bin/env bash
# The distributed-mode benchmarks of docs/benchmarks.md, each run 3 times, on
# nats-server + PostgreSQL + one archiver + two servers (distributed.sh):
# 1. cross-server latency at 10,000 deliveries/s;
# 2. archiver throughput and lag at 20,000 messages/s (three runs on one
#    cluster, which also fill the archive past 1,000,000 messages), then
#    single probes at 30,000 and 40,000 messages/s;
# 3. join latency on that archive (one client, then ten at once), the
#    cluster restarted on the same store and database.
# JSON reports go to OUT. Usage: bench/scripts/suite-distributed.sh [OUT]
# Binaries from `cargo build --profile dist -p chat-bench -p chat-server -p chat-archiver -p chat-bot`
# (BENCH_BIN: another directory).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${BENCH_BIN:-$root/target/dist}
out=${1:-/tmp/chat-bench-results}
mkdir -p "$out"
ulimit -n "$(ulimit -Hn)"
urls=127.0.0.1:18081,127.0.0.1:18082
start() { eval "$("$root/bench/scripts/distributed.sh" 18081)"; }
stop() { "$root/bench/scripts/stop.sh" "$SERVER_PIDS" "$ARCHIVER_PID" "$NATS_PID"; }
trap 'stop' EXIT
archiver() { "$bin/chat-bench" archiver --nats-url "$NATS_URL" --nats-user ops --nats-password "$NATS_OPS_PASSWORD" \
  --pg-url "$DATABASE_URL" --pid "$ARCHIVER_PID,$NATS_PID" "$@" >/dev/null; }

start
for i in 1 2 3; do
  "$bin/chat-bench" cross --url "$urls" -n 1000 --rooms 10 --senders 10 --rate 100 --duration 20 \
    --server-pid "$SERVER_PIDS" --archive-pg "$DATABASE_URL" --json "$out/cross-$i.json" >/dev/null
done
stop

start
for i in 1 2 3; do
  archiver --rate 20000 --total 400000 --json "$out/archiver-$i.json"
done
archiver --rate 30000 --total 300000 --json "$out/archiver-30k.json"
archiver --rate 40000 --total 400000 --json "$out/archiver-40k.json"
stop

# The same store and database.
BENCH_DIR=$DIR BENCH_DB=${DATABASE_URL##*/} start
psql -At -h 127.0.0.1 -U postgres -d "${DATABASE_URL##*/}" -c "SELECT count(*) FROM messages" >"$out/archived-count.txt"
for i in 1 2 3; do
  "$bin/chat-bench" join --url "$urls" -n 1 --joins 2000 --server-pid "$SERVER_PIDS" --json "$out/join1-$i.json" >/dev/null
done
for i in 1 2 3; do
  "$bin/chat-bench" join --url "$urls" -n 10 --joins 2000 --server-pid "$SERVER_PIDS" --json "$out/join-$i.json" >/dev/null
done
echo "results in $out (logs in $DIR)"
