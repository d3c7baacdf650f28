#!/usr/bin/env bash
# Build the service's container image with podman and print its size; the last line of stdout
# is the image reference (localhost/iscc-web:<input hash>, also tagged :latest).
#
#   scripts/build-image.sh                            # base made here with debootstrap (cached)
#   BASE=docker.io/library/debian:bookworm-slim scripts/build-image.sh   # a registry's base
#
# The image is tagged with a hash of everything that goes into it (Containerfile, the build
# context allowed by .containerignore, the base image id): when that image exists already the
# build is skipped, so a second `make test` costs nothing. Inside the build, podman's layer
# cache keeps the Debian and PyPI layers when only the service's own code changed.
#
# The build uses this machine's package sources: its apt sources and apt network settings and
# its pip configuration (files and PIP_* variables) are handed to the build as podman secrets,
# which exist only while a RUN step runs and never end up in a layer. Without them (a plain
# `podman build .` or `docker build .`) the image's own Debian sources and PyPI are used.
#
# Environment: BASE (base image; default: the local debootstrap base), IMAGE (repository name,
# default localhost/iscc-web), PODMAN_RUNTIME (OCI runtime, default /usr/sbin/runc when present:
# crun fails on cgroup-v1 hybrid hosts), FORCE_BUILD=1 (build even if the tag exists).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-localhost/iscc-web}
LOCAL_BASE=localhost/iscc-web-base:bookworm
SUITE=bookworm

podman_opts=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network host)
runtime=${PODMAN_RUNTIME:-}
if [ -z "$runtime" ] && [ -x /usr/sbin/runc ]; then runtime=/usr/sbin/runc; fi
if [ -n "$runtime" ]; then podman_opts=(--runtime "$runtime" "${podman_opts[@]}"); fi

