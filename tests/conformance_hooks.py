"""schemathesis data strategies that reach past the input checks into real processing.

Loaded by tests/test_conformance.py and, via ``SCHEMATHESIS_HOOKS=tests.conformance_hooks``, by
scripts/conformance.sh. Without them nearly every generated ``X-Upload-Filename`` is base64 of
random bytes (not UTF-8: 400) and every upload is random bytes (the ISCC-SUM fallback only).
"""

from __future__ import annotations

import base64
import io
import json
from urllib.parse import urlsplit, urlunsplit

import schemathesis
from hypothesis import strategies as st
from PIL import Image

TEXT = (
    b"Hello World! This is a short text for simprint generation.\n\n"
    b"Alice was beginning to get very tired of sitting by her sister on the bank, and of "
    b"having nothing to do: once or twice she had peeped into the book her sister was reading."
)


def _image(fmt: str) -> bytes:
    image = Image.new("RGB", (24, 16))
    image.putdata([((x * 37) % 256, (y * 53) % 256, (x * y) % 256)
                   for y in range(16) for x in range(24)])
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


#: Small real files of each kind the SDK handles without external tools.
SAMPLES = [TEXT, _image("PNG"), _image("JPEG"), b"<html><body><p>hello</p></body></html>"]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


#: Mostly valid names (base64 of UTF-8), sometimes base64 of arbitrary bytes.
filenames = st.one_of(
    st.sampled_from(["test.txt", "test-image.png", "photo.jpg", "page.html", "x"]).map(
        lambda n: _b64(n.encode())),
    st.text(min_size=1, max_size=40).map(lambda n: _b64(n.encode("utf-8", "surrogatepass"))),
    st.binary(min_size=1, max_size=20).map(_b64),
)
#: Real small files, or arbitrary bytes.
uploads = st.one_of(st.sampled_from(SAMPLES), st.binary(max_size=512))

def server_of(operation: object, base_url: str) -> str:
    """The base URL of ``operation``: its path item's own server (the probes and /metrics are
    served at ``/``) on the origin of ``base_url``, else ``base_url`` itself."""
    raw = operation.schema.raw_schema  # type: ignore[attr-defined]
    servers = raw["paths"][operation.path].get("servers")  # type: ignore[attr-defined]
    if not servers:
        return base_url
    origin = urlunsplit(urlsplit(base_url)[:2] + ("", "", ""))
    return origin + servers[0]["url"].rstrip("/")


@schemathesis.hook
def before_init_operation(ctx: object, operation: object) -> None:
    """Honour path-level ``servers``: schemathesis sends every operation to the base URL given
    on the command line (``--url .../api/v1``), the spec serves a few at the root."""
    base_url = operation.schema.config.base_url  # type: ignore[attr-defined]
    if base_url:
        operation.base_url = server_of(operation, base_url)  # type: ignore[attr-defined]


schemathesis.openapi.format("base64", filenames)
schemathesis.openapi.media_type("application/octet-stream", uploads)

#: The model each successful JSON body must load into (errors: ``Problem``).
BODY_MODELS = {
    ("create-iscc", 201): "IsccMetadata",
    ("get-iscc", 200): "IsccResult",
    ("upload-file", 201): "UploadResponse",
    ("extract-metadata", 200): "InlineMetadata",
    ("embed-metadata", 201): "IsccMetadata",
    ("explain-iscc", 200): "IsccDetail",
    ("create-simprint", 200): "SimprintResponse",
    ("get-status", 200): "Status",
    ("get-health", 200): "Health",
    ("create-iscc", 202): "JobAccepted",
    ("find-similar", 202): "JobAccepted",
    ("get-job", 200): "Job",
    ("get-job-events", 200): "Job",  # each event's data
    ("get-readiness", 200): "Readiness",
    ("find-similar", 200): "SimilarResult",
    ("find-similar", 201): "SimilarResult",
    ("query-similar", 200): "SimilarMatches",
    ("add-to-index", 201): "IndexAdded",
    ("get-index", 200): "IndexStatistics",
    ("get-index-entry", 200): "IndexEntry",
}


