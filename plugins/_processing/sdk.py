"""Worker-side set-up of iscc-sdk: library defaults, local tools, no downloads ever.

Runs only in worker processes. iscc-sdk looks for ffmpeg/ffprobe/fpcalc at fixed paths and
downloads them when they are missing; here every runner and installer is replaced, so the SDK
uses the programs configured (or found on PATH) and a missing one raises :class:`ToolMissing`.
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from kernel import run_tool
from plugins._processing import limits, svg
from plugins._processing.capabilities import SEMANTIC_MODELS, model_path, resolve_tools
from plugins._processing.errors import ToolMissing
from plugins._processing.hashing import sum_meta
from plugins._processing.settings import LIBRARY_DEFAULTS

#: Tool paths resolved for this worker process.
TOOLS: dict[str, str | None] = {}
_CONFIGURED: list[Mapping[str, Any]] = []
#: The Data/Instance digests streamed while the current job's file was uploaded (if any).
_STREAMED: list[Mapping[str, Any]] = []
#: Media type guesses remembered per worker (see :func:`_remember_mediatype_guesses`).
GUESSES_KEPT = 16


def apply_library_defaults(model_dir: str = "") -> None:
    """Seed ``ISCC_SDK_*``/``ISCC_SCT_*``/``ISCC_SCI_*``; explicit environment values win."""
    for name, value in LIBRARY_DEFAULTS.items():
        os.environ.setdefault(name, value)
    text_model = model_path(model_dir, "text")
    if text_model is not None and text_model.is_file():
        os.environ.setdefault("ISCC_SCT_MODEL_DIR", str(text_model.parent))


def _run(tool: str, args: Sequence[Any]) -> subprocess.CompletedProcess:
    """Run a tool confined to the job: it dies with the job, its worker or the server."""
    path = TOOLS.get(tool)
    if not path:
        raise ToolMissing(tool)
    try:
        return run_tool([path, *map(str, args)])
    except FileNotFoundError:
        raise ToolMissing(tool) from None


def run_ffmpeg(args: Sequence[Any]) -> subprocess.CompletedProcess:
    return _run("ffmpeg", args)


def run_ffprobe(args: Sequence[Any]) -> subprocess.CompletedProcess:
    return _run("ffprobe", args)


def run_fpcalc(args: Sequence[Any]) -> subprocess.CompletedProcess:
    """Run fpcalc, accepting Debian's exit code 3 after a complete JSON fingerprint."""
    try:
        return _run("fpcalc", args)
    except subprocess.CalledProcessError as exc:
        if b'"fingerprint"' in (exc.stdout or b""):
            return subprocess.CompletedProcess(exc.cmd, 0, exc.stdout, exc.stderr)
        raise


def _silence_loguru() -> None:
    """The SDK logs through loguru at DEBUG level; the service logs its own failures."""
    os.environ.setdefault("LOGURU_AUTOINIT", "False")
    try:
        from loguru import logger
    except ImportError:
        return
    logger.remove()


def _refuse_install(*_: Any, **__: Any) -> None:
    raise ToolMissing("a required tool")


def _binary(tool: str) -> Callable[[], str]:
    return lambda: TOOLS.get(tool) or f"/nonexistent/{tool}"


def configure(config: Mapping[str, Any]) -> Any:
    """Apply defaults, import iscc-sdk once, point it at local tools; return the module."""
    if _CONFIGURED and _CONFIGURED[0] == config:
        import iscc_sdk

        return iscc_sdk
    model_dir = config.get("semantic_model_dir", "")
    apply_library_defaults(model_dir)
    _silence_loguru()
    import iscc_sdk
    import iscc_sdk.tools

    TOOLS.update(resolve_tools(config.get("tools", {})))
    runners = {"run_ffmpeg": run_ffmpeg, "run_ffprobe": run_ffprobe, "run_fpcalc": run_fpcalc}
    for module in (iscc_sdk, iscc_sdk.tools):
        for name, runner in runners.items():
            setattr(module, name, runner)
    for name in ("install", "fpcalc_install", "ffmpeg_install", "ffprobe_install",
                 "download_file"):
        setattr(iscc_sdk.tools, name, _refuse_install)
    for tool in ("ffmpeg", "ffprobe", "fpcalc"):
        setattr(iscc_sdk.tools, f"{tool}_bin", _binary(tool))
    limits.install(iscc_sdk, image_max_pixels=config.get("image_max_pixels", 0),
                   max_archive_entry=config.get("max_archive_entry", 0))
    svg.install(iscc_sdk)
    _point_image_model(model_dir)
    _use_streamed_sum(iscc_sdk)
    _remember_mediatype_guesses(iscc_sdk)
    _CONFIGURED[:] = [dict(config)]
    return iscc_sdk


def _use_streamed_sum(iscc_sdk: Any) -> None:
    """Make ``code_iscc`` take its Data- and Instance-Code from the streamed digests, when the
    job has them, instead of reading the whole file once more."""
    import iscc_sdk.main as sdk_main

    original = sdk_main.code_sum
    if getattr(original, "streamed", False):
        return

    def code_sum(fp: Any, **options: Any) -> Any:
        if _STREAMED and os.path.getsize(fp) == _STREAMED[0]["filesize"]:
            opts = iscc_sdk.sdk_opts.override(options)
            return iscc_sdk.IsccMeta.model_construct(
                **sum_meta(dict(_STREAMED[0]), opts.bits, opts.wide, opts.add_units))
        return original(fp, **options)

    code_sum.streamed = True  # type: ignore[attr-defined]
    sdk_main.code_sum = code_sum


def _remember_mediatype_guesses(iscc_sdk: Any) -> None:
    """Answer repeated media type guesses from a small LRU.

    ``mediatype_guess(data, file_name)`` is a pure function of a file's first 4 KiB and its
    name, and iscc-sdk asks it about the same file seven or eight times per image job
    (metadata, thumbnail, code, each checking the type again) at ~0.6 ms each (puremagic).
    """
    import iscc_sdk.mediatype as sdk_mediatype

    original = sdk_mediatype.mediatype_guess
    if getattr(original, "remembered", False):
        return
    remembered = functools.lru_cache(maxsize=GUESSES_KEPT)(original)

    def mediatype_guess(data: Any, file_name: str | None = None) -> Any:
        if isinstance(data, bytes) and (file_name is None or isinstance(file_name, str)):
            return remembered(data, file_name)
        return original(data, file_name)

    mediatype_guess.remembered = True  # type: ignore[attr-defined]
    mediatype_guess.__wrapped__ = original  # type: ignore[attr-defined]
    sdk_mediatype.mediatype_guess = mediatype_guess  # mediatype_and_mode looks it up here
    iscc_sdk.mediatype_guess = mediatype_guess


@contextlib.contextmanager
def streamed_sum(digests: Mapping[str, Any] | None) -> Iterator[None]:
    """Within the block, ``code_sum`` uses ``digests`` (from :mod:`.hashing`) when given."""
    _STREAMED[:] = [digests] if digests else []
    try:
        yield
    finally:
        _STREAMED.clear()


def _point_image_model(model_dir: str) -> None:
    """iscc-sci only looks in its platform data dir; aim it at the configured model."""
    path = model_path(model_dir, "image")
    if path is None or not path.is_file():
        return
    try:
        import iscc_sci.utils  # type: ignore[import-not-found]
    except ImportError:
        return
    iscc_sci.utils.MODEL_PATH = Path(path)
    assert SEMANTIC_MODELS["image"][1] == path.name