log() { echo "build-image: $*" >&2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/iscc-web-image.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- the base image ---------------------------------------------------------------------------

# The first bookworm mirror of this machine's apt sources (deb822 .sources or one-line .list).
host_mirror() {
  python3 - "$SUITE" <<'PY'
import glob, sys
suite = sys.argv[1]
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for stanza in open(path, encoding="utf-8").read().split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if ":" in line and not line.startswith(("#", " ", "\t")):
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.split()
        if suite in fields.get("suites", []) and "deb" in fields.get("types", []):
            print(fields["uris"][0]); sys.exit()
for path in ["/etc/apt/sources.list", *sorted(glob.glob("/etc/apt/sources.list.d/*.list"))]:
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except FileNotFoundError:
        continue
    for line in lines:
        words = [w for w in line.split("#")[0].split() if not w.startswith("[")]
        if len(words) >= 3 and words[0] == "deb" and words[2] == suite:
            print(words[1]); sys.exit()
print("http://deb.debian.org/debian")
PY
}

# debootstrap a minimal bookworm, trimmed like Debian's own -slim image (no docs, man pages,
# locales, apt caches; the same dpkg excludes for later installs), with public Debian sources.
make_local_base() {
  command -v debootstrap >/dev/null || { log "debootstrap is missing (scripts/setup.sh installs it)"; exit 1; }
  [ "$(id -u)" -eq 0 ] || { log "debootstrap needs root; run as root or give BASE=<image>"; exit 1; }
  local mirror rootfs=$work/rootfs
  mirror=$(host_mirror)
  log "making $LOCAL_BASE with debootstrap --variant=minbase $SUITE (about a minute)"
  debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/groff/* \
    "$rootfs"/usr/share/lintian/* "$rootfs"/etc/resolv.conf "$rootfs"/etc/hostname \
    "$rootfs"/etc/apt/sources.list
  find "$rootfs"/usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs"/usr/share/locale -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  cat >"$rootfs"/etc/dpkg/dpkg.cfg.d/slim <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  cat >"$rootfs"/etc/apt/sources.list.d/debian.sources <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  tar -C "$rootfs" -c . | podman import --message "debootstrap --variant=minbase $SUITE" \
    - "$LOCAL_BASE" >/dev/null
  rm -rf "$rootfs"
}

if [ -n "${BASE:-}" ]; then
  base=$BASE
  podman image exists "$base" || podman pull "$base" >&2
else
  base=$LOCAL_BASE
  podman image exists "$base" || make_local_base
fi
base_id=$(podman image inspect --format '{{.Id}}' "$base")

# --- the tag: a hash of every input -----------------------------------------------------------

# The context is the allow-list of .containerignore ("!path" lines) minus its "**/name"
# exclusions; hash exactly those files (names and contents), plus the Containerfile and base.
mapfile -t roots < <(sed -n 's/^!\(.*\)/\1/p' .containerignore)
mapfile -t skips < <(sed -n 's/^\*\*\/\(.*\)/\1/p' .containerignore)
prune=()
for name in "${skips[@]}"; do prune+=(-name "$name" -prune -o); done
tag=$(
  {
    printf 'base %s\n' "$base_id"
    sha256sum Containerfile .containerignore
    find "${roots[@]}" "${prune[@]}" \( -type f -o -type l \) -print0 | LC_ALL=C sort -z \
      | xargs -0 sha256sum
  } | sha256sum | cut -c1-16
)
ref=$IMAGE:$tag

if [ "${FORCE_BUILD:-0}" != 1 ] && podman image exists "$ref"; then
  log "$ref is up to date (nothing changed since it was built)"
else
  # --- this machine's package sources, as build secrets -----------------------------------------
  secrets=()
  shopt -s nullglob
  cat /etc/apt/sources.list.d/*.sources >"$work/apt.sources" 2>/dev/null || true
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list >"$work/apt.list" 2>/dev/null || true
  # apt's network settings (proxies, validity checks of snapshot mirrors), not its hooks
  for conf in /etc/apt/apt.conf /etc/apt/apt.conf.d/*; do
    [ -f "$conf" ] && grep -q 'Acquire' "$conf" && cat "$conf" >>"$work/apt.conf"
  done
  shopt -u nullglob
  if [ -s "$work/apt.sources" ] || [ -s "$work/apt.list" ]; then
    secrets+=(--secret "id=apt.sources,src=$work/apt.sources" --secret "id=apt.list,src=$work/apt.list")
  fi
  [ -s "$work/apt.conf" ] && secrets+=(--secret "id=apt.conf,src=$work/apt.conf")
  # pip's files in pip's order, then PIP_* variables; local paths (find-links to a directory of
  # this machine) cannot resolve inside the build and are left out, a CA bundle goes along.
  python3 - "$work" <<'PY'
import configparser, os, shutil, sys
work = sys.argv[1]
conf = configparser.RawConfigParser()
env_file = os.environ.get("PIP_CONFIG_FILE")
if env_file != os.devnull:
    conf.read([os.path.expanduser(p) for p in (
        "/etc/xdg/pip/pip.conf", "/etc/pip.conf", "~/.pip/pip.conf", "~/.config/pip/pip.conf",
    )] + ([env_file] if env_file else []))
for name, value in os.environ.items():
    if name.startswith("PIP_") and name != "PIP_CONFIG_FILE":
        if not conf.has_section("global"):
            conf.add_section("global")
        conf.set("global", name[4:].lower().replace("_", "-"), value)
for section in conf.sections():
    if conf.has_option(section, "find-links"):
        urls = [v for v in conf.get(section, "find-links").split() if "://" in v]
        if urls:
            conf.set(section, "find-links", " ".join(urls))
        else:
            conf.remove_option(section, "find-links")
    # files the configuration names travel as secrets of their own (pip.cert, pip.constraints)
    for key, secret in (("cert", "pip.cert"), ("constraint", "pip.constraints")):
        if conf.has_option(section, key):
            files = [f for f in conf.get(section, key).split() if os.path.isfile(f)]
            if files:
                with open(os.path.join(work, secret), "wb") as out:
                    for name in files:
                        with open(name, "rb") as src:
                            shutil.copyfileobj(src, out)
                        out.write(b"\n")
                conf.set(section, key, "/run/secrets/" + secret)
            else:
                conf.remove_option(section, key)
with open(os.path.join(work, "pip.conf"), "w", encoding="utf-8") as fh:
    conf.write(fh)
PY
  [ -s "$work/pip.conf" ] && secrets+=(--secret "id=pip.conf,src=$work/pip.conf")
  for file in pip.cert pip.constraints; do
    [ -f "$work/$file" ] && secrets+=(--secret "id=$file,src=$work/$file")
  done

  log "building $ref from $base"
  podman build "${podman_opts[@]}" --format docker --build-arg "BASE=$base" "${secrets[@]}" \
    --tag "$ref" --file Containerfile . >&2
fi
podman tag "$ref" "$IMAGE:latest"
size=$(podman image inspect --format '{{.Size}}' "$ref")
log "$ref: $((size / 1000000)) MB"
echo "$ref"
