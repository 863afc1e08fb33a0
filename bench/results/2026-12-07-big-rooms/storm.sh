#!/usr/bin/env bash
# storm.sh BEFORE_ROOT AFTER_ROOT: the join storm of docs/benchmarks.md "Big
# rooms": 10,000 connections, one account each, all joining one room, then
# the same 10,000 joining 100 rooms of 100; each root a checkout with its
# `dist` build (the load generator is AFTER's). Builds alternate round by
# round, ROUNDS (3) rounds. The accounts are made once (bcrypt: minutes)
# into a template data directory every server starts from a copy of.
# Reports go to $BENCH_OUT (default /work/bench-dist/storm).
set -u
before=$1; after=$2
out=${BENCH_OUT:-/work/bench-dist/storm}
mkdir -p "$out"
bench="$after/target/dist/chat-bench"
script="$after/bench/scripts/embedded.sh"
port=18080
template=$out/template
stop() { kill "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done; }
storm() { "$bench" storm --url "127.0.0.1:$port" -n "${CONNECTIONS:-10000}" --cookies "$template/cookies.txt" \
  --server-pid "$pid" "$@"; }
if [ ! -f "$template/chat.db" ]; then
  echo "== accounts $(date +%T)"
  mkdir -p "$template"; rm -f "$template/cookies.txt"
  read -r pid dir < <(BENCH_BIN=$after/target/dist "$script" "$port" --hash-concurrency 2)
  storm --rooms 100 --login-concurrency 8 >/dev/null
  stop
  cp -a "$dir"/. "$template"/
  rm -rf "$dir"
fi
for i in $(seq 1 "${ROUNDS:-3}"); do
  for pair in "$before before" "$after after"; do
    set -- $pair
    for rooms in 1 100; do
      echo "== $2 rooms=$rooms $i $(date +%T)"
      read -r pid dir < <(BENCH_FROM=$template BENCH_BIN=$1/target/dist "$script" "$port")
      storm --rooms "$rooms" --json "$out/storm-$2-r$rooms-$i.json" >/dev/null || echo "run failed: $2 $rooms $i"
      stop
      rm -rf "$dir"
    done
  done
done
echo "== done $(date +%T)"
