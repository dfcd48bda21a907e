#!/usr/bin/env bash
# build.sh DIR BUILD_TYPE [cmake args...]: configures (once) and builds everything into DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1 type=$2
shift 2
if [[ ! -f $dir/build.ninja ]]; then
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
fi
cmake --build "$dir" -j "$(nproc)"
