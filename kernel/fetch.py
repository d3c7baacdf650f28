"""URL intake: fetch a URL behind the SSRF guard, streaming its bytes into a new package.

The fetched body takes the same path into storage as a raw upload (``save_upload``: counted,
never held whole in memory, the partial package removed on any failure). Refusals are
problem details that name the reason, never an internal address: 400 for a URL the server
will not try (scheme, credentials, form), 422 for one it could not or would not fetch
(refused address, unresolvable host, redirects, timeouts, the origin's error status), 413
over ``max_upload_size`` (declared or counted while streaming).
"""

from __future__ import annotations

import email.message
import mimetypes
import posixpath
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from urllib.parse import unquote, urljoin, urlsplit

import attrs
import httpx
from quart import request

from kernel.bodies import read_json
from kernel.context import current_actor, runtime
from kernel.errors import BadRequest, PayloadTooLarge, UnprocessableEntity
from kernel.netguard import (
    RAW_BODY,
    AddressRefused,
    GuardedBackend,
    GuardedTransport,
    HostUnresolved,
    IPNetwork,
    Resolver,
    system_resolve,
)
from kernel.storage import UploadMeta, new_media_id
from kernel.upload_observers import UploadObserver, save_observed
from kernel.uploads import FILENAME_HEADER, receive_upload

#: Largest JSON body of a URL intake request.
URL_BODY_LIMIT = 16 * 1024
MAX_URL_LENGTH = 4096
MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})
FALLBACK_NAME = "download"
USER_AGENT = "iscc-web-trio (URL intake)"


@attrs.frozen
class FetchPolicy:
    """How a plugin's URL intake fetches: networks exempt from the guard, and timeouts."""

    allow_networks: tuple[IPNetwork, ...] = ()
    timeout: float = 30.0
    max_redirects: int = MAX_REDIRECTS
    resolve: Resolver = system_resolve


def _checked_url(url: str, *, redirect: bool) -> str:
    refuse = UnprocessableEntity if redirect else BadRequest
    where = "A redirect" if redirect else "The URL"
    if len(url) > MAX_URL_LENGTH:
        raise refuse(f"{where} is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise refuse(f"{where} is not a valid URL.") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise refuse(f"{where} must be an absolute http or https URL.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise refuse(f"{where} carries credentials; they are not accepted.")
    if port == 0:
        raise refuse(f"{where} is not a valid URL.")
    return url


def _file_name(response: httpx.Response, url: str) -> str:
    disposition = response.headers.get("Content-Disposition")
    if disposition:
        message = email.message.Message()
        message["Content-Disposition"] = disposition
        name = message.get_filename()
        if name:
            return posixpath.basename(name.replace("\\", "/")) or FALLBACK_NAME
    path = unquote(urlsplit(url).path)
    return posixpath.basename(path) or FALLBACK_NAME


def _content_type(response: httpx.Response, name: str) -> str:
    value = response.headers.get("Content-Type", "").strip()
    if value and value.isascii() and len(value) <= 255:
        return value
    return mimetypes.guess_type(name)[0] or ""


async def _counted(response: httpx.Response, limit: int) -> AsyncGenerator[bytes, None]:
    received = 0
    async for chunk in response.extensions[RAW_BODY]:
        received += len(chunk)
        if received > limit:
            raise PayloadTooLarge(f"The URL's content exceeds the maximum size of {limit} bytes.")
        yield chunk
    if received == 0:
        raise UnprocessableEntity("The URL answered with an empty body.")


async def _store(response: httpx.Response, url: str, limit: int,
                 observer: UploadObserver | None, keep_local: bool) -> UploadMeta:
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):  # asked for identity: the bytes must be the file
        raise UnprocessableEntity("The URL answered with an encoded body (Content-Encoding).")
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"The URL's content exceeds the maximum size of {limit} bytes.")
    name = _file_name(response, url)
    meta = UploadMeta(media_id=new_media_id(), file_name=name,
                      content_type=_content_type(response, name), user=current_actor())
    storage = runtime().counted_storage
    async with aclosing(_counted(response, limit)) as chunks:
        if observer is None:
            await storage.save_upload(meta, chunks, keep_local=keep_local)
        else:
            await save_observed(storage, meta, chunks, observer, keep_local=keep_local)
    return meta


