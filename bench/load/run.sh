#!/usr/bin/env bash
# Load-client benchmark, in one go: nginx returns a fixed order reply on 127.0.0.1 and is driven
# first by wrk and then by `hft load` with the same connections, one thread each and the same
# request; then the time `hft aggregate` takes for 10,000 client lines.
#
# Usage: bench/load/run.sh [BUILD_DIR] [CONNECTIONS] [DURATION_SEC]
# Defaults: build, 16 connections, 10 s. Needs wrk and nginx (scripts/install-deps.sh).
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/../.." && pwd)"
build_dir="$(cd "${1:-$repo_root/build}" && pwd)"
connections="${2:-16}"
duration_s="${3:-10}"
hft="$build_dir/src/cli/hft"
aggregate_bench="$build_dir/bench/load/aggregate_bench"
for binary in "$hft" "$aggregate_bench"; do
  if [ ! -x "$binary" ]; then
    echo "bench/load: $binary is missing; build the targets hft and aggregate_bench first" >&2
    exit 1
  fi
done
nginx_binary="$(command -v nginx || echo /usr/sbin/nginx)"

work_dir="$(mktemp -d)"
nginx_pid=""
cleanup() {
  if [ -n "$nginx_pid" ]; then
    kill "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
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
  echo "bench/load: no free port found" >&2
  exit 1
fi

# One nginx process (no master), so its pid is the only process to end.
cat > "$work_dir/nginx.conf" <<NGINX
daemon off;
master_process off;
worker_processes 1;
error_log $work_dir/error.log;
pid $work_dir/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path $work_dir/body;
  proxy_temp_path $work_dir/proxy;
  fastcgi_temp_path $work_dir/fastcgi;
  uwsgi_temp_path $work_dir/uwsgi;
  scgi_temp_path $work_dir/scgi;
  server {
    listen 127.0.0.1:$port;
    location = /health { return 200 '{"status":"healthy"}'; }
    location = /api/auth/register { return 201 '{"user_id":1,"access_token":"t","token_type":"bearer"}'; }
    location = /api/orders { return 201 '{"id":1,"status":"QUEUED"}'; }
  }
}
NGINX
"$nginx_binary" -p "$work_dir" -c "$work_dir/nginx.conf" -e "$work_dir/error.log" &
nginx_pid=$!
for _ in $(seq 1 100); do
  if curl -sf "http://127.0.0.1:$port/health" >/dev/null; then break; fi
  sleep 0.05
done

# The same request as the seed profile sends, with the same headers.
cat > "$work_dir/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"symbol":"AAPL","side":"BUY","order_type":"MARKET","quantity":100,"price":150.00}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer t"
LUA

echo "bench/load: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench/load: nginx on 127.0.0.1:$port, $connections connections, ${duration_s} s, 1 thread each"

wrk_output="$(wrk -t1 -c"$connections" -d"${duration_s}s" -s "$work_dir/post.lua" \
  "http://127.0.0.1:$port/api/orders")"
wrk_rate="$(echo "$wrk_output" | awk '/Requests\/sec/ {print $2}')"
echo "$wrk_output" | sed 's/^/  wrk: /'

hft_output="$("$hft" load --api-url "http://127.0.0.1:$port" --duration "$duration_s" \
  --connections "$connections" --profile seed 2>/dev/null)"
echo "$hft_output" | grep -v '^JSON:' | sed 's/^/  hft load: /'
hft_rate="$(echo "$hft_output" | grep '^JSON:' | sed 's/.*"orders_success":\([0-9]*\).*"duration_s":\([0-9.]*\).*/\1 \2/' \
  | awk '{printf "%.1f", $1 / $2}')"

echo "bench/load: wrk ${wrk_rate} requests/s, hft load ${hft_rate} orders/s," \
  "ratio $(awk -v a="$hft_rate" -v b="$wrk_rate" 'BEGIN {printf "%.2f", a / b}')" \
  "(goal: at least 1.00)"

"$aggregate_bench" 10000 "$work_dir/clients.txt"
started_ns="$(date +%s%N)"
"$hft" aggregate --json "$work_dir/clients.txt" >/dev/null
ended_ns="$(date +%s%N)"
echo "bench/load: hft aggregate process on 10,000 client lines took" \
  "$(awk -v d=$((ended_ns - started_ns)) 'BEGIN {printf "%.3f", d / 1e9}') s (goal: under 1 s)"
