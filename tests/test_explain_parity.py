"""The fast explain (plugins/explain/decode.py) answers exactly as iscc-core's explain does.

The reference is the incumbent's handler logic (CONTRACT §2.10) written with iscc-core alone:
``iscc_normalize``, ``iscc_validate``, ``iscc_decompose`` and ``Code`` objects. Compared on
generated codes of every kind (tests/iscc_codes.py) in every spelling the API accepts, on every
ISCC literal in this test suite, and on mutated, invalid input (same message).
"""

from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any

import iscc_core
import pytest

from plugins.explain.decode import explain
from tests.iscc_codes import many_codes

CODES = many_codes(400)
LITERAL = re.compile(r"(?:ISCC:)?[A-Z2-7]{16,73}")
BROKEN = ["", "-", ":", "ISCC:", "iscc", "hello", "KMUIV3NRGY", "ISCC:AAAAAAAAAA2",
          "ISCC:CE22222222", "a:b:c", "u", "u!!!", "f00", "fcc01", "z111", "bAAAA",
          "ISCC:AAAA-", "ISCC:KMDMRJYGHHVRCZ5T-", "ftp:AAA4RJYGHHVRCZ5T", "AAA4RJYGHHVRCZ5",
          "ISCC:AAA4RJYGHHVRCZ5TAA", "ISCC:aaa4rjyghhvrcz5t", "MAAAAAAAAAAAAAAA",
          "ISCC:KUAAAAAAAAAAAAAAAAAAAAAAAAAA", "ISCC:KYAAAAAAAAAAAAAAAAAAAAAAAAAA"]


def reference(code: str) -> tuple[str, Any]:
    """iscc-core's explain, as the incumbent computes it; ("error", message) for bad input."""
    try:
        norm = iscc_core.iscc_normalize(code)
        iscc_core.iscc_validate(norm)
        units = iscc_core.iscc_decompose(norm)
        whole = iscc_core.Code(norm)
        body = {
            "iscc": norm,
            "readable": whole.explain,
            "multiformat": whole.mf_base64url,
            "decomposed": "-".join(units),
            "units": [
                {"iscc_unit": f"ISCC:{unit}", "readable": uc.explain, "hash_hex": uc.hash_hex,
                 "hash_uint": str(uc.hash_uint), "hash_bits": uc.hash_bits}
                for unit, uc in ((u, iscc_core.Code(u)) for u in units)
            ],
        }
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        return "error", str(exc) or type(exc).__name__
    return "ok", body


def fast(code: str) -> tuple[str, Any]:
    try:
        return "ok", explain(code)
    except ValueError as exc:
        return "error", str(exc)


def spellings(code: str) -> list[str]:
    whole = iscc_core.Code(code)
    bare = code.removeprefix("ISCC:")
    return [code, bare, f"iscc:{bare}", f" Iscc:{bare} ", whole.mf_base64url, whole.mf_base16,
            whole.mf_base32, whole.mf_base58btc, "-".join(iscc_core.iscc_decompose(code))]


def mutations(codes: list[str], count: int) -> list[str]:
    rng = random.Random(18)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567-:a0"
    out = []
    for _ in range(count):
        code = rng.choice(codes)
        at = rng.randrange(5, len(code))
        kind = rng.randrange(4)
        if kind == 0:
            out.append(code[:at] + rng.choice(alphabet) + code[at + 1:])
        elif kind == 1:
            out.append(code[:at])
        elif kind == 2:
            out.append(code + "".join(rng.choices(alphabet[:32], k=rng.randint(1, 8))))
        else:
            out.append(code[:5] + rng.choice(alphabet[:32]) + code[6:])
    return out


def suite_literals() -> list[str]:
    """Every ISCC-looking literal in the test suite's sources."""
    found: set[str] = set()
    for path in Path(__file__).parent.glob("*.py"):
        found.update(LITERAL.findall(path.read_text()))
    return sorted(found)


def assert_same(codes: list[str]) -> int:
    """Compare every code; return how many were valid (so a test can check it saw some)."""
    valid = 0
    for code in codes:
        expected = reference(code)
        assert fast(code) == expected, code
        valid += expected[0] == "ok"
    return valid


def test_generated_codes_match_iscc_core():
    assert assert_same(CODES) == len(CODES)


@pytest.mark.parametrize("part", range(4))
def test_every_spelling_matches_iscc_core(part):
    codes = [form for code in CODES[part::16] for form in spellings(code)]
    assert assert_same(codes) > len(codes) // 2


def test_suite_literals_match_iscc_core():
    literals = suite_literals()
    assert assert_same(literals) >= 10


def test_invalid_input_gets_iscc_cores_message():
    broken = BROKEN + mutations(CODES, 600)
    valid = assert_same(broken)
    assert valid < len(broken)  # most mutations are invalid; each got the same message
