#!/usr/bin/env bash
# Measures `hft serve` against nginx with wrk on this machine, side by side in one run:
#   1. nginx replying with a fixed JSON body to POST (the ceiling for HTTP on one core),
#   2. hft serve --ack queued, POST /api/orders,
#   3. hft serve --ack durable, POST /api/orders,
#   4. hft serve --ack durable, POST /api/orders/batch with 100 orders per request.
# Each server gets its own free port and data dir and is pinned to one core (SERVER_CPU), wrk to
# another (WRK_CPU), with one wrk thread and 64 connections. nginx runs worker_processes 1.
# The four runs repeat ROUNDS times, interleaved, so that a drift in the machine's speed (other
# tenants, a build) touches nginx and hft alike. Each figure is the median over the rounds.
# Prints requests/s, p50/p99 latency and the ratios to nginx.
#
# Usage: bench/gateway/http_vs_nginx.sh [path/to/hft]   (env: DURATION_S, ROUNDS, CONNECTIONS,
#        SERVER_CPU, WRK_CPU, HFT_THREADS)
set -euo pipefail

HFT=${1:-${HFT:-build/src/cli/hft}}
DURATION_S=${DURATION_S:-5}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-64}
SERVER_CPU=${SERVER_CPU:-1}
WRK_CPU=${WRK_CPU:-0}
HFT_THREADS=${HFT_THREADS:-1}

for tool in wrk nginx taskset curl python3; do
  command -v "$tool" >/dev/null || { echo "http_vs_nginx: $tool not found; run scripts/install-deps.sh" >&2; exit 1; }
done
[ -x "$HFT" ] || { echo "http_vs_nginx: $HFT is not an executable; build first or pass its path" >&2; exit 1; }

work=$(mktemp -d /tmp/hft-bench-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_http() {
  for _ in $(seq 1 200); do
    curl -sf -o /dev/null "http://127.0.0.1:$1/health" && return 0
    sleep 0.05
  done
  echo "http_vs_nginx: no HTTP reply on port $1 within 10 s" >&2
  return 1
}

order='{"symbol":"AAPL","side":"BUY","order_type":"MARKET","quantity":100,"price":150}'
batch='{"orders":['
for i in $(seq 1 100); do
  side=$([ $((i % 2)) -eq 0 ] && echo BUY || echo SELL)
  batch+="{\"symbol\":\"AAPL\",\"side\":\"$side\",\"order_type\":\"MARKET\",\"quantity\":100,\"price\":150}"
  [ "$i" -lt 100 ] && batch+=','
done
batch+=']}'

# One wrk Lua script per body; the token comes from the environment.
write_lua() {
  cat >"$work/$1.lua" <<LUA
wrk.method = "POST"
wrk.body = [[$2]]
wrk.headers["Content-Type"] = "application/json"
local token = os.getenv("HFT_TOKEN")
if token and token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
LUA
}
write_lua order "$order"
write_lua batch "$batch"

# Runs wrk and prints "requests_per_s p50_ms p99_ms".
run_wrk() {
  local port=$1 path=$2 script=$3
  taskset -c "$WRK_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION_S}s" --latency -s "$work/$script.lua" \
    "http://127.0.0.1:$port$path" >"$work/wrk.out"
  python3 - "$work/wrk.out" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(label):
    m = re.search(r"^\s*" + label + r"\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(f"{rps:.0f} {ms('50%'):.3f} {ms('99%'):.3f} {errors.group(1) if errors else 0}")
PY
}

# nginx: one worker, a fixed JSON reply, no access log, unlimited keep-alive requests.
nginx_port=$(free_port)
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path $work/nginx/body;
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      default_type application/json;
      return 201 '{"id":1,"client_order_id":null,"symbol":"AAPL","side":"BUY","order_type":"MARKET","price":150.00,"quantity":100,"filled_quantity":0,"average_price":null,"status":"QUEUED","created_at":"2024-01-01T00:00:00.000000Z"}';
    }
    location = /health { return 200 'ok'; }
  }
}
CONF
taskset -c "$SERVER_CPU" nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" 2>"$work/nginx/stderr" &
pids+=($!)
wait_http "$nginx_port"

