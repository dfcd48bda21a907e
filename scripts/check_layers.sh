#!/usr/bin/env bash
# Checks that gateway/ subsystems include only what they may depend on (docs/architecture.md,
# "Folders and arrows"). The linker catches calls the wrong way; this catches headers, which a
# linker never sees. Exit 1 naming each wrong include.
set -euo pipefail
cd "$(dirname "$0")/.."

# subsystem -> the gateway subsystems it may include (besides itself). meter/ and config/ are
# open to all; proxy sees events only through the EventSink interface.
declare -A allowed=(
  [core]=""
  [net]=""
  [http]="core"
  [policy]="core http net"
  [upstream]="core http"
  [events]="core"
  [telemetry]="core"
  [proxy]="core http policy upstream events/event_sink.h events/open_call_tracker.h"
  [server]="core http policy upstream events telemetry proxy net"
)

status=0
for subsystem in "${!allowed[@]}"; do
  [[ -d gateway/$subsystem ]] || continue
  while IFS=: read -r file line include; do
    target=${include#*\"gateway/}
    target=${target%%\"*}
    other=${target%%/*}
    [[ $other == "$subsystem" ]] && continue
    ok=0
    for a in ${allowed[$subsystem]}; do
      if [[ $a == "$other" || $a == "$target" ]]; then ok=1; fi
    done
    if ((ok == 0)); then
      echo "check_layers: $file:$line: gateway/$subsystem may not include gateway/$target" >&2
      status=1
    fi
  done < <(grep -n '#include "gateway/' -r "gateway/$subsystem" --include='*.h' --include='*.cc' |
           sed -E 's/^([^:]+):([0-9]+):(.*)$/\1:\2:\3/')
done
# The ledger is not the gateway: of gateway/ it may include only the leaf net/ (a webhook client).
while IFS=: read -r file line include; do
  case $include in
    *'"gateway/net/'*) ;;
    *)
      echo "check_layers: $file:$line: ledger/ may include only gateway/net of the gateway" >&2
      status=1
      ;;
  esac
done < <(grep -n '#include "gateway/' -r ledger --include='*.h' --include='*.cc' || true)
# A subsystem folder the table does not know is a new arrow nobody decided on.
for dir in gateway/*/; do
  name=$(basename "$dir")
  if [[ -z ${allowed[$name]+set} ]]; then
    echo "check_layers: gateway/$name is not in the table of allowed arrows" >&2
    status=1
  fi
done
exit $status
