"""The storage contract every backend fulfils, and the pieces all backends share."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol

import attrs
import iscc_core
from pathvalidate import sanitize_filename

#: Name used when a client's file name sanitises to nothing.
FALLBACK_FILE_NAME = "upload.bin"


def new_media_id() -> str:
    """A fresh, time-sortable media id: an iscc-core Flake, base32hex, lowercase (13 chars)."""
    return iscc_core.Flake().string.lower()


def media_id_time(media_id: str) -> float | None:
    """Creation time (Unix seconds) encoded in a media id, or ``None`` if it is not one."""
    if len(media_id) != 13:
        return None
    try:
        flake = iscc_core.Flake.from_string(media_id.upper())
    except Exception:
        return None
    return int.from_bytes(int(flake).to_bytes(8, "big")[:6], "big") / 1000


def clean_file_name(name: str) -> str:
    """The on-disk name of an upload: sanitised (pathvalidate), never empty or a sidecar name."""
    cleaned = sanitize_filename(name)
    if cleaned.strip(". ") == "" or cleaned.endswith((".meta.json", ".iscc.json")):
        return FALLBACK_FILE_NAME
    return cleaned


@attrs.frozen
class UploadMeta:
    """What is recorded about one upload (``<media_id>.meta.json``)."""

    media_id: str
    file_name: str
    content_type: str
    user: str

    @property
    def clean_file_name(self) -> str:
        return clean_file_name(self.file_name)

    def with_media_id(self, media_id: str) -> UploadMeta:
        return attrs.evolve(self, media_id=media_id)

    def to_json(self) -> bytes:
        return json.dumps(attrs.asdict(self), indent=2, ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, data: bytes) -> UploadMeta:
        raw = json.loads(data)
        return cls(**{f.name: str(raw.get(f.name, "")) for f in attrs.fields(cls)})


class Storage(Protocol):
    """A place for packages: one upload, its meta record and result sidecars, by media id.

    Every method that creates a package leaves nothing behind when it fails or is cancelled,
    and a package is only visible (``load_meta`` finds it) once its file is complete.
    """

    async def start(self) -> None:
        """Prepare the backend; called when serving starts."""

    async def stop(self) -> None:
        """Release the backend's resources; called when serving stops."""

    async def save_upload(self, meta: UploadMeta, chunks: AsyncIterator[bytes]) -> int:
        """Store a new package whose file is the stream ``chunks``; return its size.

        Raises:
            InsufficientStorage: the backend could not write (disk full, store failing).
            Whatever ``chunks`` raises, after the partial package is removed.
        """

    async def save_file(self, meta: UploadMeta, source: Path) -> int:
        """Store a new package whose file is the local file ``source`` (consumed)."""

    async def load_meta(self, media_id: str) -> UploadMeta:
        """Raises: NotFound("File metadata not found") when there is no such package."""

    async def file_size(self, meta: UploadMeta) -> int:
        """Raises: NotFound("File not found") when the package has no file."""

    def read_file(self, meta: UploadMeta, chunk_size: int) -> AsyncIterator[bytes]:
        """Stream the package's file."""

    def local_file(self, meta: UploadMeta) -> AbstractAsyncContextManager[Path]:
        """A local path to the package's file for worker processes, valid inside the block.

        Raises:
            NotFound("File not found") when the package has no file.
        """

    async def put_sidecar(self, media_id: str, suffix: str, data: bytes) -> None:
        """Write ``<media_id>.<suffix>`` into the package, atomically."""

    async def get_sidecar(self, media_id: str, suffix: str) -> bytes | None:
        """Read ``<media_id>.<suffix>``, or ``None`` when absent."""

    async def delete(self, media_id: str) -> bool:
        """Remove a package and everything in it; ``False`` if it was already gone."""

    async def sweep(self, max_age: float) -> int:
        """Delete packages older than ``max_age`` seconds; return how many were deleted."""

    async def statistics(self) -> dict[str, Any]:
        """At least ``packages`` (count) and ``bytes`` (total size)."""

    async def ready(self) -> bool:
        """Whether the backend can be reached and written now; cheap (``GET /readyz``)."""
