"""Small object requests (PUT, GET, HEAD of one key) without botocore's per-call machinery.

A meta record, a sidecar or a small file costs botocore about 1 ms of CPU per call
(parameter validation, endpoint rules, event hooks, header and body sent in separate packets),
three times what the request itself takes. These requests go out here instead: signed with
AWS Signature Version 4 (credentials from boto3's chain, refreshed as boto3 refreshes them),
over keep-alive connections of a small pool (:mod:`plugins.s3.wire`: the head and a small body
in one ``send``, answers parsed without :mod:`http.client`). The URL
of the bucket is the one boto3 itself resolves (addressing style, region, endpoint), so both
paths always talk to the same place. Multipart uploads, listings and deletions stay on boto3.

Failures are sorted like :meth:`plugins.s3.ops.S3Ops.call` sorts boto3's: missing key, lost
precondition, store full, store failing (after ``max_attempts`` tries with backoff).
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import queue
import random
import re
import ssl
import time
import urllib.parse
from typing import Any

from plugins.s3.wire import ClosedEarly, Connection

#: Statuses worth another attempt (the store is busy or briefly failing).
RETRY_STATUSES = frozenset({500, 502, 503, 504})
_CODE = re.compile(rb"<Code>([A-Za-z0-9._-]{1,64})</Code>")
#: The longest error body read to find its ``<Code>``.
ERROR_BODY_LIMIT = 16 * 1024
#: The prefix of user metadata headers.
META_HEADER = "x-amz-meta-"


class DirectError(Exception):
    """The store answered ``status`` (with the S3 error ``code``), or could not be reached."""

    def __init__(self, status: int | None, code: str):
        super().__init__(code)
        self.status = status
        self.code = code


class Answer:
    """Status, headers (lower-case names) and body of one request."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


