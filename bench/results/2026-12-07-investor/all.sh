#!/usr/bin/env bash
# all.sh BEFORE_ROOT AFTER_ROOT: the rounds of docs/benchmarks.md "Investor
# tools": the join and embedded rounds of ../2026-11-29-history-pages/all.sh
# (3 of each, builds alternating). Each root is a checkout with its `dist`
# build. Reports go to $BENCH_OUT (default /work/bench-dist) under before/ and
# after/; then ../2026-11-29-history-pages/summary.py DIR.
set -u
R=$(cd "$(dirname "$0")" && pwd)
exec "$R/../2026-11-29-history-pages/all.sh" "$1" "$2"
