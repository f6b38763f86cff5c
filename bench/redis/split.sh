#!/usr/bin/env bash
# Scaled-out benchmark, side by side in one run on 127.0.0.1. It runs the main job's shape
# (CLIENTS `hft load` processes, closed loop, DURATION seconds) against two setups:
#   (a) one `hft serve` with the in-process queue (--role all);
#   (b) two `hft serve --role gateway` and one `hft serve --role engine` over a fresh
#       redis-server with its append-only file synced on every write (REDIS_FSYNC: always,
#       everysec or no), half of the clients on each gateway.
# It prints orders/s and p99 latency of each (from `hft aggregate --json`), their ratio, and the
# CPU seconds each server process (and redis-server) used during the load, read from
# /proc/PID/stat, which shows where the time goes.
#
# Usage: bench/redis/split.sh [BUILD_DIR] [DURATION_S] [CLIENTS]
# Defaults: build, 10, 20. Needs redis-server, python3 and ss.
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/../.." && pwd)"
build_dir="$(cd "${1:-$repo_root/build}" && pwd)"
duration="${2:-10}"
clients="${3:-20}"
hft="$build_dir/src/cli/hft"
if [ ! -x "$hft" ]; then
  echo "bench/redis/split.sh: $hft is missing; build the target hft first" >&2
  exit 1
fi

work_dir="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work_dir"
}
trap cleanup EXIT

used_ports=""
# A free port: one that no socket listens on now and this script has not handed out.
free_port() {
  for _ in $(seq 1 50); do
    local candidate=$((20000 + RANDOM % 40000))
    if ! ss -ltn "sport = :$candidate" | grep -q LISTEN &&
      [[ " $used_ports " != *" $candidate "* ]]; then
      used_ports="$used_ports $candidate"
      echo "$candidate"
      return
    fi
  done
  echo "bench/redis/split.sh: no free port found" >&2
  exit 1
}

wait_for_health() {
  for _ in $(seq 1 200); do
    if curl -sf "http://127.0.0.1:$1/health" >/dev/null 2>&1; then return; fi
    sleep 0.05
  done
  echo "bench/redis/split.sh: no /health on port $1; logs in $work_dir" >&2
  exit 1
}

# CPU seconds (user + system) a process has used so far.
cpu_seconds() {
  python3 -c '
import os, sys
fields = open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")", 1)[1].split()
print((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))' "$1"
}

# Runs the clients against the ports given, then prints "throughput p99_ms" from the report.
run_clients() {
  local name="$1"
  shift
  local ports=("$@")
  local start_at=$(($(date +%s) + 2))
  local client_pids=()
  for i in $(seq 1 "$clients"); do
    local port="${ports[$(((i - 1) % ${#ports[@]}))]}"
    CLIENT_ID=$i API_URL="http://127.0.0.1:$port" DURATION_SEC=$duration \
      "$hft" load --start-at "$start_at" >"$work_dir/$name-load-$i.out" \
      2>"$work_dir/$name-load-$i.err" &
    client_pids+=($!)
  done
  for pid in "${client_pids[@]}"; do wait "$pid" || true; done
  cat "$work_dir/$name"-load-*.out | "$hft" aggregate --json >"$work_dir/$name-report.json" || true
  python3 -c '
import json, sys
report = json.load(open(sys.argv[1]))
print("%.0f %.2f" % (report["throughput"], report["latency_ms"]["p99"]))' \
    "$work_dir/$name-report.json"
}

# Prints the CPU seconds each named process used between two samples.
report_cpu() {
  local -n before_ref=$1
  local -n names_ref=$2
  local -n pids_ref=$3
  for i in "${!pids_ref[@]}"; do
    local after
    after="$(cpu_seconds "${pids_ref[$i]}")"
    python3 -c 'import sys; print(f"    {sys.argv[1]:<16} {float(sys.argv[3]) - float(sys.argv[2]):6.1f} CPU s")' \
      "${names_ref[$i]}" "${before_ref[$i]}" "$after"
  done
}

echo "split.sh: $clients clients, closed loop, $duration s each run, $(nproc) cores," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"

# (a) one process.
port_all="$(free_port)"
"$hft" serve --host 127.0.0.1 --port "$port_all" --data-dir "$work_dir/all" \
  >"$work_dir/all.log" 2>&1 &
pid_all=$!
pids+=("$pid_all")
wait_for_health "$port_all"
names_a=("hft serve (all)")
pids_a=("$pid_all")
before_a=("$(cpu_seconds "$pid_all")")
read -r throughput_a p99_a < <(run_clients all "$port_all")
echo "(a) one hft serve:           $throughput_a orders/s, p99 $p99_a ms"
report_cpu before_a names_a pids_a
kill "$pid_all"
wait "$pid_all" || true

# (b) two gateways and one engine over Redis.
port_redis="$(free_port)"
# The append-only file with fsync on every write loses nothing acknowledged, like (a)'s
# --ack durable. REDIS_FSYNC=no measures Redis without persistence instead.
if [ "${REDIS_FSYNC:-always}" = no ]; then
  redis_persistence=(--save '' --appendonly no)
else
  redis_persistence=(--save '' --appendonly yes --appendfsync "${REDIS_FSYNC:-always}")
fi
redis-server --port "$port_redis" --bind 127.0.0.1 "${redis_persistence[@]}" \
  --dir "$work_dir" >"$work_dir/redis.log" 2>&1 &
pid_redis=$!
pids+=("$pid_redis")
for _ in $(seq 1 100); do
  if redis-cli -p "$port_redis" ping 2>/dev/null | grep -q PONG; then break; fi
  sleep 0.05
done
queue="redis://127.0.0.1:$port_redis/0"
port_engine="$(free_port)"
"$hft" serve --role engine --queue "$queue" --host 127.0.0.1 --port "$port_engine" \
  --data-dir "$work_dir/engine" --threads 1 >"$work_dir/engine.log" 2>&1 &
pid_engine=$!
pids+=("$pid_engine")
wait_for_health "$port_engine"
port_a="$(free_port)"
port_b="$(free_port)"
for port in "$port_a" "$port_b"; do
  "$hft" serve --role gateway --queue "$queue" --host 127.0.0.1 --port "$port" \
    >"$work_dir/gateway-$port.log" 2>&1 &
  pids+=($!)
  wait_for_health "$port"
done
names_b=("gateway A" "gateway B" "engine" "redis-server")
pids_b=("${pids[-2]}" "${pids[-1]}" "$pid_engine" "$pid_redis")
before_b=()
for pid in "${pids_b[@]}"; do before_b+=("$(cpu_seconds "$pid")"); done
read -r throughput_b p99_b < <(run_clients split "$port_a" "$port_b")
echo "(b) 2 gateways + 1 engine:   $throughput_b orders/s, p99 $p99_b ms"
report_cpu before_b names_b pids_b

python3 -c 'import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print(f"ratio (b)/(a): {b / a:.2f}" if a > 0 else "ratio: (a) measured 0 orders/s")' \
  "$throughput_a" "$throughput_b"
