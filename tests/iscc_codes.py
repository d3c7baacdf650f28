"""Many distinct, valid ISCCs made by iscc-core's own generators from seeded random inputs.

Used by the explain tests (the fast explain must match iscc-core's for every one) and by the
explain benchmark (a thousand distinct codes, so no cache can hide the per-code cost).
Every unit type, every bit length the generators accept, and composites (ISCC-CODE, ISCC-SUM,
wide) appear.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable

import iscc_core as ic

BITS = (64, 96, 128, 160, 192, 224, 256)


def _words(rng: random.Random, n: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyzäöüßéñ漢字"
    return " ".join("".join(rng.choice(letters) for _ in range(rng.randint(1, 9)))
                    for _ in range(n))


def _meta(rng: random.Random, bits: int) -> str:
    description = _words(rng, rng.randint(0, 20)) if rng.random() < 0.5 else None
    return ic.gen_meta_code_v0(_words(rng, rng.randint(1, 6)), description, bits=bits)["iscc"]


def _text(rng: random.Random, bits: int) -> str:
    return ic.gen_text_code_v0(_words(rng, rng.randint(5, 60)), bits=bits)["iscc"]


def _image(rng: random.Random, bits: int) -> str:
    pixels = [rng.randrange(256) for _ in range(1024)]
    return ic.gen_image_code_v0(pixels, bits=bits)["iscc"]


def _audio(rng: random.Random, bits: int) -> str:
    chroma = [rng.randrange(-(2**31), 2**31) for _ in range(rng.randint(1, 80))]
    return ic.gen_audio_code_v0(chroma, bits=bits)["iscc"]


def _video(rng: random.Random, bits: int) -> str:
    frames = [tuple(rng.randrange(3) for _ in range(380)) for _ in range(rng.randint(1, 6))]
    return ic.gen_video_code_v0(frames, bits=bits)["iscc"]


def _data(rng: random.Random, bits: int) -> str:
    return ic.gen_data_code_v0(io.BytesIO(rng.randbytes(rng.randint(1, 4000))), bits=bits)["iscc"]


def _instance(rng: random.Random, bits: int) -> str:
    data = io.BytesIO(rng.randbytes(rng.randint(0, 200)))
    return ic.gen_instance_code_v0(data, bits=bits)["iscc"]


def _mixed(rng: random.Random, bits: int) -> str:
    texts = [_text(rng, 256) for _ in range(rng.randint(2, 4))]
    return ic.gen_mixed_code_v0(texts, bits=bits)["iscc"]


_CONTENT: list[Callable[[random.Random, int], str]] = [_text, _image, _audio, _video, _mixed]
_UNITS: list[Callable[[random.Random, int], str]] = [_meta, *_CONTENT, _data, _instance]


def _composite(rng: random.Random, _: int) -> str:
    """An ISCC-CODE: optional Meta and Content units plus Data and Instance (maybe wide)."""
    wide = rng.random() < 0.25
    bits = 128 if wide else 64
    units = []
    if not wide and rng.random() < 0.7:
        units.append(_meta(rng, 64))
    if not wide and rng.random() < 0.8:
        units.append(rng.choice(_CONTENT)(rng, 64))
    units += [_data(rng, bits), _instance(rng, bits)]
    return ic.gen_iscc_code_v0(units, wide=wide)["iscc"]


def many_codes(count: int, seed: int = 18) -> list[str]:
    """``count`` distinct canonical ISCCs (``ISCC:…``): units of every kind and composites."""
    rng = random.Random(seed)
    makers = [*_UNITS, _composite, _composite, _composite]
    seen: dict[str, None] = {}
    while len(seen) < count:
        maker = makers[len(seen) % len(makers)]
        seen.setdefault(maker(rng, rng.choice(BITS)), None)
    return list(seen)
