#!/usr/bin/env bash
# Installs what Tollgate needs on Debian 12 (only what is missing), then the Node packages and the
# Python virtual environment the SDK integration tests use. Safe to run again. Needs root (or sudo) only when a package is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates openssl
  libboost1.81-dev libsimdjson-dev librdkafka-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  libssl-dev libgtest-dev libgmock-dev libbenchmark-dev
  zlib1g-dev libbrotli-dev libzstd-dev python3-venv
  kcat wrk nginx-light prometheus valgrind
  openjdk-17-jre-headless maven
  clang libclang-rt-14-dev clang-format
  libsqlite3-dev libpq-dev postgresql chromium
  libhiredis-dev redis-server
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

if [[ "${TOLLGATE_SKIP_PYTHON:-0}" != 1 ]]; then
  py_dir=tests/integration/python
  venv=$py_dir/.venv
  # The stamp is the hash of the requirements the venv was built from: a changed pin reinstalls.
  want=$(sha256sum "$py_dir/requirements.txt" | cut -d' ' -f1)
  have=$(cat "$venv/.requirements.sha256" 2>/dev/null || true)
  if [[ ! -x $venv/bin/python || "$want" != "$have" ]]; then
    echo "setup: python venv in $venv"
    [[ -x $venv/bin/python ]] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$py_dir/requirements.txt"
    echo "$want" >"$venv/.requirements.sha256"
  fi
fi

# A real Kafka broker for the kafka_real tests (Java 17 and Maven from the packages above).
if [[ "${TOLLGATE_SKIP_KAFKA:-0}" != 1 ]]; then
  bash scripts/install_kafka.sh
fi