@schemathesis.check
def body_fits_model(ctx: object, response: object, case: object) -> bool | None:
    """Every JSON body loads into its attrs model of plugins._schema (strict types)."""
    from kernel import BadRequest
    from plugins._schema import SCHEMAS, load

    method = response.request.method  # type: ignore[attr-defined]
    if method.lower() != case.operation.method.lower():  # type: ignore[attr-defined]
        return None  # e.g. unsupported_method's probes, HEAD
    status = response.status_code  # type: ignore[attr-defined]
    content_type = response.headers.get("content-type", [""])  # type: ignore[attr-defined]
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if status >= 400 and content_type.startswith("application/problem+json"):
        name = "Problem"
    else:
        op_id = case.operation.definition.raw.get("operationId")  # type: ignore[attr-defined]
        name = BODY_MODELS.get((op_id, status), "")
    if not name:
        return None
    if content_type.startswith("text/event-stream"):  # each event's data is one body
        text = response.content.decode("utf-8")  # type: ignore[attr-defined]
        bodies = [json.loads(line.removeprefix("data:"))
                  for line in text.splitlines() if line.startswith("data:")]
    else:
        bodies = [response.json()]  # type: ignore[attr-defined]
    for body in bodies:
        try:
            load(SCHEMAS[name], body)
        except BadRequest as exc:
            raise AssertionError(f"{name} model rejects the body: {exc.detail}") from None
    return True


#: Media ids whose package a successful ``DELETE /media/{media_id}`` of this run removed.
DELETED_MEDIA: set[str] = set()
#: Media ids of uploads answered ``202 Accepted`` (``Prefer: respond-async``): stored, their
#: ISCC still being made.
ACCEPTED_MEDIA: set[str] = set()


@schemathesis.hook
def after_call(ctx: object, case: object, response: object) -> None:
    """Remember every package the run deleted and every upload accepted for later processing
    (for :func:`filter_failure`)."""
    operation = case.operation  # type: ignore[attr-defined]
    status = response.status_code  # type: ignore[attr-defined]
    if (operation.method.upper() == "DELETE" and operation.path == "/media/{media_id}"
            and 200 <= status < 300):
        DELETED_MEDIA.add(str(case.path_parameters["media_id"]))  # type: ignore[attr-defined]
    elif status == 202:
        try:
            body = response.json()  # type: ignore[attr-defined]
        except ValueError:  # not JSON: nothing accepted to remember (the checks report it)
            return
        if isinstance(body, dict) and "media_id" in body:
            ACCEPTED_MEDIA.add(str(body["media_id"]))


def _framing_refused(response: object) -> bool:
    """The HTTP layer refused the message before any operation ran: a generated
    ``Transfer-Encoding`` other than plain ``chunked`` leaves the body length undeterminable
    (RFC 9112 6.1/6.3: 501 for a coding the server does not implement, 400 when it cannot tell
    where the body ends; both close the connection). Not an answer of the API's operations."""
    sent = response.request.headers  # type: ignore[attr-defined]
    coding = sent.get("Transfer-Encoding")
    return (coding is not None and coding.strip().lower() != "chunked"
            and response.status_code in (400, 501))  # type: ignore[attr-defined]


@schemathesis.hook
def filter_failure(ctx: object, failure: object, case: object, response: object) -> bool:
    """Drop the failures that are not the API's (each reason below); keep every other.

    - "Created resource not found" for a package this run deleted. One media id names one
      package under several paths (``/media``, ``/iscc``, ``/metadata``) and
      ``DELETE /media/{id}`` removes all of it, but schemathesis counts a DELETE only for the
      paths below the one it targets: after ``POST /iscc`` and ``DELETE /media/{id}`` the
      correct 404 of ``GET /iscc/{id}`` is reported as ensure_resource_availability's failure.
      (A per-operation ``enabled = false`` in tests/schemathesis.toml would not do:
      ``--checks all`` switches it back on.)
    - "Created resource not found" for an upload answered ``202 Accepted``: schemathesis
      counts any 2xx as "created", but a 202 says processing has not completed (RFC 9110
      15.3.3), and ``GET /iscc/{id}`` is 404 until the job is done (tests/test_iscc_jobs.py
      checks the result once it is). Every other 404 of a created package still fails.
    - Any failure of a request whose generated framing headers the HTTP layer refused
      (:func:`_framing_refused`).
    """
    from schemathesis.openapi.checks import EnsureResourceAvailability

    if _framing_refused(response):
        return False
    if not isinstance(failure, EnsureResourceAvailability):
        return True
    media_id = (case.path_parameters or {}).get("media_id")  # type: ignore[attr-defined]
    return str(media_id) not in DELETED_MEDIA | ACCEPTED_MEDIA
