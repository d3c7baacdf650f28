"""Compression of answers that benefit: gzip or brotli when the client accepts it.

Only whole bodies (bytes or a static file) of a text-like type above :data:`MIN_SIZE` are
compressed: the web app, the docs assets and JSON/YAML answers. A smaller answer of known
length leaves untouched (its body not read, no ``Vary``: it is the same for every client).
Never a streamed body (media downloads: already compressed, and their lengths and ranges must
stay exact), never an answer marked ``Cache-Control: no-transform``, a partial answer or a
request with ``Range``. Static files (they carry an ``ETag``) are compressed once per app and
served from a small cache.
"""

from __future__ import annotations

import collections
import gzip

import brotli
import trio
from quart import Quart, Response, request
from quart.wrappers.response import DataBody, FileBody
from quart_trio.wrappers.response import TrioFileBody

#: Smaller bodies gain less than the headers cost.
MIN_SIZE = 1024
#: Bodies above this are compressed in a thread, so the event loop keeps serving.
THREAD_SIZE = 64 * 1024
#: Compressed static files kept per app (the app bundle, the docs bundle, their CSS).
CACHE_ENTRIES = 32
COMPRESSIBLE = frozenset({
    "application/json", "application/problem+json", "application/yaml", "application/x-yaml",
    "application/javascript", "application/openmetrics-text", "image/svg+xml",
})
BROTLI_QUALITY = 5  # 1.7 MB of JavaScript in 0.44 s on this machine; quality 11 takes 12 s
GZIP_LEVEL = 6


def compressible(mimetype: str) -> bool:
    return mimetype.startswith("text/") or mimetype in COMPRESSIBLE


def encode(data: bytes, encoding: str) -> bytes:
    if encoding == "br":
        return brotli.compress(data, quality=BROTLI_QUALITY)
    return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)


def install_compression(app: Quart) -> None:
    """Compress eligible answers (registered first, so it runs after every other hook)."""
    cache: collections.OrderedDict[tuple[str, str], bytes] = collections.OrderedDict()

    @app.after_request
    async def compress(response: Response) -> Response:
        # cheapest first: most answers (small JSON, downloads) leave here without the body
        # being read or the Accept-Encoding header parsed
        if (response.status_code != 200
                or not isinstance(response.response, (DataBody, FileBody, TrioFileBody))
                or not compressible(response.mimetype or "")):
            return response  # streamed (downloads): never
        length = response.content_length
        if length is not None and length < MIN_SIZE:
            return response  # never compressed at this size, so it does not vary either
        headers = response.headers
        present = {name.lower() for name in headers.keys()}  # noqa: SIM118 - Headers
        if "content-encoding" in present or (
                "cache-control" in present and "no-transform" in headers["Cache-Control"]):
            return response
        if "vary" in present:
            response.vary.add("Accept-Encoding")
        else:  # what vary.add sets, without parsing and re-serialising an empty set
            headers.add("Vary", "Accept-Encoding")
        # presence from one pass over the request's header names (werkzeug raises a KeyError
        # inside for every absent name): no Accept-Encoding means identity
        sent = request.header_names  # type: ignore[attr-defined]
        if b"range" in sent or b"accept-encoding" not in sent:
            return response
        encoding = request.accept_encodings.best_match(["br", "gzip"])
        if encoding is None:
            return response
        etag, _ = response.get_etag()
        key = (etag, encoding) if etag else None
        encoded = cache.get(key) if key else None
        if encoded is None:
            data = await response.get_data(as_text=False)
            if len(data) < MIN_SIZE:
                return response
            if len(data) > THREAD_SIZE:
                encoded = await trio.to_thread.run_sync(encode, data, encoding)
            else:
                encoded = encode(data, encoding)
            if len(encoded) >= len(data):
                return response
            if key:
                cache[key] = encoded
                while len(cache) > CACHE_ENTRIES:
                    cache.popitem(last=False)
        else:
            cache.move_to_end(key)  # type: ignore[arg-type]
        response.set_data(encoded)
        headers["Content-Encoding"] = encoding
        return response
