#!/usr/bin/env bash
# all.sh BEFORE_ROOT AFTER_ROOT [OLD_ROOT]: the rounds of docs/benchmarks.md
# "History pages while the archive lags": each root a checkout with its
# `dist` build; builds alternate round by round: JOIN_ROUNDS (3) join rounds
# (round.sh) of BEFORE and AFTER, then EMBEDDED_ROUNDS (3) embedded rounds
# (../2026-11-29-stream-order/round-embedded.sh) of each root given. Reports
# go to $BENCH_OUT (default /work/bench-dist).
set -u
R=$(cd "$(dirname "$0")" && pwd)
before=$1; after=$2; old=${3:-}
for i in $(seq 1 "${JOIN_ROUNDS:-3}"); do
  for pair in "$before before" "$after after"; do
    set -- $pair
    echo "== join $2 $i $(date +%T)"
    "$R/round.sh" "$1" "$2" "$i" || echo "round failed: $2 $i"
  done
done
for i in $(seq 1 "${EMBEDDED_ROUNDS:-3}"); do
  for pair in ${old:+"$old old"} "$before before" "$after after"; do
    set -- $pair
    echo "== embedded $2 $i $(date +%T)"
    "$R/../2026-11-29-stream-order/round-embedded.sh" "$1" "$2" "$i" || echo "round failed: $2 $i"
  done
done
echo "== done $(date +%T)"