# Starts hft serve with the given flags, registers a user and exports HFT_TOKEN.
start_hft() {
  local name=$1; shift
  rm -rf "${work:?}/$name"
  hft_port=$(free_port)
  taskset -c "$SERVER_CPU" "$HFT" serve --host 127.0.0.1 --port "$hft_port" --data-dir "$work/$name" \
    --threads "$HFT_THREADS" --log-level warn "$@" 2>"$work/$name.log" &
  hft_pid=$!
  pids+=($hft_pid)
  wait_http "$hft_port"
  HFT_TOKEN=$(curl -sf -X POST "http://127.0.0.1:$hft_port/api/auth/register" \
    -d "{\"username\":\"bench-$name\",\"email\":\"bench@example.com\",\"password\":\"bench-password\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  export HFT_TOKEN
}

stop_hft() {
  kill -TERM "$hft_pid"
  wait "$hft_pid" || echo "http_vs_nginx: hft serve ($1) exited with $?" >&2
}

# Each run appends "requests_per_s p50_ms p99_ms non2xx" to $work/<name>.runs.
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round of $ROUNDS" >&2
  unset HFT_TOKEN
  run_wrk "$nginx_port" /api/orders order >>"$work/nginx.runs"

  start_hft queued --ack queued
  run_wrk "$hft_port" /api/orders order >>"$work/queued.runs"
  stop_hft queued

  start_hft durable --ack durable
  run_wrk "$hft_port" /api/orders order >>"$work/durable.runs"
  stop_hft durable

  start_hft batch --ack durable
  run_wrk "$hft_port" /api/orders/batch batch >>"$work/batch.runs"
  stop_hft batch
done

# Prints the median of each column of a .runs file; the error count is summed.
median_of() {
  python3 - "$work/$1.runs" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
cols = list(zip(*rows))
print(" ".join(f"{statistics.median(float(v) for v in col):.3f}" for col in cols[:3]),
      sum(int(v) for v in cols[3]))
PY
}
read -r nginx_rps nginx_p50 nginx_p99 nginx_errors < <(median_of nginx)
read -r queued_rps queued_p50 queued_p99 queued_errors < <(median_of queued)
read -r durable_rps durable_p50 durable_p99 durable_errors < <(median_of durable)
read -r batch_rps batch_p50 batch_p99 batch_errors < <(median_of batch)

echo
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)  load: $(cut -d' ' -f1-3 /proc/loadavg)  cores: $(nproc)"
echo "wrk -t1 -c$CONNECTIONS -d${DURATION_S}s on cpu $WRK_CPU; servers on cpu $SERVER_CPU;" \
     "nginx worker_processes 1; hft serve --threads $HFT_THREADS; median of $ROUNDS rounds"
printf '%-34s %12s %9s %9s %7s %8s %9s\n' "server" "requests/s" "p50 ms" "p99 ms" "non2xx" "x nginx" "p99/ngx"
row() {
  python3 -c "import sys; n,r,p50,p99,e,nr,np=sys.argv[1:]; print(f'{n:<34} {float(r):>12,.0f} {float(p50):>9.3f} {float(p99):>9.3f} {int(e):>7} {float(r)/float(nr):>8.2f} {float(p99)/float(np):>9.2f}')" \
    "$@" "$nginx_rps" "$nginx_p99"
}
row "nginx fixed reply" "$nginx_rps" "$nginx_p50" "$nginx_p99" "$nginx_errors"
row "hft --ack queued" "$queued_rps" "$queued_p50" "$queued_p99" "$queued_errors"
row "hft --ack durable" "$durable_rps" "$durable_p50" "$durable_p99" "$durable_errors"
row "hft --ack durable, batch of 100" "$batch_rps" "$batch_p50" "$batch_p99" "$batch_errors"
python3 -c "import sys; print(f'batch orders/s: {float(sys.argv[1]) * 100:,.0f} (goal 2,000,000)')" "$batch_rps"
echo "goals: queued >= 0.90 x nginx, durable >= 0.80 x nginx, p99 <= 2 x nginx"
