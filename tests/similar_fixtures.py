"""Test material for the ``similar`` group: distinct originals and the variants made of them.

The originals are the iscc-samples image and text plus distinct works derived from them
(quadrants and a turned copy of the image, sections of the ISCC specification text); the
variants are what "seen before?" must see through: half size, re-compressed JPEG, greyscale,
a 5 % border, a text with one paragraph changed. Also: ``iscc-search serve`` as a subprocess.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image, ImageOps

from tests.iscc_fixtures import sample
from tests.server_process import free_port, server_process

SIMILAR = ["media", "iscc", "explain", "similar"]
CHANGED = ("This paragraph was rewritten entirely for the test: it speaks of rivers, bridges "
           "and the slow work of ferrymen who carried travellers across before the roads.")


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def original_images() -> dict[str, bytes]:
    """Distinct pictures: the sample photo, its four quadrants (enlarged) and a turned copy."""
    photo = Image.open(sample("image/demo.jpg")).convert("RGB")
    width, height = photo.size
    images = {"demo.jpg": sample("image/demo.jpg").read_bytes(),
              "turned.jpg": _jpeg(photo.rotate(180))}
    for name, box in {"top-left": (0, 0, width // 2, height // 2),
                      "top-right": (width // 2, 0, width, height // 2),
                      "bottom-left": (0, height // 2, width // 2, height),
                      "bottom-right": (width // 2, height // 2, width, height)}.items():
        images[f"{name}.jpg"] = _jpeg(photo.crop(box).resize((width, height)))
    return images


VARIANTS: dict[str, Callable[[Image.Image], bytes]] = {
    "half-size": lambda im: _jpeg(im.resize((im.width // 2, im.height // 2))),
    "recompressed": lambda im: _jpeg(im, quality=35),
    "greyscale": lambda im: _jpeg(ImageOps.grayscale(im)),
    "border": lambda im: _jpeg(ImageOps.expand(im, border=max(1, im.width // 20),
                                               fill=(255, 255, 255))),
}


def image_variants(original: bytes) -> dict[str, bytes]:
    image = Image.open(io.BytesIO(original)).convert("RGB")
    return {name: make(image) for name, make in VARIANTS.items()}


def original_texts() -> dict[str, bytes]:
    """Distinct texts: the sample text and three sections of the ISCC specification."""
    texts = {"demo.txt": sample("text/demo.txt").read_bytes()}
    spec = sample("text/demo.md").read_text("utf-8")
    sections = [s for s in spec.split("\n## ") if len(s) > 3000][:3]
    for i, section in enumerate(sections):
        texts[f"spec-{i}.txt"] = section.encode("utf-8")
    return texts


def text_variant(original: bytes) -> bytes:
    """The text with one paragraph (the longest in its middle third) replaced."""
    paragraphs = original.decode("utf-8").split("\n\n")
    third = len(paragraphs) // 3
    middle = range(third, max(third + 1, 2 * third))
    target = max(middle, key=lambda i: len(paragraphs[i]))
    paragraphs[target] = CHANGED
    return "\n\n".join(paragraphs).encode("utf-8")


@contextmanager
def search_server(workdir: Path, api_secret: str) -> Iterator[str]:
    """Run the real ``iscc-search serve`` on 127.0.0.1 with its index in ``workdir``."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ISCC_SEARCH_")}
    env.update(ISCC_SEARCH_INDEX_URI=f"usearch://{(workdir / 'index').as_posix()}",
               ISCC_SEARCH_API_SECRET=api_secret, ISCC_SEARCH_LOG_LEVEL="warning",
               ISCC_SEARCH_CORS_ORIGINS="http://127.0.0.1")
    command = [str(Path(sys.executable).with_name("iscc-search")), "serve",
               "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    with server_process(command, ready_url=f"{url}/healthz", name="iscc-search serve",
                        log_path=workdir / "iscc-search.log", cwd=workdir, env=env):
        yield url
