#!/usr/bin/env bash
# Command 1 of the README: install what is missing, build, and run the gateway on its embedded
# demo config (a local mock upstream on 127.0.0.1:9100, cost events to var/cost-events.jsonl).
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
TOLLGATE_SKIP_NODE=1 bash scripts/setup.sh
bash scripts/build.sh build Release -DTOLLGATE_BUILD_TESTS=OFF
mkdir -p var
build/bin/mock_upstream --listen 127.0.0.1:9100 --threads 1 >/dev/null &
mock=$!
# On the way out the demo's events go into the ledger's store, so that a first report reads them.
ledger_ingest() {
  [[ -s var/cost-events.jsonl ]] || return 0
  build/bin/tollgate-ledger ingest --config config/ledger.demo.yaml || return 0
  echo "demo: var/cost-events.jsonl ingested into var/ledger.db; the finance view:"
  echo "  build/bin/tollgate-ledger report --config config/ledger.demo.yaml --period $(date -u +%Y-%m)"
  echo "  (add --by team,model, --format json|csv|focus|html --out report.html; docs/ledger.md)"
}
trap 'kill $mock 2>/dev/null || true; ledger_ingest' EXIT
echo "demo: mock upstream on 127.0.0.1:9100; try:"
echo "  curl -s http://127.0.0.1:8080/v1/chat/completions -H 'x-team: demo' \\"
echo "       -d '{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}'"
echo "  tail -f var/cost-events.jsonl"
build/bin/tollgate "$@"
