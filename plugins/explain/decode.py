"""Explaining an ISCC with iscc-core; cheap enough to run inline on the event loop."""

from __future__ import annotations

from typing import Any

import iscc_core


def explain(code: str) -> dict[str, Any]:
    """Normalise, validate and decompose ``code``.

    Raises:
        ValueError: the code is not a valid ISCC (the message says why).
    """
    try:
        norm = iscc_core.iscc_normalize(code)
        iscc_core.iscc_validate(norm)
        units = iscc_core.iscc_decompose(norm)
        whole = iscc_core.Code(norm)
        unit_codes = [iscc_core.Code(u) for u in units]
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        raise ValueError(str(exc) or type(exc).__name__) from None
    return {
        "iscc": norm,
        "readable": whole.explain,
        "multiformat": whole.mf_base64url,
        "decomposed": "-".join(units),
        "units": [
            {
                "iscc_unit": f"ISCC:{unit}",
                "readable": uc.explain,
                "hash_hex": uc.hash_hex,
                "hash_uint": str(uc.hash_uint),
                "hash_bits": uc.hash_bits,
            }
            for unit, uc in zip(units, unit_codes, strict=True)
        ],
    }
