"""Text simprints (CONTRACT §6.12), run in worker processes; no Quart, no iscc-sdk."""

from __future__ import annotations

import logging
import os
from typing import Any

import iscc_core as ic
import xxhash

log = logging.getLogger("iscc_web.simprint")

AVG_CHUNK_SIZE = 512
NGRAM_SIZE = 13

_CONFIG: dict[str, Any] = {}


def init_worker(config: dict[str, Any]) -> None:
    """Remember where the semantic text model lives (no model is loaded before it is needed)."""
    _CONFIG.update(config)
    model_dir = config.get("semantic_model_dir")
    if model_dir:
        os.environ.setdefault("ISCC_SCT_MODEL_DIR", os.path.expanduser(model_dir))


def chunk_simprint(chunk: str, ngram_size: int = NGRAM_SIZE) -> str:
    """The 256-bit minhash simprint of one text chunk, base64url without padding."""
    collapsed = ic.text_collapse(chunk)
    features = [xxhash.xxh32_intdigest(gram.encode("utf-8"))
                for gram in ic.sliding_window(collapsed, ngram_size)]
    return ic.encode_base64(ic.alg_minhash_256(features))


def content_simprints(text: str, avg_chunk_size: int = AVG_CHUNK_SIZE,
                      ngram_size: int = NGRAM_SIZE) -> list[str]:
    """CONTENT_TEXT_V0: clean, chunk content-defined (UTF-32), one simprint per chunk."""
    data = ic.text_clean(text).encode("utf-32-be")
    chunks = ic.alg_cdc_chunks(data, utf32=True, avg_chunk_size=avg_chunk_size * 4)
    return [chunk_simprint(bytes(chunk).decode("utf-32-be"), ngram_size) for chunk in chunks]


def semantic_simprints(text: str) -> list[str]:
    """SEMANTIC_TEXT_V0 from iscc-sct on the original text (empty when it yields none)."""
    import iscc_sct  # type: ignore[import-not-found]  # only called when the model is present

    result = iscc_sct.gen_text_code_semantic(text, simprints=True, bits_granular=256)
    features = result.get("features") or []
    if not features:
        return []
    return list(features[0].get("simprints") or [])


def text_simprints(text: str, semantic: bool = False) -> dict[str, list[str]]:
    """Simprints keyed by type; ``SEMANTIC_TEXT_V0`` only when ``semantic`` and non-empty."""
    result = {"CONTENT_TEXT_V0": content_simprints(text)}
    if semantic:
        simprints = semantic_simprints(text)
        if simprints:
            result["SEMANTIC_TEXT_V0"] = simprints
    return result


def simprint_job(text: str, semantic: bool) -> dict[str, list[str]]:
    """Worker entry point: any failure becomes a client-safe error."""
    from plugins._processing.errors import ProcessingFailed

    try:
        return text_simprints(text, semantic)
    except Exception as exc:
        log.warning("simprint processing failed: %r", exc)
        raise ProcessingFailed("simprint processing error.") from None
