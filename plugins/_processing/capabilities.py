"""What this server can process: external tools and semantic models (cheap checks, no imports).

Used by the web process (early 422s, the status report) and by workers alike.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Model files the semantic libraries load (iscc-sct 0.2.x, iscc-sci 0.4.x).
SEMANTIC_MODELS = {
    "text": ("iscc_sct", "iscc-sct-v0.2.0.onnx"),
    "image": ("iscc_sci", "iscc-sci-v0.1.0-w16.onnx"),
}

#: External programs each media mode needs (images and text need none).
MODE_TOOLS = {"audio": ("fpcalc",), "video": ("ffmpeg", "ffprobe")}


def resolve_tool(spec: str) -> str | None:
    """The absolute path of an executable given as a path or a name on PATH, else ``None``."""
    if not spec:
        return None
    if os.sep in spec:
        return spec if os.path.isfile(spec) and os.access(spec, os.X_OK) else None
    return shutil.which(spec)


def resolve_tools(tools: Mapping[str, str]) -> dict[str, str | None]:
    return {name: resolve_tool(spec) for name, spec in tools.items()}


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def model_path(model_dir: str, mode: str) -> Path | None:
    """Where the semantic model for ``mode`` lives in ``model_dir`` (if configured)."""
    if not model_dir or mode not in SEMANTIC_MODELS:
        return None
    return Path(os.path.expanduser(model_dir)) / SEMANTIC_MODELS[mode][1]


def semantic_modes(model_dir: str) -> tuple[str, ...]:
    """Modes whose semantic code can be computed locally: library, runtime and model present."""
    available = []
    for mode, (module, _) in SEMANTIC_MODELS.items():
        path = model_path(model_dir, mode)
        if (path is not None and path.is_file() and _installed(module)
                and _installed("onnxruntime")):
            available.append(mode)
    return tuple(available)


#: Python packages whose versions decide the codes (iscc-sdk on iscc-lib, iscc-core).
ALGORITHM_PACKAGES = ("iscc-sdk", "iscc-lib", "iscc-core")
#: How each external tool tells its version: the flag, and the word its number follows.
TOOL_VERSION_ARGS = {"ffmpeg": ("-version", "version"), "ffprobe": ("-version", "version"),
                     "fpcalc": ("-version", "version")}


def _package_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def tool_version(name: str, path: str | None) -> str | None:
    """The version an external tool reports (``ffmpeg -version``), cached per binary."""
    if path is None or name not in TOOL_VERSION_ARGS:
        return None
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        return None
    flag, word = TOOL_VERSION_ARGS[name]
    return _tool_version_of(path, mtime, flag, word)


@functools.cache
def _tool_version_of(path: str, mtime_ns: int, flag: str, word: str) -> str | None:
    try:
        done = subprocess.run([path, flag], capture_output=True, text=True, timeout=10,
                              check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = (done.stdout or done.stderr).strip().splitlines()
    parts = lines[0].split() if lines else []
    if word in parts and parts.index(word) + 1 < len(parts):
        return parts[parts.index(word) + 1]
    return None


def algorithm_versions(found: Mapping[str, str | None]) -> dict[str, str | None]:
    """Versions of everything that decides a code: the ISCC libraries and the AV tools."""
    versions: dict[str, str | None] = {name: _package_version(name)
                                       for name in ALGORITHM_PACKAGES}
    for name in ("ffmpeg", "fpcalc"):
        versions[name] = tool_version(name, found.get(name))
    return versions


def report(tools: Mapping[str, str], model_dir: str) -> dict[str, Any]:
    """The processing section of ``GET /api/v1/-/status``."""
    found = resolve_tools(tools)
    modes = {"image": True, "text": True}
    for mode, needed in MODE_TOOLS.items():
        modes[mode] = all(found.get(tool) for tool in needed)
    semantic = semantic_modes(model_dir)
    return {
        "sdk": _package_version("iscc-sdk"),
        "versions": algorithm_versions(found),
        "modes": modes,
        "tools": {name: path is not None for name, path in found.items()},
        "semantic": {"text": "text" in semantic, "image": "image" in semantic},
        "fallback": "ISCC-SUM for unsupported media types",
    }
