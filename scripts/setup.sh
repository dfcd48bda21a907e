#!/usr/bin/env bash
# Installs what Tollgate needs on Debian 12 (only what is missing), then the Node packages the
# SDK integration tests use. Safe to run again. Needs root (or sudo) only when a package is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates openssl
  libboost1.81-dev libsimdjson-dev librdkafka-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  libssl-dev libgtest-dev libgmock-dev libbenchmark-dev
  kcat wrk nginx-light prometheus valgrind
  clang libclang-rt-14-dev
  libsqlite3-dev libpq-dev postgresql chromium
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js may come from elsewhere (a nodesource build bundles npm and conflicts with Debian's npm
# package): install Debian's only when there is no node or npm at all.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ "${TOLLGATE_SKIP_NODE:-0}" != 1 ]]; then
  node_dir=tests/integration/node
  if [[ -f $node_dir/package-lock.json && ! -d $node_dir/node_modules ]]; then
    echo "setup: npm ci in $node_dir"
    npm ci --prefix "$node_dir" --no-audit --no-fund --loglevel=error
  fi
fi
