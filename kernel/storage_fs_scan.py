"""Whole-root scans of the filesystem backend (blocking; run in a thread): the sweeper,
per-owner usage for quotas, and the statistics of ``/-/status``."""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kernel.storage import MEDIA_ID, UploadMeta

log = logging.getLogger("iscc_web.storage")

#: Prefix of a package directory moved aside to be deleted.
TRASH_PREFIX = ".trash-"


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _directories(root: Path) -> Iterator[os.DirEntry[str]]:
    """The directories directly under ``root`` (none when it does not exist)."""
    try:
        entries = list(os.scandir(root))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield entry


def _size(package: str) -> int:
    return sum(f.stat().st_size for f in os.scandir(package) if f.is_file())


def _created(package: Path, media_id: str) -> float:
    """Upload time from the meta record; the directory's mtime when it has none."""
    try:
        created = UploadMeta.from_json((package / f"{media_id}.meta.json").read_bytes()).created
    except (OSError, ValueError, TypeError):
        created = 0.0
    return created or package.stat().st_mtime


def sweep(root: Path, max_age: float) -> int:
    """Remove packages older than ``max_age`` seconds and leftover trash; how many packages."""
    now = time.time()
    deleted = 0
    for entry in _directories(root):
        try:
            if entry.name.startswith(TRASH_PREFIX):
                remove_tree(Path(entry.path))
                continue
            if entry.name.startswith("."):
                continue
            if now - _created(Path(entry.path), entry.name) > max_age:
                shutil.rmtree(entry.path)
                deleted += 1
        except OSError as exc:
            log.warning("sweeper could not remove a package: %s", exc.strerror)
    return deleted


def statistics(root: Path) -> dict[str, Any]:
    packages = total = 0
    for entry in _directories(root):
        if entry.name.startswith("."):
            continue
        packages += 1
        try:
            total += _size(entry.path)
        except OSError:
            continue
    return {"backend": "fs", "packages": packages, "bytes": total}


def usage(root: Path) -> dict[str, tuple[str, int]]:
    """``{media_id: (owner, bytes)}`` of every complete package."""
    found: dict[str, tuple[str, int]] = {}
    for entry in _directories(root):
        if not MEDIA_ID.fullmatch(entry.name):
            continue
        try:
            meta = UploadMeta.from_json(
                (Path(entry.path) / f"{entry.name}.meta.json").read_bytes())
            size = _size(entry.path)
        except (OSError, ValueError, TypeError):
            continue  # still being written, or broken: the sweeper deals with it
        found[entry.name] = (meta.user, size)
    return found
