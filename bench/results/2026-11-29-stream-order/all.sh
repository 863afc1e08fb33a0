#!/usr/bin/env bash
# all.sh BEFORE_ROOT AFTER_ROOT: the rounds of docs/benchmarks.md "Stream
# order": each root a checkout with its `dist` build; builds alternate round by
# round: 3 distributed rounds (../2026-11-29-distributed-ack/round.sh, the
# same rounds as that comparison), then 5 embedded ones (round-embedded.sh). Reports go to $BENCH_OUT (default /work/bench-dist).
set -u
R=$(cd "$(dirname "$0")" && pwd)
before=$1; after=$2
rounds() { # SCRIPT KIND COUNT
  for i in $(seq 1 "$3"); do
    for pair in "$before before" "$after after"; do
      set -- "$1" "$2" "$3" $pair
      echo "== $2 $5 $i $(date +%T)"
      "$R/$1" "$4" "$5" "$i" || echo "round failed: $5 $i"
    done
  done
}
rounds ../2026-11-29-distributed-ack/round.sh distributed 3
rounds round-embedded.sh embedded 5
