#!/usr/bin/env bash
# bigroom.sh ROOT: the big-room fan-out rows of docs/benchmarks.md "Big
# rooms", with ROOT's `dist` build; ROUNDS (3) rounds. 10,000 connections
# (500 accounts) all in one room, 10 of them sending:
#   fixed  embedded, 50 messages/s for 20 s (500,000 deliveries/s)
#   ramp   embedded, from 20 messages/s up to the highest sustained rate
#   dist   3 servers (a third of the connections each) on a 3-node NATS
#          cluster (stream replicas 3) and PostgreSQL, 20 messages/s for
#          20 s; with, per server, how many messages its NATS connection
#          received during the run (`connz` out_msgs of its node)
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
# Messages each chat-server's NATS connection was handed so far, by its
# node's monitoring port (client port + 100): "MONITOR_PORT CID OUT_MSGS" each.
received() {
  for m in 19181 19182 19183; do
    curl -fs "http://127.0.0.1:$m/connz?limit=1000" | python3 -c '
import json, sys
for c in json.load(sys.stdin)["connections"]:
    if c.get("name", "").startswith("chat-server"):
        print(sys.argv[1], c["cid"], c["out_msgs"])' "$m"
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
    received >"$out/dist-$i.before"
    big --url 127.0.0.1:18081,127.0.0.1:18082,127.0.0.1:18083 --server-pid "$SERVER_PIDS" \
      --rate 20 --duration 20 --json "$out/dist-$i.json" >/dev/null || echo "dist failed"
    received >"$out/dist-$i.after"
  )
done
echo "== done $(date +%T)"