async def fetch_upload(url: str, policy: FetchPolicy, observer: UploadObserver | None = None,
                       *, keep_local: bool = False) -> UploadMeta:
    """Fetch ``url`` (following at most ``policy.max_redirects``, each checked) into storage.

    An ``observer`` sees every chunk while it is stored, and ``keep_local`` means what it means
    for a raw upload (:func:`kernel.receive_upload`).

    Raises:
        BadRequest: the URL is not one the server will try.
        UnprocessableEntity: the guard refused it, or fetching failed.
        PayloadTooLarge: the content is larger than ``max_upload_size``.
        InsufficientStorage: the storage could not take it.
    """
    current = _checked_url(url, redirect=False)
    limit = runtime().settings.kernel.max_upload_size
    transport = GuardedTransport(GuardedBackend(policy.allow_networks, policy.resolve))
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    async with httpx.AsyncClient(transport=transport, follow_redirects=False, trust_env=False,
                                 timeout=httpx.Timeout(policy.timeout), headers=headers) as client:
        for hop in range(policy.max_redirects + 1):
            try:
                async with client.stream("GET", current) as response:
                    location = response.headers.get("Location")
                    if response.status_code in REDIRECTS and location:
                        current = _checked_url(urljoin(current, location), redirect=True)
                        continue
                    if not 200 <= response.status_code < 300:
                        raise UnprocessableEntity(
                            f"The URL answered {response.status_code}; nothing was fetched.")
                    return await _store(response, current, limit, observer, keep_local)
            except AddressRefused as exc:
                raise UnprocessableEntity(
                    f"{'A redirect' if hop else 'The URL'} leads to {exc.reason} address, "
                    "which this server does not fetch from.") from None
            except HostUnresolved:
                raise UnprocessableEntity("The URL's host name could not be resolved.") from None
            except httpx.TimeoutException:
                raise UnprocessableEntity("The URL did not answer in time.") from None
            except (httpx.TransportError, httpx.InvalidURL):
                raise UnprocessableEntity("The URL could not be fetched.") from None
    raise UnprocessableEntity(f"The URL redirects more than {policy.max_redirects} times.")


def _url_of(body: object) -> str:
    if (not isinstance(body, dict) or set(body) != {"url"}
            or not isinstance(body["url"], str)):
        raise BadRequest('The body must be a JSON object {"url": "<http or https URL>"}.')
    return body["url"]


def wants_url_intake() -> bool:
    """A JSON body and no ``X-Upload-Filename``: the request names a URL to fetch."""
    media_type = request.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" and not request.headers.get(FILENAME_HEADER)


async def receive_upload_or_url(policy: FetchPolicy | None,
                                observer: UploadObserver | None = None, *,
                                keep_local: bool = False) -> UploadMeta:
    """The request's file: a raw upload, or (with a ``policy``) the URL its JSON body names.

    Every request that is not a URL intake is a raw upload with today's checks (so a raw body
    without the file name header still gets 400).
    """
    if policy is None or not wants_url_intake():
        return await receive_upload(observer, keep_local=keep_local)
    kernel = runtime().settings.kernel
    body = await read_json(request, limit=URL_BODY_LIMIT, idle_timeout=kernel.body_timeout)
    return await fetch_upload(_url_of(body), policy, observer, keep_local=keep_local)


def fetch_policy(allow_networks: Sequence[str], timeout: float) -> FetchPolicy:
    """A policy from a plugin's settings (``url_allow_networks``, ``url_timeout``)."""
    from kernel.netguard import parse_networks

    return FetchPolicy(allow_networks=parse_networks(allow_networks), timeout=timeout)
