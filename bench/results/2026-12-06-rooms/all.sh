#!/usr/bin/env bash
# all.sh BEFORE_ROOT AFTER_ROOT: the rounds of docs/benchmarks.md "Private
# channels, direct conversations and roles": the join and embedded rounds of
# ../2026-11-29-history-pages/all.sh, then SEARCH_ROUNDS (3) search rounds
# (../2026-11-29-search/round.sh) of each build, alternating. Each root is a
# checkout with its `dist` build. Reports go to $BENCH_OUT (default
# /work/bench-dist): join and embedded under before/ and after/, search
# under search-before/ and search-after/.
set -u
R=$(cd "$(dirname "$0")" && pwd)
before=$1; after=$2
out=${BENCH_OUT:-/work/bench-dist}
"$R/../2026-11-29-history-pages/all.sh" "$before" "$after"
for i in $(seq 1 "${SEARCH_ROUNDS:-3}"); do
  for pair in "$before before" "$after after"; do
    set -- $pair
    echo "== search $2 $i $(date +%T)"
    BENCH_OUT=$out/search-$2 "$R/../2026-11-29-search/round.sh" "$1" "$i" || echo "round failed: search $2 $i"
  done
done
echo "== all done $(date +%T)"
