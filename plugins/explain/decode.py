"""Explaining an ISCC: iscc-core's rules and messages, iscc-lib's speed, each code decoded once.

The incumbent's handler (CONTRACT §2.10) builds ``iscc_core.Code`` objects, whose ``explain``
normalises the code again (a decompose and a recompose) for the type id and once more for the
body. Here the code is normalised once, decomposed by iscc-lib (Rust), and every unit's header
is decoded once and formatted directly. Whenever the fast path has any doubt (an exception of
its own), iscc-core's function decides, so invalid input gets iscc-core's exact message.
tests/test_explain_parity.py holds the output byte-identical to the reference on a thousand
generated codes, their other spellings and mutated invalid input.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import iscc_core
import iscc_lib
from iscc_core.codec import (
    CANONICAL_REGEX,
    decode_length,
    decode_units,
    encode_base64,
    encode_header,
    iscc_clean,
    normalize_multiformat,
)
from iscc_core.constants import MC_PREFIX, MT, PREFIXES, ST_ISCC, SUBTYPE_MAP, VS

_PREFIXES = frozenset(PREFIXES)
Fields = tuple[int, int, int, int, bytes]


def normalize(code: str) -> str:
    """``iscc_core.iscc_normalize(code)``, with iscc-lib's decompose and recompose."""
    try:
        plain = normalize_multiformat(code)
        if plain.upper()[:2] not in _PREFIXES:
            raise ValueError("prefix")
        head = iscc_lib.iscc_decode(iscc_clean(plain))
        wide = head[0] == MT.ISCC and head[1] == ST_ISCC.WIDE
        units = iscc_lib.iscc_decompose(plain)
        whole = (iscc_lib.gen_iscc_code_v0(units, wide=wide)["iscc"] if len(units) >= 2
                 else units[0])
    except Exception:
        return iscc_core.iscc_normalize(code)  # the reference: its answer or its error
    return whole if whole.startswith("ISCC:") else f"ISCC:{whole}"


@lru_cache(maxsize=512)
def _head(mt: int, st: int, vs: int, ln: int) -> str:
    """``MAINTYPE-SUBTYPE-VERSION-LENGTH`` of a header (a few hundred exist; enum lookups and
    length decoding done once each, not for every unit of every request)."""
    subtype = SUBTYPE_MAP[(mt, vs)](st)
    if mt == MT.ISCC:
        length: Any = "".join(t.name[0] for t in decode_units(ln)) + "DI"
    else:
        length = decode_length(mt, ln)
    return f"{MT(mt).name}-{subtype.name}-{VS(vs).name}-{length}"


@lru_cache(maxsize=512)
def _header_bytes(mt: int, st: int, vs: int, ln: int) -> bytes:
    return bytes(encode_header(mt, st, vs, ln))


@lru_cache(maxsize=512)
def _body_bytes(mt: int, st: int, ln: int) -> int:
    """The body length a header declares (iscc-core's rule)."""
    return int(decode_length(mt, ln, st).value) // 8


def _validate(norm: str, fields: Fields) -> None:
    """``iscc_core.iscc_validate(norm)`` for a code decoded into ``fields``: its checks, on
    the decoded header (regex, base32 length, prefix, version, body length); any doubt and
    iscc-core's own function decides (and raises its own message)."""
    mt, st, vs, ln, body = fields
    bare = norm[5:]
    if not (CANONICAL_REGEX.match(norm) and len(bare) % 8 not in (1, 3, 6)
            and bare[:2] in _PREFIXES and (mt, vs) in SUBTYPE_MAP
            and _body_bytes(mt, st, ln) == len(body)):
        iscc_core.iscc_validate(norm)


def _readable(code: str, fields: Fields) -> str:
    """``iscc_core.iscc_explain`` of a canonical code from its decoded header and body."""
    mt, st, vs, ln, body = fields
    if mt == MT.ID:  # rare; its counter and timestamp forms stay iscc-core's own
        return iscc_core.iscc_explain(code)
    return f"{_head(mt, st, vs, ln)}-{body.hex()}"


def _unit(code: str) -> dict[str, str]:
    fields = iscc_lib.iscc_decode(code)
    body = fields[4]
    number = int.from_bytes(body, "big")
    return {
        "iscc_unit": f"ISCC:{code}",
        "readable": _readable(code, fields),
        "hash_hex": body.hex(),
        "hash_uint": str(number),
        "hash_bits": format(number, f"0{len(body) * 8}b"),
    }


def explain(code: str) -> dict[str, Any]:
    """Normalise, validate and decompose ``code``.

    Raises:
        ValueError: the code is not a valid ISCC (the message says why).
    """
    try:
        norm = normalize(code)
        bare = norm[5:]
        try:
            fields: Fields | None = iscc_lib.iscc_decode(bare)
        except Exception:
            fields = None
        if fields is None:  # invalid: iscc-core's message, in the reference's order
            iscc_core.iscc_validate(norm)
            units = iscc_lib.iscc_decompose(norm)
            fields = iscc_lib.iscc_decode(bare)
        else:
            _validate(norm, fields)
            units = iscc_lib.iscc_decompose(norm)
        mt, st, vs, ln, body = fields
        return {
            "iscc": norm,
            "readable": _readable(bare, fields),
            "multiformat": "u" + encode_base64(MC_PREFIX + _header_bytes(mt, st, vs, ln) + body),
            "decomposed": "-".join(units),
            "units": [_unit(unit) for unit in units],
        }
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        raise ValueError(str(exc) or type(exc).__name__) from None
