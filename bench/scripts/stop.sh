#!/usr/bin/env bash
# Stops processes in the order given (comma- or space-separated PIDs): SIGTERM,
# then SIGKILL after 10 s. Usage: bench/scripts/stop.sh PID[,PID…] …
for pid in $(echo "$@" | tr ',' ' '); do
  kill "$pid" 2>/dev/null || continue
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
done
