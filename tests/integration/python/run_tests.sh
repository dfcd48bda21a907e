#!/bin/sh
# ctest's entry to the Python SDK tests: the project's venv, never the system's Python. A missing
# venv fails with the command that makes it (scripts/setup.sh), it never skips.
here=$(cd "$(dirname "$0")" && pwd)
python="$here/.venv/bin/python"
if [ ! -x "$python" ]; then
  echo "python_sdk_tests: $python does not exist; run scripts/setup.sh" >&2
  exit 1
fi
cd "$here" && exec "$python" -m pytest "$@"
