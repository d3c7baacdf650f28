#!/usr/bin/env bash
# Lighthouse scores of the web app at `/` (performance, accessibility, best practices), at
# desktop and mobile sizes, against a server started here on 127.0.0.1 with a throw-away
# media directory. Not part of the test suite: the figures depend on the machine's load.
#
#   bash scripts/lighthouse.sh            # prints one line per size, JSON reports in .lighthouse/
#
# Needs: .venv (scripts/setup.sh), spa/node_modules with the pinned lighthouse 12.2.3 (Node 20;
# 13.x needs Node 22), and Debian's chromium. Environment: CHROME_PATH (default
# /usr/bin/chromium), LIGHTHOUSE_PORT (default 8765).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PORT="${LIGHTHOUSE_PORT:-8765}"
OUT="$ROOT/.lighthouse"
export CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}"
LIGHTHOUSE="$ROOT/spa/node_modules/.bin/lighthouse"
[ -x "$LIGHTHOUSE" ] || { echo "lighthouse: run 'npm ci' in spa/ first" >&2; exit 1; }
[ -x "$CHROME_PATH" ] || { echo "lighthouse: $CHROME_PATH not found (apt-get install chromium)" >&2; exit 1; }

MEDIA="$(mktemp -d)"
mkdir -p "$OUT"
ISCC_WEB_MEDIA_PATH="$MEDIA" ISCC_WEB_LOG_LEVEL=WARNING \
  "$ROOT/.venv/bin/iscc-web" --bind "127.0.0.1:$PORT" >"$OUT/server.log" 2>&1 &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$MEDIA"; }
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null && break
  sleep 0.2
done
curl -fsS -o /dev/null "http://127.0.0.1:$PORT/" || { echo "lighthouse: server did not start" >&2; cat "$OUT/server.log" >&2; exit 1; }

FLAGS="--headless=new --no-sandbox --disable-gpu --no-first-run --disable-background-networking"
for FORM in desktop mobile; do
  PRESET=()
  [ "$FORM" = desktop ] && PRESET=(--preset=desktop)
  "$LIGHTHOUSE" "http://127.0.0.1:$PORT/" "${PRESET[@]}" --quiet \
    --only-categories=performance,accessibility,best-practices \
    --chrome-flags="$FLAGS" --output=json --output-path="$OUT/$FORM.json"
  node -e '
    const r = require(process.argv[1])
    const s = (k) => Math.round(r.categories[k].score * 100)
    const w = r.configSettings.screenEmulation
    console.log(`${process.argv[2]} (${w.width}x${w.height}): performance ${s("performance")}, accessibility ${s("accessibility")}, best-practices ${s("best-practices")}`)
  ' "$OUT/$FORM.json" "$FORM"
done
