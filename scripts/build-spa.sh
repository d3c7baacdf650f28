#!/usr/bin/env bash
# Build and unit-test the bundled web app (spa/) into plugins/ui/dist, which ships inside the
# Python package. Idempotent: `npm ci` installs exactly the lockfile, the build replaces dist/.
# Needs Node.js >= 20.19 and npm. Set SPA_SKIP_TESTS=1 to build without running Vitest.
set -euo pipefail
cd "$(dirname "$0")/../spa"

npm ci --no-audit --no-fund
npm run build
if [ "${SPA_SKIP_TESTS:-0}" != "1" ]; then
  npm test
fi
