#!/usr/bin/env bash
# The distributed load test on one machine: `hft serve` in one network namespace and four client
# "hosts" in four others, joined by a bridge in a sixth. Each client runs `hft load` against the
# server's address the way a pod of the Kubernetes Job does: id 0..3 as a completion index,
# settings in CLIENT_ID, API_URL and DURATION_SEC, `--start-at` for a common start. Their output,
# prefixed as `kubectl logs --prefix` prints it, goes to `hft aggregate --expect-clients 4`.
#
# Every address (10.200.0.0/24) exists only inside the namespaces this test creates, and the
# EXIT trap stops the processes it started and deletes the namespaces.
#
#   sudo HFT_BINARY=build/src/cli/hft tests/deploy/netns_test.sh
#
# Exits 77 (skipped) when not root or when network namespaces cannot be created.
set -euo pipefail

readonly kSkip=77
readonly kClients=4
readonly kDurationSec=3
readonly kServerAddress=10.200.0.1
readonly kPort=8000
readonly kHealthTimeoutSec=30
readonly kClientTimeoutSec=60

skip() {
  echo "SKIPPED: $*"
  exit "$kSkip"
}

fail() {
  echo "FAILED: $*" >&2
  exit 1
}

hft="${HFT_BINARY:-}"
[ -n "$hft" ] || fail "HFT_BINARY is not set; point it at the built hft executable"
[ -x "$hft" ] || fail "HFT_BINARY=$hft is not an executable file"
[ "$(id -u)" -eq 0 ] || skip "network namespaces need root (run as root or with sudo)"
command -v ip >/dev/null 2>&1 || skip "the ip command (Debian package iproute2) is not installed"
command -v curl >/dev/null 2>&1 || fail "curl is not installed; run scripts/install-deps.sh"
command -v node >/dev/null 2>&1 || fail "node is not installed; run scripts/install-deps.sh"

# Names unique to this run, so concurrent runs do not collide.
prefix="hft$$"
switch_ns="${prefix}-switch"
server_ns="${prefix}-server"
client_namespaces=()
for ((i = 0; i < kClients; i++)); do
  client_namespaces+=("${prefix}-client$i")
done
created_namespaces=()
started_pids=()
work_dir="$(mktemp -d)"

cleanup() {
  local status=$?
  for pid in "${started_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${started_pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  for namespace in "${created_namespaces[@]}"; do
    ip netns delete "$namespace" 2>/dev/null || true
  done
  if [ "$status" -ne 0 ] && [ -d "$work_dir" ]; then
    for log in "$work_dir"/*.log; do
      [ -s "$log" ] && { echo "--- $(basename "$log") (last 20 lines)"; tail -n 20 "$log"; }
    done
  fi
  rm -rf "$work_dir"
  exit "$status"
}
trap cleanup EXIT

# Namespaces: a switch with a bridge, and one veth pair from each host to the bridge.
add_namespace() {
  ip netns add "$1" || skip "cannot create network namespace $1 (ip netns needs CAP_SYS_ADMIN)"
  created_namespaces+=("$1")
  ip -n "$1" link set lo up
}

add_namespace "$switch_ns"
ip -n "$switch_ns" link add br0 type bridge || skip "the kernel has no bridge support"
ip -n "$switch_ns" link set br0 up

# Connects namespace $1 to the bridge as interface eth0 with address $2/24.
connect_host() {
  local namespace="$1" address="$2" port_name="$3"
  add_namespace "$namespace"
  ip link add eth0 netns "$namespace" type veth peer name "$port_name" netns "$switch_ns" \
    || skip "the kernel has no veth support"
  ip -n "$switch_ns" link set "$port_name" master br0
  ip -n "$switch_ns" link set "$port_name" up
  ip -n "$namespace" address add "$address/24" dev eth0
  ip -n "$namespace" link set eth0 up
}

connect_host "$server_ns" "$kServerAddress" port0
for ((i = 0; i < kClients; i++)); do
  connect_host "${client_namespaces[$i]}" "10.200.0.$((i + 11))" "port$((i + 1))"
done

# The server, reachable only at its namespace address.
mkdir -p "$work_dir/data"
ip netns exec "$server_ns" "$hft" serve --host "$kServerAddress" --port "$kPort" \
  --data-dir "$work_dir/data" >"$work_dir/server.log" 2>&1 &
server_pid=$!
started_pids+=("$server_pid")

api_url="http://$kServerAddress:$kPort"
deadline=$((SECONDS + kHealthTimeoutSec))
until ip netns exec "${client_namespaces[0]}" \
    curl --fail --silent --max-time 2 "$api_url/health" >/dev/null 2>&1; do
  kill -0 "$server_pid" 2>/dev/null || fail "hft serve exited before it answered $api_url/health"
  [ "$SECONDS" -lt "$deadline" ] || fail "no healthy answer from $api_url/health in ${kHealthTimeoutSec} s"
  sleep 0.2
done
echo "server healthy at $api_url (namespace $server_ns)"

# The clients: each in its own namespace, all starting at the same second. A container's log
# contains both stdout and stderr, so each client writes both to one file.
start_at=$(($(date +%s) + 2))
client_pids=()
for ((i = 0; i < kClients; i++)); do
  ip netns exec "${client_namespaces[$i]}" \
    env CLIENT_ID="$i" API_URL="$api_url" DURATION_SEC="$kDurationSec" \
    timeout "$kClientTimeoutSec" "$hft" load --start-at "$start_at" >"$work_dir/client$i.log" 2>&1 &
  client_pids+=($!)
  started_pids+=($!)
done
for ((i = 0; i < kClients; i++)); do
  wait "${client_pids[$i]}" || fail "client $i in ${client_namespaces[$i]} exited with status $?"
done

# The merged report, from the logs as `kubectl logs --prefix` prints them.
for ((i = 0; i < kClients; i++)); do
  sed "s|^|[pod/hft-load-test-$i-netns/load] |" "$work_dir/client$i.log"
done >"$work_dir/all-clients.txt"
timeout 30 "$hft" aggregate --expect-clients "$kClients" --json <"$work_dir/all-clients.txt" \
  >"$work_dir/report.json" 2>"$work_dir/aggregate.err.log" \
  || fail "hft aggregate exited with status $?"

node - "$work_dir/report.json" "$kClients" <<'EOF'
const [reportPath, expectedText] = process.argv.slice(2);
const report = JSON.parse(require("node:fs").readFileSync(reportPath, "utf8"));
const expected = Number(expectedText);
const failures = [];
if (report.clients !== expected) failures.push(`clients is ${report.clients}, expected ${expected}`);
if ((report.missing_clients ?? []).length > 0) failures.push(`missing clients ${report.missing_clients}`);
if ((report.duplicate_clients ?? []).length > 0) failures.push(`duplicate clients ${report.duplicate_clients}`);
if (!(report.orders_success > 0)) failures.push(`orders_success is ${report.orders_success}`);
if (!(report.throughput > 0)) failures.push(`throughput is ${report.throughput}`);
if (failures.length > 0) {
  console.error(`FAILED: the aggregated report is wrong: ${failures.join("; ")}`);
  process.exit(1);
}
console.log(`${expected} client hosts: ${report.orders_success} orders acknowledged, ` +
            `${Math.round(report.throughput)} orders/s, status ${report.status}`);
EOF
