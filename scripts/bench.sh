#!/usr/bin/env bash
# Runs every benchmark in bench/ one after the other, on an otherwise idle machine, and prints
# their output with the machine and the date, ready to be copied into docs/benchmarks.md.
#
# Usage: scripts/bench.sh [BUILD_DIR]   (default: build; `make bench` builds it first)
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="$(cd "${1:-$repo_root/build}" && pwd)"
hft="$build_dir/src/cli/hft"
cd "$repo_root"

echo "== machine"
date -u '+%Y-%m-%d %H:%M UTC'
echo "$(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
uname -r
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== matching engine (bench/engine)"
"$build_dir/bench/engine/engine_bench" --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true

echo "== journal (bench/journal)"
JOURNAL_BENCH_DIR="$(mktemp -d "$build_dir/journal-bench-XXXXXX")"
trap 'rm -rf "$JOURNAL_BENCH_DIR"' EXIT
JOURNAL_BENCH_DIR="$JOURNAL_BENCH_DIR" "$build_dir/bench/journal/journal_bench"

echo "== HTTP: hft serve against nginx (bench/gateway)"
bench/gateway/http_vs_nginx.sh "$hft"

echo "== load client against wrk, aggregation (bench/load)"
bench/load/run.sh "$build_dir"

echo "== Redis Streams producer against redis-benchmark (bench/redis)"
bench/redis/run.sh "$build_dir"

echo "== scaled out: one server against two gateways and an engine over Redis (bench/redis)"
bench/redis/split.sh "$build_dir"

echo "== main job: hft run, 20 clients"
"$hft" run --clients 20 --duration "${DURATION_SEC:-30}" --port 0
