#!/usr/bin/env bash
# Redis queue benchmark, in one run: a fresh redis-server on 127.0.0.1 without persistence,
# first `redis-benchmark -P 64` sending the same XADD over 50 connections and over one, then
# OrderProducer (producer_bench), which uses one connection, at 64 and 512 XADDs per round trip.
#
# Usage: bench/redis/run.sh [BUILD_DIR] [ORDERS]
# Defaults: build, 200000. Needs redis-server and redis-benchmark (package redis-server).
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/../.." && pwd)"
build_dir="$(cd "${1:-$repo_root/build}" && pwd)"
orders="${2:-200000}"
producer_bench="$build_dir/bench/redis/producer_bench"
if [ ! -x "$producer_bench" ]; then
  echo "bench/redis: $producer_bench is missing; build the target producer_bench first" >&2
  exit 1
fi

work_dir="$(mktemp -d)"
redis_pid=""
cleanup() {
  if [ -n "$redis_pid" ]; then
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
  rm -rf "$work_dir"
}
trap cleanup EXIT

# A free port: one that no socket listens on now.
port=""
for _ in $(seq 1 50); do
  candidate=$((20000 + RANDOM % 40000))
  if ! ss -ltn "sport = :$candidate" | grep -q LISTEN; then
    port="$candidate"
    break
  fi
done
if [ -z "$port" ]; then
  echo "bench/redis: no free port found" >&2
  exit 1
fi

redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work_dir" \
  >"$work_dir/redis.log" 2>&1 &
redis_pid=$!
for _ in $(seq 1 100); do
  if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then break; fi
  sleep 0.05
done

payload="$(printf 'p%.0s' $(seq 1 64))"
for connections in 50 1; do
  echo "redis-benchmark -P 64 -c $connections -n $orders, XADD with a 64-byte payload field:"
  # -q rewrites its progress line with carriage returns; the last one is the result.
  redis-benchmark -h 127.0.0.1 -p "$port" -P 64 -c "$connections" -n "$orders" -q \
    XADD bench:reference '*' order_id 123456 type 2 payload "$payload" | tr '\r' '\n' | tail -n 1
  redis-cli -p "$port" del bench:reference >/dev/null
done

for pipeline in 64 512; do
  "$producer_bench" "redis://127.0.0.1:$port/0" "$orders" "$pipeline" 64
  redis-cli -p "$port" flushall >/dev/null
done
