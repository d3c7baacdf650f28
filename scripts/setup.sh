#!/usr/bin/env bash
# Idempotent set-up of everything the service and its tests need on a fresh Debian machine:
# system packages (ffmpeg/fpcalc for audio and video, chromium for browser tests, nginx and
# the S3 server for the multi-instance tests), a virtualenv in .venv and the Python packages.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(ffmpeg libchromaprint-tools nginx chromium wrk curl)

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
  .venv/bin/pip install -q -e ".[test,bench,dev]"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
