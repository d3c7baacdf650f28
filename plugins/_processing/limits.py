"""Decode limits inside worker processes, checked before anything is decoded.

The kernel bounds a worker's memory (``worker_memory_limit``); these limits stop the known
decompression bombs earlier and with a clear answer: images above ``image_max_pixels`` (Pillow's
own bomb check, made strict), and archive entries (EPUB/DOCX covers and parts, read through
Python's ``zipfile``) that would inflate past ``max_archive_entry`` bytes. ``zipfile`` never
returns more than an entry's declared size, so checking that size before opening the entry
bounds the memory the read can take.

A limit hit is remembered for the running job even when iscc-sdk catches the exception (it does
for thumbnails), so the job fails with :data:`TOO_COMPLEX` instead of a partial result.
"""

from __future__ import annotations

import warnings
import zipfile
from typing import IO, Any

from kernel import find_cause

#: The client-facing answer to a file that exceeds a decode limit.
TOO_COMPLEX = "File too complex to process."

_LIMITS: dict[str, int] = {"archive_entry": 0}
_HITS: list[str] = []


class LimitExceeded(Exception):
    """A file exceeds a decode limit (the message names which, for the log only)."""


def _hit(what: str) -> LimitExceeded:
    _HITS.append(what)
    return LimitExceeded(what)


_zip_open = zipfile.ZipFile.open


def _bounded_open(self: zipfile.ZipFile, name: Any, mode: str = "r", pwd: bytes | None = None,
                  *, force_zip64: bool = False) -> IO[bytes]:
    limit = _LIMITS["archive_entry"]
    if mode == "r" and limit:
        info = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        if info.file_size > limit:
            raise _hit(f"archive entry of {info.file_size} bytes")
    return _zip_open(self, name, mode, pwd, force_zip64=force_zip64)  # type: ignore[arg-type]


def install(idk: Any, *, image_max_pixels: int, max_archive_entry: int) -> None:
    """Apply the limits in this worker process (after iscc-sdk is imported)."""
    from PIL import Image

    idk.sdk_opts.image_max_pixels = image_max_pixels or None  # also sets Pillow's limit
    # Pillow only warns between 1x and 2x its limit: make that an error too
    warnings.simplefilter("error", Image.DecompressionBombWarning)
    _LIMITS["archive_entry"] = max_archive_entry
    zipfile.ZipFile.open = _bounded_open  # type: ignore[method-assign]


def check_image(path: Any) -> None:
    """Refuse an image over the pixel limit from its header, before anything is decoded."""
    from PIL import Image

    try:
        with Image.open(path):
            pass
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _hit("image pixels") from None
    except Exception:  # not an image Pillow reads (SVG, …): iscc-sdk decides
        pass


def begin_job() -> None:
    """Forget limit hits of an earlier job."""
    _HITS.clear()


def exceeded(exc: BaseException | None = None) -> bool:
    """Whether the running job hit a limit (recorded, or ``exc`` is or wraps a bomb error)."""
    if _HITS:
        return True
    from PIL import Image

    bombs = (Image.DecompressionBombError, Image.DecompressionBombWarning, LimitExceeded)
    return find_cause(exc, bombs) is not None
