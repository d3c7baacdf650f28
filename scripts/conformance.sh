#!/usr/bin/env bash
# Deep API conformance pass: schemathesis (all phases: examples, coverage, fuzzing, stateful link
# following; positive and negative data) against a live server of the full default deployment
# on a throw-away storage directory. CI runs a shorter pass in tests/test_conformance.py.
#
#   scripts/conformance.sh [MAX_EXAMPLES] [extra schemathesis args...]
#
# MAX_EXAMPLES (default 200) is per operation. The schemathesis report goes to
# $CONFORMANCE_REPORT_DIR (default /tmp/iscc-web-conformance: JUnit XML and a pytest file reproducing each failure, if any).
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_EXAMPLES=${1:-200}
shift || true
PY=.venv/bin/python
WORK=$(mktemp -d)
PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
ENABLED=$($PY -c 'from tests.conformance_server import conformance_groups; print(" ".join(conformance_groups()))')

$PY -m tests.conformance_server --write-config "$WORK/plugins.toml" --media "$WORK/media"
# No ISCC_WEB_* from the calling shell: the deployment is exactly the config written above.
env $(env | grep -o '^ISCC_WEB_[A-Z_]*' | sed 's/^/-u /') \
  $PY -m kernel --bind "127.0.0.1:$PORT" --config "$WORK/plugins.toml" > "$WORK/server.log" 2>&1 &
SERVER=$!
cleanup() { kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

for _ in $(seq 100); do
  curl -sf -o /dev/null "$URL/api/v1/-/status" && break
  sleep 0.2
done
echo "conformance: server on $URL serving: $ENABLED"

# The contract check as the README states it: every check (--checks all; the exceptions, each
# with its reason, are in tests/schemathesis.toml and tests/conformance_hooks.py), all phases.
status=0
.venv/bin/schemathesis --config-file tests/schemathesis.toml run openapi.yaml \
  --url "$URL/api/v1" \
  --checks all \
  --phases examples,coverage,fuzzing,stateful \
  --max-examples "$MAX_EXAMPLES" \
  --report junit,pytest --report-dir "${CONFORMANCE_REPORT_DIR:-/tmp/iscc-web-conformance}" \
  "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "conformance: server log (last 40 lines):"
  tail -n 40 "$WORK/server.log"
fi
exit "$status"
