#!/usr/bin/env bash
# The C++ sources' formatting (.clang-format at the root, clang-format from Debian 12).
#   scripts/format.sh          reformats every tracked .cc/.h file in place
#   scripts/format.sh --check  changes nothing; fails listing the files that differ (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h')
if [[ ${1:-} == --check ]]; then
  bad=$(for f in "${files[@]}"; do
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || echo "$f"
  done)
  if [[ -n $bad ]]; then
    echo "format: these files differ from .clang-format (run scripts/format.sh):"
    echo "$bad"
    exit 1
  fi
  echo "format: ${#files[@]} files match .clang-format"
else
  clang-format -i "${files[@]}"
fi
