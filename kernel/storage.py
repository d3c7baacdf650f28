"""The storage contract every backend fulfils, and the pieces all backends share."""

from __future__ import annotations

import base64
import functools
import json
import re
import secrets
import time
import unicodedata
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any, Protocol

import attrs
from pathvalidate import sanitize_filename

#: Name used when a client's file name sanitises to nothing.
FALLBACK_FILE_NAME = "upload.bin"


#: Bytes of a deployment secret (:meth:`Storage.shared_secret`).
SECRET_BYTES = 32


def decode_secret(data: bytes) -> bytes:
    """A stored secret (hex text) as bytes; raises ``ValueError`` when it is not one."""
    raw = bytes.fromhex(data.decode("ascii").strip())
    if len(raw) != SECRET_BYTES:
        raise ValueError("a stored secret must be 32 bytes of hex")
    return raw


def encode_secret() -> bytes:
    """A fresh secret from the CSPRNG, in its stored form (hex text)."""
    return secrets.token_hex(SECRET_BYTES).encode("ascii") + b"\n"


#: Random bits in a media id (CSPRNG): an id is an unguessable capability for its package.
MEDIA_ID_BITS = 64
#: What a media id looks like: 13 characters of lowercase base32hex (use ``fullmatch``).
MEDIA_ID = re.compile(r"[a-v0-9]{13}")


def new_media_id() -> str:
    """A fresh media id: 64 bits from the OS CSPRNG, base32hex, lowercase, unpadded (13 chars).

    The public form is the incumbent's (iscc-core Flakes: 13 characters of ``[0-9a-v]``), so
    every client and route pattern still matches, but nothing in it is time or a counter: a
    stranger cannot guess another client's id from its own. The upload time lives in the meta
    record (:attr:`UploadMeta.created`).
    """
    raw = secrets.token_bytes(MEDIA_ID_BITS // 8)
    return base64.b32hexencode(raw).decode("ascii").rstrip("=").lower()


#: Unicode categories that never belong in a stored name: controls, format characters (bidi
#: overrides and isolates, zero-width spaces and joiners, BOM, ...), surrogates, private use,
#: unassigned code points, and line and paragraph separators.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
#: Letters that render as nothing (Hangul fillers, braille blank) though they are not "Cf".
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _visible(name: str) -> str:
    kept = []
    for char in unicodedata.normalize("NFC", name):
        if unicodedata.category(char) in _INVISIBLE or char in _BLANK_LETTERS:
            continue
        kept.append(" " if unicodedata.category(char) == "Zs" else char)
    return "".join(kept)


@functools.lru_cache(maxsize=256)
def clean_file_name(name: str) -> str:
    """The stored name of an upload: what it shows is what it is.

    Invisible and direction-changing characters are dropped (``invoice\u202egpj.exe`` would
    display as ``invoiceexe.jpg``), other spaces become plain spaces, leading dots and spaces
    go (no hidden ``.htaccess``), then pathvalidate sanitises for every common filesystem.
    Never empty, never a sidecar's name. Cached: a request asks for the same name several
    times (storing, processing, answering), and pathvalidate is not cheap.
    """
    cleaned = sanitize_filename(_visible(name).lstrip(". ")).strip(" ")
    if cleaned.strip(". ") == "" or cleaned.endswith((".meta.json", ".iscc.json", ".job.json")):
        return FALLBACK_FILE_NAME
    return cleaned


@attrs.frozen
class UploadMeta:
    """What is recorded about one upload (``<media_id>.meta.json``)."""

    media_id: str
    file_name: str
    content_type: str
    user: str
    #: Upload time (Unix seconds); the sweeper's clock. 0 for records written before it existed.
    created: float = attrs.field(factory=time.time)

    @property
    def clean_file_name(self) -> str:
        return clean_file_name(self.file_name)

    def with_media_id(self, media_id: str) -> UploadMeta:
        """The record of a new package derived from this one (same owner and name, made now)."""
        return attrs.evolve(self, media_id=media_id, created=time.time())

    def to_json(self) -> bytes:
        return json.dumps(attrs.asdict(self), separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_json(cls, data: bytes) -> UploadMeta:
        raw = json.loads(data)
        created = raw.get("created", 0)
        if isinstance(created, bool) or not isinstance(created, int | float):
            created = 0
        return cls(**{f.name: str(raw.get(f.name, "")) for f in attrs.fields(cls)
                      if f.name != "created"}, created=float(created))


class Storage(Protocol):
    """A place for packages: one upload, its meta record and result sidecars, by media id.

    Every method that creates a package leaves nothing behind when it fails or is cancelled,
    and a package is only visible (``load_meta`` finds it) once its file is complete.
    """

    async def __aenter__(self) -> Storage:
        """Prepare the backend; entered when serving starts (the app's exit stack)."""

    async def __aexit__(self, *exc_info: object) -> None:
        """Release the backend's resources when serving stops, also after a failure."""

    async def save_upload(self, meta: UploadMeta, chunks: AsyncIterator[bytes], *,
                          keep_local: bool = False) -> int:
        """Store a new package whose file is the stream ``chunks``; return its size.

        ``keep_local``: the caller is about to process the file (``local_file``); a backend
        that keeps files remotely may keep a local copy of the bytes as they stream, so that
        processing needs no read-back. Local backends ignore it.

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
            NotFound("File not found") when the package has no file: on entering the block,
            or, for a backend whose files are local already, when the path is used
            (:meth:`kernel.workers.Job.add_input`).
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

    async def usage(self) -> dict[str, tuple[str, int]]:
        """Every package's owner and size in bytes, by media id (for quotas)."""

    async def shared_secret(self, name: str) -> bytes:
        """A 32-byte secret of the deployment, kept by the backend under ``name``.

        Created from the CSPRNG when absent, atomically: every instance sharing the backend
        reads the same secret, and it survives restarts. Never inside a package.
        """
