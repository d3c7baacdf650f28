#!/usr/bin/env bash
# Build and unit-test the bundled web app (spa/) into plugins/ui/dist, which ships inside the
# Python package (users need no Node.js). Idempotent: `npm ci` installs exactly the lockfile and
# the build replaces dist/ (the output is deterministic for the same sources and lockfile).
#
# Needs Node.js >= 20.19 and npm. Environment:
#   SPA_SKIP_TESTS=1   build without running the Vitest unit tests
#   SPA_CHECK_DIST=1   fail if the rebuilt plugins/ui/dist differs from the committed one
#                      (CI: catches a source change that was committed without its build)
# The browser end-to-end tests run from pytest (tests/test_e2e_browser.py) and need
# Debian's chromium (/usr/bin/chromium) plus the node_modules this script installs.
set -euo pipefail
cd "$(dirname "$0")/../spa"

npm ci --no-audit --no-fund
npm run build
if [ "${SPA_SKIP_TESTS:-0}" != "1" ]; then
  npm test
fi
if [ "${SPA_CHECK_DIST:-0}" = "1" ]; then
  if [ -n "$(git status --porcelain -- ../plugins/ui/dist)" ]; then
    echo "build-spa: plugins/ui/dist is out of date with spa/ sources; commit the rebuilt files:" >&2
    git status --short -- ../plugins/ui/dist >&2
    exit 1
  fi
fi
