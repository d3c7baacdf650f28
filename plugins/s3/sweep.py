"""Which packages and multipart uploads the sweeper removes (pure functions, easy to test)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from kernel import MEDIA_ID


def _timestamp(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


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
        name, slash, _ = obj["Key"][len(prefix):].partition("/")
        if not slash or not MEDIA_ID.fullmatch(name):
            continue
        modified = _timestamp(obj["LastModified"])
        oldest[name] = min(oldest.get(name, modified), modified)
    for media_id, created in sorted(oldest.items()):
        if now - created > max_age:
            yield media_id


def stale_uploads(uploads: Iterable[dict[str, Any]], now: float,
                  max_age: float) -> Iterator[tuple[str, str]]:
    """``(key, upload_id)`` of multipart uploads started more than ``max_age`` seconds ago."""
    for upload in uploads:
        if now - _timestamp(upload["Initiated"]) > max_age:
            yield upload["Key"], upload["UploadId"]
