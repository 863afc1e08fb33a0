#!/usr/bin/env bash
# bigroom.sh ROOT: the big-room fan-out rows of docs/benchmarks.md "Big
# rooms", with ROOT's `dist` build; ROUNDS (3) rounds. 10,000 connections
# (500 accounts) all in one room, 10 of them sending:
#   fixed  embedded, 50 messages/s for 20 s (500,000 deliveries/s)
#   ramp   embedded, from 20 messages/s up to the highest sustained rate
#   dist   3 servers (a third of the connections each) on a 3-node NATS
#          cluster (stream replicas 3) and PostgreSQL, 20 messages/s for
#          20 s; with, per server, how many messages NATS delivered to its
#          channel's consumer (`connz` of its node, saved beside the report)
# Server and load generator share the machine's cores (unpinned).
# Reports go to $BENCH_OUT (default /work/bench-dist/bigroom).
set -u
root=$1
out=${BENCH_OUT:-/work/bench-dist/bigroom}
mkdir -p "$out"
bench="$root/target/dist/chat-bench"
port=18080
big() { "$bench" fanout -n 10000 --rooms 1 --senders 10 --room-prefix big "$@"; }
stop() { "$root/bench/scripts/stop.sh" "$@"; }
# What each NATS node handed its clients, by subscription (`connz`, on the
# node's monitoring port, client port + 100): a chat-server's channel
# consumer delivers on an _INBOX subject of its own.
connz() {
  for m in 19181 19182 19183; do
    curl -fs "http://127.0.0.1:$m/connz?subs=detail&limit=1000" >"$1-node$m.json"
  done
}
ulimit -n "$(ulimit -Hn)"
for i in $(seq 1 "${ROUNDS:-3}"); do
  echo "== embedded $i $(date +%T)"
  read -r pid dir < <(BENCH_BIN=$root/target/dist "$root/bench/scripts/embedded.sh" "$port")
  big --url "127.0.0.1:$port" --server-pid "$pid" --rate 50 --duration 20 \
    --json "$out/fixed-$i.json" >/dev/null || echo "fixed failed"
  stop "$pid"; rm -rf "$dir"
  read -r pid dir < <(BENCH_BIN=$root/target/dist "$root/bench/scripts/embedded.sh" "$port")
  big --url "127.0.0.1:$port" --server-pid "$pid" --rate 20 --ramp --step-secs 5 \
    --json "$out/ramp-$i.json" >/dev/null || echo "ramp failed"
  stop "$pid"; rm -rf "$dir"
  echo "== distributed $i $(date +%T)"
  (
    eval "$(BENCH_BIN=$root/target/dist BENCH_SERVERS=3 BENCH_NATS_NODES=3 \
      "$root/bench/scripts/distributed.sh" 18081)"
    trap 'stop "$SERVER_PIDS" "$ARCHIVER_PID" "$NATS_PID"' EXIT
    big --url 127.0.0.1:18081,127.0.0.1:18082,127.0.0.1:18083 --server-pid "$SERVER_PIDS" \
      --rate 20 --duration 20 --json "$out/dist-$i.json" >/dev/null || echo "dist failed"
    connz "$out/dist-$i"
  )
done
echo "== done $(date +%T)"
