"""Worker functions shared by the processing plugins (plain sync code, no Quart).

Every job raises :class:`ProcessingFailed` with a client-safe message on failure, never a
library exception (those may not unpickle in the web process, and may leak internals).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from kernel import find_cause
from plugins._processing import limits
from plugins._processing.capabilities import MODE_TOOLS
from plugins._processing.errors import ProcessingFailed, ToolMissing

log = logging.getLogger("iscc_web.processing")

#: Fields of ``InlineMetadata`` returned by metadata extraction (CONTRACT §2.8).
EXTRACTED_FIELDS = ("name", "description", "meta", "identifier", "creator", "license",
                    "acquire", "credit", "rights")

_CONFIG: dict[str, Any] = {}


def init_worker(config: dict[str, Any]) -> None:
    """Worker initialiser: library defaults, then the heavy imports, once per process."""
    from plugins._processing import sdk

    _CONFIG.update(config)
    sdk.configure(config)


def _sdk() -> Any:
    from plugins._processing import sdk
    from plugins._processing.settings import ProcessingSettings

    return sdk.configure(_CONFIG or ProcessingSettings().worker_config())


def _mode_of(idk: Any, path: Path) -> str | None:
    try:
        return str(idk.mediatype_and_mode(path)[1])
    except Exception:
        return None


@contextmanager
def _within_limits() -> Iterator[None]:
    """Fail the job with "File too complex to process." if it hit a decode limit."""
    limits.begin_job()
    try:
        yield
    except (ProcessingFailed, limits.LimitExceeded) as exc:
        if limits.exceeded(exc):
            raise ProcessingFailed(limits.TOO_COMPLEX) from None
        raise
    if limits.exceeded():
        raise ProcessingFailed(limits.TOO_COMPLEX)


#: Key of an ISCC job result that says the Semantic-Code was asked for but its model is missing
#: (only with ``fallback``); the route removes it and tells the client.
SEMANTIC_FALLBACK = "_semantic_fallback"


def _check_mode(idk: Any, path: Path, semantic: bool, semantic_modes: tuple[str, ...],
                fallback: bool = False) -> tuple[bool, bool]:
    """Fail early for a mode whose tool is missing, or an image over the pixel limit.

    Returns:
        The effective semantic flag, and whether it fell back to the standard code because
        the mode's model is missing (with ``fallback``; without it that is a failure).
    """
    from plugins._processing.sdk import TOOLS

    mode = _mode_of(idk, path)
    if mode == "image":
        limits.check_image(path)
    for tool in MODE_TOOLS.get(mode or "", ()):
        if not TOOLS.get(tool):
            raise ProcessingFailed(ToolMissing(tool).detail)
    if semantic and mode in ("text", "image") and mode not in semantic_modes:
        if fallback:
            return False, True
        raise ProcessingFailed(
            f"Semantic codes are not available on this server (no {mode} model installed)."
        )
    return semantic and mode in semantic_modes, False


def _dump(result: Any, granular: bool | None) -> dict[str, Any]:
    data = result.model_dump(mode="json", exclude_none=True, by_alias=True)
    if granular is False or not data.get("features"):
        data.pop("features", None)
    return data


#: Characters of a failure kept for the log, half from its start and half from its end: a
#: tool's error carries its whole stderr (ffmpeg on a damaged video: ~200 kB per job), and a
#: client could otherwise fill the operator's disk with logs by uploading such files.
LOGGED_FAILURE_CHARS = 4000


def _scrubbed(exc: Exception, *paths: str | Path) -> str:
    """``repr(exc)`` for the log, without the job's paths (they hold the upload's file name),
    at most :data:`LOGGED_FAILURE_CHARS` long."""
    text = repr(exc)
    for full in sorted({str(p) for p in paths}, key=len, reverse=True):
        text = text.replace(full, "<input>")
    for path in paths:
        if len(Path(path).name) > 3:
            text = text.replace(Path(path).name, "<name>")
    if len(text) > LOGGED_FAILURE_CHARS:
        half = LOGGED_FAILURE_CHARS // 2
        text = f"{text[:half]} [... {len(text) - 2 * half} characters left out ...] {text[-half:]}"
    return text


def _failed(exc: Exception, generic: str, what: str, *paths: str | Path) -> ProcessingFailed:
    """The client-safe error for an unexpected library failure (a missing tool is named)."""
    missing = find_cause(exc, ToolMissing)
    if missing is not None:
        return ProcessingFailed(missing.detail)
    log.warning("%s failed: %s", what, _scrubbed(exc, *paths))
    return ProcessingFailed(generic)


def _code_iscc(idk: Any, path: Path, semantic: bool, granular: bool | None,
               bits: int | None = None) -> dict[str, Any]:
    options: dict[str, Any] = {"experimental": semantic}
    if granular is not None:
        options["granular"] = granular
    if bits is not None:
        options.update(bits=bits, add_units=True)
    try:
        result = idk.code_iscc(path, **options)
    except idk.IsccUnsupportedMediatype as exc:
        raise ProcessingFailed(str(exc)) from None
    except Exception as exc:
        raise _failed(exc, "ISCC processing error.", "ISCC processing", path) from None
    if result is None:
        raise ProcessingFailed("ISCC processing error.")
    return _dump(result, granular)


def iscc_job(path: str, semantic: bool | None, granular: bool | None,
             semantic_modes: tuple[str, ...] = (),
             streamed: dict[str, Any] | None = None,
             semantic_fallback: bool = False,
             bits: int | None = None) -> dict[str, Any]:
    """Compute the ISCC of a file.

    Args:
        path: Local path of the stored file (its name is the client's cleaned file name).
        semantic: Add a Semantic-Code unit (text, image); ``None`` uses ISCC_SDK_EXPERIMENTAL.
        granular: Include granular features; ``None`` uses ISCC_SDK_GRANULAR.
        semantic_modes: Modes whose semantic model the server has.
        streamed: The file's digests hashed while it was uploaded
            (:meth:`plugins._processing.hashing.StreamedSum.digests`): the Data- and
            Instance-Code come from them instead of another pass over the file.
        semantic_fallback: Without the mode's model, compute the standard code (and mark the
            result with ``SEMANTIC_FALLBACK``) instead of failing.
        bits: Bit length of the listed ``units`` (always listed then); ``None`` uses
            ISCC_SDK_BITS and ISCC_SDK_ADD_UNITS.

    Returns:
        The ISCC metadata as JSON-ready dict (by alias, without nulls).
    """
    idk = _sdk()
    fp = Path(path)
    if semantic is None:
        semantic = bool(idk.sdk_opts.experimental)
    from plugins._processing.sdk import streamed_sum

    with _within_limits(), streamed_sum(streamed):
        semantic, fell_back = _check_mode(idk, fp, semantic, semantic_modes, semantic_fallback)
        result = _code_iscc(idk, fp, semantic, granular, bits)
    if fell_back:
        result[SEMANTIC_FALLBACK] = True
    return result


def extract_job(path: str) -> dict[str, str]:
    """Extract the embeddable metadata of a file (only fields that are present)."""
    idk = _sdk()
    with _within_limits():
        try:
            meta = idk.extract_metadata(Path(path))
        except Exception as exc:
            log.info("metadata extraction failed: %s", _scrubbed(exc, path))
            raise ProcessingFailed("Failed to extract metadata.") from None
    if meta is None:
        raise ProcessingFailed("Failed to extract metadata.")
    data = meta.model_dump(mode="json", exclude_none=True, by_alias=True)
    return {k: str(data[k]) for k in EXTRACTED_FIELDS if data.get(k) not in (None, "")}


def embed_job(path: str, metadata: dict[str, Any], out_path: str) -> dict[str, Any]:
    """Embed ``metadata`` into a copy of a file written to ``out_path``, then ISCC the copy.

    The source file is never modified. ISCC processing uses the service defaults.
    """
    idk = _sdk()
    with _within_limits():
        try:
            written = idk.embed_metadata(Path(path), dict(metadata), outpath=Path(out_path))
        except idk.IsccUnsupportedMediatype as exc:
            raise ProcessingFailed(f"Failed to embed metadata: {exc}") from None
        except Exception as exc:
            raise _failed(exc, "Failed to embed metadata.", "metadata embedding", path,
                          out_path) from None
    if written is None or not Path(out_path).is_file():
        raise ProcessingFailed("Failed to embed metadata.")
    return iscc_job(out_path, None, None)