class DirectObjects:
    """PUT/GET/HEAD of single keys in one bucket; thread-safe, blocking (call from a thread).

    Args:
        bucket_url: the bucket's URL as boto3 resolves it (``scheme://host[:port]/[bucket/]``).
        region: the signing region.
        credentials: a botocore credentials object (``get_frozen_credentials()``).
        connect_timeout, read_timeout: seconds, like the boto3 client's.
        max_attempts: tries per request for transport failures and 5xx answers.
        pool_size: idle connections kept.
    """

    def __init__(self, bucket_url: str, region: str, credentials: Any, *,
                 connect_timeout: float, read_timeout: float, max_attempts: int,
                 pool_size: int):
        url = urllib.parse.urlsplit(bucket_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError("bucket URL must be http(s)://host/...")
        self.https = url.scheme == "https"
        self.host = url.hostname
        self.port = url.port or (443 if self.https else 80)
        self.host_header = url.netloc
        self.base_path = url.path if url.path.endswith("/") else url.path + "/"
        self.region = region
        self.credentials = credentials
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_attempts = max_attempts
        self._idle: queue.LifoQueue[Connection] = queue.LifoQueue(pool_size)
        self._tls = ssl.create_default_context() if self.https else None
        self._keys: dict[tuple[str, str], bytes] = {}

    # --- the three operations -----------------------------------------------------------

    def put(self, key: str, body: bytes, *, content_type: str | None = None,
            if_none_match: bool = False, metadata: dict[str, str] | None = None) -> Answer:
        """``metadata``: the object's user metadata (``x-amz-meta-<name>``, lower-case names)."""
        headers = {"content-type": content_type or "binary/octet-stream"}
        if if_none_match:
            headers["if-none-match"] = "*"
        for name, value in (metadata or {}).items():
            headers[f"{META_HEADER}{name}"] = value
        return self.request("PUT", key, body, headers)

    def get(self, key: str) -> bytes:
        return self.request("GET", key).body

    def head(self, key: str) -> Answer:
        return self.request("HEAD", key)

    def metadata(self, key: str) -> dict[str, str]:
        """The object's user metadata (a HEAD request)."""
        return {name[len(META_HEADER):]: value for name, value in self.head(key).headers.items()
                if name.startswith(META_HEADER)}

    # --- requests -----------------------------------------------------------------------

    def request(self, method: str, key: str, body: bytes = b"",
                headers: dict[str, str] | None = None) -> Answer:
        """One signed request, retried; raises :class:`DirectError` unless it is a 2xx."""
        path = self.base_path + urllib.parse.quote(key, safe="/~")
        attempt = 0
        while True:
            attempt += 1
            try:
                answer = self._once(method, path, body, headers or {})
            except OSError as exc:  # unreachable, timed out, or no readable answer
                failure = DirectError(None, type(exc).__name__)
            else:
                if 200 <= answer.status < 300:
                    return answer
                failure = DirectError(answer.status, self._code(answer))
                if answer.status not in RETRY_STATUSES:
                    raise failure
            if attempt >= self.max_attempts:
                raise failure
            time.sleep(random.random() * min(20.0, 2.0 ** (attempt - 1)))

    @staticmethod
    def _code(answer: Answer) -> str:
        found = _CODE.search(answer.body)
        return found.group(1).decode() if found else str(answer.status)

    def _once(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        reused, conn = self._connection()
        try:
            answer = self._exchange(conn, method, path, body, headers)
        except (ConnectionError, ClosedEarly):
            conn.close()
            if not reused:
                raise
            # a kept connection the store had closed meanwhile: once more on a fresh one
            conn = self._connect()
            answer = self._exchange(conn, method, path, body, headers)
        except BaseException:
            conn.close()
            raise
        return answer

    def _exchange(self, conn: Connection, method: str, path: str, body: bytes,
                  headers: dict[str, str]) -> Answer:
        headers = dict(headers)  # each send signs afresh, never over a previous signature
        try:
            self._sign(method, path, body, headers)
            status, names, data, reusable = conn.exchange(
                method, path, headers, body if method == "PUT" else b"",
                error_limit=ERROR_BODY_LIMIT)
        except BaseException:
            conn.close()
            raise
        if reusable:
            self._release(conn)
        else:
            conn.close()
        return Answer(status, names, data)

    # --- connections --------------------------------------------------------------------

    def _connect(self) -> Connection:
        return Connection(self.host, self.port, tls=self._tls,
                          connect_timeout=self.connect_timeout, read_timeout=self.read_timeout)

    def _connection(self) -> tuple[bool, Connection]:
        try:
            return True, self._idle.get_nowait()
        except queue.Empty:
            return False, self._connect()

    def _release(self, conn: Connection) -> None:
        try:
            self._idle.put_nowait(conn)
        except queue.Full:
            conn.close()

    @property
    def idle_connections(self) -> int:
        """Connections kept open for the next requests."""
        return self._idle.qsize()

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    # --- Signature Version 4 ------------------------------------------------------------

    def _signing_key(self, secret: str, day: str) -> bytes:
        cached = self._keys.get((secret, day))
        if cached is None:
            cached = _hmac(f"AWS4{secret}".encode(), day)
            for part in (self.region, "s3", "aws4_request"):
                cached = _hmac(cached, part)
            self._keys = {(secret, day): cached}  # one day's key; the old one is dropped
        return cached

    def _sign(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> None:
        creds = self.credentials.get_frozen_credentials()
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        day = stamp[:8]
        payload = hashlib.sha256(body).hexdigest()
        headers.update({"host": self.host_header, "x-amz-date": stamp,
                        "x-amz-content-sha256": payload})
        if creds.token:
            headers["x-amz-security-token"] = creds.token
        if method == "PUT":
            headers["content-length"] = str(len(body))
        names = sorted(headers)
        canonical = "\n".join([method, path, "",
                               "".join(f"{name}:{headers[name].strip()}\n" for name in names),
                               ";".join(names), payload])
        scope = f"{day}/{self.region}/s3/aws4_request"
        text = "\n".join(["AWS4-HMAC-SHA256", stamp, scope,
                          hashlib.sha256(canonical.encode()).hexdigest()])
        signature = hmac.new(self._signing_key(creds.secret_key, day), text.encode(),
                             hashlib.sha256).hexdigest()
        headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={creds.access_key}/{scope}, "
                                    f"SignedHeaders={';'.join(names)}, Signature={signature}")
