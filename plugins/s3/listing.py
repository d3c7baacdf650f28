"""What a bucket listing says about the packages under a prefix: their sizes, and which of them
and which multipart uploads the sweeper removes (pure functions, easy to test)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from kernel import MEDIA_ID


def _timestamp(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def package_key(key: str, prefix: str) -> tuple[str, str] | None:
    """``(media_id, name)`` of an object key ``<prefix><media_id>/<name>``; ``None`` for any
    other key (the shared secrets, another prefix's or a foreign object)."""
    media_id, slash, name = key[len(prefix):].partition("/")
    if not key.startswith(prefix) or not slash or not MEDIA_ID.fullmatch(media_id):
        return None
    return media_id, name


def package_sizes(objects: Iterable[dict[str, Any]], prefix: str) -> tuple[dict[str, int],
                                                                           set[str]]:
    """Bytes stored per media id, and the media ids whose meta record is there (complete
    packages; the others are being created or removed)."""
    sizes: dict[str, int] = {}
    complete: set[str] = set()
    for obj in objects:
        found = package_key(obj["Key"], prefix)
        if found is None:
            continue
        media_id, name = found
        sizes[media_id] = sizes.get(media_id, 0) + int(obj.get("Size", 0))
        if name == f"{media_id}.meta.json":
            complete.add(media_id)
    return sizes, complete


def expired_packages(objects: Iterable[dict[str, Any]], prefix: str, now: float,
                     max_age: float) -> Iterator[str]:
    """Media ids whose package is older than ``max_age`` seconds.

    A package's age is its oldest object's ``LastModified``: its file (or a large upload's
    placeholder), written first by the store's clock when the package was created (media ids
    are random and carry no time). Keys
    outside ``<prefix><media_id>/`` are never touched.
    """
    oldest: dict[str, float] = {}
    for obj in objects:
        found = package_key(obj["Key"], prefix)
        if found is None:
            continue
        modified = _timestamp(obj["LastModified"])
        oldest[found[0]] = min(oldest.get(found[0], modified), modified)
    for media_id, created in sorted(oldest.items()):
        if now - created > max_age:
            yield media_id


def stale_uploads(uploads: Iterable[dict[str, Any]], now: float,
                  max_age: float) -> Iterator[tuple[str, str]]:
    """``(key, upload_id)`` of multipart uploads started more than ``max_age`` seconds ago."""
    for upload in uploads:
        if now - _timestamp(upload["Initiated"]) > max_age:
            yield upload["Key"], upload["UploadId"]
